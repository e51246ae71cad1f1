// gradfit playground: the page only draws; every number comes from the server's engine.
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = ["dataset", "target", "features", "mode", "batch", "optimizer", "lr", "standardize", "intercept", "seed", "upload",
  "penalty", "alpha", "l1_ratio", "loss", "epsilon"];
const RUN_LIMIT = 20000;
const RUN_RATE = 60;  // steps per second while running: several per request when frames are slow

let datasets = {};
let session = null;        // id
let points = { step: [], loss: [], theta: [] };
let last = null;           // last state from the server
let running = false;
let lastDraw = 0;
let lastSurface = 0;
let uploadId = null;
let uploadColumns = null;

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  if (!response.ok) {
    throw new Error(data && data.error ? data.error : `request failed (${response.status})`);
  }
  return data;
}

function numberOf(id) {
  const text = $(id).value.trim();
  const number = Number(text);
  // Anything that is not a plain finite number goes to the server as typed: it says why not.
  return text !== "" && Number.isFinite(number) ? number : text;
}

function lrValue() {
  return numberOf("lr");
}

function penaltyValue() {
  return $("penalty").value === "none" ? null : $("penalty").value;
}

function objectiveControls() {
  // the strength with a penalty, the L1 share with the elastic net, epsilon with Huber's loss
  $("alpha-controls").hidden = !penaltyValue();
  $("l1-ratio-label").hidden = $("penalty").value !== "elasticnet";
  $("epsilon-label").hidden = $("loss-fn").value !== "huber";
}

function settings() {
  const features = Array.from($("features").selectedOptions).map((o) => o.value);
  return {
    dataset: $("dataset").value,
    target: $("target").value || null,
    features: features.length ? features : null,
    upload_id: $("dataset").value === "upload" ? uploadId : null,
    mode: $("mode").value,
    batch_size: Number($("batch-size").value) || 1,
    optimizer: $("optimizer").value,
    lr: lrValue(),
    standardize: $("standardize").checked,
    fit_intercept: $("intercept").checked,
    seed: Number($("seed").value) || 0,
    penalty: penaltyValue(),
    loss: $("loss-fn").value,
    // only with the choice each belongs to (a hidden control's value is not sent)
    ...(penaltyValue() ? { alpha: numberOf("alpha") } : {}),
    ...($("penalty").value === "elasticnet" ? { l1_ratio: numberOf("l1-ratio") } : {}),
    ...($("loss-fn").value === "huber" ? { epsilon: numberOf("epsilon") } : {}),
  };
}

function coefs() {
  return [Number($("coef-x").value || 0), Number($("coef-y").value || -1)];
}

function fillCoefs(names, chosenCoefs) {
  // descent coordinates [w_0 .. w_{d-1}, b]; -1 is the intercept
  const options = [...names.map((n, i) => [String(i), `w[${n}]`]), ["-1", "b (intercept)"]];
  for (const [id, chosen] of [["coef-x", chosenCoefs[0]], ["coef-y", chosenCoefs[1]]]) {
    const select = $(id);
    const labels = options.map((o) => o[1]).join("|");
    if (select.dataset.labels !== labels) {
      select.innerHTML = "";
      for (const [value, label] of options) select.add(new Option(label, value));
      select.dataset.labels = labels;
    }
    select.value = String(chosen);
  }
}

function writeUrl() {
  const s = settings();
  const q = new URLSearchParams();
  q.set("dataset", s.dataset);
  if (s.target) q.set("target", s.target);
  if (s.features) q.set("features", s.features.join(","));
  q.set("mode", s.mode);
  q.set("batch", String(s.batch_size));
  q.set("optimizer", s.optimizer);
  q.set("lr", String(s.lr));
  q.set("standardize", s.standardize ? "1" : "0");
  q.set("intercept", s.fit_intercept ? "1" : "0");
  q.set("seed", String(s.seed));
  if (s.penalty) {
    q.set("penalty", s.penalty);
    q.set("alpha", String(s.alpha));
    if (s.penalty === "elasticnet") q.set("l1_ratio", String(s.l1_ratio));
  }
  if (s.loss === "huber") {
    q.set("loss", s.loss);
    q.set("epsilon", String(s.epsilon));
  }
  if (s.upload_id) q.set("upload", s.upload_id);
  q.set("coefs", coefs().join(","));
  q.set("steps", String(last ? last.step : 0));
  history.replaceState(null, "", "?" + q.toString());
}

