"""Read and write IDX files, the format of MNIST, Fashion-MNIST, KMNIST and EMNIST.

An IDX file is

    00 00 <dtype code> <ndim>       4 magic bytes
    ndim x uint32, big-endian       the shape
    the values, row-major           big-endian, prod(shape) of them

and is usually gzipped. We recognise gzip by its first two bytes (1f 8b), not by
the file's name. Standard library only: this module runs in the browser under
Pyodide, where there is no numpy.
"""
import array
import gzip as _gzip
import math
import os
import struct
import sys
import zlib
from collections import namedtuple

# IDX dtype code -> (name, array.array typecode, bytes per value)
DTYPES = {
    0x08: ("uint8", "B", 1),
    0x09: ("int8", "b", 1),
    0x0B: ("int16", "h", 2),
    0x0C: ("int32", "i", 4),
    0x0D: ("float32", "f", 4),
    0x0E: ("float64", "d", 8),
}
_CODES = {name: code for code, (name, _, _) in DTYPES.items()}

# data: bytes for uint8, an array.array (native byte order) for the other dtypes.
Idx = namedtuple("Idx", "shape dtype data")


class IdxFormatError(ValueError):
    """A file that is not valid IDX; the message names the file and what is wrong."""


def read_idx(source, name=None):
    """Read an IDX file from a path or from bytes, gzipped or not. Returns Idx(shape, dtype, data).

    `name` is what error messages call the file (default: the path, or '<bytes>').
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw, name = bytes(source), name or "<bytes>"
    else:
        name = name or os.fspath(source)
        with open(source, "rb") as f:
            raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip_idx(raw, name)
    return parse_idx(raw, name)


# Deflate cannot compress better than about 1032:1, so a gzip file whose IDX header
# declares more than this many bytes per compressed byte is cut short or forged.
MAX_DEFLATE_RATIO = 1032
# How far past the declared data we decompress: enough to reach the gzip trailer (and
# check its CRC) or to count trailing garbage, little enough to stop a bomb at once.
SLACK = 1 << 20


def _gunzip_idx(raw, name):
    """Decompress a gzipped IDX file, but never more than SLACK past the size its header
    declares: a gzip bomb, a few KB that inflate to gigabytes, is stopped after its
    header instead of filling memory."""
    stream = _GzipStream(raw, name)
    magic = stream.read(4)                      # 00 00 <dtype code> <ndim>
    parts = [magic]
    if len(magic) == 4 and magic[:2] == b"\0\0" and magic[2] in DTYPES:
        ndim, itemsize = magic[3], DTYPES[magic[2]][2]
        shape = stream.read(4 * ndim)
        parts.append(shape)
        if len(shape) == 4 * ndim:
            declared = math.prod(struct.unpack(f">{ndim}I", shape)) * itemsize
            if declared > MAX_DEFLATE_RATIO * len(raw):
                raise IdxFormatError(f"{name}: the header declares {declared} bytes of data "
                                     f"but {len(raw)} compressed bytes cannot hold that many; "
                                     f"the file is truncated or not what it claims")
            parts.append(stream.read(declared + SLACK))
    stream.check_complete()
    return b"".join(parts)   # parse_idx reports a bad header, short data or trailing garbage


class _GzipStream:
    """Incremental gunzip: read(n) returns at most n more bytes, decompressing no more."""

    def __init__(self, raw, name):
        self.name, self.tail = name, raw
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)   # 16+: the gzip wrapper

    def read(self, n):
        parts = []
        while n > 0:
            try:
                chunk = self.inflater.decompress(self.tail, n)
            except zlib.error as e:   # bad header, bad deflate data, CRC mismatch
                raise IdxFormatError(f"{self.name}: corrupt gzip data: {e}") from None
            self.tail = self.inflater.unconsumed_tail
            parts.append(chunk)
            n -= len(chunk)
            if self.inflater.eof and self.inflater.unused_data[:2] == b"\x1f\x8b":
                self.tail = self.inflater.unused_data   # the next member of a multi-member gzip
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif not chunk:
                break
        return b"".join(parts)

    def check_complete(self):
        """After the declared data: a stream cut short must not pass as a whole one."""
        if not self.inflater.eof and not self.tail:
            raise IdxFormatError(f"{self.name}: corrupt gzip data: the compressed stream ends "
                                 f"before its end-of-stream marker (truncated file)")


def parse_idx(raw, name="<bytes>"):
    """Parse the (already decompressed) bytes of an IDX file."""
    if len(raw) < 4:
        raise IdxFormatError(f"{name}: truncated header: found {len(raw)} bytes, "
                             f"an IDX file starts with 4 magic bytes")
    if raw[0] != 0 or raw[1] != 0:
        raise IdxFormatError(f"{name}: not an IDX file: magic bytes are {raw[:4].hex(' ')}, "
                             f"expected 00 00 <dtype code> <ndim>")
    code, ndim = raw[2], raw[3]
    if code not in DTYPES:
        known = ", ".join(f"{c:02x} ({n})" for c, (n, _, _) in DTYPES.items())
        raise IdxFormatError(f"{name}: unknown IDX dtype code {code:02x} in magic bytes "
                             f"{raw[:4].hex(' ')}; known codes: {known}")
    dtype, typecode, itemsize = DTYPES[code]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise IdxFormatError(f"{name}: truncated header: {ndim} dimensions need {start} header "
                             f"bytes, found {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:start])
    expected, found = math.prod(shape) * itemsize, len(raw) - start
    if found < expected:
        raise IdxFormatError(f"{name}: truncated data: expected {expected} bytes of {dtype} data "
                             f"for shape {shape}, found {found}")
    if found > expected:
        raise IdxFormatError(f"{name}: trailing garbage: {found - expected} bytes after the "
                             f"{expected} bytes of {dtype} data for shape {shape}")
    body = raw[start:]
    if dtype == "uint8":
        return Idx(shape, dtype, body)
    data = array.array(typecode)
    assert data.itemsize == itemsize, (typecode, data.itemsize)
    data.frombytes(body)
    if sys.byteorder == "little":
        data.byteswap()  # IDX is big-endian
    return Idx(shape, dtype, data)


def write_idx(path, shape, data, dtype="uint8", gzip=True):
    """Write an IDX file (gzipped by default, reproducibly: no time stamp in the header).

    `data`: the values row-major, as bytes for uint8 (or any dtype, already big-endian),
    or an array.array in native byte order for the other dtypes.
    """
    if dtype not in _CODES:
        raise ValueError(f"write_idx: unknown dtype {dtype!r}; known: {', '.join(_CODES)}")
    code = _CODES[dtype]
    _, typecode, itemsize = DTYPES[code]
    if isinstance(data, array.array):
        if data.typecode != typecode:
            raise ValueError(f"write_idx: array typecode {data.typecode!r} does not match "
                             f"dtype {dtype} (typecode {typecode!r})")
        if sys.byteorder == "little" and itemsize > 1:
            data = array.array(typecode, data)
            data.byteswap()
        data = data.tobytes()
    data = bytes(data)
    shape = tuple(int(d) for d in shape)
    if len(data) != math.prod(shape) * itemsize:
        raise ValueError(f"write_idx: {len(data)} bytes of data do not fit shape {shape} "
                         f"of {dtype} ({math.prod(shape) * itemsize} bytes)")
    raw = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data
    if gzip:
        raw = _gzip.compress(raw, compresslevel=6, mtime=0)
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "wb") as f:  # write then rename: never leave a half-written file
        f.write(raw)
    os.replace(tmp, path)
