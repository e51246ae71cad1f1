// gradfit playground: the page only draws; every number comes from the server's engine.
"use strict";

const $ = (id) => document.getElementById(id);
const RUN_LIMIT = 20000;    // steps one press of RUN takes at most
const RUN_RATE = 60;        // steps per second while running: several per request when frames are slow
const HOPELESS_RUN = 50;    // steps RUN shows where more steps cannot reach the minimum, before it stops
const REQUEST_STEPS = 10000;  // the most steps the server takes in one request
// No mode bar: no extra Tab stops, and no button that would send a chart off this machine.
const PLOT_CONFIG = { displayModeBar: false, responsive: true };

let datasets = {};
let session = null;        // id
let points = { step: [], loss: [], theta: [] };  // the full-data loss at every checked step
let path = { step: [], theta: [] };               // every step's parameters: the path on the contours
let last = null;           // last state from the server
let runId = 0;             // the run loop going now (0: none)
let runs = 0;
let lastDraw = 0;
let lastSurface = 0;
let uploadId = null;
let uploadColumns = null;
let noDescent = "";        // why there is no descent, when there is none
let wantedColumns = null;  // a link's target and features, for the upload it names

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function notice(message) {
  // what the page did with a link it could not follow as it was
  const box = $("notice");
  box.textContent = message;
  box.hidden = !message;
}

