"""Saving and loading weights in the safetensors format, with the standard library.

A safetensors file is an 8-byte little-endian header length, a JSON header
{name: {"dtype", "shape", "data_offsets"}}, then the raw tensor bytes. It is
simple, safe to load (no pickle) and read by PyTorch's `safetensors` package,
so weights can move between webgrad and PyTorch.

`save` never leaves a half-written file behind: it writes a temporary file in
the same folder, flushes it to disk and renames it over the target, so a save
that is killed midway leaves the old file as it was. `load` checks the whole
header (types, shapes, byte ranges) before it makes a single tensor.
"""
import json
import math
import os
import struct
import uuid

from .tensor import Tensor

_DTYPES = {"float32": "F32", "int32": "I32"}
_NAMES = {v: k for k, v in _DTYPES.items()}
_NAMES["I64"] = "int32"   # PyTorch's integer buffers (num_batches_tracked): read as int32
_ITEMSIZES = {"F32": 4, "I32": 4, "I64": 8}


def save(state_dict, path, metadata=None):
    """Write {name: Tensor} to `path` atomically (temporary file, fsync, rename).
    metadata: {str: str}, kept in the header's "__metadata__" (safetensors' place for it;
    `load(path).metadata` gives it back)."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: metadata must map str to str (safetensors' __metadata__)")
        header["__metadata__"] = dict(metadata)
    for name, t in state_dict.items():
        data = t.backend.download(t.data)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    with _atomic_file(path) as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def _temporary_name(path):
    """A fresh name in the same folder as `path`: a rename within one file system is atomic."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")


class _atomic_file:
    """`with _atomic_file(path) as f:` writes to a temporary file beside `path` and
    renames it onto `path` only when the block finishes: os.replace is atomic, so
    readers see the old file or the new one, never a mixture or a stump."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.tmp = _temporary_name(self.path)

    def __enter__(self):
        self.file = open(self.tmp, "xb")
        return self.file

    def __exit__(self, kind, error, trace):
        try:
            if kind is None:
                self.file.flush()
                os.fsync(self.file.fileno())  # the bytes are on disk before the rename
        finally:
            self.file.close()
            if kind is None:
                os.replace(self.tmp, self.path)
            else:
                os.remove(self.tmp)
        return False


def check_writable(path):
    """Raise an OSError naming `path` if `save` could not write there (no such folder,
    a folder in the way, no permission): it creates and removes the temporary file
    that `save` would write. The CLI calls it before training, not after."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {path!r}: it is a folder")
    tmp = _temporary_name(path)
    try:
        open(tmp, "xb").close()
        os.remove(tmp)
    except OSError as err:
        raise OSError(f"cannot save to {path!r}: {err.strerror or err}") from None


def load(path):
    """path -> {name: Tensor} on the current device. The file is checked first (a
    header that is a JSON object, known dtypes, non-negative shapes, byte ranges that
    fit their shapes, lie in the file and do not overlap); errors name the file and
    the tensor."""
    from .backend import current_backend
    with open(path, "rb") as f:
        raw = f.read()
    header, body = _parse_header(raw, path)
    entries = {name: _check_entry(path, name, entry, len(body))
               for name, entry in header.items() if name != "__metadata__"}
    _check_no_overlap(path, entries)
    backend = current_backend()
    state = LoadedState({name: Tensor(backend.upload(_as_stored(path, name, kind, body[start:end]),
                                                     _NAMES[kind]), shape, _NAMES[kind], backend)
                         for name, (kind, shape, start, end) in entries.items()})
    state.path = os.fspath(path)
    state.metadata = header.get("__metadata__") or {}
    return state


class LoadedState(dict):
    """What `load` returns: a plain {name: Tensor} that remembers its file (`path`), so
    that Module.load_state_dict's errors can name it, and its header's __metadata__."""
    path = None
    metadata = {}


def _parse_header(raw, path):
    """-> (header dict, memoryview of the bytes after it)."""
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file (only {len(raw)} bytes)")
    (size,) = struct.unpack("<Q", raw[:8])
    if 8 + size > len(raw):
        raise ValueError(f"{path}: header says {size} bytes but the file has {len(raw) - 8} "
                         f"after it")
    try:
        header = json.loads(raw[8:8 + size], object_pairs_hook=_no_duplicates)
    except ValueError as err:
        raise ValueError(f"{path}: the header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the header must be a JSON object {{name: tensor}}, got "
                         f"a JSON {type(header).__name__}")
    return header, memoryview(raw)[8 + size:]


def _no_duplicates(pairs):
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"the name {name!r} appears twice")
    return dict(pairs)


def _check_entry(path, name, entry, body_size):
    """One header entry -> (its dtype in the file, shape, start, end), or a ValueError
    naming it."""
    where = f"{path}: tensor {name!r}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected {{dtype, shape, data_offsets}}, got {entry!r}")
    kind = entry.get("dtype")
    if kind not in _NAMES:
        raise ValueError(f"{where} has dtype {entry.get('dtype')!r}; webgrad reads "
                         f"{sorted(_NAMES)}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not isinstance(shape, list) or not all(_is_count(s) for s in shape):
        raise ValueError(f"{where}: shape {shape!r} must be a list of integers >= 0")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_count, offsets)):
        raise ValueError(f"{where}: data_offsets {offsets!r} must be two integers >= 0")
    start, end = offsets
    expected = _ITEMSIZES[kind] * math.prod(shape)
    if end - start != expected:
        raise ValueError(f"{where} of shape {tuple(shape)} needs {expected} bytes but its "
                         f"byte range [{start}, {end}) holds {end - start}")
    if end > body_size:
        raise ValueError(f"{where}: byte range [{start}, {end}) runs past the end of the "
                         f"data ({body_size} bytes)")
    return kind, tuple(shape), start, end


def _as_stored(path, name, kind, raw):
    """The bytes webgrad keeps: int64 (what PyTorch writes for integer buffers) narrowed
    to int32, if every value fits."""
    if kind != "I64":
        return raw
    values = struct.unpack(f"<{len(raw) // 8}q", raw)
    if any(not -2**31 <= v < 2**31 for v in values):
        raise ValueError(f"{path}: tensor {name!r} (int64) holds values outside int32's range, "
                         f"which webgrad cannot keep")
    return struct.pack(f"<{len(values)}i", *values)


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_no_overlap(path, entries):
    """Walk the byte ranges in order: each must start where the one before ended or later."""
    by_start = sorted((start, end, name) for name, (_, _, start, end) in entries.items()
                      if end > start)   # an empty tensor takes no room
    for (_, end_a, a), (start_b, end_b, b) in zip(by_start, by_start[1:]):
        if start_b < end_a:
            raise ValueError(f"{path}: tensors {a!r} and {b!r} overlap: {a!r} ends at byte "
                             f"{end_a}, {b!r} occupies [{start_b}, {end_b})")
