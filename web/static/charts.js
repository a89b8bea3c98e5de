// The curves: training loss, and training and test accuracy, against examples seen
// (Chart.js, the UMD build the page loads as the global `Chart`).

const MAX_POINTS = 2000;             // beyond this a series keeps every other point

function lineChart(canvas, yTitle, datasets, yMax) {
  return new Chart(canvas, {
    type: "line",
    data: {datasets: datasets.map(([label, colour, dashed]) => ({
      label, data: [], borderColor: colour, backgroundColor: colour, borderWidth: 1.5,
      pointRadius: dashed ? 2 : 0, borderDash: dashed ? [4, 3] : [], tension: 0,
    }))},
    options: {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      scales: {
        x: {type: "linear", title: {display: true, text: "examples seen"}},
        y: {type: "linear", beginAtZero: true, max: yMax, title: {display: true, text: yTitle}},
      },
      plugins: {legend: {display: datasets.length > 1, labels: {boxHeight: 2}}},
    },
  });
}

export class Curves {
  constructor(lossCanvas, accCanvas) {
    this.loss = lineChart(lossCanvas, "loss (cross-entropy)", [["training loss", "#2563eb"]]);
    this.acc = lineChart(accCanvas, "accuracy", [["training (recent batches)", "#2563eb"],
                                                 ["test", "#dc2626", true]], 1);
    this.dirty = false;
  }

  add(chart, series, x, y) {
    const dataset = chart.data.datasets[series];
    dataset.data.push({x, y});
    if (dataset.data.length > MAX_POINTS) {
      dataset.data = dataset.data.filter((_, i) => i % 2 === 0 || i === dataset.data.length - 1);
    }
    this.redraw();
  }

  addLoss(x, loss) { this.add(this.loss, 0, x, loss); }
  addTrainAccuracy(x, acc) { this.add(this.acc, 0, x, acc); }
  addTestAccuracy(x, acc) { this.add(this.acc, 1, x, acc); }

  redraw() {                         // at most once per frame, however many points arrive
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this.loss.update("none");
      this.acc.update("none");
    });
  }

  clear() {
    for (const chart of [this.loss, this.acc]) {
      for (const dataset of chart.data.datasets) dataset.data = [];
    }
    this.redraw();
  }
}
