"""Transfer learning: features learnt on MNIST digits, reused for Fashion-MNIST clothes.

A CNN's convolutions learn to detect strokes, edges and blobs; its last Linear
layer (the "head") maps those features to the 10 digits. Transfer learning keeps
the trained layers (the "body"), freezes them, and trains only a new head for a
new task. Here:

  1. train a CNN from the zoo on MNIST (or load its weights: --load);
  2. cut off its head, freeze the body (requires_grad_(False)), put a new
     10-class Linear head on it, and train only that head on Fashion-MNIST;
  3. do the same with a body that was never trained (frozen *random* features)
     and the same new head, trained the same way: the control experiment.

If the MNIST features are worth anything for clothes, the first head beats the
second on the Fashion-MNIST test set. Both heads start from the same weights
and see the same batches in the same order; only the body differs.

    python examples/transfer.py --device cpu --save mnist_convnetjs.safetensors
    python examples/transfer.py --load mnist_convnetjs.safetensors   # skip step 1

Weights saved by `python -m engine.train --model convnetjs --save FILE` load too.
To keep the run short on a laptop's CPU, each step trains one epoch on a subset
of the training images (--train-images, default 20,000 of 60,000); the test
accuracies are on the full 10,000-image test sets.
"""
import argparse
import functools
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # the checkout's engine/, without installing it
sys.path.insert(0, HERE)                    # svg_plot.py beside this file

import engine as eg  # noqa: E402
from engine import nn  # noqa: E402
import engine.nn.functional as F  # noqa: E402
from engine.data import MNIST, DataLoader, FashionMNIST, Subset  # noqa: E402
from engine.models import build, recipe  # noqa: E402
from engine.serialize import load, save  # noqa: E402
from engine.train import evaluate, fit, make_optimizer, make_scheduler  # noqa: E402


def train(model, dataset, images, settings, seed, what):
    """One epoch of the model's recipe on the first `images` training images; returns
    the loss history [(step, loss)]. An optimizer over *all* parameters: the frozen
    ones get no gradient and it skips them, as in PyTorch."""
    loader = DataLoader(Subset(dataset, range(min(images, len(dataset)))),
                        settings["batch_size"], shuffle=True, seed=seed)
    optimizer = make_optimizer(model.parameters(), **settings)
    scheduler = make_scheduler(optimizer, settings["schedule"], len(loader))
    loss_fn = functools.partial(F.cross_entropy, label_smoothing=settings["label_smoothing"])
    start = time.perf_counter()
    history = fit(model, loader, optimizer, loss_fn=loss_fn, scheduler=scheduler,
                  progress=False, log_every=10)
    print(f"  {what}: {len(loader.indices):,} images in {time.perf_counter() - start:.0f} s, "
          f"loss {history[0][1]:.3f} -> {history[-1][1]:.3f}")
    return history


def with_new_head(model, num_classes):
    """The model's layers but the last (the body, frozen), then a new Linear head."""
    *body, old_head = list(model)
    if not isinstance(old_head, nn.Linear):
        raise TypeError(f"the model's last layer is a {type(old_head).__name__}, not a Linear head")
    body = nn.Sequential(*body).requires_grad_(False)   # no gradients: these stay as they are
    head = nn.Linear(old_head.in_features, num_classes)   # new, random, trainable
    return nn.Sequential(body, head)


def trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_accuracy(model, dataset):
    return evaluate(model, DataLoader(dataset, 1000))


def plot(path, pretraining, curves, accuracies):
    """The training loss of each step (a running mean: one batch's loss is noisy), the
    heads' labelled with their test accuracy."""
    from svg_plot import Panel, Series, write_svg
    panels = []
    if pretraining:
        panels.append(Panel("1. MNIST, all layers: loss",
                            [Series("the CNN, from random weights", *smooth(pretraining))]))
    panels.append(Panel("2., 3. Fashion-MNIST, the head only: loss", [
        Series(f"{name}: test accuracy {accuracies[name] * 100:.1f}%", *smooth(history))
        for name, history in curves.items()]))
    write_svg(path, panels, title="Transfer learning: a new head on frozen features")


def smooth(history, window=5):
    """[(step, loss)] -> (steps, running mean of the last `window` losses)."""
    steps = [step for step, _ in history]
    losses = [loss for _, loss in history]
    means = [sum(losses[max(0, i - window + 1):i + 1]) / len(losses[max(0, i - window + 1):i + 1])
             for i in range(len(losses))]
    return steps, means


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="convnetjs", choices=("convnetjs", "lenet5"))
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu",
                        help="cpu (the default): the numpy backend, the fastest on a CPU")
    parser.add_argument("--train-images", type=int, default=20_000,
                        help="train each step on this many training images (of 60,000)")
    parser.add_argument("--test-images", type=int, default=10_000,
                        help="measure accuracy on this many test images (of 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load", metavar="FILE", help="MNIST weights to start from (safetensors)")
    parser.add_argument("--save", metavar="FILE", help="keep the MNIST weights (safetensors)")
    parser.add_argument("--plot", metavar="FILE.svg", help="draw the heads' loss and accuracy")
    args = parser.parse_args(argv)

    print("device:", eg.set_device(args.device))
    settings = recipe(args.model)
    mnist, fashion = MNIST(train=True, download=True), FashionMNIST(train=True, download=True)
    mnist_test = Subset(MNIST(train=False), range(args.test_images))
    fashion_test = Subset(FashionMNIST(train=False), range(args.test_images))

    # 1. A CNN that knows digits.
    eg.manual_seed(args.seed)
    pretrained, pretraining = build(args.model), None
    if args.load:
        pretrained.load_state_dict(load(args.load))
        print(f"1. {args.model} with the MNIST weights of {args.load}")
    else:
        print(f"1. {args.model} trained on MNIST")
        pretraining = train(pretrained, mnist, args.train_images, settings, args.seed,
                            "MNIST, all layers")
        if args.save:
            save(pretrained.state_dict(), args.save)
            print(f"  weights saved to {args.save}")
    mnist_accuracy = test_accuracy(pretrained, mnist_test)
    print(f"  MNIST test accuracy: {mnist_accuracy * 100:.2f}%")

    # 2. and 3. The same new head on the trained body, and on an untrained one.
    eg.manual_seed(args.seed + 1)
    random_body = build(args.model)           # never trained: random features
    bodies = {"MNIST features": pretrained, "random features": random_body}
    curves, accuracies = {}, {}
    for step, (name, body) in enumerate(bodies.items(), start=2):
        eg.manual_seed(args.seed + 2)         # both heads start from the same weights
        model = with_new_head(body, FashionMNIST.num_classes)
        print(f"{step}. a new head on frozen {name}: {trainable(model):,} of "
              f"{sum(p.numel() for p in model.parameters()):,} parameters train")
        curves[name] = train(model, fashion, args.train_images, settings, args.seed,
                             "Fashion-MNIST, the head only")
        accuracies[name] = test_accuracy(model, fashion_test)
        print(f"  Fashion-MNIST test accuracy: {accuracies[name] * 100:.2f}%")

    print("\nFashion-MNIST test accuracy, only the head trained:")
    for name, acc in accuracies.items():
        print(f"  {name:>16}: {acc * 100:.2f}%")
    if args.plot:
        plot(args.plot, pretraining, curves, accuracies)
        print(f"plot: {args.plot}")
    return mnist_accuracy, accuracies


if __name__ == "__main__":
    main()
