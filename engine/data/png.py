"""PNG files to grey pixels with the standard library alone, for your own data natively.

In the browser the page has the browser decode images (web/static/owndata.js); natively
there is no such decoder without PIL, and PNG needs only zlib:

    signature, then chunks: length (4 bytes), type (4), data, CRC
    IHDR   width, height, bit depth, colour type, ..., interlace
    PLTE   the palette (colour type 3)
    IDAT   the pixels, zlib-compressed, every row led by a filter byte (0-4)

decode_png covers 8-bit, non-interlaced images of every colour type, which is what
image editors and Python's own writers save. Others raise PngError naming the file.
"""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}   # colour type -> samples per pixel (3: palette index)


class PngError(ValueError):
    """A file that is not a PNG this decoder reads; the message names it."""


def decode_png(data, name="<bytes>"):
    """(height, width, grey bytes): luma (ITU-R BT.601, as the page's canvas read-back),
    transparent pixels composited onto white."""
    if not data.startswith(SIGNATURE):
        raise PngError(f"{name}: not a PNG file (no PNG signature)")
    header, palette, compressed = None, None, []
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            break
    if header is None or not compressed:
        raise PngError(f"{name}: a PNG without {'IHDR' if header is None else 'IDAT'} (cut short?)")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace or colour not in CHANNELS or (colour == 3 and palette is None):
        raise PngError(f"{name}: a PNG of bit depth {depth}, colour type {colour}, interlace "
                       f"{interlace}; natively only 8-bit, non-interlaced PNGs are read")
    try:
        raw = zlib.decompress(b"".join(compressed))
    except zlib.error as err:
        raise PngError(f"{name}: damaged PNG pixel data ({err})") from None
    channels = CHANNELS[colour]
    rows = _unfilter(raw, height, width * channels, channels, name)
    return height, width, _to_grey(rows, colour, palette)


def _unfilter(raw, height, stride, bpp, name):
    """The rows' bytes with PNG's per-row filters (None, Sub, Up, Average, Paeth) undone."""
    if len(raw) != height * (stride + 1):
        raise PngError(f"{name}: {len(raw)} bytes of pixel data, expected {height * (stride + 1)}")
    previous = bytearray(stride)
    out = bytearray()
    for r in range(height):
        kind = raw[r * (stride + 1)]
        row = bytearray(raw[r * (stride + 1) + 1:(r + 1) * (stride + 1)])
        if kind == 1:                                    # Sub: the byte to the left
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif kind == 2:                                  # Up: the byte above
            row = bytearray((a + b) & 255 for a, b in zip(row, previous))
        elif kind == 3:                                  # Average of left and above
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:                                  # Paeth: the nearest of three
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif kind != 0:
            raise PngError(f"{name}: unknown PNG filter {kind} on row {r}")
        out += row
        previous = row
    return bytes(out)


def _to_grey(pixels, colour, palette):
    def luma(r, g, b):
        return int(0.299 * r + 0.587 * g + 0.114 * b + 0.5)

    def on_white(value, alpha):
        return (value * alpha + 255 * (255 - alpha) + 127) // 255

    if colour == 0:
        return pixels
    if colour == 2:
        return bytes(luma(*pixels[i:i + 3]) for i in range(0, len(pixels), 3))
    if colour == 3:
        return bytes(luma(*palette[3 * k:3 * k + 3]) for k in pixels)
    if colour == 4:
        return bytes(on_white(pixels[i], pixels[i + 1]) for i in range(0, len(pixels), 2))
    return bytes(on_white(luma(*pixels[i:i + 3]), pixels[i + 3]) for i in range(0, len(pixels), 4))


def resize_grey(pixels, height, width, size):
    """Grey pixels scaled to size (H, W): each output pixel the mean of the source pixels
    under it (shrinking), or the nearest one (growing)."""
    out_h, out_w = size

    def spans(n, out):
        return [(i * n // out, max(i * n // out + 1, (i + 1) * n // out)) for i in range(out)]

    rows, cols = spans(height, out_h), spans(width, out_w)
    out = bytearray()
    for r0, r1 in rows:
        for c0, c1 in cols:
            block = [pixels[r * width + c] for r in range(r0, r1) for c in range(c0, c1)]
            out.append((sum(block) + len(block) // 2) // len(block))
    return bytes(out)


def fit_grey(pixels, height, width, size):
    """Grey pixels scaled to fit size (H, W) with their aspect ratio kept, as a student
    drawing a 40x20 image expects: the longer side fills it, the image is centred, and
    the bands left over take the image's background, the median of its border pixels
    (white paper, or MNIST's black). The page does the same (web/static/owndata.js)."""
    fit_h, fit_w = fitted_size(height, width, size)
    image = resize_grey(pixels, height, width, (fit_h, fit_w))
    out_h, out_w = size
    top, left = (out_h - fit_h) // 2, (out_w - fit_w) // 2
    out = bytearray([border_median(image, fit_h, fit_w)]) * (out_h * out_w)
    for r in range(fit_h):
        start = (top + r) * out_w + left
        out[start:start + fit_w] = image[r * fit_w:(r + 1) * fit_w]
    return bytes(out)


def fitted_size(height, width, size):
    """(h, w): height x width scaled to fit inside size (H, W) with its aspect ratio
    kept, rounded to the nearest pixel (halves up, in integers, as owndata.js does)."""
    out_h, out_w = size
    if width * out_h >= height * out_w:           # as wide as the target or wider
        return max(1, (2 * height * out_w + width) // (2 * width)), out_w
    return out_h, max(1, (2 * width * out_h + height) // (2 * height))


def border_indices(height, width):
    """Where an image's outermost pixels are, row by row (r * width + c)."""
    return [r * width + c for r in range(height) for c in range(width)
            if r in (0, height - 1) or c in (0, width - 1)]


def border_median(pixels, height, width):
    """The median of an image's outermost pixels: its background, even where a stroke
    touches the edge."""
    border = sorted(pixels[i] for i in border_indices(height, width))
    return border[len(border) // 2]
