// gradfit playground: keyboard shortcuts, and the control groups that fold on phones.
// Loaded before app.js.
"use strict";

// s: STEP, r: RUN / PAUSE, 0: RESET; not while typing in a box or with a modifier held
const SHORTCUTS = { s: "step-btn", r: "run-btn", 0: "reset-btn" };

function shortcut(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const target = event.target;
  const typing = target instanceof HTMLElement &&
    (target.isContentEditable || ["TEXTAREA", "SELECT"].includes(target.tagName) ||
     (target.tagName === "INPUT" && !["checkbox", "range", "button"].includes(target.type)));
  const id = SHORTCUTS[event.key.toLowerCase()];
  if (typing || !id) return;
  event.preventDefault();
  $(id).click();
}

// On a phone the controls collapse: each group opens and closes from its legend, and the
// groups rarely changed start closed (unless a link set them), so the charts come sooner.
const PHONE = window.matchMedia("(max-width: 760px)");
const CLOSED_ON_PHONES = { "What is minimised": () => $("penalty").value === "none" && $("loss-fn").value === "squared_error",
  "Cost contours over": () => true };

function collapsible() {
  for (const legend of document.querySelectorAll("#controls legend")) {
    const set = legend.parentElement;
    const name = legend.dataset.name || legend.textContent.trim();
    legend.dataset.name = name;
    if (!PHONE.matches) {
      legend.textContent = name;
      set.classList.remove("closed");
      continue;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "fold";
    button.textContent = name;
    const close = CLOSED_ON_PHONES[name];
    const closed = close ? close() : false;
    set.classList.toggle("closed", closed);
    button.setAttribute("aria-expanded", String(!closed));
    button.addEventListener("click", () => {
      const nowClosed = set.classList.toggle("closed");
      button.setAttribute("aria-expanded", String(!nowClosed));
    });
    legend.replaceChildren(button);
  }
}

