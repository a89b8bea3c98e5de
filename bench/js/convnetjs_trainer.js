// The bench's two models in ConvNetJS (npm convnetjs 0.3.0, plain JavaScript on the CPU).
// ConvNetJS trains one example at a time: its SGDTrainer runs forward and backward for
// each example, sums the gradients and updates after `batch_size` of them (gradient / batch
// size, momentum as `v = momentum * v - lr * g; w += v`: PyTorch's SGD with momentum at a
// constant learning rate). One bench step is therefore `batch` calls of trainer.train.

// The data stays in the page as bytes; each example is normalised into the input volume
// as it is trained on. bench.js has loaded convnet-min.js (the global `convnetjs`).

const LAYERS = {
  mlp: [{type: "fc", num_neurons: 256, activation: "relu"},
        {type: "fc", num_neurons: 256, activation: "relu"}],
  // ConvNetJS's own MNIST demo net, as engine/models/convnetjs.py has it
  convnetjs: [{type: "conv", sx: 5, filters: 8, stride: 1, pad: 2, activation: "relu"},
              {type: "pool", sx: 2, stride: 2},
              {type: "conv", sx: 5, filters: 16, stride: 1, pad: 2, activation: "relu"},
              {type: "pool", sx: 3, stride: 3}],
};

export async function createTrainer({model, batch, lr, momentum}, data) {
  const net = new convnetjs.Net();
  net.makeLayers([{type: "input", out_sx: 28, out_sy: 28, out_depth: 1},
                  ...LAYERS[model],
                  {type: "softmax", num_classes: 10}]);   // a dense 10 + softmax loss
  const trainer = new convnetjs.SGDTrainer(net, {method: "sgd", learning_rate: lr,
                                                 momentum, batch_size: batch, l2_decay: 0});
  const input = new convnetjs.Vol(28, 28, 1, 0.0);   // one input volume, refilled per example
  const scale = 1 / (255 * data.std), shift = -data.mean / data.std, pixels = data.pixels;
  const load = (split, k) => {       // normalised as the playground's DataLoader does
    const images = data[split].images;
    for (let p = 0; p < pixels; p++) input.w[p] = images[k * pixels + p] * scale + shift;
  };
  return {
    device: "CPU: ConvNetJS (JavaScript, the page's main thread)",
    // one step: forward and backward for each example of the batch, then the update
    // (SGDTrainer updates after every `batch` examples); the loss is a JS number already
    step(indices) {
      let loss = 0;
      for (const k of indices) {
        load("train", k);
        loss += trainer.train(input, data.train.labels[k]).cost_loss;
      }
      return loss / indices.length;
    },
    predict(indices) {                   // classes of the test images at `indices`
      return indices.map((k) => {
        load("test", k);
        net.forward(input, false);
        return net.getPrediction();
      });
    },
  };
}
