"""Draw docs/augment-strip.png: training images and augmented copies of them.

    .venv/bin/python scripts/augment_strip.py [--out docs/augment-strip.png]

Left, MNIST with the "handwriting" policy; right, Fashion-MNIST with "fashion"
(engine/data/augment.py). In each panel the top row is the first training images
as they are, the rows below are three calls of Augment(policy, seed=0). Drawn by
the numpy backend, which gives the same images as the GPU kernel; written by a
small PNG writer (zlib), so it needs nothing beyond numpy.
"""
import argparse
import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

import engine as eg  # noqa: E402
from engine.data import Augment, DataLoader, FashionMNIST, MNIST, Subset  # noqa: E402
from engine.data.augment import pixel_range  # noqa: E402

COLUMNS, CALLS, ZOOM, GAP = 8, 3, 3, 2


def panel(dataset, policy):
    """(1 + CALLS) rows of COLUMNS images, white background, dark ink, grey gaps."""
    loader = DataLoader(Subset(dataset, range(COLUMNS)), batch_size=COLUMNS)
    x, _ = next(iter(loader))
    black, white = pixel_range(loader)
    augment = Augment(policy, seed=0)
    rows = [x.numpy()] + [augment(x, (black, white)).numpy() for _ in range(CALLS)]
    _, h, w = dataset.image_shape
    out = np.full(((1 + CALLS) * (h + GAP) + GAP, COLUMNS * (w + GAP) + GAP), 215, np.uint8)
    for r, batch in enumerate(rows):
        ink = np.clip((batch[:, 0] - black) / (white - black), 0, 1)
        for c in range(COLUMNS):
            top, left = GAP + r * (h + GAP), GAP + c * (w + GAP)
            out[top:top + h, left:left + w] = np.round(255 * (1 - ink[c]))
        if r == 0:   # a darker line under the originals
            out[top + h:top + h + GAP, :] = 120
    return out


def write_png(path, gray):
    """An 8-bit greyscale PNG: signature, IHDR, one IDAT, IEND."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    h, w = gray.shape
    raw = b"".join(b"\x00" + gray[r].tobytes() for r in range(h))   # filter 0 on every row
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "augment-strip.png"))
    args = parser.parse_args()
    eg.set_device("cpu")
    left = panel(MNIST("mnist", train=True), "handwriting")
    right = panel(FashionMNIST("fashion-mnist", train=True), "fashion")
    spacer = np.full((left.shape[0], 6 * GAP), 255, np.uint8)
    image = np.hstack([left, spacer, right])
    image = image.repeat(ZOOM, axis=0).repeat(ZOOM, axis=1)
    write_png(args.out, image)
    print(f"wrote {args.out} ({image.shape[1]} x {image.shape[0]})")


if __name__ == "__main__":
    main()
