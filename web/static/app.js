// The playground page: controls, curves and pictures. It never touches the engine:
// everything goes through messages to and from the Web Worker (worker.js), which runs
// Python (Pyodide) and the GPU. The pieces of the page live in their own modules:
// charts.js (curves), layerview.js (inside the network), drawpad.js (drawing),
// predictions.js (test images, confusion matrix), editor.js (the model's code).
//
// For tests and the curious, the page's state is mirrored in `window.webgrad`.

import {Curves} from "./charts.js";
import {DrawPad} from "./drawpad.js";
import {createEditor} from "./editor.js";
import {LayerView, renderBars} from "./layerview.js";
import {LinRegPanel} from "./linreg.js";
import {wireOwnData} from "./owndata.js";
import {RacePanel} from "./race.js";
import {WeightsControls} from "./weights.js";
import {markSelected, renderConfusion, renderPredictions} from "./predictions.js";
import {ExperimentError, decodeExperiment, experimentOf, fragmentData, wireSharing} from "./share.js";
import {paintGray, paintLegend} from "./tiles.js";

const $ = (id) => document.getElementById(id);

const webgrad = window.webgrad = {
  state: "loading",       // "loading" | "ready" | "running" | "paused" | "error" | "nogpu"
  status: "",
  device: null,
  model: null,            // the preset (zoo name) the code came from, or "custom"
  dataset: null,          // the dataset's name, e.g. "mnist"
  classes: [],
  settings: null,         // optimizer, lr, momentum, weight_decay, batch_size, schedule, epochs
  summary: null,          // engine.summary of the model (layers, parameters, FLOPs)
  layers: [],             // per layer at the last refresh: name, type, output_shape, parameters, activation, ...
  snapshots: 0,           // layer-view refreshes drawn
  modelSnapshots: 0,      // ... since the model was last built
  example: null,          // what the layer view shows: {kind: "test", index, label} or {kind: "drawing"}
  prediction: null,       // the drawing's (or chosen image's) class probabilities
  drawing: null,          // the drawing as the model reads it: 784 values 0..255, or null
  confusion: null,        // {matrix, count, accuracy, classes} once computed
  error: null,            // the last Python error: {message, line, kind}
  errors: 0,
  fatal: null,            // a failure that stopped the page
  builds: 0,
  numpyImported: null,
  examplesSeen: 0,
  steps: 0,
  lossHistory: [],
  lossExamples: [],
  timings: [],            // per training slice: [examples seen, examples/s, Python ms/step,
                          //   GPU wait ms/step, ms in all, whether the layer view refreshed, steps]
  trainAcc: null,
  testAcc: null,
  testCount: 0,
  testAtExamples: null,
  evaluations: 0,
  examplesPerSecond: null,
  pythonMsPerStep: null,
  gpuWaitMsPerStep: null,
  lr: null,
  batchSize: null,
  code: () => (editor ? editor.getValue() : ""),   // the editor's text
};

let worker = null;
let editor = null;
let presets = [];
let datasets = [];
let lastEval = null;
let linReg = null;              // the linear-regression panel (linreg.js)
const curves = new Curves($("loss-chart"), $("acc-chart"));
const layerView = new LayerView($("layers"));
const send = (type, body = {}, transfer = []) => worker && worker.postMessage({type, ...body}, transfer);

// ---- state and messages ----------------------------------------------------------

function setState(state) {
  webgrad.state = state;
  document.body.dataset.state = state;
  const booted = !["loading", "error", "nogpu"].includes(state);
  $("start").disabled = !booted || state === "running" || state === "racing";
  $("pause").disabled = state !== "running";
  for (const id of ["reset", "run", "dataset", "model", "confusion-button",
                    "share", "download-experiment", "open-experiment",
                    "owndata-file", "linreg-fit"]) $(id).disabled = !booted;
  $("settings").disabled = !booted;
  $("spinner").hidden = !["loading", "running", "racing"].includes(state);
}

function setStatus(text) {
  webgrad.status = text;
  $("status").textContent = text;
}

function showFatal(message) {
  webgrad.fatal = message;
  $("fatal").hidden = false;
  $("fatal-text").textContent = message;
  setState("error");
  setStatus("Stopped by an error (see above).");
}

