// The playground's Web Worker: it owns Pyodide, the engine and the GPU.
//
// Boot: check WebGPU, load Pyodide from /pyodide/, unpack /engine.zip (engine/ and
// shaders/ from the server's checkout) into /home/pyodide/webgrad, copy the MNIST
// files into /data/mnist, then import playground.py and call its init().
//
// Page -> worker messages:   {type: "start" | "pause" | "reset", model, lr, batchSize}
//                            {type: "set", lr?, batchSize?}
// Worker -> page messages:   {type: "status", text}                loading progress
//                            {type: "nogpu", reason}               WebGPU missing
//                            {type: "ready", info}                 device, models, numpyImported...
//                            {type: "state", state}                "running" | "paused"
//                            {type: "stats", stats}                every train_steps() call
//                            {type: "eval", result}                test accuracy + digit predictions
//                            {type: "error", message}              a Python or JS failure
//
// Only one Python call runs at a time (see `serial`): while Python waits for the GPU
// (run_sync under JSPI) this worker's event loop keeps running, so messages that
// arrive then only change flags or queue work behind the call in progress.

import { loadPyodide } from "/pyodide/pyodide.mjs";

const ENGINE_DIR = "/home/pyodide/webgrad";
const DATA_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
const STEPS_PER_CALL = 10;      // optimizer steps between two loss readbacks
const EVAL_EVERY = 500;         // evaluate after at least this many examples ...
const EVAL_SHARE = 0.25;        // ... and when evaluating takes at most this share of the time
const N_TEST = 2000;            // test digits per evaluation

let api = null;                 // playground.py's functions (PyProxies)
let state = "loading";          // "loading" | "ready" | "running" | "paused" | "error"
let lastEval = {examples: 0, time: 0, ms: 0};

const post = (type, body = {}, transfer = []) => self.postMessage({type, ...body}, transfer);
const status = (text) => post("status", {text});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let queue = Promise.resolve();
function serial(fn) {           // run fn after every Python call queued before it
  const result = queue.then(fn);
  queue = result.catch(() => {});
  return result;
}

function toJs(proxy) {          // a Python dict -> a plain JS object, and free the proxy
  if (!proxy || typeof proxy.toJs !== "function") return proxy;   // None, numbers, strings
  const value = proxy.toJs({dict_converter: Object.fromEntries});
  proxy.destroy();
  return value;
}

async function call(name, ...args) {   // a playground function, with stack switching for run_sync
  return toJs(await api[name].callPromising(...args));
}

function fail(err) {
  state = "error";
  post("error", {message: String(err && err.message || err)});
}

async function fetchBytes(url, what) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${what}: GET ${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function boot(settings) {
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
  const pyodide = await loadPyodide({indexURL: "/pyodide/"});

  status("Loading the engine (engine.zip)…");
  const zip = await fetchBytes("/engine.zip", "engine");
  pyodide.unpackArchive(zip, "zip", {extractDir: ENGINE_DIR});
  pyodide.FS.writeFile(`${ENGINE_DIR}/playground.py`,
                       await fetchBytes("/static/playground.py", "playground.py"));
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(ENGINE_DIR)})`);

  status("Downloading MNIST…");
  pyodide.FS.mkdirTree("/data/mnist");
  await Promise.all(DATA_FILES.map(async (name) => {
    const bytes = await fetchBytes(`/data/mnist/${name}`,
      "MNIST (run `bash scripts/setup.sh` on the server)");
    pyodide.FS.writeFile(`/data/mnist/${name}`, bytes);
  }));

  status("Importing the engine…");
  api = pyodide.pyimport("playground");   // kept for the worker's lifetime

  status("Selecting the GPU and reading MNIST…");
  const info = await call("init", settings.model, settings.lr, settings.batchSize);
  info.numpyImported = info.numpy_imported;
  state = "ready";
  post("ready", {info});
  await evaluate();             // the untrained network's guesses, so the digit grid is filled
}

async function evaluate() {
  const t0 = performance.now();
  const result = await serial(() => call("evaluate", N_TEST));
  lastEval = {examples: result.examples_seen, time: performance.now(), ms: performance.now() - t0};
  result.pixels = new Uint8Array(result.pixels);
  post("eval", {result}, [result.pixels.buffer]);
}

function evalDue(examplesSeen) {
  const since = performance.now() - lastEval.time;
  return examplesSeen - lastEval.examples >= EVAL_EVERY && since * EVAL_SHARE >= lastEval.ms;
}

async function run() {
  state = "running";
  post("state", {state});
  while (state === "running") {
    const stats = await serial(() => call("train_steps", STEPS_PER_CALL));
    post("stats", {stats});
    if (!Number.isFinite(stats.loss)) {
      state = "paused";
      post("error", {message: `The loss became ${stats.loss}: training diverged. ` +
                              "Try a smaller learning rate, then Reset."});
      break;
    }
    if (evalDue(stats.examples_seen)) await evaluate();
    await sleep(0);             // let Pause / Reset / settings messages in
  }
}

async function pause() {
  if (state !== "running") return;
  state = "paused";
  post("state", {state});
  await evaluate();             // the accuracy of the model as it stands now
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === "boot") {
      await boot(msg);
    } else if (api === null || state === "error") {
      return;                   // not booted (yet), or broken: ignore controls
    } else if (msg.type === "start") {
      if (state !== "running") await run();
    } else if (msg.type === "pause") {
      await pause();
    } else if (msg.type === "reset") {
      state = "paused";        // a running loop stops after its current call
      const info = await serial(() => call("reset", msg.model, msg.lr, msg.batchSize));
      info.numpyImported = info.numpy_imported;
      state = "ready";
      post("ready", {info, reset: true});
      await evaluate();
    } else if (msg.type === "set") {
      if (msg.lr !== undefined) await serial(() => call("set_lr", msg.lr));
      if (msg.batchSize !== undefined) await serial(() => call("set_batch_size", msg.batchSize));
    }
  } catch (err) {
    fail(err);
  }
};
