"""Test accuracy of saved models on the MNIST test set, as it is and shifted by a few
pixels: what data augmentation (engine/data/augment.py) is for. docs/TRAINING.md has
the numbers.

    python bench/eval_shifted.py --model convnetjs --shift 2 a.safetensors b.safetensors

Each test image is moved by `shift` pixels right, left, down and up in turn (the
pixels that come in are black); the table gives the accuracy on the original images,
on each shifted copy, and the mean of the four.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import engine as eg  # noqa: E402
from engine.data import MNIST, DataLoader  # noqa: E402
from engine.models import build  # noqa: E402
from engine.serialize import load  # noqa: E402
from engine.train import evaluate  # noqa: E402

DIRECTIONS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}


def shifted(dataset, dy, dx):
    """A copy of `dataset` whose images are moved by (dy, dx) pixels, black filling in."""
    _, H, W = dataset.image_shape
    images = np.frombuffer(bytes(dataset.images), np.uint8).reshape(-1, H, W)
    moved = np.zeros_like(images)
    moved[:, max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        images[:, max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    copy = MNIST.__new__(type(dataset))
    copy.__dict__.update({k: v for k, v in dataset.__dict__.items() if k != "_device_images"})
    copy.images = moved.tobytes()
    return copy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="+", help="safetensors files saved by engine.train --save")
    parser.add_argument("--model", default="convnetjs")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--shift", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["auto", "gpu", "cpu"])
    args = parser.parse_args()
    eg.set_device(args.device)
    test_set = MNIST(args.dataset, train=False)
    sets = {"original": test_set}
    for name, (dy, dx) in DIRECTIONS.items():
        sets[name] = shifted(test_set, dy * args.shift, dx * args.shift)
    print(f"test accuracy (%) on {len(test_set):,} {args.dataset} test images, "
          f"shifted by {args.shift} pixels")
    print("| weights | original | " + " | ".join(DIRECTIONS) + " | shifted, mean |")
    print("|---|" + "---:|" * (len(DIRECTIONS) + 2))
    for path in args.weights:
        model = build(args.model, in_shape=test_set.image_shape)
        model.load_state_dict(load(path))
        scores = {name: 100 * evaluate(model, DataLoader(data, 1000)) for name, data in sets.items()}
        mean = sum(scores[name] for name in DIRECTIONS) / len(DIRECTIONS)
        print(f"| {os.path.basename(path)} | " + " | ".join(f"{v:.2f}" for v in scores.values())
              + f" | {mean:.2f} |")


if __name__ == "__main__":
    main()