function showPythonError(error, where) {
  webgrad.error = error;
  webgrad.errors += 1;
  const text = (error.line ? `line ${error.line}: ` : "") + error.message;
  if (where === "editor") {
    $("editor-error").hidden = false;
    $("editor-error").textContent = text;
    editor?.showError(error.line, error.message);
  } else if (where === "settings") {
    $("settings-error").hidden = false;
    $("settings-error").textContent = text;
  } else if (where === "draw") {
    $("draw-message").textContent = error.message;
  } else {
    $("fatal").hidden = false;
    $("fatal-text").textContent = text;
  }
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

const pct = (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`);

function onMessage({data: msg}) {
  switch (msg.type) {
    case "status": setStatus(msg.text); break;
    case "nogpu": showNoGpu(msg.reason, msg.title); break;
    case "fatal": showFatal(msg.message); break;
    case "ready": onReady(msg.info); break;
    case "built": onBuilt(msg.result); break;
    case "buildError":
      showPythonError(msg.error, "editor");
      setStatus(webgrad.state === "running" ? "The code has an error; the previous model trains on."
                                            : "The code has an error; the previous model is kept.");
      break;
    case "settings":
      showSettings(msg.settings); $("settings-error").hidden = true; showAugmentStrip(msg.strip);
      if (restoring) restored();
      break;
    case "settingsError":           // the settings in force stay, and the inputs show them again
      showPythonError({...msg.error, message: `${msg.error.message}; kept the settings in force`},
                      "settings");
      if (webgrad.settings) showSettings(webgrad.settings);
      if (restoring) restored();
      break;
    case "dataset": onDataset(msg.info); break;
    case "ownDataError": sayOwnData(msg.message, true); break;
    case "linreg": linReg.show(msg.result); break;
    case "state": onState(msg.state, msg.reason); break;
    case "stats": onStats(msg.stats); break;
    case "snapshot": onSnapshot(msg.snapshot); break;
    case "prediction": onPrediction(msg); break;
    case "exampleError": showPythonError(msg.error, "draw"); break;
    case "eval": onEval(msg.result); break;
    case "confusion": onConfusion(msg.result); break;
    case "error":
      showPythonError({message: msg.message, line: null, kind: "runtime"}, "page");
      break;
  }
}

function onReady(info) {
  Object.assign(webgrad, {device: info.device, numpyImported: info.numpy_imported});
  $("device").textContent = info.device;
  presets = info.presets;
  datasets = info.datasets;
  $("dataset").replaceChildren(...datasets.map((d) => new Option(d.title, d.name)));
  $("model").replaceChildren(...presets.map((p) => new Option(p.label, p.name)),
                             new Option("your code (edited)", "custom"));
  onDataset(info.dataset);
  editor.setValue(presets.find((p) => p.name === info.built.model).source);
  onBuilt(info.built);
  if (sharedAtBoot) restoreExperiment(sharedAtBoot, "link");
}

function onDataset(info) {
  webgrad.dataset = info.name;
  webgrad.classes = info.classes;
  if (info.name === "own") showOwnData(info);
  $("dataset").value = info.name;
  layerView.setClasses(info.classes);
  $("seen-label").textContent = `examples seen (of ${info.train_size.toLocaleString("en")} per epoch)`;
  $("confusion").replaceChildren();
  $("confusion-info").textContent = "";
  webgrad.confusion = null;
  webgrad.drawing = null;
  drawPad.clear(false);
  $("draw-probs").replaceChildren();
}

function onBuilt(result) {
  webgrad.builds += 1;
  Object.assign(webgrad, {model: result.model, summary: result.summary, error: null, modelSnapshots: 0});
  $("model").value = result.model;
  $("editor-error").hidden = true;
  editor.clearError();
  $("summary").textContent = result.summary.text;
  layerView.setModel(result.summary, webgrad.classes);
  showSettings(result.settings, result.recipe_applied ? result.model : null);
  resetNumbers();
  $("draw-probs").replaceChildren();            // a new model has not read the drawing yet
  $("draw-message").textContent = webgrad.drawing
    ? "A new model: press Show inside to see what it makes of your drawing."
    : "Draw in the box: the bars show the model's probabilities.";
  setStatus(`Built: ${result.summary.total_params.toLocaleString("en")} parameters, ` +
            `${result.summary.layers.length} layers.` + (webgrad.state === "running" ? "" : " Press Start."));
}

function onState(state, reason) {
  setState(state);
  if (state === "running") setStatus("Training…");
  else if (state === "paused") {
    setStatus(reason === "finished"
      ? `Finished ${webgrad.settings.epochs} epoch${webgrad.settings.epochs > 1 ? "s" : ""}. ` +
        "Start trains another run of the schedule from these weights."
      : "Paused.");
  }
}

// ---- settings --------------------------------------------------------------------

const SETTING_INPUTS = {optimizer: "optimizer", lr: "lr", momentum: "momentum",
                        weight_decay: "weight-decay", batch_size: "batch", schedule: "schedule",
                        epochs: "epochs", augment: "augment"};

function showSettings(settings, recipeOf = null) {
  webgrad.settings = settings;
  for (const [key, id] of Object.entries(SETTING_INPUTS)) {
    const input = $(id);
    if (input === document.activeElement && !recipeOf) continue;   // never under the typing hand
    if (input.type === "checkbox") { input.checked = Boolean(settings[key]); continue; }
    if (key === "batch_size" && ![...input.options].some((o) => Number(o.value) === settings[key])) {
      input.append(new Option(String(settings[key])));
    }
    input.value = String(settings[key]);
  }
  $("momentum").disabled = !["momentum", "nesterov", "rmsprop"].includes(settings.optimizer);
  if (recipeOf) $("recipe-note").textContent = `(the recipe of ${recipeOf})`;
  showAugmentStrip(null);
}

function readSetting(key) {
  const input = $(SETTING_INPUTS[key]);
  if (input.type === "checkbox") return input.checked;
  if (["optimizer", "schedule"].includes(key)) return input.value;
  return Number(input.value);
}

// The Augment switch's strip: training images above, an augmented copy of each below
// (web/playground/trainer.py's augment_strip), drawn when the switch is turned on.
function showAugmentStrip(strip) {
  const canvas = $("augment-strip");
  if (strip) {
    paintGray(canvas, strip.pixels, 0, strip.height, strip.width);
    webgrad.augmentStrips = (webgrad.augmentStrips || 0) + 1;
  }
  canvas.hidden = !(webgrad.settings && webgrad.settings.augment && webgrad.augmentStrips);
}

function onSettingChanged(key) {
  $("recipe-note").textContent = "(changed by you)";
  send("configure", {changes: {[key]: readSetting(key)}});
}

// ---- numbers and curves -------------------------------------------------------------

function onStats(s) {
  Object.assign(webgrad, {
    examplesSeen: s.examples_seen, steps: s.steps, trainAcc: s.train_acc, lr: s.lr,
    batchSize: s.batch_size,
    examplesPerSecond: s.examples_per_s, pythonMsPerStep: s.python_ms_per_step,
    gpuWaitMsPerStep: s.gpu_wait_ms_per_step, numpyImported: s.numpy_imported,
  });
  webgrad.lossHistory.push(s.loss);
  webgrad.lossExamples.push(s.examples_seen);
  webgrad.timings.push([s.examples_seen, s.examples_per_s, s.python_ms_per_step, s.gpu_wait_ms_per_step,
                        s.call_ms, s.refreshed, s.steps]);
  curves.addLoss(s.examples_seen, s.loss);
  curves.addTrainAccuracy(s.examples_seen, s.train_acc);
  $("loss").textContent = s.loss.toFixed(4);
  $("train-acc").textContent = pct(s.train_acc);
  $("rate").textContent = Math.round(s.examples_per_s).toLocaleString("en");
  $("seen").textContent = s.examples_seen.toLocaleString("en");
  $("current-lr").textContent = s.lr.toPrecision(3);
  $("split").textContent = `${s.python_ms_per_step.toFixed(1)} / ${s.gpu_wait_ms_per_step.toFixed(1)}`;
}

function resetNumbers() {
  Object.assign(webgrad, {examplesSeen: 0, steps: 0, lossHistory: [], lossExamples: [], timings: [],
                          trainAcc: null, testAcc: null, testCount: 0, testAtExamples: null,
                          examplesPerSecond: null, confusion: null});
  for (const id of ["loss", "train-acc", "test-acc", "rate", "split", "current-lr"]) $(id).textContent = "–";
  $("seen").textContent = "0";
  $("confusion").replaceChildren();
  $("confusion-info").textContent = "";
  curves.clear();
}

// ---- evaluation, predictions, confusion ----------------------------------------------

function onEval(r) {
  lastEval = r;
  Object.assign(webgrad, {testAcc: r.test_acc, testCount: r.test_count,
                          testAtExamples: r.examples_seen, evaluations: webgrad.evaluations + 1});
  $("test-acc").textContent = pct(r.test_acc);
  $("test-label").textContent = `test accuracy (${r.test_count.toLocaleString("en")} test images)`;
  if (r.examples_seen > 0) curves.addTestAccuracy(r.examples_seen, r.test_acc);
  const selected = webgrad.example?.kind === "test" ? webgrad.example.index : null;
  renderPredictions($("predictions"), r, webgrad.classes, selected, (index) => {
    send("example", {kind: "test", value: index});
  });
}

function onConfusion(result) {
  webgrad.confusion = result;
  renderConfusion($("confusion"), result);
  $("confusion-info").textContent = `${result.count.toLocaleString("en")} test images after ` +
    `${result.examples_seen.toLocaleString("en")} training examples: ${pct(result.accuracy)} right`;
}

// ---- the layer view and the drawing ---------------------------------------------------

function onSnapshot(snapshot) {
  webgrad.layers = layerView.update(snapshot);
  webgrad.snapshots += 1;
  webgrad.modelSnapshots += 1;
  const ex = snapshot.example;
  webgrad.example = ex.kind === "test" ? {kind: "test", index: ex.index, label: ex.label} : {kind: "drawing"};
  const [, h, w] = webgrad.summary.input_shape;
  paintGray($("example-image"), ex.pixels, 0, h, w, ex.kind === "test");
  $("example-info").textContent = ex.kind === "test"
    ? `example: test image ${ex.index}, a ${webgrad.classes[ex.label]}` : "example: your drawing";
  if (lastEval) markSelected($("predictions"), lastEval.indices, ex.kind === "test" ? ex.index : null);
}

function onPrediction(msg) {
  webgrad.prediction = {probabilities: msg.probabilities, example: msg.example.kind};
  if (msg.example.kind === "drawing") {
    renderBars($("draw-probs"), msg.probabilities, webgrad.classes);
    const best = msg.probabilities.indexOf(Math.max(...msg.probabilities));
    $("draw-message").textContent = `The model reads a ${webgrad.classes[best]} ` +
      `(${(100 * msg.probabilities[best]).toFixed(0)}%). The layer view shows your drawing.`;
  }
}

function onDrawing(pixels) {
  webgrad.drawing = pixels ? Array.from(pixels) : null;
  if (pixels) paintGray($("draw-preview"), pixels, 0, 28, 28, false);
  else $("draw-preview").getContext("2d").clearRect(0, 0, 28, 28);
  if (!pixels) {
    $("draw-probs").replaceChildren();
    $("draw-message").textContent = "The drawing is blank: draw a digit in the box.";
    return;
  }
  sendDrawing();
}

function sendDrawing() {
  if (!webgrad.drawing) {
    $("draw-message").textContent = "The drawing is blank: draw a digit in the box first.";
    return;
  }
  const pixels = Uint8Array.from(webgrad.drawing);
  send("example", {kind: "drawing", value: pixels}, [pixels.buffer]);
}

const drawPad = new DrawPad($("draw"), onDrawing);

// ---- your own data (owndata.js): a zip becomes the dataset "own" ----------------------

function sayOwnData(text, isError = false) {
  webgrad.ownDataMessage = text;
  if (isError) webgrad.ownDataErrors = (webgrad.ownDataErrors || 0) + 1;
  $("owndata-message").textContent = text;
  $("owndata-message").classList.toggle("inline-error", isError);
}

function showOwnData(info) {
  webgrad.ownData = info;
  const select = $("dataset");
  const option = [...select.options].find((o) => o.value === "own") || select.appendChild(new Option("", "own"));
  option.textContent = info.title;
  sayOwnData(`${info.title}: ${info.classes.length} classes (${info.classes.join(", ")}), ` +
             `${info.train_size} training and ${info.test_size} test images.` +
             (info.train_size < 5000 ? " A small set: raise Epochs for a longer run." : ""));
}

// ---- a shared experiment (share.js): a link's #x=... or a file ----------------------

let sharedAtBoot = null;      // the experiment of the address the page was opened with
let restoring = null;         // where the experiment being restored came from

function sayShare(text) {
  webgrad.shareMessage = text;
  $("share-message").textContent = text;
}

// The code into the editor, its model built (not trained: the student presses Start),
// then the shared settings over whatever RECIPE the code has.
function restoreExperiment(experiment, from) {
  restoring = from;
  if (experiment.dataset !== webgrad.dataset) {
    if (datasets.some((d) => d.name === experiment.dataset)) send("dataset", {name: experiment.dataset});
    else if (experiment.dataset === "own") {   // a link carries the code, never the sharer's images
      sayShare(`This experiment was made on the sharer's own data, which a link cannot carry: drop ` +
               `that zip under "Your data" to train on it; until then the model uses ${webgrad.dataset}.`);
    } else sayShare(`This server has no dataset ${experiment.dataset}; the model uses ${webgrad.dataset}.`);
  }
  editor.setValue(experiment.code);
  $("editor-error").hidden = true;
  editor.clearError();
  send("build", {source: experiment.code, preset: currentPreset(experiment.code),
                 settings: experiment.settings, start: false});
  send("configure", {changes: experiment.settings});
  setStatus("Opening the shared experiment…");
}

