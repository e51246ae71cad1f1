// gradfit playground: following a shared link (its query), checked control by control; what
// it cannot follow is said in the page. Loaded before app.js.
"use strict";

function offers(id, value) {
  return Array.from($(id).options).some((o) => o.value === value && !o.disabled);
}

function labelOf(id) {
  const o = $(id).selectedOptions[0];
  return o ? o.textContent : $(id).value;
}

function chooseColumns(target, features, columns, complaints) {
  // a link's target and features, where the data has them (the target is never a feature)
  if (target !== null) {
    if (columns.includes(target)) {
      $("target").value = target;
      syncFeatures();
    } else {
      complaints.push(`the target '${target}' (the data has no such numeric column: it predicts '${$("target").value}')`);
    }
  }
  if (features !== null) {
    const wanted = features.split(",").filter((c) => c);
    const unknown = wanted.filter((c) => !columns.includes(c) || c === $("target").value);
    const kept = wanted.filter((c) => !unknown.includes(c));
    if (kept.length) {
      for (const o of $("features").options) o.selected = kept.includes(o.value);
    }
    syncFeatures();
    if (unknown.length) {
      complaints.push(`the features ${unknown.map((c) => `'${c}'`).join(", ")} (not a numeric column of the data, or the target: ` +
        `it uses ${selectedFeatures().map((c) => `'${c}'`).join(", ")})`);
    }
  }
}

function positive(text) {
  const n = Number(text);
  return text !== "" && Number.isFinite(n) && n > 0;
}

function wholeNumber(text, least) {
  const n = Number(text);
  return text !== "" && Number.isInteger(n) && n >= least;
}

async function followLink(q) {
  // A shared link, checked value by value: what the page cannot follow is said, and the
  // page's own choice is kept instead, so that the page always starts a descent.
  const complaints = [];
  const pick = (param, id, what) => {
    const value = q.get(param);
    if (value === null) return;
    if (offers(id, value)) $(id).value = value;
    else complaints.push(`the ${what} '${value}' (not offered here: it shows '${labelOf(id)}')`);
  };
  const typed = (param, id, ok, what, set) => {
    const value = q.get(param);
    if (value === null) return;
    if (ok(value)) set(value);
    else complaints.push(`the ${what} '${value}' (it keeps ${$(id).value})`);
  };
  pick("dataset", "dataset", "data set");
  let columns = (datasets[$("dataset").value] || {}).columns || [];
  if ($("dataset").value === "upload") {
    uploadId = q.get("upload");
    if (uploadId) {
      try {
        uploadColumns = await api("GET", `/api/uploads/${encodeURIComponent(uploadId)}`);
        columns = uploadColumns.columns;
      } catch (err) {
        uploadId = null;
        wantedColumns = { target: q.get("target"), features: q.get("features") };
        complaints.push(`its uploaded file: ${err.message}`);
      }
    }
  }
  datasetChanged();
  if (columns.length) chooseColumns(q.get("target"), q.get("features"), columns, complaints);
  pick("mode", "mode", "mode");
  typed("batch", "batch-size", (v) => wholeNumber(v, 1), "batch size", (v) => { $("batch-size").value = v; });
  pick("optimizer", "optimizer", "update rule");
  typed("lr", "lr", positive, "learning rate", setLr);
  if (q.get("standardize")) $("standardize").checked = q.get("standardize") === "1";
  if (q.get("intercept")) $("intercept").checked = q.get("intercept") === "1";
  typed("seed", "seed", (v) => wholeNumber(v, 0), "seed", (v) => { $("seed").value = v; });
  pick("penalty", "penalty", "penalty");
  typed("alpha", "alpha", (v) => Number(v) >= 0 && v !== "", "strength alpha", setAlpha);
  typed("l1_ratio", "l1-ratio", (v) => v !== "" && Number(v) >= 0 && Number(v) <= 1, "L1 share", (v) => { $("l1-ratio").value = v; });
  pick("loss", "loss-fn", "loss");
  typed("epsilon", "epsilon", positive, "Huber's epsilon", (v) => { $("epsilon").value = v; });
  objectiveControls();
  let wanted = (q.get("coefs") || "0,-1").split(",").map(Number);
  if (wanted.length !== 2 || !wanted.every(Number.isInteger) || wanted[0] === wanted[1]) {
    complaints.push(`the contour axes '${q.get("coefs")}'`);
    wanted = [0, -1];
  }
  for (const [id, c] of [["coef-x", wanted[0]], ["coef-y", wanted[1]]]) {
    $(id).add(new Option(String(c), String(c)));
    $(id).value = String(c);
  }
  const asked = q.get("steps");
  const steps = asked !== null && wholeNumber(asked, 0) ? Number(asked) : 0;
  if (asked !== null && !wholeNumber(asked, 0)) complaints.push(`the number of steps '${asked}' (it starts at step 0)`);
  if (complaints.length) {
    notice(`This link asks for ${complaints.join("; ")}. The page shows what it can instead.`);
  }
  await newSession();
  // the shared descent again, step for step (the server takes at most REQUEST_STEPS a request)
  while (session && last && last.step < steps && !["diverged", "converged"].includes(last.status)) {
    if (!(await step(Math.min(steps - last.step, REQUEST_STEPS), false))) break;
  }
  if (session) drawAll(true);
}

