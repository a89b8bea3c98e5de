// The playground's Web Worker: it owns Pyodide, the engine and the GPU.
//
// Boot: check WebGPU, load Pyodide from /pyodide/, unpack /engine.zip (engine/, shaders/
// and the page's Python package playground/) into /home/pyodide/webgrad, copy the
// dataset's IDX files into /data/<name>, import playground and build the first model.
//
// Messages are handled strictly in the order they arrive (see `inbox`), and training
// runs in short slices between them: a message never races the call before it, so
// "choose a model, press Start" always trains the model chosen.
//
// Page -> worker                                   Worker -> page
//   {type: "boot", dataset, preset}                  {type: "status", text}
//   {type: "start"} / {type: "pause"}                {type: "nogpu", reason, title}
//   {type: "build", source, preset, settings,        {type: "ready", info}
//          start}                                    {type: "built", result}   a new model
//   {type: "reset"}          same code, new weights  {type: "buildError", error}
//   {type: "configure", changes}                     {type: "settings", settings} | {type: "settingsError", error}
//   {type: "dataset", name}                          {type: "state", state, reason}
//   {type: "view", live, gradients}                  {type: "stats", stats}
//   {type: "example", kind, value}                   {type: "snapshot", snapshot}  (buffer transferred)
//   {type: "confusion"}                              {type: "prediction", probabilities} | {type: "exampleError", error}
//   {type: "owndata", name, bytes}  a zip            {type: "dataset", info} | {type: "ownDataError", message}
//   {type: "linreg", points, noise, lr, steps}       {type: "linreg", result}  y = wx + b (linreg.js)
//   {type: "race", steps} / {type: "raceStop"}       race_worker.js lists the race's messages
//   {type: "downloadWeights"}                        {type: "weightsFile", name, bytes}  (bytes transferred)
//   {type: "loadWeights", bytes, name}               {type: "weightsLoaded", result}
//                                                    {type: "eval", result} / {type: "confusion", result}
//                                                    {type: "error", message} | {type: "fatal", message}

import { loadPyodide } from "../pyodide/pyodide.mjs";
import { openOwnData } from "./owndata.js";
import { RaceRunner } from "./race_worker.js";

// Every URL relative to this file (static/worker.js), so the page works in any folder
// of a static host as well as at the root of server.py.
const here = (path) => new URL(path, import.meta.url).href;

const ENGINE_DIR = "/home/pyodide/webgrad";
const TARGET_MS = 300;          // aim for training slices this long: messages never wait more
const MAX_STEPS = 50;
const SNAPSHOT_EVERY_MS = 850;  // aim for a layer-view refresh this often while training (at least once a second)
const EVAL_EVERY = 500;         // evaluate after at least this many examples ...
const EVAL_SHARE = 0.25;        // ... and when evaluating takes at most this share of the time
const N_TEST = 2000;            // test images per evaluation

let api = null;                 // the playground package's functions (PyProxies)
let booted = false;             // the first model is built: errors from now on are not fatal
let datasets = [];              // what /datasets.json lists
const loaded = new Set();       // datasets whose files are in Pyodide's file system
let currentSource = null, currentPreset = null;
let training = false;           // the user wants training to run
let view = {live: true, gradients: false};
let stepsPerCall = 2, lastSnapshot = 0, lastCallMs = 0;
let lastStats = null;           // what the last training slice reported
let lastEval = {examples: 0, time: 0, ms: 0};

const post = (type, body = {}, transfer = []) => self.postMessage({type, ...body}, transfer);
const status = (text) => post("status", {text});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// The optimizer race (race_worker.js): it pauses the page's training while it runs.
const race = new RaceRunner((name, ...args) => call(name, ...args), post,
                            () => post("state", {state: training ? "running" : "paused", reason: "race"}));

// ---- the inbox: one message at a time, training in between -------------------------

const inbox = [];
let wake = null;
self.onmessage = (event) => {
  inbox.push(event.data);
  if (wake) { wake(); wake = null; }
};

async function loop() {
  for (;;) {
    if (inbox.length) {
      const msg = inbox.shift();
      try {
        await handle(msg);
      } catch (err) {
        if (!booted) { post("fatal", {message: describe(err)}); return; }
        training = false;
        post("error", {message: describe(err)});
        post("state", {state: "paused"});
      }
    } else if (race.active) {
      await race.slice();       // reports its own errors
      await sleep(0);
    } else if (training) {
      try {
        await trainSlice();
      } catch (err) {
        training = false;
        post("error", {message: describe(err)});
        post("state", {state: "paused"});
      }
      await sleep(0);           // let the page's messages in
    } else {
      await new Promise((resolve) => { wake = resolve; });
    }
  }
}

