// The optimizer race panel: six optimizers train the same network from the same initial
// weights on the same batches (web/playground/race.py); their losses share one chart
// (Chart.js) and a table gives each one's settings, final loss and test accuracy.
// The race's state is mirrored in `window.webgrad.race` for tests and the curious.

const COLOURS = ["#6b7280", "#2563eb", "#7c3aed", "#d97706", "#059669", "#dc2626"];
const MAX_POINTS = 1500;            // beyond this a curve keeps every other point

function raceChart(canvas) {
  return new Chart(canvas, {
    type: "line",
    data: {datasets: []},
    options: {
      animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
      scales: {
        x: {type: "linear", title: {display: true, text: "step (the same batch for all six)"}},
        y: {type: "linear", beginAtZero: true, title: {display: true, text: "training loss"}},
      },
      plugins: {legend: {labels: {boxHeight: 2}}},
    },
  });
}

// The learning rate and the rest of an optimizer's settings, as the table shows them.
function settingsText(row) {
  const parts = [`lr ${row.lr}`];
  if (row.momentum) parts.push(`momentum ${row.momentum}`);
  if (row.nesterov) parts.push("Nesterov");
  return parts.join(", ");
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;

export class RacePanel {
  // $: the page's getElementById; send(type, body): a message to the worker;
  // setStatus(text): the status line
  constructor($, send, setStatus) {
    Object.assign(this, {$, send, setStatus});
    this.chart = raceChart($("race-chart"));
    this.state = window.webgrad.race = {state: "idle", steps: 0, total: 0, optimizers: [],
                                        losses: [], results: null, error: null};
    this.dirty = false;
    $("race-start").onclick = () => this.start();
    $("race-stop").onclick = () => {
      $("race-stop").disabled = true;
      this.say("Stopping: the table will show the steps run so far…");
      send("raceStop");
    };
  }

  say(text) { this.$("race-message").textContent = text; }

  start() {
    const steps = Number(this.$("race-steps").value);
    this.$("race-start").disabled = true;
    this.say(`Building six copies of the network…`);
    this.send("race", {steps});
  }

  // Every message from the worker passes here; the race's own are handled.
  onMessage(msg) {
    switch (msg.type) {
      case "state": this.onPageState(msg.state); break;
      case "raceStarted": this.onStarted(msg.race); break;
      case "raceProgress": this.onProgress(msg.progress); break;
      case "raceResults": this.onResults(msg.results); break;
      case "raceError":
        Object.assign(this.state, {state: this.state.steps ? "stopped" : "idle", error: msg.error.message});
        this.say(msg.error.message);
        this.onPageState(window.webgrad.state);
        break;
    }
  }

  onPageState(state) {          // the race can start whenever the page's model is built
    const racing = state === "racing";
    this.$("race-start").disabled = racing || !["ready", "running", "paused"].includes(state);
    this.$("race-stop").disabled = !racing;
    this.$("race-steps").disabled = racing;
  }

  onStarted(race) {
    Object.assign(this.state, {state: "running", steps: 0, total: race.steps, error: null,
                               optimizers: race.optimizers, losses: race.optimizers.map(() => []),
                               results: null});
    this.chart.data.datasets = race.settings.map((row, i) => ({
      label: `${row.optimizer} (${settingsText(row)})`, data: [],
      borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
      borderWidth: 1.5, pointRadius: 0, tension: 0,
    }));
    this.renderTable(race.settings, null);
    this.redraw();
    this.say(`Racing ${race.steps} steps: the page's training is paused.`);
    this.setStatus("Optimizer race running…");
  }

  onProgress(progress) {
    const first = progress.steps - progress.losses.length;
    progress.losses.forEach((row, k) => {
      row.forEach((loss, i) => {
        this.state.losses[i].push(loss);
        const data = this.chart.data.datasets[i].data;
        data.push({x: first + k + 1, y: loss});
        if (data.length > MAX_POINTS) {
          this.chart.data.datasets[i].data = data.filter((_, j) => j % 2 === 0 || j === data.length - 1);
        }
      });
    });
    this.state.steps = progress.steps;
    this.say(`Step ${progress.steps} of ${this.state.total}: the page's training is paused.`);
    this.redraw();
  }

  onResults(results) {
    Object.assign(this.state, {state: "done", results});
    this.renderTable(results.rows, results);
    const best = results.rows.reduce((a, b) => (b.test_acc > a.test_acc ? b : a));
    this.say(`Race over after ${results.steps} steps of ${results.batch_size} images: ` +
             `${best.optimizer} leads with ${pct(best.test_acc)} on ` +
             `${results.test_count.toLocaleString("en")} test images. Start resumes the page's own training.`);
    this.setStatus("Optimizer race over. Press Start to train the page's model.");
  }

  renderTable(rows, results) {
    const table = this.$("race-table");
    const head = document.createElement("thead");
    head.innerHTML = "<tr><th>optimizer</th><th>settings</th><th>final loss</th>" +
      `<th>test accuracy${results ? ` (${results.test_count.toLocaleString("en")} images)` : ""}</th></tr>`;
    const body = document.createElement("tbody");
    rows.forEach((row, i) => {
      const tr = document.createElement("tr");
      const cells = [row.optimizer, settingsText(row),
                     row.final_loss == null ? "…" : row.final_loss.toFixed(3),
                     row.test_acc == null ? "…" : pct(row.test_acc)];
      for (const text of cells) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      tr.firstChild.style.borderLeft = `4px solid ${COLOURS[i % COLOURS.length]}`;
      body.append(tr);
    });
    table.replaceChildren(head, body);
    table.hidden = false;
  }

  redraw() {                         // at most once per frame
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this.chart.update("none");
    });
  }
}
