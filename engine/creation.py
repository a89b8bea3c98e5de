"""Making tensors: from Python data, constants, ranges and random numbers.

Random numbers are counter-based (shaders/random.wgsl): element i of a draw is
a hash of (seed, offset + i), so `manual_seed(s)` reproduces a run on every
backend, GPU or numpy, and drawing never needs a round trip to the CPU.
"""
import array
import math
import operator

from .backend import current_backend
from .backend.base import FLOAT32, INT32
from .tensor import Tensor


class _Generator:
    seed = 0
    offset = 0

    def take(self, n):
        start, self.offset = self.offset, self.offset + n
        return self.seed, start


default_generator = _Generator()


def manual_seed(seed):
    """Reset webgrad's random stream: the same seed gives the same numbers everywhere.
    Python's global `random` module is left alone, as PyTorch leaves it: a program's own
    use of `random` must not change because it seeded the engine (the DataLoader
    shuffles with its own `random.Random(seed)`)."""
    default_generator.seed = int(seed) & 0xFFFFFFFF
    default_generator.offset = 0


def _flatten(data):
    """Nested lists -> (flat list, shape)."""
    if isinstance(data, (list, tuple)):
        if not data:
            return [], (0,)
        parts = [_flatten(d) for d in data]
        inner = parts[0][1]
        if any(p[1] != inner for p in parts):
            raise ValueError("tensor: nested lists have ragged lengths; every row must have "
                             "the same shape")
        return [x for p in parts for x in p[0]], (len(data),) + inner
    return [data], ()


def _dtype_name(dtype):
    if dtype is None:
        return None
    name = getattr(dtype, "name", None) or str(dtype).replace("torch.", "")
    if name in ("float32", "float", "float64", "double"):
        return FLOAT32
    if name in ("int32", "int", "int64", "long"):
        return INT32
    raise TypeError(f"unsupported dtype {dtype!r}: webgrad has float32 and int32")


def tensor(data, dtype=None, requires_grad=False):
    """From a (nested) list, number, array.array, numpy array or another Tensor."""
    dtype = _dtype_name(dtype)
    backend = current_backend()
    if isinstance(data, Tensor):
        data = data.tolist()
    if hasattr(data, "__array_interface__") and hasattr(data, "dtype"):  # numpy
        import numpy as np
        if dtype is None:
            dtype = INT32 if data.dtype.kind in "iub" else FLOAT32
        kind = np.float32 if dtype == FLOAT32 else np.int32
        flat = np.ascontiguousarray(data, kind)
        t = Tensor(backend.upload(flat.tobytes(), dtype), data.shape, dtype, backend)
        if dtype == INT32 and flat.size:
            t.value_range = (int(flat.min()), int(flat.max()))
    else:
        if isinstance(data, array.array):
            flat, shape = list(data), (len(data),)
        else:
            flat, shape = _flatten(data)
        if dtype is None:
            dtype = INT32 if all(isinstance(v, int) for v in flat) and flat else FLOAT32
        if dtype == FLOAT32:
            buf = array.array("f", [float(v) for v in flat])
        else:
            buf = array.array("i", [int(v) for v in flat])
        t = Tensor(backend.upload(buf.tobytes(), dtype), shape, dtype, backend)
        if dtype == INT32 and buf:
            t.value_range = (min(buf), max(buf))
    if requires_grad:
        if t.dtype != FLOAT32:
            raise TypeError("only float32 tensors can require gradients")
        t.requires_grad = True
    return t


def _shape(args, name):
    """zeros(2, 3) and zeros((2, 3)) -> (2, 3); sizes must be whole numbers >= 0."""
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) \
        else tuple(args)
    for size in shape:
        try:
            operator.index(size)   # ints, numpy integers; not floats
        except TypeError:
            raise TypeError(f"{name}: sizes must be integers, got {size!r} in {shape}") from None
        if size < 0:
            raise ValueError(f"{name}: negative dimension {size} in size {shape}; every "
                             f"size must be >= 0")
    return tuple(operator.index(s) for s in shape)


def full(shape, value, dtype=None, requires_grad=False):
    shape = _shape((shape,), "full")
    dtype = _dtype_name(dtype) or FLOAT32
    backend = current_backend()
    t = Tensor(backend.full(math.prod(shape), value, dtype), shape, dtype, backend)
    if dtype == INT32:
        t.value_range = (int(value), int(value))
    t.requires_grad = requires_grad
    return t


def zeros(*shape, dtype=None, requires_grad=False):
    return full(_shape(shape, "zeros"), 0.0, dtype, requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return full(_shape(shape, "ones"), 1.0, dtype, requires_grad)


def zeros_like(t):
    return zeros(t.shape, dtype=t.dtype)


def ones_like(t):
    return ones(t.shape, dtype=t.dtype)


def _random(shape, normal, requires_grad):
    backend = current_backend()
    n = math.prod(shape)
    seed, offset = default_generator.take(n)
    t = Tensor(backend.random(n, seed, offset, normal), shape, FLOAT32, backend)
    t.requires_grad = requires_grad
    return t


def randn(*shape, requires_grad=False):
    """Standard normal samples (Box-Muller on counter-based uniforms)."""
    return _random(_shape(shape, "randn"), True, requires_grad)


def rand(*shape, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _random(_shape(shape, "rand"), False, requires_grad)


def arange(start, end=None, step=1, dtype=None):
    if end is None:
        start, end = 0, start
    if step == 0 or not all(map(math.isfinite, (start, end, step))):
        raise ValueError(f"arange: start {start}, end {end} and step {step} must be finite, "
                         f"and step non-zero")
    if (end - start) * step < 0:   # PyTorch refuses a range that runs away from its end
        raise ValueError(f"arange: step {step} runs away from end {end} (start {start}); "
                         f"use a step of the other sign")
    values = list(range(start, end, step)) if all(isinstance(v, int) for v in (start, end, step)) \
        else [start + i * step for i in range(max(0, math.ceil((end - start) / step)))]
    if not values:
        return tensor([], dtype=dtype or FLOAT32)
    return tensor(values, dtype=dtype)
