// gradfit's race: the page only draws; every number comes from the server's engine.
"use strict";

const $ = (id) => document.getElementById(id);
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
const MAX_LANES = 4;
// Ready-made races: the lessons' comparisons, on the chosen data.
const PRESETS = {
  standardize: [{ lr: 0.1, std: true }, { lr: 0.1, std: false }, { lr: 1e-5, std: false }],
  modes: [{ lr: 0.1, mode: "full" }, { lr: 0.05, mode: "mini", batch: 16 }, { lr: 0.01, mode: "sgd" }],
  rules: [{ lr: 0.05, rule: "gd" }, { lr: 0.05, rule: "momentum" }, { lr: 0.05, rule: "adam" }],
  rates: [{ lr: 0.01 }, { lr: 0.1 }, { lr: 0.5 }, { lr: 1.2 }],
};
let datasets = {};
let rules = {};
let result = null;
let ticket = 0;

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

function fillColumns(target, features) {
  const info = datasets[$("dataset").value];
  $("target").replaceChildren(...info.columns.map((c) => new Option(c, c, false, c === target)));
  const chosen = features || info.features;
  $("features").replaceChildren(...info.columns.filter((c) => c !== $("target").value)
    .map((c) => new Option(c, c, false, chosen.includes(c))));
  fillCoefs();
}

function fillCoefs(x, y) {
  const names = [...$("features").selectedOptions].map((o) => o.value);
  const options = names.map((n, i) => [String(i), `w[${n}]`]).concat([["-1", "b (intercept)"]]);
  for (const [id, value] of [["coef-x", x || "0"], ["coef-y", y || "-1"]]) {
    $(id).replaceChildren(...options.map(([v, t]) => new Option(t, v)));
    $(id).value = options.some(([v]) => v === value) ? value : options[id === "coef-x" ? 0 : options.length - 1][0];
  }
}

function numberLanes() {
  [...$("lanes").children].forEach((lane, k) => {
    lane.querySelector("legend").textContent = `lane ${k + 1}`;
    lane.style.setProperty("--lane", COLORS[k]);
  });
  $("add-lane").disabled = $("lanes").children.length >= MAX_LANES;
}

function addLane(s = {}) {
  if ($("lanes").children.length >= MAX_LANES) return;
  const lane = $("lane-template").content.firstElementChild.cloneNode(true);
  const rule = lane.querySelector(".rule");
  rule.replaceChildren(...Object.keys(rules).map((r) => new Option(r, r)));
  lane.querySelector(".lr").value = String(s.lr ?? 0.1);
  lane.querySelector(".mode").value = s.mode || "full";
  lane.querySelector(".batch").value = String(s.batch || 32);
  rule.value = s.rule && rules[s.rule] ? s.rule : "gd";
  lane.querySelector(".beta").value = String(s.beta ?? 0.9);
  lane.querySelector(".std").checked = s.std !== false;
  const sync = () => {
    lane.querySelector(".batch-label").hidden = lane.querySelector(".mode").value !== "mini";
    lane.querySelector(".beta-label").hidden = !(rules[rule.value] || {}).uses_beta;
  };
  lane.querySelector(".mode").addEventListener("change", sync);
  rule.addEventListener("change", sync);
  lane.querySelector(".remove").addEventListener("click", () => {
    if ($("lanes").children.length > 1) { lane.remove(); numberLanes(); }
  });
  sync();
  $("lanes").appendChild(lane);
  numberLanes();
}

function lanesOf() {
  return [...$("lanes").children].map((lane, k) => {
    const text = lane.querySelector(".lr").value.trim();
    const lr = Number(text);
    if (!(text !== "" && Number.isFinite(lr) && lr > 0)) {
      throw new Error(`lane ${k + 1}: the learning rate must be a number above 0, not "${text}"`);
    }
    return {
      lr, mode: lane.querySelector(".mode").value, batch_size: Math.round(Number(lane.querySelector(".batch").value)) || 1,
      optimizer: lane.querySelector(".rule").value, beta: Number(lane.querySelector(".beta").value),
      standardize: lane.querySelector(".std").checked,
    };
  });
}

function writeUrl(body) {
  const q = new URLSearchParams({ dataset: body.dataset, target: body.target, features: body.features.join(","),
    steps: String(body.max_steps), coefs: body.coefs.join(",") });
  body.lanes.forEach((l, k) => q.set(`r${k + 1}`, `lr:${l.lr},mode:${l.mode},batch:${l.batch_size},rule:${l.optimizer},beta:${l.beta},std:${l.standardize ? 1 : 0}`));
  history.replaceState(null, "", `?${q}`);
}

async function go() {
  let body;
  try {
    body = {
      dataset: $("dataset").value, target: $("target").value,
      features: [...$("features").selectedOptions].map((o) => o.value),
      lanes: lanesOf(), max_steps: Math.round(Number($("max-steps").value)) || 500,
      coefs: [Number($("coef-x").value), Number($("coef-y").value)],
    };
  } catch (err) { showError(err.message); return; }
  if (!body.features.length) { showError("Choose at least one feature."); return; }
  if (body.coefs[0] === body.coefs[1]) { showError("Choose two different coefficients for the contours."); return; }
  const mine = ++ticket;
  $("go").disabled = true;
  try {
    const out = await api("POST", "/api/race", body);
    if (mine !== ticket) return;
    showError("");
    writeUrl(body);
    result = out;
    const longest = Math.max(1, ...out.lanes.map((l) => l.taken));
    $("scrub").max = String(longest);
    $("scrub").value = String(longest);
    draw();
  } catch (err) {
    if (mine === ticket) showError(err.message);
  } finally {
    $("go").disabled = false;
  }
}