function restored() {
  webgrad.restored = {from: restoring, builds: webgrad.builds};
  $("recipe-note").textContent = "(from the shared experiment)";
  sayShare(`Opened the experiment from the ${restoring}: press Start to train it.`);
  setStatus("Opened the shared experiment. Press Start.");
  restoring = null;
}

async function readLink() {
  const data = fragmentData(location.hash);
  if (!data) return null;
  try {
    return await decodeExperiment(data);
  } catch (err) {
    if (!(err instanceof ExperimentError)) throw err;
    sayShare(`${err.message}. The page opened with its usual model instead.`);
    return null;
  }
}

// A page opened from another machine over plain http has no WebGPU (no secure context):
// say so, and what fixes it, instead of "this browser has no WebGPU".
function showInsecure() {
  webgrad.insecure = true;
  setState("nogpu");
  setStatus("WebGPU needs https (or localhost): see the message above.");
  $("insecure-origin").textContent = location.origin;
  $("insecure").hidden = false;
}

// ---- wiring ------------------------------------------------------------------------

function currentPreset(source) {
  const preset = presets.find((p) => p.source === source);
  return preset ? preset.name : null;
}

function runEditor() {
  const source = editor.getValue();
  $("editor-error").hidden = true;
  editor.clearError();
  send("build", {source, preset: currentPreset(source), start: true});
  setStatus("Building your model…");
}

