// gradfit's playground as an anywidget front end: controls, readout and two SVG charts.
// It draws the kernel's `state` (a gradfit.web.sessions.Session's) and sends clicks as
// messages; every number comes from the engine in the kernel.
const SVG = "http://www.w3.org/2000/svg";
const RULES = ["gd", "momentum", "nesterov", "adam", "svrg"];
const MODE_NAMES = { full: "full batch", mini: "mini-batch", sgd: "stochastic (1 row)" };

function node(tag, attrs = {}, parent = null) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  if (parent) parent.appendChild(el);
  return el;
}

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v !== "number") return String(v);
  if (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

// A chart: points (and a polyline) scaled into a 320 x 220 box with labelled axes.
function chart(svg, title, xs, ys, { line = null, path = false, logY = false, xLabel = "", yLabel = "" } = {}) {
  svg.replaceChildren();
  const W = 320, H = 220, L = 52, B = 36, T = 22, R = 10;
  node("svg:text", { x: W / 2, y: 14, "text-anchor": "middle", class: "gf-title", text: title }, svg);
  const ty = (v) => (logY ? Math.log10(Math.max(v, 1e-300)) : v);
  const allX = xs.concat(line ? line[0] : []);
  const allY = ys.concat(line ? line[1] : []).map(ty).filter(Number.isFinite);
  if (!allX.length || !allY.length) return;
  let [x0, x1] = [Math.min(...allX), Math.max(...allX)];
  let [y0, y1] = [Math.min(...allY), Math.max(...allY)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R);
  const sy = (v) => H - B - ((ty(v) - y0) / (y1 - y0)) * (H - B - T);
  node("svg:line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "gf-axis" }, svg);
  node("svg:line", { x1: L, y1: T, x2: L, y2: H - B, class: "gf-axis" }, svg);
  node("svg:text", { x: L, y: H - B + 14, class: "gf-tick", text: fmt(x0) }, svg);
  node("svg:text", { x: W - R, y: H - B + 14, "text-anchor": "end", class: "gf-tick", text: fmt(x1) }, svg);
  const yTick = (v) => (logY ? "1e" + v.toFixed(1) : fmt(v));
  node("svg:text", { x: L - 4, y: H - B, "text-anchor": "end", class: "gf-tick", text: yTick(y0) }, svg);
  node("svg:text", { x: L - 4, y: T + 8, "text-anchor": "end", class: "gf-tick", text: yTick(y1) }, svg);
  node("svg:text", { x: (L + W) / 2, y: H - 4, "text-anchor": "middle", class: "gf-label", text: xLabel }, svg);
  node("svg:text", { x: 12, y: (T + H - B) / 2, class: "gf-label", transform: `rotate(-90 12 ${(T + H - B) / 2})`, "text-anchor": "middle", text: yLabel }, svg);
  if (path) {
    const d = xs.map((x, i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(ys[i]).toFixed(1)}`).join("");
    node("svg:path", { d, class: "gf-curve" }, svg);
    return;
  }
  xs.forEach((x, i) => node("svg:circle", { cx: sx(x), cy: sy(ys[i]), r: 2, class: "gf-point" }, svg));
  if (line) {
    node("svg:line", { x1: sx(line[0][0]), y1: sy(line[1][0]), x2: sx(line[0][1]), y2: sy(line[1][1]), class: "gf-line" }, svg);
  }
}

// The cost over two coefficients as filled bands (12 levels, spaced on a log scale of the
// excess over the lowest point), the path so far and the minimum; equal scales for
// standardized coordinates (a round bowl drawn round).
function contours(svg, s) {
  svg.replaceChildren();
  const W = 320, H = 220, L = 52, B = 36, T = 22, R = 10;
  node("svg:text", { x: W / 2, y: 14, "text-anchor": "middle", class: "gf-title", text: "cost contours and the path" }, svg);
  if (!s || !s.x) return;
  const [x0, x1] = [s.x[0], s.x[s.x.length - 1]];
  const [y0, y1] = [s.y[0], s.y[s.y.length - 1]];
  let [w, h] = [W - L - R, H - B - T];
  if (s.equal_axes) {  // one unit is as long on both axes
    const unit = Math.min(w / (x1 - x0), h / (y1 - y0));
    [w, h] = [unit * (x1 - x0), unit * (y1 - y0)];
  }
  const left = L + (W - L - R - w) / 2;  // the frame centred in its box
  const sx = (v) => left + ((v - x0) / (x1 - x0)) * w;
  const sy = (v) => T + h - ((v - y0) / (y1 - y0)) * h;
  const flat = s.z.flat().filter(Number.isFinite);
  const low = Math.min(...flat), high = Math.max(...flat);
  const span = Math.log1p(high - low) || 1;
  const band = (z) => Math.min(11, Math.floor((12 * Math.log1p(z - low)) / span));
  const dx = w / (s.x.length - 1), dy = h / (s.y.length - 1);
  s.z.forEach((row, r) => row.forEach((z, c) => {
    if (!Number.isFinite(z)) return;
    const light = 92 - 5 * band(z);
    node("svg:rect", { x: (sx(s.x[c]) - dx / 2).toFixed(1), y: (sy(s.y[r]) - dy / 2).toFixed(1),
      width: (dx + 0.6).toFixed(1), height: (dy + 0.6).toFixed(1), fill: `hsl(215 60% ${light}%)`, class: "gf-band" }, svg);
  }));
  const yMid = T + h / 2;
  node("svg:text", { x: left + w / 2, y: T + h + 26, "text-anchor": "middle", class: "gf-label", text: s.labels[0] }, svg);
  node("svg:text", { x: left - 40, y: yMid, class: "gf-label", transform: `rotate(-90 ${left - 40} ${yMid})`, "text-anchor": "middle", text: s.labels[1] }, svg);
  node("svg:text", { x: left, y: T + h + 12, class: "gf-tick", text: fmt(x0) }, svg);
  node("svg:text", { x: left + w, y: T + h + 12, "text-anchor": "end", class: "gf-tick", text: fmt(x1) }, svg);
  node("svg:text", { x: left - 4, y: T + h, "text-anchor": "end", class: "gf-tick", text: fmt(y0) }, svg);
  node("svg:text", { x: left - 4, y: T + 8, "text-anchor": "end", class: "gf-tick", text: fmt(y1) }, svg);
  const [px, py] = s.path;
  const d = px.map((x, k) => `${k ? "L" : "M"}${sx(x).toFixed(1)},${sy(py[k]).toFixed(1)}`).join("");
  node("svg:path", { d, class: "gf-path" }, svg);
  node("svg:circle", { cx: sx(px[px.length - 1]), cy: sy(py[py.length - 1]), r: 3, class: "gf-here" }, svg);
  node("svg:text", { x: sx(s.star[0]), y: sy(s.star[1]) + 4, "text-anchor": "middle", class: "gf-star", text: "\u2605" }, svg);
}

function render({ model, el }) {
  const root = node("div", { class: "gf-playground" }, el);
  const controls = node("div", { class: "gf-controls" }, root);
  const lrLabel = node("label", { text: "learning rate " }, controls);
  const lr = node("input", { type: "number", step: "any", min: "0", "aria-label": "learning rate" }, lrLabel);
  const mode = node("select", { "aria-label": "mode" }, controls);
  for (const m of ["full", "mini", "sgd"]) node("option", { value: m, text: MODE_NAMES[m] }, mode);
  const rule = node("select", { "aria-label": "update rule" }, controls);
  for (const r of RULES) node("option", { value: r, text: r }, rule);
  const stdLabel = node("label", { text: " standardize" }, controls);
  const std = node("input", { type: "checkbox", "aria-label": "standardize" });
  stdLabel.prepend(std);
  const buttons = node("div", { class: "gf-buttons" }, root);
  const stepButton = node("button", { text: "STEP", title: "one step (s)" }, buttons);
  const runButton = node("button", { text: "RUN", title: "run / pause (r)" }, buttons);
  const resetButton = node("button", { text: "RESET", title: "back to step 0 (0)" }, buttons);
  const readout = node("div", { class: "gf-readout", role: "status", "aria-live": "polite" }, root);
  const error = node("div", { class: "gf-error", role: "alert" }, root);
  const charts = node("div", { class: "gf-charts" }, root);
  const dataChart = node("svg:svg", { viewBox: "0 0 320 220", class: "gf-chart", role: "img" }, charts);
  const lossChart = node("svg:svg", { viewBox: "0 0 320 220", class: "gf-chart", role: "img" }, charts);
  const surfaceChart = node("svg:svg", { viewBox: "0 0 320 220", class: "gf-chart gf-contours", role: "img",
    "aria-label": "cost contours and the path" }, charts);
  const explain = node("pre", { class: "gf-explain" }, root);

  const send = (content) => model.send(content);
  const settings = () =>
    send({ type: "settings", lr: lr.value, mode: mode.value, optimizer: rule.value, standardize: std.checked });
  lr.addEventListener("change", settings);
  mode.addEventListener("change", settings);
  rule.addEventListener("change", settings);
  std.addEventListener("change", settings);
  stepButton.addEventListener("click", () => send({ type: "step", n: 1 }));
  runButton.addEventListener("click", () => send({ type: model.get("running") ? "pause" : "run" }));
  resetButton.addEventListener("click", () => send({ type: "reset" }));
  root.tabIndex = 0;
  root.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if (event.key === "s") stepButton.click();
    else if (event.key === "r") runButton.click();
    else if (event.key === "0") resetButton.click();
  });

  function drawControls() {
    const c = model.get("controls");
    lr.value = c.lr;
    mode.value = c.mode;
    rule.value = c.optimizer;
    std.checked = c.standardize;
  }

  function draw() {
    const s = model.get("state");
    const running = model.get("running");
    runButton.textContent = running ? "PAUSE" : "RUN";
    let text = `step ${s.step}   loss ${fmt(s.loss)}   minimum ${fmt(s.best_loss)}`;
    if (s.success && s.success.message) text += `\n${s.success.message}`;
    if (s.message) text += `\n${s.message}`;
    readout.textContent = text;
    error.textContent = model.get("error");
    const v = s.view || {};
    if (v.kind === "line") {
      chart(dataChart, "the line on the data", v.x, v.y, {
        line: [v.line_x, v.line_y], xLabel: (s.feature_names || [""])[0], yLabel: s.target || "y",
      });
    } else if (v.kind === "scatter") {
      chart(dataChart, "predicted against actual", v.actual, v.predicted, {
        xLabel: `actual ${s.target || "y"}`, yLabel: "predicted",
      });
    }
    const curve = s.curve || { step: [], loss: [] };
    chart(lossChart, "loss (log scale)", curve.step, curve.loss, {
      path: true, logY: true, xLabel: "step", yLabel: "loss",
    });
    contours(surfaceChart, s.surface);
    explain.textContent = s.explain && s.explain.text ? s.explain.text.join("\n") : "";
  }

  function keepRunning() {
    if (model.get("running") && !["converged", "diverged"].includes(model.get("state").status)) {
      setTimeout(() => { if (model.get("running")) send({ type: "run" }); }, 30);
    }
  }

  model.on("change:state", () => { draw(); keepRunning(); });
  model.on("change:running", draw);
  model.on("change:error", draw);
  model.on("change:controls", drawControls);
  drawControls();
  draw();
}

export default { render };
