// The playground page: controls, curves and pictures. It never touches the engine:
// everything goes through messages to and from the Web Worker (worker.js), which
// runs Python (Pyodide) and the GPU.
//
// For tests and the curious, the page's state is mirrored in `window.webgrad`.

const $ = (id) => document.getElementById(id);

const webgrad = window.webgrad = {
  state: "loading",       // "loading" | "ready" | "running" | "paused" | "error" | "nogpu"
  status: "",
  device: null,
  model: null,            // the zoo name of the model being trained
  numpyImported: null,
  examplesSeen: 0,
  steps: 0,
  lossHistory: [],        // one loss reading per train_steps() call
  lossExamples: [],       // examples seen at each reading
  timings: [],            // per reading: [examples seen, examples/s, Python ms/step, GPU wait ms/step]
  trainAcc: null,
  testAcc: null,
  testCount: 0,
  testAtExamples: null,   // examples seen when testAcc was measured
  evaluations: 0,
  examplesPerSecond: null,
  pythonMsPerStep: null,
  gpuWaitMsPerStep: null,
  error: null,
};

// ---- controls -------------------------------------------------------------------

function settings() {
  return {model: $("model").value, lr: Number($("lr").value), batchSize: Number($("batch").value)};
}

function setState(state) {
  webgrad.state = state;
  document.body.dataset.state = state;
  const booted = !["loading", "error", "nogpu"].includes(state);
  $("start").disabled = !booted || state === "running";
  $("pause").disabled = state !== "running";
  $("reset").disabled = !booted;
  $("model").disabled = state === "running" || !booted;
  $("spinner").hidden = state !== "loading" && state !== "running";
}

function setStatus(text) {
  webgrad.status = text;
  $("status").textContent = text;
}

function showError(message) {
  webgrad.error = message;
  $("error").hidden = false;
  $("error-text").textContent = message;
}

function showNoGpu(reason, title) {
  setState("nogpu");
  setStatus("WebGPU is not available.");
  $("nogpu").hidden = false;
  if (title) $("nogpu-title").textContent = title;
  $("nogpu-reason").textContent = reason;
}

const NO_JSPI = ["This browser has WebGPU but not JSPI",
  "WebAssembly.Suspending is missing: without JavaScript Promise Integration, Python " +
  "cannot wait for the GPU (pyodide.ffi.run_sync)."];

// ---- loss chart -----------------------------------------------------------------

const MAX_POINTS = 2000;
const chart = new Chart($("loss-chart"), {
  type: "line",
  data: {datasets: [{label: "training loss", data: [], borderColor: "#2563eb",
                     borderWidth: 1.5, pointRadius: 0, tension: 0}]},
  options: {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    scales: {
      x: {type: "linear", title: {display: true, text: "examples seen"}},
      y: {type: "linear", beginAtZero: true, title: {display: true, text: "cross-entropy"}},
    },
    plugins: {legend: {display: false}},
  },
});

let chartDirty = false;
function addLossPoint(x, y) {
  const data = chart.data.datasets[0].data;
  data.push({x, y});
  if (data.length > MAX_POINTS) {            // keep the chart cheap: drop every other point
    chart.data.datasets[0].data = data.filter((_, i) => i % 2 === 0 || i === data.length - 1);
  }
  if (!chartDirty) {
    chartDirty = true;
    requestAnimationFrame(() => { chartDirty = false; chart.update("none"); });
  }
}

function clearChart() {
  chart.data.datasets[0].data = [];
  chart.update("none");
}

// ---- numbers and digits -----------------------------------------------------------

const pct = (x) => (x === null ? "–" : `${(100 * x).toFixed(1)}%`);

function showStats(s) {
  Object.assign(webgrad, {
    examplesSeen: s.examples_seen, steps: s.steps, trainAcc: s.train_acc,
    examplesPerSecond: s.examples_per_s, pythonMsPerStep: s.python_ms_per_step,
    gpuWaitMsPerStep: s.gpu_wait_ms_per_step, numpyImported: s.numpy_imported,
  });
  webgrad.lossHistory.push(s.loss);
  webgrad.lossExamples.push(s.examples_seen);
  webgrad.timings.push([s.examples_seen, s.examples_per_s, s.python_ms_per_step, s.gpu_wait_ms_per_step]);
  addLossPoint(s.examples_seen, s.loss);
  $("loss").textContent = s.loss.toFixed(4);
  $("train-acc").textContent = pct(s.train_acc);
  $("rate").textContent = Math.round(s.examples_per_s).toLocaleString("en");
  $("seen").textContent = s.examples_seen.toLocaleString("en");
  $("split").textContent = `${s.python_ms_per_step.toFixed(1)} / ${s.gpu_wait_ms_per_step.toFixed(1)}`;
}

function showEval(r) {
  Object.assign(webgrad, {testAcc: r.test_acc, testCount: r.test_count,
                          testAtExamples: r.examples_seen, evaluations: webgrad.evaluations + 1});
  $("test-acc").textContent = pct(r.test_acc);
  $("test-label").textContent = `test accuracy (${r.test_count.toLocaleString("en")} test digits)`;
  drawDigits(r);
}