function fillColumns(columns, target, features) {
  const t = $("target"), f = $("features");
  t.innerHTML = ""; f.innerHTML = "";
  for (const c of columns) {
    t.add(new Option(c, c, false, c === target));
    f.add(new Option(c, c, false, features.includes(c)));
  }
}

function datasetChanged(keepChoice) {
  const name = $("dataset").value;
  $("upload-label").hidden = name !== "upload";
  if (name === "upload") {
    if (uploadColumns) fillColumns(uploadColumns.columns, uploadColumns.target, uploadColumns.features);
    else fillColumns([], "", []);
    return;
  }
  const d = datasets[name];
  if (!keepChoice) fillColumns(d.columns, d.target, d.features);
}

function setLr(value) {
  $("lr").value = String(value);
  const n = Number(value);
  if (Number.isFinite(n) && n > 0) $("lr-slider").value = String(Math.log10(n));
}

function setAlpha(value) {
  $("alpha").value = String(value);
  const n = Number(value);
  if (Number.isFinite(n) && n > 0) $("alpha-slider").value = String(Math.log10(n));
}

let generation = 0;

async function newSession() {
  stopRun();
  const mine = ++generation;
  writeUrl();
  if ($("dataset").value === "upload" && !uploadId) {
    session = null;
    showError("choose a CSV file to upload first");
    return;
  }
  try {
    const state = await api("POST", "/api/sessions", settings());
    if (mine !== generation) return;  // superseded by a later change
    showError("");
    session = state.session;
    fillCoefs(state.feature_names, coefs().map((c) => (c >= state.feature_names.length ? -1 : c)));
    points = { step: [], loss: [], theta: [] };
    receive(state);
    drawAll(true);
  } catch (err) {
    session = null;
    showError(err.message);
  }
}

function fmt(v) {
  if (v === null || v === undefined) return "-";
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toPrecision(6);
}

function receive(state) {
  last = state;
  const p = state.points;
  for (let i = 0; i < p.step.length; i++) {
    if (points.step.length && p.step[i] <= points.step[points.step.length - 1]) continue;
    points.step.push(p.step[i]); points.loss.push(p.loss[i]); points.theta.push(p.theta[i]);
  }
  if (!points.step.length) {
    points.step.push(0); points.loss.push(state.loss); points.theta.push(state.theta);
  }
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
    const stable = state.stable_lr && !state.message.includes("largest stable")
      ? ` The largest stable learning rate here is ${fmt(state.stable_lr)}.` : "";
    status.textContent = `Diverged. ${state.message}${stable}`;
  } else if (state.status === "converged") {
    status.textContent = `Converged: ${state.message}`;
  } else {
    status.textContent = state.status === "ready" ? "Ready: press STEP or RUN." : "";
  }
  if (state.explain) $("explain").textContent = state.explain.text.join("\n");
  else $("explain").textContent = "Press STEP.";
  if (state.success && $("success").hidden) showSuccess(state.success);
  if (!state.success) $("success").hidden = true;
  writeUrl();
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