function note(message) {
  // why RUN stopped (or that it paused)
  $("note").textContent = message || "";
  $("note").hidden = !message;
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

function penaltyValue() {
  return $("penalty").value === "none" ? null : $("penalty").value;
}

function objectiveControls() {
  // the strength with a penalty, the L1 share with the elastic net, epsilon with Huber's loss
  $("alpha-controls").hidden = !penaltyValue();
  $("l1-ratio-label").hidden = $("penalty").value !== "elasticnet";
  $("epsilon-label").hidden = $("loss-fn").value !== "huber";
}

function selectedFeatures() {
  const target = $("target").value;
  return Array.from($("features").selectedOptions).map((o) => o.value).filter((c) => c !== target);
}

function settings() {
  const features = selectedFeatures();
  return {
    dataset: $("dataset").value,
    target: $("target").value || null,
    features: features.length ? features : null,
    upload_id: $("dataset").value === "upload" ? uploadId : null,
    mode: $("mode").value,
    batch_size: Number($("batch-size").value) || 1,
    optimizer: $("optimizer").value,
    lr: numberOf("lr"),
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

function syncFeatures() {
  // the target cannot be a feature: its option is disabled, and at least one feature stays
  const target = $("target").value;
  const options = Array.from($("features").options);
  for (const o of options) {
    o.disabled = o.value === target;
    if (o.disabled) o.selected = false;
  }
  if (!options.some((o) => o.selected)) {
    const first = options.find((o) => !o.disabled);
    if (first) first.selected = true;
  }
}

function fillColumns(columns, target, features) {
  const t = $("target"), f = $("features");
  t.innerHTML = ""; f.innerHTML = "";
  for (const c of columns) {
    t.add(new Option(c, c, false, c === target));
    f.add(new Option(c, c, false, features.includes(c)));
  }
  syncFeatures();
}

function datasetChanged() {
  const name = $("dataset").value;
  $("upload-label").hidden = name !== "upload";
  if (name === "upload") {
    if (uploadColumns) fillColumns(uploadColumns.columns, uploadColumns.target, uploadColumns.features);
    else fillColumns([], "", []);
    return;
  }
  const d = datasets[name];
  fillColumns(d.columns, d.target, d.features);
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

function clearSession(message) {
  // No descent: nothing of the last one stays on screen, and the message says why.
  stopRun();
  session = null;
  last = null;
  noDescent = message;
  points = { step: [], loss: [], theta: [] };
  path = { step: [], theta: [] };
  showError(message);
  for (const id of ["step", "loss", "best"]) $(id).textContent = "-";
  $("params").textContent = "";
  $("kinks").hidden = true;
  $("status").className = "none";
  $("status").textContent = "No descent: the page could not start one with these settings (see the message above). Change them to start one.";
  $("success").hidden = true;
  $("code").hidden = true;
  $("code").textContent = "";
  $("explain-count").textContent = "";
  $("explain").textContent = "No descent yet.";
  for (const id of ["chart-data", "chart-loss", "chart-surface"]) Plotly.purge($(id));
  writeUrl();
}

function noDescentYet() {
  // STEP or RUN without a descent: say why there is none instead of doing nothing
  showError(noDescent || "No descent yet: choose the settings above.");
  note(`Nothing to step: ${noDescent || "there is no descent yet."}`);
}

let starting = Promise.resolve();  // the descent being started now

async function settled() {
  // wait for the descent being started (a control just changed) before stepping
  let seen = null;
  while (seen !== starting) { seen = starting; await seen; }
}

function newSession() {
  starting = startSession();
  return starting;
}

async function startSession() {
  stopRun();
  note("");
  const mine = ++generation;
  writeUrl();
  if ($("dataset").value === "upload" && !uploadId) {
    clearSession("choose a CSV file to upload first");
    return;
  }
  try {
    const state = await api("POST", "/api/sessions", settings());
    if (mine !== generation) return;  // superseded by a later change
    showError("");
    noDescent = "";
    session = state.session;
    fillCoefs(state.feature_names, coefs().map((c) => (c >= state.feature_names.length ? -1 : c)));
    points = { step: [], loss: [], theta: [] };
    path = { step: [], theta: [] };
    receive(state);
    drawAll(true);
    refreshCode();
  } catch (err) {
    if (mine !== generation) return;
    clearSession(err.message);
  }
}

async function step(n, untilSuccess) {
  await settled();
  if (!session) { noDescentYet(); return null; }
  const asked = session;
  try {
    const state = await api("POST", `/api/sessions/${asked}/step`, { n, until_success: Boolean(untilSuccess) });
    if (asked !== session) return null;  // a new descent replaced this one meanwhile
    showError("");
    receive(state);
    return state;
  } catch (err) {
    if (asked !== session) return null;
    showError(err.message);
    return null;
  }
}

function stopRun(why) {
  runId = 0;
  $("run-btn").textContent = "RUN";
  if (why !== undefined) note(why);
}

function runEnded(state, start, hadSuccess) {
  // why RUN stops after this state (null: it goes on)
  const at = `RUN stopped at step ${state.step}`;
  if (state.status === "diverged") return `${at}: the descent diverged (why, below).`;
  if (state.status === "converged") return `${at}: the descent converged (${state.message}).`;
  if (state.success && !hadSuccess) return `${at}: you reached the minimum.`;
  const outlook = state.outlook;
  if (outlook && outlook.hopeless && state.step - start >= HOPELESS_RUN) return `${at}. ${outlook.message}`;
  if (state.step - start >= RUN_LIMIT) {
    return `RUN stopped after ${RUN_LIMIT.toLocaleString("en")} steps, its limit for one press: press RUN to go on.` +
      (outlook ? ` ${outlook.message}` : "");
  }
  return null;
}

let loopDone = Promise.resolve();  // resolves when the last run loop has stopped

async function run() {
  if (runId) { stopRun(`Paused at step ${last ? last.step : 0}: press RUN to go on.`); return; }
  const mine = ++runs;
  runId = mine;
  $("run-btn").textContent = "PAUSE";
  note("");
  // one loop at a time: a paused loop finishes its request first, a new descent starts first
  await loopDone;
  await settled();
  if (runId !== mine) return;
  if (!session) { stopRun(); noDescentYet(); return; }
  let done;
  loopDone = new Promise((resolve) => { done = resolve; });
  try {
    await runLoop(mine);
  } finally {
    done();
  }
}

async function runLoop(mine) {
  const start = last ? last.step : 0;
  const hadSuccess = Boolean(last && last.success);
  let previous = performance.now();
  let why = null;
  while (runId === mine) {
    const begun = performance.now();
    const n = Math.max(1, Math.min(50, Math.round((RUN_RATE * (begun - previous)) / 1000)));
    previous = begun;
    const state = await step(n, !hadSuccess);
    if (runId !== mine) return;  // paused, or replaced by a new descent: they say so
    if (!state) { why = `RUN stopped: ${$("error").textContent || "the server did not answer."}`; break; }
    const now = performance.now();
    if (now - lastDraw > 100) { drawAll(now - lastSurface > 1000); lastDraw = now; }
    why = runEnded(state, start, hadSuccess);
    if (why) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (runId !== mine) return;  // paused (or replaced) while it waited: not this loop's to stop
  stopRun(why);
  drawAll(true);
  refreshCode();
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
    if (wantedColumns) {  // the columns a link asked for, if this file has them
      const complaints = [];
      chooseColumns(wantedColumns.target, wantedColumns.features, info.columns, complaints);
      notice(complaints.length ? `The link asked for ${complaints.join("; ")}.` : "");
      wantedColumns = null;
    }
    showError("");
    await newSession();
  } catch (err) {
    clearSession(err.message);
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

function wire() {
  // the controls work whatever a link asked for, and whatever the server answered
  for (const id of ["coef-x", "coef-y"]) {
    $(id).addEventListener("change", () => {
      if ($("coef-x").value === $("coef-y").value) return;
      writeUrl();
      drawSurface();  // the same descent, seen over other coefficients
    });
  }
  $("target").addEventListener("change", () => { syncFeatures(); newSession(); });
  for (const id of ["features", "mode", "batch-size", "optimizer", "standardize", "intercept", "seed",
    "l1-ratio", "epsilon"]) {
    $(id).addEventListener("change", newSession);
  }
  for (const id of ["penalty", "loss-fn"]) {
    $(id).addEventListener("change", () => { objectiveControls(); newSession(); });
  }
  $("alpha").addEventListener("change", () => { setAlpha($("alpha").value); newSession(); });
  $("alpha-slider").addEventListener("input", () => { $("alpha").value = Number((10 ** Number($("alpha-slider").value)).toPrecision(3)); });
  $("alpha-slider").addEventListener("change", newSession);
  $("dataset").addEventListener("change", () => { notice(""); datasetChanged(); newSession(); });
  $("lr").addEventListener("change", () => { setLr($("lr").value); newSession(); });
  $("lr-slider").addEventListener("input", () => {
    const lr = Number((10 ** Number($("lr-slider").value)).toPrecision(3));
    $("lr").value = lr;
    previewRate(lr);  // the path at this rate, while the slider moves
  });
  $("lr-slider").addEventListener("change", () => { endPreview(); newSession(); });
  document.addEventListener("keydown", shortcut);
  $("upload").addEventListener("change", upload);
  $("step-btn").addEventListener("click", async () => {
    if (runId) stopRun(`Paused at step ${last ? last.step : 0}: press RUN to go on.`);
    else note("");
    if (await step(1, false)) { drawAll(true); refreshCode(); }
  });
  $("run-btn").addEventListener("click", run);
  $("reset-btn").addEventListener("click", async () => {
    stopRun("");
    if (!session) return newSession();
    try {
      const state = await api("POST", `/api/sessions/${session}/reset`);
      points = { step: [], loss: [], theta: [] };
      path = { step: [], theta: [] };
      receive(state);
      drawAll(true);
      refreshCode();
    } catch (err) { showError(err.message); }
  });
  $("code-btn").addEventListener("click", () => {
    if (!session) { noDescentYet(); return; }
    $("code").hidden = false;
    refreshCode();
  });
  $("show-me").addEventListener("click", async () => {
    const lr = $("show-me").dataset.lr;
    if (!lr) return;
    $("mode").value = "full";
    $("optimizer").value = "gd";
    setLr(lr);
    await newSession();
    run();
  });
}

async function init() {
  wire();
  let shipped, rules;
  try {
    [shipped, rules] = await Promise.all([api("GET", "/api/datasets"), api("GET", "/api/rules")]);
  } catch (err) {
    clearSession(`The playground's server did not answer (${err.message}): reload the page.`);
    return;
  }
  datasets = shipped;
  fillChoices(rules);
  try {
    await followLink(new URLSearchParams(location.search));
  } catch (err) {
    clearSession(`The page could not follow this link (${err.message}): choose the settings above.`);
  }
  collapsible();
  PHONE.addEventListener("change", collapsible);
}

init();
