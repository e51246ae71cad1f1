// gradfit playground's charts: the data and its line, the parabola, the loss, the contours.
// Loaded before app.js, whose state (last, points, path, session) they draw; every number
// drawn comes from the server's engine.
"use strict";

const layoutBase = { margin: { l: 50, r: 10, t: 30, b: 40 }, showlegend: false };

function titled(id, text, size) {
  // a title that fits its chart: broken into lines at spaces, the top margin made room for
  const width = $(id).clientWidth || 300;
  const perLine = Math.max(12, Math.floor((width - 20) / (size * 0.56)));
  const lines = [];
  for (const word of text.split(" ")) {
    if (lines.length && (lines[lines.length - 1] + " " + word).length <= perLine) lines[lines.length - 1] += " " + word;
    else lines.push(word);
  }
  return { title: { text: lines.join("<br>"), font: { size } }, top: 14 + (size + 4) * lines.length };
}

function layout(id, text, size, extra) {
  const t = titled(id, text, size);
  return { ...layoutBase, ...extra, title: t.title, margin: { ...layoutBase.margin, ...(extra.margin || {}), t: t.top } };
}

function drawData() {
  const v = last.view;
  if (v.kind === "line") {
    Plotly.react("chart-data", [
      { x: v.x, y: v.y, mode: "markers", type: "scatter", marker: { size: 4, color: "#888" }, name: "data" },
      { x: v.line_x, y: v.line_y, mode: "lines", type: "scatter", line: { color: "#c0392b", width: 3 }, name: "line" },
    ], layout("chart-data", "data and the current line", 15, { xaxis: { title: { text: last.feature_names[0] } }, yaxis: { title: { text: last.target } } }), PLOT_CONFIG);
  } else {
    const lo = Math.min(...v.actual), hi = Math.max(...v.actual);
    Plotly.react("chart-data", [
      { x: v.actual, y: v.predicted, mode: "markers", type: "scatter", marker: { size: 4, color: "#2c6fbb" } },
      { x: [lo, hi], y: [lo, hi], mode: "lines", line: { color: "#888", dash: "dash" } },
    ], layout("chart-data", "predicted against actual", 15, { xaxis: { title: { text: "actual" } }, yaxis: { title: { text: "predicted" } } }), PLOT_CONFIG);
  }
}

function lossName() {
  return last.objective === "least squares" ? "loss" : "objective";
}

function drawLoss() {
  // the full-data loss: at every step of full batch, every `every` steps with batches
  const every = last.every || 1;
  const title = every === 1 ? `${lossName()} per step` : `${lossName()} on all rows, every ${every} steps`;
  Plotly.react("chart-loss", [
    { x: points.step, y: points.loss, mode: "lines+markers", marker: { size: 3 }, name: lossName() },
    { x: [0, Math.max(1, points.step[points.step.length - 1])], y: [last.best_loss, last.best_loss],
      mode: "lines", line: { dash: "dash", color: "#000" }, name: "minimum" },
  ], layout("chart-loss", title, 15, { xaxis: { title: { text: "steps taken" } }, yaxis: { title: { text: lossName() }, type: "log" } }), PLOT_CONFIG);
}

let surfaceTicket = 0;

async function drawSurface() {
  if (!session) return;
  const asked = session;
  const ticket = ++surfaceTicket;
  const thetas = path.theta;
  const stride = Math.max(1, Math.ceil(thetas.length / 2000));
  const trail = thetas.filter((_, i) => i % stride === 0 || i === thetas.length - 1);
  try {
    const s = await api("POST", `/api/sessions/${asked}/surface`, { path: trail, coefs: coefs() });
    if (asked !== session || ticket !== surfaceTicket) return;  // a newer drawing follows
    lastSurface = performance.now();
    const [i, j] = s.indices;
    const traces = [
      { x: s.x, y: s.y, z: s.z, type: "contour", ncontours: 25, showscale: false, contours: { coloring: "lines" }, name: "contours", showlegend: false, hoverinfo: "skip" },
      { x: trail.map((t) => t[i]), y: trail.map((t) => t[j]), mode: "lines+markers", marker: { size: 4, color: "#c0392b" }, line: { color: "#c0392b" }, name: "path" },
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
      traces.push({ x: [0, 0], y: ends(s.y), mode: "lines", line: { color: "#8e44ad", dash: "dot", width: 2 }, name: `${s.names[0]} = 0 (kink)` });
    }
    if (s.kinks[1]) {
      traces.push({ x: ends(s.x), y: [0, 0], mode: "lines", line: { color: "#8e44ad", dash: "dot", width: 2 }, name: `${s.names[1]} = 0 (kink)` });
    }
    const plain = last.objective === "least squares";
    // the objective's own contours: the penalty (or Huber's loss) is in them
    const title = plain ? "cost contours and the path" : `contours of ${last.objective}`;
    surfaceDrawn = { traces, layout: layout("chart-surface", title, plain ? 15 : 12, {
      showlegend: !plain,
      legend: { orientation: "h", x: 0, y: -0.3, yanchor: "top", font: { size: 10 } },
      margin: { b: plain ? 40 : 90 },
      xaxis: { title: { text: s.labels[0] } },
      // standardized coordinates share the target's units: equal scales show the bowl's shape
      yaxis: s.equal_axes ? { title: { text: s.labels[1] }, scaleanchor: "x", scaleratio: 1 }
        : { title: { text: s.labels[1] } },
    }), range: [[s.x[0], s.x[s.x.length - 1]], [s.y[0], s.y[s.y.length - 1]]] };
    Plotly.react("chart-surface", traces, surfaceDrawn.layout, PLOT_CONFIG);
    drawParabola(s.parabola);
  } catch (err) {
    showError(err.message);
  }
}