async function showSuccess(success) {
  $("success").hidden = false;
  $("success-text").textContent = success.message;
  $("fewest-text").textContent = "Looking for the fewest steps any constant rate needs...";
  try {
    const fewest = await api("GET", `/api/sessions/${session}/fewest`);
    $("fewest-text").textContent = fewest.steps === null
      ? "No constant rate reaches it within 5000 steps of plain gradient descent."
      : `The fewest steps any constant learning rate needs on this data: ${fewest.steps}, at lr = ${fmt(fewest.lr)} ` +
        `(plain full-batch gradient descent${last && last.kinks ? ", each step ending with the L1 soft threshold" : ""}; ` +
        `stable below 2/L = ${fmt(fewest.max_stable_lr)}).`;
    $("show-me").dataset.lr = String(fewest.lr);
  } catch (err) {
    $("fewest-text").textContent = err.message;
  }
}

async function step(n) {
  if (!session) return null;
  try {
    const state = await api("POST", `/api/sessions/${session}/step`, { n });
    showError("");
    receive(state);
    return state;
  } catch (err) {
    showError(err.message);
    stopRun();
    return null;
  }
}

function stopRun() {
  running = false;
  $("run-btn").textContent = "RUN";
}

async function run() {
  if (running) { stopRun(); return; }
  if (!session) return;
  running = true;
  $("run-btn").textContent = "PAUSE";
  const start = last ? last.step : 0;
  let previous = performance.now();
  while (running) {
    const begun = performance.now();
    const n = Math.max(1, Math.min(50, Math.round((RUN_RATE * (begun - previous)) / 1000)));
    previous = begun;
    const state = await step(n);
    if (!state) break;
    const now = performance.now();
    if (now - lastDraw > 100) { drawAll(now - lastSurface > 1000); lastDraw = now; }
    if (state.status !== "running" || state.success || state.step - start >= RUN_LIMIT) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  stopRun();
  drawAll(true);
}

const layoutBase = { margin: { l: 50, r: 10, t: 30, b: 40 }, showlegend: false };

function drawData() {
  const v = last.view;
  if (v.kind === "line") {
    Plotly.react("chart-data", [
      { x: v.x, y: v.y, mode: "markers", type: "scatter", marker: { size: 4, color: "#888" }, name: "data" },
      { x: v.line_x, y: v.line_y, mode: "lines", type: "scatter", line: { color: "#c0392b", width: 3 }, name: "line" },
    ], { ...layoutBase, title: { text: "data and the current line" }, xaxis: { title: { text: last.feature_names[0] } }, yaxis: { title: { text: last.target } } });
  } else {
    const lo = Math.min(...v.actual), hi = Math.max(...v.actual);
    Plotly.react("chart-data", [
      { x: v.actual, y: v.predicted, mode: "markers", type: "scatter", marker: { size: 4, color: "#2c6fbb" } },
      { x: [lo, hi], y: [lo, hi], mode: "lines", line: { color: "#888", dash: "dash" } },
    ], { ...layoutBase, title: { text: "predicted against actual" }, xaxis: { title: { text: "actual" } }, yaxis: { title: { text: "predicted" } } });
  }
}

function lossName() {
  return last.objective === "least squares" ? "loss" : "objective";
}

function drawLoss() {
  Plotly.react("chart-loss", [
    { x: points.step, y: points.loss, mode: "lines+markers", marker: { size: 3 }, name: "loss" },
    { x: [0, Math.max(1, points.step[points.step.length - 1])], y: [last.best_loss, last.best_loss],
      mode: "lines", line: { dash: "dash", color: "#000" }, name: "minimum" },
  ], { ...layoutBase, title: { text: `${lossName()} per step` }, xaxis: { title: { text: "step" } }, yaxis: { title: { text: lossName() }, type: "log" } });
}

let surfaceTicket = 0;

async function drawSurface() {
  if (!session) return;
  const asked = session;
  const ticket = ++surfaceTicket;
  const stride = Math.max(1, Math.ceil(points.theta.length / 2000));
  const path = points.theta.filter((_, i) => i % stride === 0 || i === points.theta.length - 1);
  try {
    const s = await api("POST", `/api/sessions/${asked}/surface`, { path, coefs: coefs() });
    if (asked !== session || ticket !== surfaceTicket) return;  // a newer drawing follows
    lastSurface = performance.now();
    const [i, j] = s.indices;
    const traces = [
      { x: s.x, y: s.y, z: s.z, type: "contour", ncontours: 25, showscale: false, contours: { coloring: "lines" }, name: "contours", showlegend: false, hoverinfo: "skip" },
      { x: path.map((t) => t[i]), y: path.map((t) => t[j]), mode: "lines+markers", marker: { size: 4, color: "#c0392b" }, line: { color: "#c0392b" }, name: "path" },
      { x: [s.star[0]], y: [s.star[1]], mode: "markers", marker: { symbol: "star", size: 14, color: "#000" }, name: "minimum" },
    ];
    if (s.least_squares) {
      // where least squares would go: the penalty (or Huber's loss) moved the minimum from here
      traces.push({ x: [s.least_squares[0]], y: [s.least_squares[1]], mode: "markers",
        marker: { symbol: "circle-open", size: 12, color: "#555", line: { width: 2 } }, name: "least squares" });
    }
    // the lasso's kinks: the lines where a penalized coefficient is 0
    const ends = (v) => [v[0], v[v.length - 1]];
    if (s.kinks[0]) {
      traces.push({ x: [0, 0], y: ends(s.y), mode: "lines", line: { color: "#8e44ad", dash: "dot", width: 2 }, name: `${s.labels[0]} = 0 (kink)` });
    }
    if (s.kinks[1]) {
      traces.push({ x: ends(s.x), y: [0, 0], mode: "lines", line: { color: "#8e44ad", dash: "dot", width: 2 }, name: `${s.labels[1]} = 0 (kink)` });
    }
    const plain = last.objective === "least squares";
    Plotly.react("chart-surface", traces, {
      ...layoutBase,
      showlegend: !plain,
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top", font: { size: 10 } },
      margin: { ...layoutBase.margin, b: plain ? 40 : 90 },
      // the objective's own contours: the penalty (or Huber's loss) is in them
      title: plain ? { text: "cost contours and the path" } : { text: `contours of ${last.objective}`, font: { size: 12 } },
      xaxis: { title: { text: s.labels[0] } },
      yaxis: { title: { text: s.labels[1] } },
    });
  } catch (err) {
    showError(err.message);
  }
}

function drawAll(withSurface) {
  if (!last) return;
  drawData();
  drawLoss();
  if (withSurface) drawSurface();
}

async function upload() {
  const file = $("upload").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  try {
    const info = await api("POST", "/api/uploads", form);
    uploadId = info.upload_id;
    uploadColumns = info;
    fillColumns(info.columns, info.target, info.features);
    showError("");
    await newSession();
  } catch (err) {
    showError(err.message);
  }
}

function fillChoices(rules) {
  // What the server offers: its shipped data sets (before "your CSV file") and its rules.
  const upload = $("dataset").querySelector('option[value="upload"]');
  for (const [name, d] of Object.entries(datasets)) {
    const option = new Option(`${name}: ${d.target} from ${d.features.join(", ")}`, name);
    option.title = d.description;
    $("dataset").add(option, upload);
  }
  $("dataset").value = Object.keys(datasets)[0];
  for (const [name, rule] of Object.entries(rules)) {
    const option = new Option(name, name);
    option.title = rule.summary;
    $("optimizer").add(option);
  }
}

async function init() {
  const [shipped, rules] = await Promise.all([api("GET", "/api/datasets"), api("GET", "/api/rules")]);
  datasets = shipped;
  fillChoices(rules);
  const q = new URLSearchParams(location.search);
  if (q.get("dataset")) $("dataset").value = q.get("dataset");
  if (q.get("upload")) uploadId = q.get("upload");
  datasetChanged(false);
  if (q.get("target")) $("target").value = q.get("target");
  if (q.get("features")) {
    const wanted = q.get("features").split(",");
    for (const o of $("features").options) o.selected = wanted.includes(o.value);
  }
  if (q.get("mode")) $("mode").value = q.get("mode");
  if (q.get("batch")) $("batch-size").value = q.get("batch");
  if (q.get("optimizer")) $("optimizer").value = q.get("optimizer");
  if (q.get("lr")) setLr(q.get("lr"));
  if (q.get("standardize")) $("standardize").checked = q.get("standardize") === "1";
  if (q.get("intercept")) $("intercept").checked = q.get("intercept") === "1";
  if (q.get("seed")) $("seed").value = q.get("seed");
  if (q.get("penalty")) $("penalty").value = q.get("penalty");
  if (q.get("alpha")) setAlpha(q.get("alpha"));
  if (q.get("l1_ratio")) $("l1-ratio").value = q.get("l1_ratio");
  if (q.get("loss")) $("loss-fn").value = q.get("loss");
  if (q.get("epsilon")) $("epsilon").value = q.get("epsilon");
  objectiveControls();
  const wanted = (q.get("coefs") || "0,-1").split(",").map(Number);
  for (const [id, c] of [["coef-x", wanted[0]], ["coef-y", wanted[1]]]) {
    $(id).add(new Option(String(c), String(c)));
    $(id).value = String(c);
  }
  const steps = Number(q.get("steps") || 0);
  await newSession();
  if (session && steps > 0) {
    await step(Math.min(steps, 10000));
    drawAll(true);
  }

  for (const id of ["coef-x", "coef-y"]) {
    $(id).addEventListener("change", () => {
      if ($("coef-x").value === $("coef-y").value) return;
      writeUrl();
      drawSurface();  // the same descent, seen over other coefficients
    });
  }
  for (const id of ["target", "features", "mode", "batch-size", "optimizer", "standardize", "intercept", "seed",
    "l1-ratio", "epsilon"]) {
    $(id).addEventListener("change", newSession);
  }
  for (const id of ["penalty", "loss-fn"]) {
    $(id).addEventListener("change", () => { objectiveControls(); newSession(); });
  }
  $("alpha").addEventListener("change", () => { setAlpha($("alpha").value); newSession(); });
  $("alpha-slider").addEventListener("input", () => { $("alpha").value = Number((10 ** Number($("alpha-slider").value)).toPrecision(3)); });
  $("alpha-slider").addEventListener("change", newSession);
  $("dataset").addEventListener("change", () => { datasetChanged(false); newSession(); });
  $("lr").addEventListener("change", () => { setLr($("lr").value); newSession(); });
  $("lr-slider").addEventListener("input", () => { $("lr").value = Number((10 ** Number($("lr-slider").value)).toPrecision(3)); });
  $("lr-slider").addEventListener("change", newSession);
  $("upload").addEventListener("change", upload);
  $("step-btn").addEventListener("click", async () => { await step(1); drawAll(true); });
  $("run-btn").addEventListener("click", run);
  $("reset-btn").addEventListener("click", async () => {
    stopRun();
    if (!session) return newSession();
    try {
      const state = await api("POST", `/api/sessions/${session}/reset`);
      points = { step: [], loss: [], theta: [] };
      $("success").hidden = true;
      receive(state);
      drawAll(true);
    } catch (err) { showError(err.message); }
  });
  $("code-btn").addEventListener("click", async () => {
    if (!session) return;
    const code = await api("GET", `/api/sessions/${session}/code`);
    $("code").hidden = false;
    $("code").textContent = `# Python\n${code.python}\n\n# command line\n${code.cli}`;
  });
  $("show-me").addEventListener("click", async () => {
    $("mode").value = "full";
    $("optimizer").value = "gd";
    setLr($("show-me").dataset.lr);
    await newSession();
    run();
  });
}

init().catch((err) => showError(err.message));