function wire() {
  $("start").onclick = () => send("start");
  $("pause").onclick = () => send("pause");
  $("reset").onclick = () => send("reset");
  $("run").onclick = runEditor;
  $("dataset").onchange = () => send("dataset", {name: $("dataset").value});
  $("model").onchange = () => {
    const preset = presets.find((p) => p.name === $("model").value);
    if (!preset) return;                     // "your code": nothing to load
    editor.setValue(preset.source);
    $("editor-error").hidden = true;
    send("build", {source: preset.source, preset: preset.name, start: false});
  };
  for (const key of Object.keys(SETTING_INPUTS)) {
    $(SETTING_INPUTS[key]).onchange = () => onSettingChanged(key);
  }
  const sendView = () => send("view", {live: $("live-view").checked, gradients: $("show-grads").checked});
  $("live-view").onchange = sendView;
  $("show-grads").onchange = () => { layerView.showGradients = $("show-grads").checked; sendView(); };
  $("clear-drawing").onclick = () => drawPad.clear();
  $("show-drawing").onclick = sendDrawing;
  $("confusion-button").onclick = () => send("confusion");
  wireSharing($, () => experimentOf(webgrad), restoreExperiment, sayShare);
  wireOwnData($, send, sayOwnData);
  linReg = new LinRegPanel($, send);
  window.addEventListener("hashchange", async () => {   // another link pasted into this tab
    const experiment = await readLink();
    if (experiment && ["ready", "running", "paused"].includes(webgrad.state)) restoreExperiment(experiment, "link");
  });
}

async function main() {
  setState("loading");
  paintLegend($("legend"));
  if (!window.isSecureContext) {
    showInsecure();
    return;
  }
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
  editor = await createEditor($("editor"), runEditor);
  webgrad.editor = editor.kind;
  setStatus("Starting the worker…");
  worker = new Worker(new URL("./worker.js", import.meta.url), {type: "module"});
  worker.onmessage = onMessage;
  // the optimizer race and the weights' buttons take their own messages
  const race = new RacePanel($, send, setStatus), weights = new WeightsControls($, send);
  worker.addEventListener("message", ({data}) => { race.onMessage(data); weights.onMessage(data); });
  worker.onerror = (e) => showFatal(`worker: ${e.message || "failed to load"}`);
  wire();
  const params = new URLSearchParams(location.search);
  sharedAtBoot = await readLink();
  send("boot", {dataset: sharedAtBoot?.dataset || params.get("dataset") || "mnist",
                preset: sharedAtBoot?.model || params.get("model") || "mlp"});
}

main().catch((err) => showFatal(String(err && err.stack || err)));