function describe(err) {
  return String(err && err.message || err);
}

// ---- calling Python ----------------------------------------------------------------

function toJs(proxy) {          // a Python dict -> a plain JS object, and free the proxy
  if (!proxy || typeof proxy.toJs !== "function") return proxy;   // None, numbers, strings
  const value = proxy.toJs({dict_converter: Object.fromEntries});
  proxy.destroy();
  return value;
}

async function call(name, ...args) {   // with stack switching, so Python can wait for the GPU
  return toJs(await api[name].callPromising(...args));
}

async function fetchBytes(url, what) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${what}: GET ${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

// ---- boot ----------------------------------------------------------------------------

async function boot(msg) {
  if (!navigator.gpu) {
    post("nogpu", {reason: "navigator.gpu is not defined in this browser's workers."});
    return;
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    post("nogpu", {reason: "navigator.gpu.requestAdapter() found no GPU adapter."});
    return;
  }
  if (typeof WebAssembly.Suspending !== "function") {
    post("nogpu", {title: "This browser has WebGPU but not JSPI",
                   reason: "WebAssembly.Suspending is missing in workers: Python cannot wait for the GPU."});
    return;
  }

  status("Loading Pyodide (Python 3.14 in WebAssembly)…");
  const pyodide = await loadPyodide({indexURL: here("../pyodide/")});
  self.pyodide = pyodide;

  status("Loading the engine (engine.zip)…");
  const zip = await fetchBytes(here("../engine.zip"), "engine");
  pyodide.unpackArchive(zip, "zip", {extractDir: ENGINE_DIR});
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(ENGINE_DIR)})`);
  datasets = await (await fetch(here("../datasets.json"))).json();
  if (!datasets.length) throw new Error("the server has no datasets: run `bash scripts/setup.sh` on it");

  status("Importing the engine…");
  api = pyodide.pyimport("playground");   // kept for the worker's lifetime
  const info = await call("boot", "gpu");
  info.datasets = datasets;
  const name = datasets.some((d) => d.name === msg.dataset) ? msg.dataset : datasets[0].name;
  info.dataset = await openDataset(name);

  status("Building the model…");
  const preset = info.presets.find((p) => p.name === msg.preset) || info.presets[0];
  const result = await call("build", preset.source, null, preset.name);
  if (!result.ok) throw new Error(`the preset ${preset.name} does not build: ${result.error.message}`);
  currentSource = preset.source;
  currentPreset = preset.name;
  info.built = result;
  booted = true;
  post("ready", {info});
  post("state", {state: "ready"});
  await evaluate();             // the untrained network's guesses fill the test images
  await showExample({kind: "test", value: 0});
}

async function openDataset(name) {
  if (name === "own") return call("open_dataset", name, null);   // your own zip, already in Python
  const entry = datasets.find((d) => d.name === name);
  if (!entry) throw new Error(`the server has no dataset ${name}`);
  if (!loaded.has(name)) {
    status(`Downloading ${entry.title}…`);
    const dir = `/data/${name}`;
    self.pyodide.FS.mkdirTree(dir);
    await Promise.all(entry.files.map(async (file) => {
      const bytes = await fetchBytes(here(`../data/${name}/${file}`), entry.title);
      self.pyodide.FS.writeFile(`${dir}/${file}`, bytes);
    }));
    loaded.add(name);
  }
  status(`Reading ${entry.title}…`);
  return call("open_dataset", name, `/data/${name}`);
}

// ---- the messages ----------------------------------------------------------------------

async function handle(msg) {
  if (msg.type === "boot") return boot(msg);
  if (!booted) return;          // controls are disabled until "ready"
  switch (msg.type) {
    case "start": {
      if (training) return;
      if (lastStats && lastStats.run_finished) await call("new_run");
      training = true;
      post("state", {state: "running"});
      return;
    }
    case "pause":
      if (!training) return;
      training = false;
      post("state", {state: "paused"});
      await evaluate();         // the accuracy of the model as it stands now
      return;
    case "build":
      return build(msg.source, msg.preset || null, msg.settings || null, Boolean(msg.start));
    case "reset":              // the same code and settings, fresh weights
      return build(currentSource, currentPreset, null, false, true);
    case "configure": {
      const result = await call("configure", msg.changes);
      if (result.ok) post("settings", {settings: result.settings, strip: result.augment_strip});
      else post("settingsError", {error: result.error});
      return;
    }
    case "dataset": {          // the same code, built again for the new data
      training = false;
      const info = await openDataset(msg.name);
      post("dataset", {info});
      return build(currentSource, currentPreset, null, false, true);
    }
    case "linreg":             // the linear-regression panel: its own small fit, then back
      post("linreg", {result: await call("linear_regression", msg.points, msg.noise, msg.lr,
                                         msg.steps, msg.seed ?? 0)});
      return;
    case "owndata": {          // your own zip (owndata.js): a new dataset, the same code
      const info = await openOwnData({call, post, status, FS: self.pyodide.FS}, msg.name, msg.bytes);
      if (!info) return;
      training = false;
      post("dataset", {info});
      return build(currentSource, currentPreset, null, false, true);
    }
    case "view":
      view = {live: Boolean(msg.live), gradients: Boolean(msg.gradients)};
      if (!training) await showExample(null);
      return;
    case "example":
      if (inbox.some((m) => m.type === "example")) return;   // a newer one is waiting: skip this
      return showExample(msg);
    case "race":               // the page's training waits while six optimizers race
      if (race.active) return;
      if (await race.start(msg.steps)) {
        training = false;
        post("state", {state: "racing"});
      }
      return;
    case "raceStop":
      return race.stop();
    case "downloadWeights": {  // the model's state_dict as a .safetensors file
      const file = await call("weights_file");
      post("weightsFile", {name: file.name, bytes: file.bytes}, [file.bytes.buffer]);
      return;
    }
    case "loadWeights": {      // a .safetensors file into the model; a misfit changes nothing
      const result = await call("load_weights", msg.bytes, msg.name);
      post("weightsLoaded", {result});
      if (result.ok) {
        await evaluate();
        await showExample(null);
      }
      return;
    }
    case "confusion": {
      status("Classifying the whole test set…");
      post("confusion", {result: await call("confusion")});
      status(training ? "Training…" : "Confusion matrix ready.");
      return;
    }
  }
}

async function build(source, preset, settings, start, keepSettings = false) {
  const result = await call("build", source, settings, preset, keepSettings);
  if (!result.ok) {             // the model that was training goes on as it was
    post("buildError", {error: result.error});
    return;
  }
  currentSource = source;
  currentPreset = preset;
  lastStats = null;
  training = start;
  post("built", {result});
  post("state", {state: start ? "running" : "ready"});
  await evaluate();
  await showExample(null);
}

async function showExample(example) {
  const result = example
    ? await call("show_example", example.kind, example.value, view.gradients)
    : await call("show_example", "current", null, view.gradients);
  if (!result.ok) {
    post("exampleError", {error: result.error});
    return;
  }
  sendSnapshot(result.snapshot);
  post("prediction", {probabilities: result.probabilities, example: result.snapshot.example});
}

function sendSnapshot(snapshot) {
  lastSnapshot = performance.now();
  const buffer = snapshot.buffer;   // a Uint8Array of float32 bytes: hand it over, no copy
  post("snapshot", {snapshot}, [buffer.buffer]);
}

// ---- training ------------------------------------------------------------------------

async function trainSlice() {
  // refresh in the slice that would end a second or more after the last refresh
  const t0 = performance.now();
  const snapshot = view.live && t0 + 2 * lastCallMs - lastSnapshot >= SNAPSHOT_EVERY_MS;
  const stats = await call("train_steps", stepsPerCall, snapshot, view.gradients);
  lastCallMs = performance.now() - t0;
  stats.call_ms = lastCallMs;
  stats.refreshed = snapshot;
  lastStats = stats;
  const msPerStep = stats.python_ms_per_step + stats.gpu_wait_ms_per_step;
  stepsPerCall = Math.max(1, Math.min(MAX_STEPS, Math.round(TARGET_MS / Math.max(msPerStep, 0.1))));
  if (stats.snapshot) {
    sendSnapshot(stats.snapshot);
    delete stats.snapshot;
  }
  post("stats", {stats});
  if (!Number.isFinite(stats.loss)) {
    training = false;
    post("state", {state: "paused"});
    post("error", {message: `The loss became ${stats.loss}: training diverged. ` +
                            "Try a smaller learning rate, then Reset."});
    return;
  }
  if (stats.run_finished) {
    training = false;
    post("state", {state: "paused", reason: "finished"});
    await evaluate();
    return;
  }
  if (evalDue(stats.examples_seen)) await evaluate();
}

async function evaluate() {
  const t0 = performance.now();
  const result = await call("evaluate", N_TEST);
  lastEval = {examples: result.examples_seen, time: performance.now(), ms: performance.now() - t0};
  post("eval", {result}, [result.pixels.buffer]);
}

function evalDue(examplesSeen) {
  const since = performance.now() - lastEval.time;
  return examplesSeen - lastEval.examples >= EVAL_EVERY && since * EVAL_SHARE >= lastEval.ms;
}

loop();
