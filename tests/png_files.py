"""PNG files and zips of them for the own-data tests, written with zlib alone.

A PNG is a signature and chunks (length, type, data, CRC); the pixels are one IDAT
chunk: zlib-compressed rows, each row led by its filter byte (0: none).
"""
import io
import struct
import zipfile
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}   # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)


def png_bytes(pixels, filter_type=0, palette=None):
    """An 8-bit PNG of a (H, W) grey or (H, W, C) uint8 array (C: 2 grey+alpha, 3 RGB, 4
    RGBA), every row filtered with `filter_type` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth).
    With `palette` ((N, 3) uint8), `pixels` (H, W) are its indices (colour type 3)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour = 3 if palette is not None else COLOUR_TYPES[channels]
    header = struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)
    flat = pixels.reshape(h, w * channels).astype(np.int32)
    rows = b""
    for r in range(h):
        above = flat[r - 1] if r else np.zeros_like(flat[r])
        rows += bytes([filter_type]) + _filtered(flat[r], above, channels, filter_type).tobytes()
    chunks = [_chunk(b"IHDR", header)]
    if palette is not None:
        chunks.append(_chunk(b"PLTE", np.asarray(palette, np.uint8).tobytes()))
    chunks += [_chunk(b"IDAT", zlib.compress(rows)), _chunk(b"IEND", b"")]
    return SIGNATURE + b"".join(chunks)


def _filtered(row, above, bpp, kind):
    """PNG's forward filter of one row (the spec's definitions), as uint8."""
    left = np.concatenate([np.zeros(bpp, np.int32), row[:-bpp]])
    upper_left = np.concatenate([np.zeros(bpp, np.int32), above[:-bpp]])
    if kind == 0:
        predicted = np.zeros_like(row)
    elif kind == 1:
        predicted = left
    elif kind == 2:
        predicted = above
    elif kind == 3:
        predicted = (left + above) // 2
    else:
        p = left + above - upper_left
        pa, pb, pc = np.abs(p - left), np.abs(p - above), np.abs(p - upper_left)
        predicted = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, above, upper_left))
    return ((row - predicted) % 256).astype(np.uint8)


def mnist_digits(labels=(0, 1, 7), per_class=50):
    """{label: (per_class, 28, 28) uint8 array} of MNIST training digits (bright ink on black)."""
    from engine.data import MNIST
    train = MNIST("mnist", train=True)
    images = np.frombuffer(train.images, np.uint8).reshape(-1, 28, 28)
    labels_all = np.frombuffer(train.labels, np.uint8)
    return {k: images[np.flatnonzero(labels_all == k)[:per_class]] for k in labels}


def as_drawn_on_paper(digit):
    """A digit as a person's scan: dark ink on white, RGB, twice the size."""
    big = np.repeat(np.repeat(255 - digit, 2, axis=0), 2, axis=1)
    return np.stack([big] * 3, axis=-1)


def rectangle_on_paper(height, width, top, left, rect_h, rect_w):
    """A (height, width) grey image: white paper with a black filled rectangle on it."""
    image = np.full((height, width), 255, np.uint8)
    image[top:top + rect_h, left:left + rect_w] = 0
    return image


def zip_bytes(files):
    """A zip of {path: bytes}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return buffer.getvalue()


def digit_folders(digits, names, top="digits"):
    """{top/<class name>/<k>.png: PNG bytes} of digits drawn on paper, one folder per class."""
    return {f"{top}/{names[label]}/{k:03d}.png": png_bytes(as_drawn_on_paper(image))
            for label, images in digits.items() for k, image in enumerate(images)}