function drawDigits(r) {
  const grid = $("digit-grid");
  const n = r.labels.length;
  while (grid.children.length < n) {
    const cell = document.createElement("figure");
    cell.className = "digit";
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 28;
    cell.append(canvas, document.createElement("figcaption"));
    grid.append(cell);
  }
  for (let i = 0; i < n; i++) {
    const cell = grid.children[i];
    const ctx = cell.firstChild.getContext("2d");
    const image = ctx.createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = 255 - r.pixels[i * 784 + p];         // dark ink on white
      image.data.set([v, v, v, 255], 4 * p);
    }
    ctx.putImageData(image, 0, 0);
    const wrong = r.predictions[i] !== r.labels[i];
    cell.classList.toggle("wrong", wrong);
    const conf = `${Math.round(100 * r.confidence[i])}%`;
    cell.lastChild.innerHTML = wrong
      ? `<b>${r.predictions[i]}</b> <span class="conf">${conf}</span> <span class="truth">true ${r.labels[i]}</span>`
      : `<b>${r.predictions[i]}</b> <span class="conf">${conf}</span>`;
  }
}

function resetNumbers() {
  Object.assign(webgrad, {examplesSeen: 0, steps: 0, lossHistory: [], lossExamples: [], timings: [],
                          trainAcc: null, testAcc: null, testCount: 0, testAtExamples: null,
                          examplesPerSecond: null});
  for (const id of ["loss", "train-acc", "test-acc", "rate", "split"]) $(id).textContent = "–";
  $("seen").textContent = "0";
  clearChart();
}

function fillModels(models, selected) {  // the worker's MODELS: [[name, label], ...]
  const select = $("model");
  if ([...select.options].map((o) => o.value).join() === models.map((m) => m[0]).join()) return;
  select.replaceChildren(...models.map(([name, label]) => new Option(label, name, false, name === selected)));
}

// ---- the worker ---------------------------------------------------------------------

let worker = null;

function onMessage({data: msg}) {
  switch (msg.type) {
    case "status": setStatus(msg.text); break;
    case "nogpu": showNoGpu(msg.reason, msg.title); break;
    case "ready": {
      const info = msg.info;
      Object.assign(webgrad, {device: info.device, numpyImported: info.numpyImported,
                              parameters: info.parameters, model: info.model});
      $("device").textContent = info.device;
      fillModels(info.models, info.model);
      if (msg.reset) resetNumbers();
      setState("ready");
      setStatus(`Ready: ${info.parameters.toLocaleString("en")} parameters, ` +
                `${info.train_size.toLocaleString("en")} training digits. Press Start.`);
      break;
    }
    case "state":
      setState(msg.state);
      setStatus(msg.state === "running" ? "Training…" : "Paused.");
      break;
    case "stats": showStats(msg.stats); break;
    case "eval": showEval(msg.result); break;
    case "error":
      showError(msg.message);
      if (webgrad.state === "loading" || webgrad.state === "running") {
        setState(webgrad.state === "loading" ? "error" : "paused");
      }
      setStatus("Stopped by an error (see above).");
      break;
  }
}

async function main() {
  setState("loading");
  // Check here first, so a browser without WebGPU gets the message at once
  // instead of after downloading Pyodide. The worker checks again for itself.
  if (!("gpu" in navigator) || !navigator.gpu) {
    showNoGpu("This browser has no navigator.gpu (WebGPU is off, unsupported, " +
              "or the page is not served over https / localhost).");
    return;
  }
  let adapter = null;
  try { adapter = await navigator.gpu.requestAdapter(); } catch (err) { /* reported below */ }
  if (!adapter) {
    showNoGpu("navigator.gpu.requestAdapter() found no GPU adapter " +
              "(WebGPU is disabled, blocklisted for this GPU, or needs a flag).");
    return;
  }
  if (typeof WebAssembly.Suspending !== "function") {
    showNoGpu(NO_JSPI[1], NO_JSPI[0]);
    return;
  }
  setStatus("Starting the worker…");
  worker = new Worker("/static/worker.js", {type: "module"});
  worker.onmessage = onMessage;
  worker.onerror = (e) => { showError(`worker: ${e.message || "failed to load"}`); setState("error"); };
  worker.postMessage({type: "boot", ...settings()});

  $("start").onclick = () => worker.postMessage({type: "start"});
  $("pause").onclick = () => worker.postMessage({type: "pause"});
  $("reset").onclick = () => worker.postMessage({type: "reset", ...settings()});
  $("lr").onchange = () => {
    const lr = Number($("lr").value);
    if (lr > 0) worker.postMessage({type: "set", lr});
  };
  $("batch").onchange = () => worker.postMessage({type: "set", batchSize: Number($("batch").value)});
  $("model").onchange = () => worker.postMessage({type: "reset", ...settings()});
}

main().catch((err) => { showError(String(err && err.stack || err)); setState("error"); });
