// The linear-regression panel: y = w*x + b fitted by gradient descent in the worker
// (web/playground/linreg.py), the page's twin of examples/linear_regression.py.
// Left: the points, the fitted line and the exact least-squares line. Right: w, b and
// the loss at every step, with the closed form's w* and b* as dashed levels.

const BLUE = "#2563eb", GREEN = "#16a34a", RED = "#dc2626", GREY = "#9ca3af";

const series = (label, colour, extra = {}) => ({
  label, data: [], borderColor: colour, backgroundColor: colour, borderWidth: 1.5,
  pointRadius: 0, tension: 0, ...extra,
});

function chart(canvas, datasets, xTitle, scales = {}) {
  return new Chart(canvas, {
    type: "line",
    data: {datasets},
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: {x: {type: "linear", title: {display: true, text: xTitle}}, ...scales},
      plugins: {legend: {labels: {boxHeight: 2}}},
    },
  });
}

export class LinRegPanel {
  constructor($, send) {
    this.$ = $;
    this.data = chart($("linreg-data"), [
      series("points", GREY, {showLine: false, pointRadius: 2}),
      series("gradient descent", BLUE, {borderWidth: 2}),
      series("least squares (closed form)", RED, {borderDash: [5, 4]}),
    ], "x", {y: {title: {display: true, text: "y"}}});
    this.steps = chart($("linreg-steps"), [
      series("w", BLUE), series("b", GREEN),
      series("w*", BLUE, {borderDash: [4, 3], borderWidth: 1}),
      series("b*", GREEN, {borderDash: [4, 3], borderWidth: 1}),
      series("loss", RED, {yAxisID: "loss"}),
    ], "step", {y: {title: {display: true, text: "w, b"}},
                loss: {position: "right", beginAtZero: true, title: {display: true, text: "loss (MSE)"},
                       grid: {drawOnChartArea: false}}});
    $("linreg-fit").onclick = () => {
      const number = (id) => Number($(id).value);
      $("linreg-result").textContent = "Fitting…";
      send("linreg", {points: number("linreg-points"), noise: number("linreg-noise"),
                      lr: number("linreg-lr"), steps: number("linreg-steps-count")});
    };
  }

  show(result) {
    const $ = this.$, out = $("linreg-result");
    out.classList.toggle("inline-error", !result.ok);
    if (!result.ok) {
      window.webgrad.linreg = {error: result.error.message};
      out.textContent = result.error.message;
      return;
    }
    const exact = result.closed_form, history = result.history;
    window.webgrad.linreg = {w: result.w, b: result.b, closedForm: exact, steps: history.length,
                             loss: history[history.length - 1][2]};
    const [points, fitted, least] = this.data.data.datasets;
    points.data = result.x.map((x, i) => ({x, y: result.y[i]}));
    const ends = [Math.min(...result.x), Math.max(...result.x)];
    fitted.data = ends.map((x) => ({x, y: result.w * x + result.b}));
    least.data = ends.map((x) => ({x, y: exact.w * x + exact.b}));
    const [w, b, wStar, bStar, loss] = this.steps.data.datasets;
    w.data = history.map(([v], i) => ({x: i, y: v}));
    b.data = history.map(([, v], i) => ({x: i, y: v}));
    loss.data = history.map(([, , v], i) => ({x: i, y: v}));
    const last = history.length - 1;
    wStar.data = [{x: 0, y: exact.w}, {x: last, y: exact.w}];
    bStar.data = [{x: 0, y: exact.b}, {x: last, y: exact.b}];
    this.data.update("none");
    this.steps.update("none");
    const f = (v) => v.toFixed(5);
    out.textContent = `after ${history.length} steps: w = ${f(result.w)}, b = ${f(result.b)}` +
      ` · closed form: w* = ${f(exact.w)}, b* = ${f(exact.b)}` +
      ` · |w − w*| = ${Math.abs(result.w - exact.w).toExponential(1)},` +
      ` |b − b*| = ${Math.abs(result.b - exact.b).toExponential(1)}`;
  }
}
