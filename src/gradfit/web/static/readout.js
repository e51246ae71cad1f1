// gradfit playground: what the page shows of the server's state (the readout, the rate's
// theory, the explained step, the kinks, the success box, the exported code). Loaded before
// app.js, whose state (last, points, path, session) it reads.
"use strict";

function fmt(v) {
  if (v === null || v === undefined) return "-";
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toPrecision(6);
}

function append(into, from, keys) {
  for (let i = 0; i < from.step.length; i++) {
    if (into.step.length && from.step[i] <= into.step[into.step.length - 1]) continue;
    for (const k of keys) into[k].push(from[k][i]);
  }
}

function receive(state) {
  last = state;
  append(points, state.points, ["step", "loss", "theta"]);
  append(path, state.path, ["step", "theta"]);
  if (!points.step.length) {
    points.step.push(state.step); points.loss.push(state.loss); points.theta.push(state.theta);
  }
  if (!path.step.length) { path.step.push(state.step); path.theta.push(state.theta); }
  $("step").textContent = String(state.step);
  $("loss").textContent = fmt(state.loss);
  $("best").textContent = fmt(state.best_loss);
  const names = state.feature_names;
  const terms = state.w.slice(0, 4).map((w, i) => `${fmt(w)} * ${names[i]}`).join(" + ");
  const intercept = $("intercept").checked ? ` + ${fmt(state.b)}` : " (through the origin)";
  $("params").textContent = `${state.target} = ${terms}${state.w.length > 4 ? " + ..." : ""}${intercept}`;
  $("objective").textContent = state.objective;
  showKinks(state.kinks);
  const status = $("status");
  status.className = state.status;
  if (state.status === "diverged") {
    status.textContent = `Diverged. ${state.message}`;
  } else if (state.status === "converged") {
    status.textContent = `Converged: ${state.message}`;
  } else {
    status.textContent = state.status === "ready" ? "Ready: press STEP or RUN." : "";
  }
  showExplain(state.explain);
  showSuccess(state.success);
  showTheory(state.theory);
  writeUrl();
}

// The rate slider's marks (the best rate, the stable limit 2/L) and what the theory says of
// the chosen rate: full-batch plain descent on a quadratic only (else nothing is claimed).
function showTheory(theory) {
  const marks = $("lr-marks");
  const text = $("lr-theory");
  marks.replaceChildren();
  if (!theory) { text.textContent = ""; return; }
  for (const [rate, label] of [[theory.best_lr, "best rate"], [theory.stable_lr, "stable limit 2/L"]]) {
    const option = document.createElement("option");
    option.value = String(Math.log10(rate));
    option.label = label;
    marks.appendChild(option);
  }
  const steps = theory.steps === null ? "never converges" :
    `about ${theory.steps} ${theory.steps === 1 ? "step" : "steps"} to shrink the error 1e8-fold`;
  const g = (v) => String(Number(v.toPrecision(4)));
  let words = `Marks on the slider: best rate ${g(theory.best_lr)}, stable limit 2/L = ${g(theory.stable_lr)}. At this rate: ${steps}.`;
  if (theory.edge) words += " This rate is at the edge of stability: the steepest direction bounces.";
  text.textContent = words;
  text.className = theory.edge ? "note edge" : "note";
}

function showExplain(e) {
  if (!e) {
    $("explain-count").textContent = "";
    $("explain").textContent = "Press STEP.";
    return;
  }
  // the counter counts steps taken; the engine's text numbers each step from 0
  const k = e.step;
  $("explain-count").textContent =
    `Step ${k + 1} of the descent: the one that took the steps taken from ${k} to ${k + 1}. ` +
    `The text below numbers steps and epochs from 0, as gradfit.explain(step=${k}) does, ` +
    `so it calls it "Step ${k} (epoch ${e.epoch})".`;
  $("explain").textContent = e.text.join("\n");
}

function showKinks(kinks) {
  // the coefficients the L1 kink holds at exactly 0: now, and at the minimum
  const box = $("kinks");
  box.hidden = !kinks;
  if (!kinks) return;
  const listed = (names) => names.map((n) => `w[${n}]`).join(", ");
  const parts = [];
  if (kinks.now.length) parts.push(`Now ${listed(kinks.now)} = 0, held at the L1 kink.`);
  parts.push(kinks.at_minimum.length
    ? `At the minimum the kink holds ${listed(kinks.at_minimum)} at 0.`
    : "At the minimum no coefficient is 0: this strength is too weak to hold one there.");
  box.textContent = parts.join(" ");
}

function showSuccess(success) {
  // the server's words: the congratulation, and a challenge only when one is left
  $("success").hidden = !success;
  if (!success) return;
  $("success-text").textContent = success.message;
  $("fewest-text").textContent = success.fewest_message;
  $("fewest-text").hidden = !success.fewest_message;
  $("show-me").hidden = success.show_me === null;
  $("show-me").dataset.lr = success.show_me === null ? "" : String(success.show_me);
}

async function refreshCode() {
  // the export box always shows the descent on screen, as it stands
  const box = $("code");
  if (box.hidden) return;
  if (!session) { box.hidden = true; box.textContent = ""; return; }
  const asked = session;
  try {
    const code = await api("GET", `/api/sessions/${asked}/code`);
    if (asked !== session) return;
    box.textContent = `# Python\n${code.python}\n\n# command line\n${code.cli}`;
  } catch (err) {
    showError(err.message);
  }
}

