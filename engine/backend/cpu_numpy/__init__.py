"""The numpy backend: every primitive of `base.Backend` in a few lines of numpy.

It is the reference the WGSL kernels are tested against and the fallback when
the only GPU is a software one. It computes in float32 like the GPU, or in
float64 when created with `precision="float64"` (used by the tests as a
high-precision reference). Never imported in the browser: numpy is imported
nowhere else in the engine. The convolution, pooling and batch-norm primitives
are in cnn.py.
"""
import numpy as np

from ..base import Backend, FLOAT32, INT32, UINT8
from ..elementwise_table import UNARY, BINARY
from .cnn import CNNPrimitives

_NP = {INT32: np.int32, UINT8: np.uint8}



def _float32_bytes(arr):
    """What the GPU would hand back: float32 even when the reference runs in float64."""
    return (arr.astype(np.float32) if arr.dtype.kind == "f" else arr).tobytes()

class NumpyBackend(CNNPrimitives, Backend):
    name = "cpu"
    reads_are_free = True

    def __init__(self, precision="float32"):
        self.float = np.dtype(precision)

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
            out = BINARY[op].numpy(np, a, b, *args)
        return np.broadcast_to(out, out_shape).astype(self.float).ravel()

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
               a_batched=True, b_batched=True, bias=None):
        a = a.reshape((batch if a_batched else 1,) + ((K, M) if trans_a else (M, K)))
        b = b.reshape((batch if b_batched else 1,) + ((N, K) if trans_b else (K, N)))
        if trans_a:
            a = a.transpose(0, 2, 1)
        if trans_b:
            b = b.transpose(0, 2, 1)
        out = a @ b
        if bias is not None:
            out = out + bias
        return np.broadcast_to(out, (batch, M, N)).astype(self.float).ravel()

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

    def cross_entropy_backward(self, logits, targets, lse, grad_out, rows, cols, scale,
                               smoothing=0.0):
        p = np.exp(logits.reshape(rows, cols) - lse[:, None])
        p[np.arange(rows), targets] -= 1.0 - smoothing
        p -= smoothing / cols
        return (p * (grad_out[0] * scale)).astype(self.float).ravel()

    # -- optimizers (in place) -----------------------------------------------------
    def sgd_step(self, p, g, velocity, numel, lr, momentum, dampening, weight_decay,
                 nesterov, first_step):
        d = g + weight_decay * p if weight_decay else g.copy()
        if momentum:
            if first_step:
                velocity[:] = d
            else:
                velocity *= momentum
                velocity += (1 - dampening) * d
            d = d + momentum * velocity if nesterov else velocity
        p -= lr * d

    def adam_step(self, p, g, m, v, numel, lr, beta1, beta2, eps, weight_decay,
                  step, decoupled):
        if weight_decay and decoupled:
            p *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * p
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
        p -= lr * (m / bc1) / (np.sqrt(v / bc2) + eps)

    def adagrad_step(self, p, g, sum_sq, numel, clr, eps, weight_decay):
        g = g + weight_decay * p if weight_decay else g
        sum_sq += g * g
        p -= clr * g / (np.sqrt(sum_sq) + eps)

    def rmsprop_step(self, p, g, square_avg, grad_avg, buf, numel, lr, alpha, eps, weight_decay,
                     momentum):
        g = g + weight_decay * p if weight_decay else g
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if grad_avg is not None:   # centered: divide by an estimate of the variance instead
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            denom = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            denom = np.sqrt(square_avg) + eps
        if buf is not None:
            buf *= momentum
            buf += g / denom
            p -= lr * buf
        else:
            p -= lr * g / denom

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
    def dropout(self, x, numel, p, seed, offset):
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

