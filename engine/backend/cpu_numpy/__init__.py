"""The numpy backend: every primitive of `base.Backend` in a few lines of numpy.

It is the reference the WGSL kernels are tested against and the fallback when
the only GPU is a software one. It computes in float32 like the GPU, or in
float64 when created with `precision="float64"` (used by the tests as a
high-precision reference). Never imported in the browser: numpy is imported
nowhere else in the engine. The convolution and pooling primitives are in
cnn.py, batch norm's in norm.py, the optimizers' updates in optim.py.
"""
import numpy as np

from ..base import Backend, FLOAT32, INT32, UINT8
from ..elementwise_table import UNARY, BINARY
from .augment import AugmentPrimitive
from .cnn import CNNPrimitives
from .norm import NormPrimitives
from .optim import OptimPrimitives
from .memory import keep_freed_blocks

_NP = {INT32: np.int32, UINT8: np.uint8}


def _float32_bytes(arr):
    """What the GPU would hand back: float32 even when the reference runs in float64."""
    return (arr.astype(np.float32) if arr.dtype.kind == "f" else arr).tobytes()


class NumpyBackend(CNNPrimitives, NormPrimitives, OptimPrimitives, AugmentPrimitive, Backend):
    name = "cpu"
    reads_are_free = True

    def __init__(self, precision="float32"):
        self.float = np.dtype(precision)
        self._scratch_buffers = []   # temporaries of the optimizer updates, reused (optim.py)
        self._kept_columns = {}      # the convolutions' im2col, for their weight gradient
        keep_freed_blocks()          # big arrays' memory is reused, not faulted in anew

    def describe(self):
        return f"cpu: numpy {np.__version__} ({self.float.name})"

    def _np(self, dtype):
        return self.float if dtype == FLOAT32 else _NP[dtype]

    # -- memory --------------------------------------------------------------
    def empty(self, numel, dtype=FLOAT32):
        return np.empty(numel, self._np(dtype))

    def full(self, numel, value, dtype=FLOAT32):
        return np.full(numel, value, self._np(dtype))

    def upload(self, data, dtype=FLOAT32):
        src = np.float32 if dtype == FLOAT32 else _NP[dtype]
        return np.frombuffer(bytes(data), src).astype(self._np(dtype))

    def download(self, arr):
        return _float32_bytes(arr)

    def download_many(self, arrays):
        return b"".join(_float32_bytes(a) for a in arrays)

    def fill_(self, arr, value):
        arr[...] = value

    def copy_(self, dst, src):
        dst[...] = src

    # -- element-wise ----------------------------------------------------------
    def unary(self, op, x, *args):
        with np.errstate(all="ignore"):
            return np.asarray(UNARY[op].numpy(np, x, *args)).astype(x.dtype, copy=False)

    def binary(self, op, a, a_shape, b, b_shape, out_shape, *args):
        a, b = a.reshape(a_shape), b.reshape(b_shape)
        with np.errstate(all="ignore"):
            out = np.asarray(BINARY[op].numpy(np, a, b, *args))
        fresh = out.flags.c_contiguous and not (np.may_share_memory(out, a)
                                                or np.may_share_memory(out, b))
        if out.shape != tuple(out_shape) or out.dtype != self.float or not fresh:
            # broadcast, promoted (comparisons give float64), or an input handed back
            # (lhs): copy into a new array. A new result of the right shape is kept as is,
            # a view of one too (relu_grad's bit-pattern view: copying it cost a third)
            out = np.broadcast_to(out, out_shape).astype(self.float)
        return out.ravel()

    def cast(self, x, dtype):
        return x.astype(self._np(dtype))

    # -- reductions and layout -------------------------------------------------
    def reduce(self, op, x, outer, size, inner):
        x = x.reshape(outer, size, inner)
        return {"sum": np.sum, "max": np.max, "min": np.min}[op](x, axis=1).ravel()

    def argmax(self, x, outer, size, inner):
        return np.argmax(x.reshape(outer, size, inner), axis=1).astype(np.int32).ravel()

    def permute(self, x, shape, perm):
        return np.ascontiguousarray(x.reshape(shape).transpose(perm)).ravel()

    def matmul(self, a, b, batch, M, N, K, trans_a=False, trans_b=False,
               a_batched=True, b_batched=True, bias=None, relu=False):
        # a transposed operand is a transposed view: BLAS reads it in place, no copy
        a = _matrices(a, batch if a_batched else 1, (M, K), trans_a)
        b = _matrices(b, batch if b_batched else 1, (K, N), trans_b)
        out = a @ b
        if out.ndim == 2 and batch > 1:   # neither operand batched: the same product for all
            out = np.broadcast_to(out, (batch, M, N)).copy()
        if bias is not None:
            out += bias
        if relu:
            np.maximum(out, 0, out=out)
        return out.ravel()

    def relu_bias_backward(self, g, y, rows, cols, plane=1):
        n = rows * cols * plane
        gz = g if y is None else self.binary("relu_grad", g, (n,), y, (n,), (n,))
        summed = gz.reshape(rows, cols * plane).sum(axis=0)   # as the GPU: rows, then pixels
        return gz, (summed if plane == 1 else summed.reshape(cols, plane).sum(axis=1))

    # -- fused row-wise ops ------------------------------------------------------
    def softmax(self, x, rows, cols, log=False):
        x = x.reshape(rows, cols)
        shifted = x - x.max(axis=1, keepdims=True)
        lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        out = shifted - lse if log else np.exp(shifted - lse)
        return out.ravel()

    def softmax_backward(self, y, g, rows, cols, log=False):
        y, g = y.reshape(rows, cols), g.reshape(rows, cols)
        if log:  # y = log p: dx = g - p * sum(g)
            return (g - np.exp(y) * g.sum(axis=1, keepdims=True)).ravel()
        return (y * (g - (g * y).sum(axis=1, keepdims=True))).ravel()

    def cross_entropy(self, logits, targets, rows, cols, smoothing=0.0):
        x = logits.reshape(rows, cols)
        m = x.max(axis=1)
        lse = m + np.log(np.exp(x - m[:, None]).sum(axis=1))
        loss = lse - (1 - smoothing) * x[np.arange(rows), targets]
        if smoothing:
            loss -= smoothing * x.mean(axis=1)
        return loss, lse

    def cross_entropy_total(self, logits, targets, rows, cols, smoothing, scale, with_grad=False):
        loss, lse = self.cross_entropy(logits, targets, rows, cols, smoothing)
        grad = (self._cross_entropy_grad(logits, targets, lse, rows, cols, scale, smoothing)
                if with_grad else None)
        return np.array([loss.sum() * scale], self.float), lse, grad

    def cross_entropy_backward(self, logits, targets, lse, grad_out, rows, cols, scale,
                               smoothing=0.0):
        return self._cross_entropy_grad(logits, targets, lse, rows, cols,
                                        grad_out[0] * scale, smoothing)

    def _cross_entropy_grad(self, logits, targets, lse, rows, cols, factor, smoothing):
        p = np.exp(logits.reshape(rows, cols) - lse[:, None])
        p[np.arange(rows), targets] -= 1.0 - smoothing
        p -= smoothing / cols
        return (p * factor).astype(self.float).ravel()

    # -- random numbers and data -----------------------------------------------------
    def random(self, numel, seed, offset, normal=False):
        counters = np.arange(numel, dtype=np.uint64) + offset
        if not normal:
            return _uniform(seed, counters).astype(self.float)
        u1 = _uniform(seed, 2 * counters)
        u2 = _uniform(seed, 2 * counters + 1)
        z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
        return z.astype(self.float)

    def gather_images(self, images, indices, count, row_len, scale, shift):
        rows = images.reshape(-1, row_len)[indices[:count]]
        return (rows.astype(self.float) * scale + shift).ravel()

    # ---- dropout, concatenation ----
    def dropout(self, x, numel, p, seed, offset, slot=None):
        # the uniforms are multiples of 2^-24, exact in float64: the same test as the GPU's
        keep = _uniform(seed, np.arange(numel, dtype=np.uint64) + offset) >= p
        scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        return np.where(keep, x * scale, 0.0).astype(self.float)

    def cat(self, arrays, outer, sizes, inner):
        pieces = [a.reshape(outer, size, inner) for a, size in zip(arrays, sizes)]
        return np.concatenate(pieces, axis=1).ravel()

    def narrow(self, x, outer, size, start, length, inner):
        # flatten, not ravel: always a copy, never a view that shares x's memory
        return x.reshape(outer, size, inner)[:, start:start + length].flatten()


def _matrices(x, count, shape, transposed):
    """A flat array as `count` matrices of `shape` (one plain matrix when count is 1),
    stored transposed when `transposed`: then the view swaps the last two axes back."""
    rows, cols = shape[::-1] if transposed else shape
    x = x.reshape((rows, cols) if count == 1 else (count, rows, cols))
    return x.swapaxes(-1, -2) if transposed else x


# The same hash as shaders/random.wgsl (PCG-RXS-M-XS), in uint32 arithmetic.
def _pcg(v):
    v = v.astype(np.uint32)
    state = v * np.uint32(747796405) + np.uint32(2891336453)
    word = ((state >> ((state >> np.uint32(28)) + np.uint32(4))) ^ state) * np.uint32(277803737)
    return (word >> np.uint32(22)) ^ word


def _uniform(seed, counters):
    key = _pcg(np.array([seed & 0xFFFFFFFF], np.uint32))
    bits = _pcg(key ^ _pcg(counters & 0xFFFFFFFF))
    return (bits >> np.uint32(8)).astype(np.float64) * (1.0 / 16777216.0)

