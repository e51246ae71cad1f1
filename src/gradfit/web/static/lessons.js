// gradfit's lessons: article A's path on your data, one screen each. The page only draws
// and forwards what the learner does; every number comes from the server's engine.
"use strict";

const $ = (id) => document.getElementById(id);
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
let datasets = {};
let line = { m: 0, b: 0 };   // the learner's line, carried from lesson to lesson
let current = 0;

const g = (v) => (v === null || v === undefined ? "-" : String(Number(Number(v).toPrecision(6))));

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function api(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  if (!response.ok) throw new Error(data && data.error ? data.error : `request failed (${response.status})`);
  return data;
}

function data() { return { dataset: $("dataset").value }; }

async function ask(path, body) {
  try {
    const out = await api(path, { ...data(), ...body });
    showError("");
    return out;
  } catch (err) {
    showError(err.message);
    return null;
  }
}

function number(input, what) {
  const v = Number(input.value.trim());
  if (input.value.trim() === "" || !Number.isFinite(v)) { showError(`${what} must be a number, not "${input.value}".`); return null; }
  return v;
}

function positive(input, what) {
  const v = number(input, what);
  if (v !== null && !(v > 0)) { showError(`${what} must be above 0, not ${input.value}.`); return null; }
  return v;
}

function plotLine(id, view, title, extra = []) {
  return Plotly.react(id, [
    { x: view.x, y: view.y, mode: "markers", marker: { size: 4, color: "#888" }, name: "data", hoverinfo: "skip" },
    { x: view.line_x, y: view.line_y, mode: "lines", line: { color: "#c0392b", width: 3 }, name: "your line" },
    ...extra,
  ], { title: { text: title, font: { size: 13 } }, margin: { l: 50, r: 10, t: 40, b: 45 }, showlegend: false,
    xaxis: { title: { text: view.feature } }, yaxis: { title: { text: view.target } } }, PLOT_CONFIG);
}

function freePlay(query) {
  $("free-play").href = `/?dataset=${encodeURIComponent($("dataset").value)}&${query}`;
}

// -- 1. guess a line ---------------------------------------------------------------------

