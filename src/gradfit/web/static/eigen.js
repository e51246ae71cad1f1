// gradfit's eigen view: the page only draws; every number comes from the server's engine.
"use strict";

const $ = (id) => document.getElementById(id);
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
let datasets = {};
let ticket = 0;
let timer = 0;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  if (!response.ok) throw new Error(data && data.error ? data.error : `request failed (${response.status})`);
  return data;
}

const g = (v) => (v === null || v === undefined ? "-" : String(Number(Number(v).toPrecision(4))));

function fillColumns(target, features) {
  const info = datasets[$("dataset").value];
  $("target").replaceChildren(...info.columns.map((c) => new Option(c, c, false, c === target)));
  const chosen = features || info.features;
  $("features").replaceChildren(...info.columns.filter((c) => c !== $("target").value)
    .map((c) => new Option(c, c, false, chosen.includes(c))));
}

function body() {
  const lr = Number($("lr").value);
  return {
    dataset: $("dataset").value,
    target: $("target").value,
    features: [...$("features").selectedOptions].map((o) => o.value),
    standardize: $("standardize").checked,
    optimizer: $("optimizer").value,
    lr: Number.isFinite(lr) ? lr : $("lr").value,
    beta: Number($("beta").value),
    steps: Math.round(Number($("steps").value)),
  };
}

function writeUrl(b) {
  const q = new URLSearchParams({ dataset: b.dataset, target: b.target, features: b.features.join(","),
    std: b.standardize ? "1" : "0", optimizer: b.optimizer, lr: String(b.lr), beta: String(b.beta), steps: String(b.steps) });
  history.replaceState(null, "", `?${q}`);
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(update, 60);
}

async function update() {
  const b = body();
  $("beta-label").hidden = b.optimizer !== "momentum";
  if (!(typeof b.lr === "number" && b.lr > 0)) { showError(`The learning rate must be a number above 0, not "${$("lr").value}".`); return; }
  if (!b.features.length) { showError("Choose at least one feature."); return; }
  const mine = ++ticket;
  try {
    const view = await api("POST", "/api/eigen", b);
    if (mine !== ticket) return;  // a newer request follows
    showError("");
    writeUrl(b);
    draw(view);
  } catch (err) {
    if (mine === ticket) showError(err.message);
  }
}

function marks(view) {
  const list = $("lr-marks");
  list.replaceChildren();
  for (const [rate, label] of [[view.best_lr, "best rate"], [view.stable_lr, "stable limit 2/lambda_max"]]) {
    const option = document.createElement("option");
    option.value = String(Math.log10(rate));
    option.label = label;
    list.appendChild(option);
  }
}

function draw(view) {
  marks(view);
  $("words").replaceChildren(...view.words.map((w) => { const li = document.createElement("li"); li.textContent = w; return li; }));
  // bars named by number (the table and the hover say what each direction is)
  const names = view.directions.map((d, i) => String(i + 1));
  const colors = view.factors.map((f) => (f >= 1 ? "#c0392b" : "#2c6fbb"));
  Plotly.react("chart-factors", [
    { x: names, y: view.factors, type: "bar", marker: { color: colors }, name: "factor per step",
      text: view.factors.map(g), textposition: "auto", customdata: view.directions,
      hovertemplate: "%{x}: %{customdata}<br>factor %{y}<extra></extra>" },
    { x: [names[0], names[names.length - 1]], y: [1, 1], mode: "lines", line: { dash: "dash", color: "#000" }, name: "1: no shrinking" },
  ], {
    title: { text: "each direction's factor per step (above 1: it grows)", font: { size: 13 } },
    margin: { l: 50, r: 10, t: 40, b: 60 }, showlegend: false,
    xaxis: { title: { text: "eigen-direction (numbered as in the table)" }, type: "category" },
    yaxis: { title: { text: "|error after| / |error before|" }, rangemode: "tozero" },
  }, PLOT_CONFIG);
  const traces = [];
  view.engine.forEach((errors, i) => {
    const color = COLORS[i % COLORS.length];
    traces.push({ x: view.step, y: errors.map(Math.abs), mode: "lines", line: { color, width: 2 }, name: `${i + 1} engine` });
    traces.push({ x: view.step, y: view.theory[i].map(Math.abs), mode: "lines", line: { color, dash: "dot", width: 3 }, name: `${i + 1} theory` });
  });
  Plotly.react("chart-errors", traces, {
    title: { text: "the error along each direction: engine (solid), theory (dotted)", font: { size: 13 } },
    margin: { l: 60, r: 10, t: 40, b: 40 }, showlegend: false,
    xaxis: { title: { text: "steps taken" } },
    yaxis: { title: { text: "|error| along the direction" }, type: "log", exponentformat: "e" },
  }, PLOT_CONFIG);
  const last = view.step.length - 1;
  const rows = view.directions.map((d, i) => {
    const tr = document.createElement("tr");
    if (view.factors[i] >= 1 && !view.null[i]) tr.className = "grows";
    const cells = [`${i + 1}: ${d}`, g(view.eigenvalues[i]), g(view.factors[i]), g(Math.abs(view.engine[i][0])),
      `${g(Math.abs(view.engine[i][last]))} / ${g(Math.abs(view.theory[i][last]))}`];
    for (const c of cells) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
    return tr;
  });
  $("table").tBodies[0].replaceChildren(...rows);
  const diverged = view.diverged === null ? "" : ` The engine saw the descent diverge at step ${view.diverged}.`;
  $("table").caption.textContent = `Each eigen-direction of the cost surface, after ${view.step[last]} steps.${diverged}`;
}

function setLr(value) {
  $("lr").value = value;
  const v = Number(value);
  if (v > 0) $("lr-slider").value = String(Math.log10(v));
}

async function init() {
  try {
    datasets = await api("GET", "/api/datasets");
  } catch (err) {
    showError(`The server did not answer (${err.message}): reload the page.`);
    return;
  }
  const q = new URLSearchParams(location.search);
  const names = Object.keys(datasets);
  $("dataset").replaceChildren(...names.map((n) => new Option(`${n}: ${datasets[n].description}`, n)));
  const asked = q.get("dataset");
  if (asked && !names.includes(asked)) showError(`There is no data set "${asked}" here: showing ${names[0]}.`);
  $("dataset").value = names.includes(asked) ? asked : names[0];
  const columns = datasets[$("dataset").value].columns;
  const target = columns.includes(q.get("target")) ? q.get("target") : datasets[$("dataset").value].target;
  const features = (q.get("features") || "").split(",").filter((c) => columns.includes(c) && c !== target);
  fillColumns(target, features.length ? features : null);
  $("standardize").checked = q.get("std") !== "0";
  if (q.get("optimizer") === "momentum") $("optimizer").value = "momentum";
  if (q.get("beta")) $("beta").value = q.get("beta");
  if (q.get("steps")) $("steps").value = q.get("steps");
  setLr(q.get("lr") || "0.1");
  $("dataset").addEventListener("change", () => { fillColumns(null, null); update(); });
  $("target").addEventListener("change", () => { fillColumns($("target").value, null); update(); });
  for (const id of ["features", "standardize", "optimizer", "beta", "steps"]) $(id).addEventListener("change", update);
  $("lr").addEventListener("change", () => { setLr($("lr").value); update(); });
  // the bars and the words follow the slider while it moves
  $("lr-slider").addEventListener("input", () => { $("lr").value = Number((10 ** Number($("lr-slider").value)).toPrecision(3)); later(); });
  await update();
}

init();