// Article A's first picture: the loss over one coefficient (the contour plot's x axis), the
// others held where the last step started; the point, the tangent there, and the step.
function drawParabola(p) {
  const lo = p.x[0], hi = p.x[p.x.length - 1];
  const [x0, y0] = p.at;
  // the tangent, drawn over the middle half of the picture around the point
  const half = (hi - lo) / 4;
  const traces = [
    { x: p.x, y: p.y, mode: "lines", line: { color: "#2c6fbb" }, name: lossName() },
    { x: [x0 - half, x0 + half], y: [y0 - p.slope * half, y0 + p.slope * half], mode: "lines",
      line: { color: "#888", dash: "dot" }, name: `slope ${fmt(p.slope)}` },
    { x: [x0], y: [y0], mode: "markers", marker: { size: 9, color: "#c0392b" }, name: "here" },
  ];
  if (p.next) {
    traces.push({ x: [x0, p.next[0]], y: [y0, p.next[1]], mode: "lines+markers",
      line: { color: "#c0392b", width: 2 }, marker: { size: 7, symbol: "arrow", angleref: "previous" },
      name: "the step" });
  }
  // a batch's step follows its own slope, not the full-data tangent drawn here
  const batch = $("mode").value !== "full" ? " (a batch's slope)" : "";
  const what = p.next ? `the last step${batch}` : "where the descent stands";
  Plotly.react("chart-parabola", traces, layout("chart-parabola",
    `${lossName()} over ${p.name} (the others held), ${what}`, 13, {
      xaxis: { title: { text: p.label } }, yaxis: { title: { text: lossName() } },
    }), PLOT_CONFIG);
  $("chart-parabola").setAttribute("aria-label",
    `The ${lossName()} as a function of ${p.label} alone: at ${fmt(x0)} it is ${fmt(y0)}, its slope ${fmt(p.slope)}` +
    (p.next ? `; the step moved ${p.name} to ${fmt(p.next[0])}, where it is ${fmt(p.next[1])}.` : "."));
}

// The rate slider while it moves: the path the same descent would take at that rate, drawn
// over the contours (dashed) and its loss beside the real one, from the server's engine.
let surfaceDrawn = null;   // the contour plot's traces and layout, to draw a preview over
let previewTicket = 0;
let previewTimer = 0;

function previewRate(lr) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => showPreview(lr), 60);
}

async function showPreview(lr) {
  if (!session || !surfaceDrawn || !(lr > 0)) return;
  const asked = session;
  const ticket = ++previewTicket;
  const n = Math.min(2000, Math.max(50, last ? last.step : 0));
  try {
    const p = await api("POST", `/api/sessions/${asked}/preview`, { lr, n });
    if (asked !== session || ticket !== previewTicket || !surfaceDrawn) return;
    const [i, j] = coefs().map((c) => (c + last.theta.length) % last.theta.length);
    const { traces, layout: drawn, range } = surfaceDrawn;
    const stopped = p.diverged === null ? "" : ` (diverges at step ${p.diverged})`;
    const trace = { x: p.theta.map((t) => t[i]), y: p.theta.map((t) => t[j]), mode: "lines",
      line: { color: "#7d3c98", dash: "dash", width: 2 }, name: `rate ${lr}${stopped}` };
    // the contours' frame stays put: a diverging preview leaves it, as the descent would
    Plotly.react("chart-surface", [...traces, trace], {
      ...drawn, xaxis: { ...drawn.xaxis, range: range[0], autorange: false },
      yaxis: { ...drawn.yaxis, range: range[1], autorange: false },
    }, PLOT_CONFIG);
    showTheory(p.theory, lr);
    $("preview-text").textContent = `Preview at rate ${lr}: ${p.theta.length - 1} steps from the start` +
      (p.diverged === null ? "" : `, diverging at step ${p.diverged}`) + " (dashed). Release the slider to start it.";
  } catch (err) {
    // a preview is only a preview: the descent on screen is unchanged, and so is the page
  }
}

function endPreview() {
  clearTimeout(previewTimer);
  previewTicket++;
  $("preview-text").textContent = "";
}

function drawAll(withSurface) {
  if (!last) return;
  drawData();
  drawLoss();
  if (withSurface) drawSurface();
}