async function guessLesson(body) {
  body.append(
    el("p", { text: "A line y = m x + b through the data: drag its two round handles up and down, or your point (m, b) on the cost's contours (or type m and b). The mean squared error J(m, b), the average of the squared vertical gaps, says how good your guess is. Can you bring it down to the best line's?" }),
    el("div", { class: "controls" }, [
      el("label", {}, ["m ", el("input", { type: "text", id: "m", inputmode: "decimal", "aria-label": "slope m" })]),
      el("label", {}, ["b ", el("input", { type: "text", id: "b", inputmode: "decimal", "aria-label": "intercept b" })]),
      el("button", { type: "button", id: "best-btn", text: "show the best line" }),
    ]),
    el("p", { class: "readout", id: "mse-readout" }),
    el("p", { class: "readout", id: "best-readout", hidden: "" }),
    el("div", { class: "charts" }, [
      el("div", { id: "chart-guess", class: "chart", role: "img", "aria-label": "the data and your line, with two handles to drag" }),
      el("div", { id: "chart-cost", class: "chart", role: "img", "aria-label": "the cost over m and b: drag or click your point" }),
    ]),
  );
  $("m").value = g(line.m);
  $("b").value = g(line.b);
  let view = null, surface = null, best = null;
  let pending = 0;
  const refresh = async () => {
    const mine = ++pending;
    const out = await ask("/api/lessons/guess", line);
    if (!out || mine !== pending) return;
    view = { ...out.view, feature: out.feature, target: out.target };
    surface = out.surface;
    best = out.best;
    $("mse-readout").replaceChildren("Your line: J(m, b) = ", el("strong", { id: "mse", text: g(out.mse) }));
    $("best-readout").textContent = `The best line: m = ${g(out.best.m)}, b = ${g(out.best.b)}, J = ${g(out.best.mse)} (least squares).`;
    draw();
  };
  const handles = () => {
    const [x0, x1] = view.line_x;
    return [[x0, line.m * x0 + line.b], [x1, line.m * x1 + line.b]];
  };
  const draw = () => {
    const h = handles();
    plotLine("chart-guess", view, "drag the round handles", [
      { x: h.map((p) => p[0]), y: h.map((p) => p[1]), mode: "markers", marker: { size: 16, color: "#c0392b", line: { color: "#fff", width: 2 } }, name: "handles" },
    ]);
    const shown = !$("best-readout").hidden;
    Plotly.react("chart-cost", [
      { x: surface.x, y: surface.y, z: surface.z, type: "contour", ncontours: 30, showscale: false, contours: { coloring: "lines" }, hoverinfo: "skip" },
      { x: [line.m], y: [line.b], mode: "markers", marker: { size: 14, color: "#c0392b", line: { color: "#fff", width: 2 } }, name: "your guess" },
      ...(shown ? [{ x: [best.m], y: [best.b], mode: "markers", marker: { symbol: "star", size: 14, color: "#000" }, name: "the best" }] : []),
    ], { title: { text: "the cost J over (m, b): drag or click your point", font: { size: 13 } }, margin: { l: 55, r: 10, t: 40, b: 45 }, showlegend: false,
      xaxis: { title: { text: "m" }, range: [surface.x[0], surface.x[surface.x.length - 1]] },
      yaxis: { title: { text: "b" }, range: [surface.y[0], surface.y[surface.y.length - 1]] } }, PLOT_CONFIG);
  };
  const typed = () => {
    const m = number($("m"), "m"), b = number($("b"), "b");
    if (m === null || b === null) return;
    line = { m, b };
    refresh();
  };
  $("m").addEventListener("change", typed);
  $("b").addEventListener("change", typed);
  $("best-btn").addEventListener("click", () => { $("best-readout").hidden = false; draw(); });
  await refresh();
  // dragging a handle: pixels to data with the axes' own conversions (drawing only)
  const div = $("chart-guess");
  let dragging = -1;
  const toData = (event) => {
    const layout = div._fullLayout;
    const box = div.getBoundingClientRect();
    return [layout.xaxis.p2l(event.clientX - box.left - layout.xaxis._offset),
      layout.yaxis.p2l(event.clientY - box.top - layout.yaxis._offset)];
  };
  div.addEventListener("pointerdown", (event) => {
    if (!view) return;
    const layout = div._fullLayout;
    const box = div.getBoundingClientRect();
    const near = handles().map(([x, y]) => Math.hypot(
      layout.xaxis.l2p(x) + layout.xaxis._offset - (event.clientX - box.left),
      layout.yaxis.l2p(y) + layout.yaxis._offset - (event.clientY - box.top)));
    const k = near[0] < near[1] ? 0 : 1;
    if (near[k] > 40) return;
    dragging = k;
    div.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  div.addEventListener("pointermove", (event) => {
    if (dragging < 0) return;
    const [, y] = toData(event);
    const h = handles();
    h[dragging][1] = y;
    const m = (h[1][1] - h[0][1]) / (h[1][0] - h[0][0]);
    line = { m, b: h[0][1] - m * h[0][0] };
    $("m").value = g(line.m);
    $("b").value = g(line.b);
    draw();
  });
  div.addEventListener("pointerup", () => {
    if (dragging < 0) return;
    dragging = -1;
    refresh();  // the cost of where the line was let go, from the engine
  });
  // or the point (m, b) on the cost's contours, dragged or clicked
  const cost = $("chart-cost");
  let moving = false;
  const moveTo = (event) => {
    const layout = cost._fullLayout;
    const box = cost.getBoundingClientRect();
    line = { m: layout.xaxis.p2l(event.clientX - box.left - layout.xaxis._offset),
      b: layout.yaxis.p2l(event.clientY - box.top - layout.yaxis._offset) };
    $("m").value = g(line.m);
    $("b").value = g(line.b);
    draw();
  };
  cost.addEventListener("pointerdown", (event) => {
    if (!surface) return;
    moving = true;
    cost.setPointerCapture(event.pointerId);
    event.preventDefault();
    moveTo(event);
  });
  cost.addEventListener("pointermove", (event) => { if (moving) moveTo(event); });
  cost.addEventListener("pointerup", () => { if (moving) { moving = false; refresh(); } });
  freePlay("standardize=0&lr=0.00001");
}

// -- 2. the derivative ---------------------------------------------------------------------

async function derivativeLesson(body) {
  const out = await ask("/api/lessons/derivative", line);
  if (!out) return;
  const f = out.feature, t = out.target, e = out.engine;
  const table = el("table", { class: "rows" }, [
    el("thead", {}, [el("tr", {}, ["i", f, t, `${t} - (m ${f} + b)`, `${f} (${t} - (m ${f} + b))`].map((h) => el("th", { scope: "col", text: h })))]),
    el("tbody", {}, out.rows.map((r, i) => el("tr", {}, [String(i), g(r.x), g(r.y), g(r.residual), g(r.x_residual)].map((c) => el("td", { text: c }))))),
  ]);
  body.append(
    el("p", { text: `At your line m = ${g(line.m)}, b = ${g(line.b)} (from lesson 1). The cost is J(m, b) = (1/N) sum (y_i - (m x_i + b))^2 over the N = ${out.n} rows. Which way should m and b move to lower it? The derivative says.` }),
    el("pre", { class: "math", id: "derivation", text: [
      "Power rule: d/du u^2 = 2u.  Chain rule: the inside u_i = y_i - (m x_i + b) has du_i/dm = -x_i, du_i/db = -1.",
      "dJ/dm = (1/N) sum 2 u_i (-x_i) = -(2/N) sum x_i (y_i - (m x_i + b))",
      "dJ/db = (1/N) sum 2 u_i (-1)   = -(2/N) sum (y_i - (m x_i + b))",
      "",
      `With your numbers: sum x_i u_i = ${g(out.sum_x_residual)},  sum u_i = ${g(out.sum_residual)}`,
      `dJ/dm = -(2/${out.n}) * ${g(out.sum_x_residual)} = ${g(out.dJ_dm)}`,
      `dJ/db = -(2/${out.n}) * ${g(out.sum_residual)} = ${g(out.dJ_db)}`,
      `gradfit's engine: dJ/dm = ${g(e.dJ_dm)}, dJ/db = ${g(e.dJ_db)} (J = ${g(e.loss)})`,
    ].join("\n") }),
    el("p", { text: `The first ${out.rows.length} rows of the sums:` }),
    table,
    el("p", { text: `A positive dJ/dm means that a larger m raises the cost: descent moves m the other way, by the rate times ${g(out.dJ_dm)}. That is the next lesson.` }),
  );
  freePlay("standardize=0&lr=0.00001");
}

// -- 3. one step ---------------------------------------------------------------------------

async function stepLesson(body) {
  body.append(
    el("p", { text: "One step of gradient descent: m <- m - lr dJ/dm and b <- b - lr dJ/db, from your line. The first chart: the cost as a function of m alone (b held): a parabola, with your point, its tangent (the slope dJ/dm) and where the step lands. Try a rate, step a few times; then try one too large." }),
    el("div", { class: "controls" }, [
      el("label", {}, ["learning rate ", el("input", { type: "text", id: "step-lr", value: "0.00001", inputmode: "decimal" })]),
      el("button", { type: "button", id: "step-btn", text: "STEP" }),
      el("button", { type: "button", id: "restart-btn", text: "back to m = 0, b = 0" }),
    ]),
    el("p", { class: "readout", id: "step-readout", text: "Press STEP." }),
    el("div", { class: "charts" }, [
      el("div", { id: "chart-parabola", class: "chart", role: "img", "aria-label": "the cost over m, the point, the tangent and the step" }),
      el("div", { id: "chart-step-line", class: "chart", role: "img", "aria-label": "the data and the line after the step" }),
    ]),
  );
  const step = async () => {
    const lr = positive($("step-lr"), "The learning rate");
    if (lr === null) return;
    const out = await ask("/api/lessons/step", { ...line, lr });
    if (!out) return;
    line = { m: out.after.m, b: out.after.b };
    const worse = out.after.mse > out.before.mse;
    $("step-readout").className = worse ? "readout verdict bad" : "readout";
    $("step-readout").textContent = `m: ${g(out.before.m)} -> ${g(out.after.m)},  b: ${g(out.before.b)} -> ${g(out.after.b)},  J: ${g(out.before.mse)} -> ${g(out.after.mse)}` +
      (worse ? `. The cost went up: this rate is past the stable limit 2/L = ${g(out.stable_lr)} for these raw units.` : "");
    const p = out.parabola;
    const half = (p.x[p.x.length - 1] - p.x[0]) / 4;
    Plotly.react("chart-parabola", [
      { x: p.x, y: p.y, mode: "lines", line: { color: "#2c6fbb" }, name: "J(m)" },
      { x: [p.at[0] - half, p.at[0] + half], y: [p.at[1] - p.slope * half, p.at[1] + p.slope * half], mode: "lines", line: { dash: "dot", color: "#888" }, name: "tangent" },
      { x: [p.at[0], p.next[0]], y: [p.at[1], p.next[1]], mode: "lines+markers", line: { color: "#c0392b", width: 2 }, marker: { size: 8 }, name: "the step" },
    ], { title: { text: `J over m (b held at ${g(out.before.b)})`, font: { size: 13 } }, margin: { l: 60, r: 10, t: 40, b: 45 }, showlegend: false,
      xaxis: { title: { text: `m, the slope of ${out.feature}` } }, yaxis: { title: { text: "J" } } }, PLOT_CONFIG);
    plotLine("chart-step-line", { ...out.view, feature: out.feature, target: out.target }, "your line after the step");
  };
  $("step-btn").addEventListener("click", step);
  $("restart-btn").addEventListener("click", () => { line = { m: 0, b: 0 }; $("step-readout").textContent = "Back at m = 0, b = 0: press STEP."; });
  freePlay(`standardize=0&lr=${encodeURIComponent($("step-lr").value)}`);
}

// -- 4. the learning-rate challenge --------------------------------------------------------

async function challengeLesson(body) {
  body.append(
    el("p", { text: "With standardized features (next lessons say why), pick a learning rate and let the engine descend from m = 0, b = 0 until the cost is within a millionth of its excess over the minimum. How few steps can you do it in?" }),
    el("div", { class: "controls" }, [
      el("label", {}, ["learning rate ", el("input", { type: "text", id: "challenge-lr", value: "0.1", inputmode: "decimal" })]),
      el("button", { type: "button", id: "try-btn", text: "TRY" }),
      el("button", { type: "button", id: "answer-btn", text: "show the answer" }),
    ]),
    el("p", { class: "verdict", id: "challenge-verdict", hidden: "" }),
    el("p", { class: "verdict", id: "challenge-answer", hidden: "" }),
  );
  const verdict = $("challenge-verdict");
  $("try-btn").addEventListener("click", async () => {
    const lr = positive($("challenge-lr"), "The learning rate");
    if (lr === null) return;
    const out = await ask("/api/lessons/challenge", { lr });
    if (!out) return;
    verdict.hidden = false;
    verdict.className = out.steps === null ? "verdict bad" : "verdict";
    if (out.steps !== null) verdict.textContent = `Rate ${lr}: the minimum in ${out.steps} ${out.steps === 1 ? "step" : "steps"}. Can you do it in fewer steps?`;
    else if (out.diverged !== null) verdict.textContent = `Rate ${lr}: diverged at step ${out.diverged}: past the stable limit 2/L = ${g(out.stable_lr)}. Try a smaller rate.`;
    else verdict.textContent = `Rate ${lr}: not within ${out.searched} steps. Try a larger rate (below 2/L = ${g(out.stable_lr)}).`;
    freePlay(`standardize=1&lr=${encodeURIComponent(String(lr))}`);
  });
  $("answer-btn").addEventListener("click", async () => {
    const out = await ask("/api/lessons/challenge", { lr: positive($("challenge-lr"), "The learning rate") || 0.1, answer: true });
    if (!out) return;
    const a = out.answer;
    $("challenge-answer").hidden = false;
    freePlay(`standardize=1&lr=${encodeURIComponent(g(a.lr))}`);
    $("challenge-answer").textContent = `The answer: ${a.steps} ${a.steps === 1 ? "step" : "steps"} at the rate ${g(a.lr)}. The theory's best constant rate is 2 / (mu + L) = ${g(a.best_lr)}; on standardized data with one feature the bowl is round (condition number ${g(a.condition_number)}), so one step of that rate lands on the minimum.`;
  });
  freePlay("standardize=1&lr=0.1");
}

// -- 5. why standardize ----------------------------------------------------------------------

function bowlChart(id, bowl, labels, title) {
  Plotly.react(id, [
    { x: bowl.x, y: bowl.y, z: bowl.z, type: "contour", ncontours: 25, showscale: false, contours: { coloring: "lines" }, hoverinfo: "skip" },
    { x: bowl.path.map((t) => t[0]), y: bowl.path.map((t) => t[1]), mode: "lines+markers", marker: { size: 4, color: "#c0392b" }, line: { color: "#c0392b" } },
    { x: [bowl.star[0]], y: [bowl.star[1]], mode: "markers", marker: { symbol: "star", size: 14, color: "#000" } },
  ], { title: { text: title, font: { size: 13 } }, margin: { l: 55, r: 10, t: 40, b: 45 }, showlegend: false,
    xaxis: { title: { text: labels[0] } },
    yaxis: bowl.equal_axes ? { title: { text: labels[1] }, scaleanchor: "x", scaleratio: 1 } : { title: { text: labels[1] } } }, PLOT_CONFIG);
}

async function standardizeLesson(body) {
  const out = await ask("/api/lessons/bowls", {});
  if (!out) return;
  const say = (b) => (b.steps !== null ? `${b.steps} ${b.steps === 1 ? "step" : "steps"}` : `more than ${b.searched.toLocaleString("en")} steps (the theory: about ${b.theory_steps === null ? "never" : b.theory_steps.toLocaleString("en")})`);
  body.append(
    el("p", { id: "bowls-text", text: `On raw units the cost is a long, narrow valley (condition number ${g(out.raw.condition_number)}): the steep walls cap the rate at 2/L, and at that rate the flat floor takes forever. Best constant rate on raw units: ${say(out.raw)}. Standardized (each feature minus its mean, divided by its spread), the bowl is round (condition number ${g(out.std.condition_number)}): ${say(out.std)}.` }),
    el("div", { class: "charts" }, [
      el("div", { id: "chart-raw", class: "chart", role: "img", "aria-label": "the raw cost bowl and the best rate's path" }),
      el("div", { id: "chart-std", class: "chart", role: "img", "aria-label": "the standardized cost bowl and the best rate's path" }),
    ]),
  );
  bowlChart("chart-raw", out.raw, out.labels.raw, `raw: rate ${g(out.raw.lr)}, ${say(out.raw)}`);
  bowlChart("chart-std", out.std, out.labels.std, `standardized: rate ${g(out.std.lr)}, ${say(out.std)}`);
  freePlay("standardize=0&lr=0.00001");
}

// -- 6 and 7: races --------------------------------------------------------------------------

async function raceLesson(body, text, lanes, preset) {
  body.append(el("p", { text }), el("table", { class: "rows", id: "race-table" }),
    el("div", { class: "charts" }, [el("div", { id: "chart-race", class: "chart", role: "img", "aria-label": "the loss above the minimum, lane by lane" })]),
    el("p", {}, [el("a", { href: `/race?dataset=${encodeURIComponent($("dataset").value)}`, id: "race-link", text: `this race, and your own, on the race page (${preset})` })]));
  const out = await ask("/api/race", { lanes, max_steps: 300 });
  if (!out) return;
  $("race-table").replaceChildren(
    el("thead", {}, [el("tr", {}, ["", "settings", "steps to the minimum", "theory"].map((h) => el("th", { scope: "col", text: h })))]),
    el("tbody", {}, out.lanes.map((lane, k) => el("tr", {}, [`lane ${k + 1}`, lane.label,
      lane.steps_to_minimum !== null ? String(lane.steps_to_minimum) : lane.diverged !== null ? `diverged at step ${lane.diverged}` : "not within 300",
      lane.theory].map((c) => el("td", { text: c }))))),
  );
  Plotly.react("chart-race", out.lanes.map((lane, k) => ({
    x: lane.loss_step, y: lane.excess.map((v) => Math.max(v || 0, 1e-16 * (lane.excess[0] || 1))), mode: "lines",
    line: { color: COLORS[k], width: 2 }, name: lane.label })), {
    title: { text: "loss above the minimum (all rows)", font: { size: 13 } }, margin: { l: 60, r: 10, t: 40, b: 45 },
    legend: { orientation: "h", y: -0.25, font: { size: 10 } }, xaxis: { title: { text: "steps taken" } },
    yaxis: { type: "log", exponentformat: "e" } }, PLOT_CONFIG);
}

function modesLesson(body) {
  freePlay("standardize=1&mode=mini&batch=16&lr=0.05");
  return raceLesson(body, "Full batch uses every row for each step; a mini-batch a few rows; stochastic descent one. Smaller batches take cheaper, noisier steps: they get near the minimum fast, then jitter around it at a constant rate (their loss is checked on all rows here, every epoch or every 100 steps).",
    [{ lr: 0.1, mode: "full" }, { lr: 0.05, mode: "mini", batch_size: 16 }, { lr: 0.01, mode: "sgd" }], "batch vs mini-batch vs SGD");
}

function rulesLesson(body) {
  freePlay("standardize=1&optimizer=momentum&lr=0.05");
  return raceLesson(body, "Momentum adds a share of the last step to the next one: it rolls through long flat valleys faster and may overshoot. Adam divides each coordinate's step by its own recent gradient size. Same rate, same data:",
    [{ lr: 0.05, optimizer: "gd" }, { lr: 0.05, optimizer: "momentum", beta: 0.9 }, { lr: 0.05, optimizer: "adam" }], "gd vs momentum vs Adam");
}

// -- 8. penalties ------------------------------------------------------------------------------

async function penaltyLesson(body) {
  body.append(
    el("p", { text: "A penalty adds the size of the coefficients to the cost: ridge their squares, lasso their absolute values. The stronger (alpha), the smaller the slope; the lasso's kink at 0 holds it at exactly 0 once alpha passes alpha_max." }),
    el("div", { class: "controls" }, [el("label", {}, ["penalty ", el("select", { id: "penalty" }, [el("option", { value: "l1", text: "lasso (L1)" }), el("option", { value: "l2", text: "ridge (L2)" })])])]),
    el("p", { class: "readout", id: "penalty-readout" }),
    el("div", { class: "charts" }, [el("div", { id: "chart-penalty", class: "chart", role: "img", "aria-label": "the slope against the penalty's strength" })]),
  );
  const draw = async () => {
    const out = await ask("/api/lessons/penalty", { penalty: $("penalty").value });
    if (!out) return;
    const zero = out.m.filter((v) => v === 0).length;
    $("penalty-readout").textContent = $("penalty").value === "l1"
      ? `alpha_max = ${g(out.alpha_max)}: at this strength and above the lasso's slope is exactly 0 (${zero} of the ${out.m.length} strengths drawn). Least squares: m = ${g(out.least_squares.m)}.`
      : `Ridge shrinks the slope towards 0 without reaching it (smallest drawn: ${g(Math.min(...out.m.map(Math.abs)))}). Least squares: m = ${g(out.least_squares.m)}.`;
    Plotly.react("chart-penalty", [
      { x: out.alphas, y: out.m, mode: "lines+markers", marker: { size: 5 }, name: `m of ${out.feature}` },
      { x: [out.alphas[out.alphas.length - 1], out.alphas[0]], y: [out.least_squares.m, out.least_squares.m], mode: "lines", line: { dash: "dash", color: "#000" }, name: "least squares" },
    ], { title: { text: "the slope as the penalty strengthens", font: { size: 13 } }, margin: { l: 60, r: 10, t: 40, b: 45 }, showlegend: false,
      xaxis: { title: { text: "alpha (log scale)" }, type: "log" }, yaxis: { title: { text: `m, the slope of ${out.feature}` } } }, PLOT_CONFIG);
    freePlay(`standardize=1&penalty=${$("penalty").value}&alpha=${g(out.alpha_max / 10)}&lr=0.1`);
  };
  $("penalty").addEventListener("change", draw);
  await draw();
}

const LESSONS = [
  ["Guess a line", guessLesson],
  ["The derivative, with your numbers", derivativeLesson],
  ["One step", stepLesson],
  ["The learning-rate challenge", challengeLesson],
  ["Why standardize", standardizeLesson],
  ["Batch, mini-batch, stochastic", modesLesson],
  ["Momentum and Adam", rulesLesson],
  ["Penalties: ridge and lasso", penaltyLesson],
];

async function show(k) {
  current = Math.max(0, Math.min(LESSONS.length - 1, k));
  const [title, render] = LESSONS[current];
  $("lesson-title").textContent = `${current + 1}. ${title}`;
  for (const [i, button] of [...document.querySelectorAll("#lesson-list button")].entries()) {
    if (i === current) button.setAttribute("aria-current", "step");
    else button.removeAttribute("aria-current");
  }
  $("prev").disabled = current === 0;
  $("next").disabled = current === LESSONS.length - 1;
  showError("");
  const body = $("lesson-body");
  body.replaceChildren();
  history.replaceState(null, "", `?dataset=${encodeURIComponent($("dataset").value)}&lesson=${current + 1}`);
  await render(body);
}

async function init() {
  try {
    const response = await fetch("/api/datasets");
    datasets = await response.json();
  } catch (err) {
    showError(`The server did not answer (${err.message}): reload the page.`);
    return;
  }
  const q = new URLSearchParams(location.search);
  const names = Object.keys(datasets);
  $("dataset").replaceChildren(...names.map((n) => new Option(`${n}: ${datasets[n].target} from ${datasets[n].features[0]}`, n)));
  const asked = q.get("dataset");
  $("dataset").value = names.includes(asked) ? asked : names[0];
  $("lesson-list").querySelector("ol").replaceChildren(...LESSONS.map(([title], i) => {
    const button = el("button", { type: "button", text: title });
    button.addEventListener("click", () => show(i));
    return el("li", {}, [button]);
  }));
  $("prev").addEventListener("click", () => show(current - 1));
  $("next").addEventListener("click", () => show(current + 1));
  $("dataset").addEventListener("change", () => { line = { m: 0, b: 0 }; show(current); });
  const lesson = Number(q.get("lesson")) || 1;
  await show(lesson - 1);
  if (asked && !names.includes(asked)) showError(`There is no data set "${asked}" here: showing ${names[0]}.`);
}

init();