function verdict(lane, budget) {
  const n = lane.steps_to_minimum;
  if (n !== null) return `${n} ${n === 1 ? "step" : "steps"}`;
  if (lane.diverged !== null) return `diverged at step ${lane.diverged}`;
  return `not within ${budget} steps`;
}

function draw() {
  if (!result) return;
  const upto = Number($("scrub").value);
  $("scrub-out").textContent = String(upto);
  const budget = Number($("max-steps").value);
  $("table").tBodies[0].replaceChildren(...result.lanes.map((lane, k) => {
    const tr = document.createElement("tr");
    const cells = [`lane ${k + 1}`, lane.label, verdict(lane, budget), lane.theory];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      td.dataset.label = ["lane", "settings", "engine", "theory"][i];  // a phone's stacked rows
      if (i === 0) { const s = document.createElement("span"); s.className = "swatch"; s.style.background = COLORS[k]; td.appendChild(s); }
      td.appendChild(document.createTextNode(c));
      if (i === 2 && lane.message) {  // why it diverged, and what to change
        const why = document.createElement("p");
        why.className = "why";
        why.textContent = lane.message;
        td.appendChild(why);
      }
      tr.appendChild(td);
    });
    return tr;
  }));
  const c = result.contours;
  const [i, j] = c.indices;
  const paths = result.lanes.map((lane, k) => {
    const keep = lane.path_step.map((s, n) => (s <= upto ? n : -1)).filter((n) => n >= 0);
    return { x: keep.map((n) => lane.path[n][i]), y: keep.map((n) => lane.path[n][j]), mode: "lines+markers",
      marker: { size: 3, color: COLORS[k] }, line: { color: COLORS[k], width: 2 }, name: `lane ${k + 1}` };
  });
  Plotly.react("chart-paths", [
    { x: c.x, y: c.y, z: c.z, type: "contour", ncontours: 25, showscale: false, contours: { coloring: "lines" }, hoverinfo: "skip", showlegend: false },
    ...paths,
    { x: [c.star[0]], y: [c.star[1]], mode: "markers", marker: { symbol: "star", size: 14, color: "#000" }, name: "minimum" },
  ], {
    title: { text: "the paths over the cost's contours", font: { size: 13 } },
    margin: { l: 55, r: 10, t: 40, b: 45 }, legend: { orientation: "h", y: -0.2 },
    xaxis: { title: { text: c.labels[0] }, range: [c.x[0], c.x[c.x.length - 1]] },
    yaxis: { title: { text: c.labels[1] }, range: [c.y[0], c.y[c.y.length - 1]] },
  }, PLOT_CONFIG);
  // an excess of exactly 0 (the minimum to the last digit) drawn at rounding level
  const start = Math.max(...result.lanes.map((lane) => lane.excess[0] || 0));
  const floor = 1e-16 * (start || 1);
  Plotly.react("chart-loss", result.lanes.map((lane, k) => {
    const keep = lane.loss_step.map((s, n) => (s <= upto && lane.excess[n] !== null ? n : -1)).filter((n) => n >= 0);
    return { x: keep.map((n) => lane.loss_step[n]), y: keep.map((n) => Math.max(lane.excess[n], floor)), mode: "lines",
      line: { color: COLORS[k], width: 2 }, name: `lane ${k + 1}` };
  }), {
    title: { text: `loss above the minimum (all rows), log scale`, font: { size: 13 } },
    margin: { l: 60, r: 10, t: 40, b: 45 }, legend: { orientation: "h", y: -0.2 },
    xaxis: { title: { text: "steps taken" } },
    yaxis: { title: { text: `loss - minimum (${result.target})` }, type: "log", exponentformat: "e" },
  }, PLOT_CONFIG);
}

function preset(name) {
  $("lanes").replaceChildren();
  for (const lane of PRESETS[name]) addLane(lane);
  go();
}

function laneFromQuery(text) {
  const s = {};
  for (const part of text.split(",")) {
    const [k, v] = part.split(":");
    if (k === "lr") s.lr = v;
    else if (k === "mode") s.mode = ["full", "mini", "sgd"].includes(v) ? v : "full";
    else if (k === "batch") s.batch = Number(v) || 32;
    else if (k === "rule") s.rule = v;
    else if (k === "beta") s.beta = Number(v);
    else if (k === "std") s.std = v !== "0";
  }
  return s;
}

async function init() {
  try {
    [datasets, rules] = await Promise.all([api("GET", "/api/datasets"), api("GET", "/api/rules")]);
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
  const [cx, cy] = (q.get("coefs") || "0,-1").split(",");
  fillCoefs(cx, cy);
  if (q.get("steps")) $("max-steps").value = q.get("steps");
  const asked_lanes = [1, 2, 3, 4].map((k) => q.get(`r${k}`)).filter(Boolean);
  for (const lane of asked_lanes.length ? asked_lanes.map(laneFromQuery) : PRESETS.rates) addLane(lane);
  $("dataset").addEventListener("change", () => fillColumns(null, null));
  $("target").addEventListener("change", () => fillColumns($("target").value, null));
  $("features").addEventListener("change", () => fillCoefs());
  $("add-lane").addEventListener("click", () => addLane({}));
  $("go").addEventListener("click", go);
  $("scrub").addEventListener("input", draw);
  for (const button of document.querySelectorAll("#presets button")) {
    button.addEventListener("click", () => preset(button.dataset.preset));
  }
  await go();
}

init();
