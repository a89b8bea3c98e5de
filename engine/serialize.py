"""Saving and loading weights in the safetensors format, with the standard library.

A safetensors file is an 8-byte little-endian header length, a JSON header
{name: {"dtype", "shape", "data_offsets"}}, then the raw tensor bytes. It is
simple, safe to load (no pickle) and read by PyTorch's `safetensors` package,
so weights can move between webgrad and PyTorch.
"""
import json
import math
import struct

from .tensor import Tensor

_DTYPES = {"float32": "F32", "int32": "I32"}
_NAMES = {v: k for k, v in _DTYPES.items()}


def save(state_dict, path):
    header, blobs, offset = {}, [], 0
    for name, t in state_dict.items():
        data = t.backend.download(t.data)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load(path):
    """path -> {name: Tensor} on the current device; errors name the file and the field."""
    from .backend import current_backend
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: not a safetensors file (only {len(raw)} bytes)")
    (size,) = struct.unpack("<Q", raw[:8])
    if 8 + size > len(raw):
        raise ValueError(f"{path}: header says {size} bytes but the file has {len(raw) - 8} after it")
    try:
        header = json.loads(raw[8:8 + size])
    except ValueError as err:
        raise ValueError(f"{path}: the header is not valid JSON ({err})") from None
    body = memoryview(raw)[8 + size:]
    backend, state = current_backend(), {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _NAMES.get(entry.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry.get('dtype')!r}; "
                             f"webgrad reads {sorted(_NAMES)}")
        shape = tuple(entry["shape"])
        start, end = entry["data_offsets"]
        if end - start != 4 * math.prod(shape) or end > len(body):
            raise ValueError(f"{path}: tensor {name!r} of shape {shape} has a byte range "
                             f"[{start}, {end}) that does not fit its shape or the file")
        state[name] = Tensor(backend.upload(body[start:end], dtype), shape, dtype, backend)
    return state
