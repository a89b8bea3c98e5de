// The bench's two models in TensorFlow.js 4.22.0 (npm @tensorflow/tfjs, and
// @tensorflow/tfjs-backend-webgpu for WebGPU), trained the way its guides write a custom
// loop: a tf.layers model, optimizer.minimize() on the mean cross-entropy, inside
// tf.tidy. The training set goes to the GPU once, as the playground's DataLoader does it;
// a step uploads the batch's indices, gathers its images and labels there, runs forward,
// backward and the momentum update, and reads nothing back unless asked (every 10 steps).
// (Uploading each batch from the page instead, as TF.js's MNIST example does, was 10-40%
// slower on WebGL here.)

import {normalise} from "./mnist.js";

// bench.js has loaded tf.min.js (the global `tf`) and, for WebGPU, tf-backend-webgpu.min.js.

function layers(model) {
  if (model === "mlp") {
    return [tf.layers.flatten({inputShape: [28, 28, 1]}),
            tf.layers.dense({units: 256, activation: "relu"}),
            tf.layers.dense({units: 256, activation: "relu"}),
            tf.layers.dense({units: 10})];
  }
  // ConvNetJS's MNIST demo net, as engine/models/convnetjs.py has it (NHWC here)
  return [tf.layers.conv2d({inputShape: [28, 28, 1], filters: 8, kernelSize: 5, padding: "same",
                            activation: "relu"}),
          tf.layers.maxPooling2d({poolSize: 2, strides: 2}),
          tf.layers.conv2d({filters: 16, kernelSize: 5, padding: "same", activation: "relu"}),
          tf.layers.maxPooling2d({poolSize: 3, strides: 3}),    // 14 -> 4, as in ConvNetJS
          tf.layers.flatten(),
          tf.layers.dense({units: 10})];
}

async function describeDevice(backend) {
  if (backend === "webgl") {
    const gl = tf.backend().gpgpu.gl;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    return `WebGL ${gl instanceof WebGL2RenderingContext ? 2 : 1}: ` +
           gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
  }
  const info = (await navigator.gpu.requestAdapter()).info;
  return `WebGPU: ${[info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean).join(" ")}${info.isFallbackAdapter ? " (fallback adapter)" : ""}`;
}

export async function createTrainer({model, backend, lr, momentum, smoothing}, data) {
  // tf.setBackend answers false (and TF.js would go on with another backend) when the
  // backend cannot start: a bench must not time the wrong one
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend`);
  await tf.ready();
  const {count} = data.train;
  const images = tf.tensor2d(normalise(data, "train", Int32Array.from({length: count}, (_, i) => i)),
                             [count, data.pixels]);
  const labels = tf.tensor1d(Int32Array.from(data.train.labels), "int32");
  const net = tf.sequential({layers: layers(model)});
  const optimizer = tf.train.momentum(lr, momentum);   // v = m v + g; w -= lr v (PyTorch's SGD)
  return {
    device: `${await describeDevice(backend)} (TF.js ${tf.version.tfjs}, backend ${tf.getBackend()})`,
    async step(indices, readLoss) {
      const loss = tf.tidy(() => {
        const batch = tf.tensor1d(indices, "int32");
        const xs = tf.gather(images, batch).reshape([indices.length, 28, 28, 1]);
        const targets = tf.oneHot(tf.gather(labels, batch), 10);
        // mean cross-entropy over the batch, with the playground recipes' label smoothing
        return optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(targets, net.apply(xs, {training: true}),
                                              undefined, smoothing), true);
      });
      const value = readLoss ? (await loss.data())[0] : null;   // waits for the GPU
      loss.dispose();
      return value;
    },
    async predict(indices) {             // classes of the test images at `indices`
      const classes = tf.tidy(() => net.apply(
        tf.tensor4d(normalise(data, "test", indices), [indices.length, 28, 28, 1])).argMax(1));
      const values = await classes.data();
      classes.dispose();
      return values;
    },
    tensors: () => tf.memory().numTensors,     // the same after every run: no step leaks
  };
}
