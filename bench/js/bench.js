// Trains one model with one JavaScript library on MNIST and reports its examples/s of
// steady-state training, measured as bench/bench_browser.py measures the playground:
//
//   bench.html?lib=convnetjs|tfjs-webgl|tfjs-webgpu&model=mlp|convnetjs&batch=64
//             &warmup=20&steps=100&lr=0.01&momentum=0.9&smoothing=0.1&dataset=mnist
//
// `warmup` untimed steps (pipelines and shaders compiled, caches filled), then `steps`
// timed ones: wall time over all of them, each step drawing its batch (shuffled indices,
// as the playground's DataLoader draws them), training on it, and every READ_EVERY steps
// reading the loss back to the CPU (which waits for the GPU). Then, untimed, the accuracy on the first TEST_IMAGES test
// images, so that a port that does not learn cannot pass for a fast one.
// The result is in window.bench (state "done" or "error"); bench_browser.py awaits
// window.benchDone.

import {indexBatches, loadDataset} from "./mnist.js";

const READ_EVERY = 10;
const TEST_IMAGES = 2000;
const TFJS = "node_modules/@tensorflow/tfjs/dist/tf.min.js";
const LIBS = {
  "convnetjs": {module: "./convnetjs_trainer.js", scripts: ["node_modules/convnetjs/build/convnet-min.js"]},
  "tfjs-webgl": {module: "./tfjs_trainer.js", scripts: [TFJS], backend: "webgl"},
  "tfjs-webgpu": {module: "./tfjs_trainer.js", backend: "webgpu",
                  scripts: [TFJS, "node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js"]},
};

const bench = window.bench = {state: "loading", log: []};
const log = (text) => {
  bench.log.push(text);
  document.getElementById("log").textContent += text + "\n";
};

function loadScript(src) {             // the libraries' UMD builds, as a page would include them
  return new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement("script"), {src});
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

async function run() {
  const q = new URLSearchParams(location.search);
  const opts = {lib: q.get("lib"), model: q.get("model") || "mlp", dataset: q.get("dataset") || "mnist",
                batch: Number(q.get("batch") || 64), warmup: Number(q.get("warmup") || 20),
                steps: Number(q.get("steps") || 100), lr: Number(q.get("lr") || 0.01),
                momentum: Number(q.get("momentum") || 0.9), smoothing: Number(q.get("smoothing") || 0)};
  const lib = LIBS[opts.lib];
  if (!lib) throw new Error(`unknown lib ${opts.lib}: one of ${Object.keys(LIBS)}`);
  Object.assign(bench, {options: opts, userAgent: navigator.userAgent});

  for (const src of lib.scripts) await loadScript(src);
  const {createTrainer} = await import(lib.module);
  const data = await loadDataset(opts.dataset);
  const trainer = await createTrainer({...opts, backend: lib.backend}, data);
  bench.device = trainer.device;
  log(`${opts.lib} ${opts.model} batch ${opts.batch}: ${trainer.device}`);

  bench.state = "training";
  const train = indexBatches(data.train.count, opts.batch);
  const losses = [];                   // [step, loss] at each read-back
  const total = opts.warmup + opts.steps;
  let t0 = performance.now();
  for (let i = 0; i < total; i++) {
    if (i === opts.warmup) t0 = performance.now();
    // read back every READ_EVERY steps, and at the end of the warm-up and of the timed
    // steps, so the timed window starts and ends with the GPU idle
    const read = (i + 1) % READ_EVERY === 0 || i === opts.warmup - 1 || i === total - 1;
    const loss = await trainer.step(train.next(), read);
    if (read) losses.push([i + 1, loss]);
  }
  const seconds = (performance.now() - t0) / 1000;

  let hits = 0;
  for (let start = 0; start < TEST_IMAGES; start += 500) {
    const indices = Int32Array.from({length: 500}, (_, i) => start + i);
    const predicted = await trainer.predict(indices);
    indices.forEach((k, i) => { hits += predicted[i] === data.test.labels[k]; });
  }
  Object.assign(bench, {
    state: "done",
    examplesPerSecond: opts.steps * opts.batch / seconds,
    msPerStep: 1000 * seconds / opts.steps,
    losses, testAccuracy: hits / TEST_IMAGES, testImages: TEST_IMAGES,
    tensors: trainer.tensors ? trainer.tensors() : null,
  });
  log(`${bench.examplesPerSecond.toFixed(1)} examples/s; loss ${losses[0][1].toFixed(3)} -> ` +
      `${losses.at(-1)[1].toFixed(3)}; test accuracy ${(100 * bench.testAccuracy).toFixed(1)}%`);
  return bench;
}

window.benchDone = run().catch((err) => {
  Object.assign(bench, {state: "error", error: String(err && err.stack || err)});
  log(bench.error);
  return bench;
});
