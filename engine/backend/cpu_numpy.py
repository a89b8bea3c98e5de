"""The numpy backend: every primitive of `base.Backend` in a few lines of numpy.

It is the reference the WGSL kernels are tested against and the fallback when
the only GPU is a software one. It computes in float32 like the GPU, or in
float64 when created with `precision="float64"` (used by the tests as a
high-precision reference). Never imported in the browser.
"""
import numpy as np

from .base import Backend, FLOAT32, INT32, UINT8

_NP = {INT32: np.int32, UINT8: np.uint8}


class NumpyBackend(Backend):
    name = "cpu"

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
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        return arr.tobytes()

    # -- element-wise ----------------------------------------------------------
    def unary(self, op, x, alpha=0.0):
        with np.errstate(all="ignore"):
            return _UNARY[op](x, alpha).astype(x.dtype, copy=False)

    def binary(self, op, a, a_shape, b, b_shape, out_shape, alpha=0.0):
        a, b = a.reshape(a_shape), b.reshape(b_shape)
        with np.errstate(all="ignore"):
            out = _BINARY[op](a, b, alpha)
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

    # ---- convolution ----
    @staticmethod
    def _conv_windows(x, N, C_in, in_hw, out_hw, kernel, stride, padding):
        """x (N, C_in, H, W) -> a view (N, C_in, OH, OW, kh, kw) of the zero-padded input:
        [n, ci, oh, ow] is the kh x kw window that output pixel (oh, ow) sees."""
        (ph, pw), (sh, sw), (oh, ow) = padding, stride, out_hw
        xp = np.pad(x.reshape(N, C_in, *in_hw), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        windows = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(2, 3))
        return windows[:, :, :sh * (oh - 1) + 1:sh, :sw * (ow - 1) + 1:sw]

    def conv2d(self, x, w, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        windows = self._conv_windows(x, N, C_in, in_hw, out_hw, kernel, stride, padding)
        # optimize=True: einsum copies the windows into one matrix and makes one BLAS call
        y = np.einsum("ncpqij,ocij->nopq", windows, w.reshape(C_out, C_in, *kernel),
                      optimize=True)
        if bias is not None:
            y = y + bias[:, None, None]
        return y.astype(self.float).ravel()

    def conv2d_grad_input(self, g, w, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        (H, W), (ph, pw), (sh, sw), (oh, ow) = in_hw, padding, stride, out_hw
        # what each tap (i, j) of each window sends back: sum over co of g * w
        sent = np.einsum("nopq,ocij->ncpqij", g.reshape(N, C_out, oh, ow),
                         w.reshape(C_out, C_in, *kernel), optimize=True)
        dxp = np.zeros((N, C_in, H + 2 * ph, W + 2 * pw), self.float)
        for i in range(kernel[0]):
            for j in range(kernel[1]):   # tap (i, j) of window (p, q) is pixel (p*sh + i, q*sw + j)
                dxp[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += sent[..., i, j]
        return dxp[:, :, ph:ph + H, pw:pw + W].ravel()   # the padding's share is dropped

    def conv2d_grad_weight(self, g, x, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        windows = self._conv_windows(x, N, C_in, in_hw, out_hw, kernel, stride, padding)
        dw = np.einsum("ncpqij,nopq->ocij", windows, g.reshape(N, C_out, *out_hw),
                       optimize=True)
        return dw.astype(self.float).ravel()

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

    # ---- pooling, normalisation, dropout, concatenation ----
    @staticmethod
    def _windows(xp, kernel, stride, out_hw):
        """For each kernel offset (i, j): the value at that offset of every window, as a
        (planes, OH, OW) view into the padded images xp (so `+=` writes through)."""
        (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
        for i in range(kh):
            for j in range(kw):
                yield i, j, xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]

    @staticmethod
    def _pad(x, planes, in_hw, padding, value):
        (ph, pw) = padding
        return np.pad(x.reshape(planes, *in_hw), ((0, 0), (ph, ph), (pw, pw)),
                      constant_values=value)

    def max_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        W = in_hw[1]
        top = np.arange(out_hw[0])[:, None] * stride[0] - padding[0]   # each window's origin
        left = np.arange(out_hw[1])[None, :] * stride[1] - padding[1]
        best = np.full((planes, *out_hw), -np.inf, x.dtype)
        # if every value is -inf: the window's first pixel inside the image, as on the GPU
        index = np.maximum(top, 0) * W + np.maximum(left, 0)
        xp = self._pad(x, planes, in_hw, padding, -np.inf)
        for i, j, v in self._windows(xp, kernel, stride, out_hw):
            better = v > best   # strict: ties keep the first, like PyTorch
            best = np.where(better, v, best)
            index = np.where(better, (top + i) * W + left + j, index)
        return best.ravel(), np.broadcast_to(index, best.shape).astype(np.int32).ravel()

    def max_pool2d_backward(self, g, indices, planes, in_hw, out_hw, kernel, stride, padding):
        dx = np.zeros((planes, in_hw[0] * in_hw[1]), self.float)
        # add.at, not +=: overlapping windows can send several gradients to one pixel
        np.add.at(dx, (np.arange(planes)[:, None], indices.reshape(planes, -1)),
                  g.reshape(planes, -1))
        return dx.ravel()

    def avg_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        xp = self._pad(x, planes, in_hw, padding, 0.0)
        total = sum(v for _, _, v in self._windows(xp, kernel, stride, out_hw))
        return (total / (kernel[0] * kernel[1])).astype(self.float).ravel()

    def avg_pool2d_backward(self, g, planes, in_hw, out_hw, kernel, stride, padding):
        (H, W), (ph, pw) = in_hw, padding
        gp = np.zeros((planes, H + 2 * ph, W + 2 * pw), self.float)
        share = g.reshape(planes, *out_hw) / (kernel[0] * kernel[1])
        for _, _, v in self._windows(gp, kernel, stride, out_hw):
            v += share   # every pixel of each window gets its share
        return gp[:, ph:ph + H, pw:pw + W].ravel()

    def batch_norm_stats(self, x, N, C, L):
        x = x.reshape(N, C, L).astype(np.float64)   # sums of millions: accumulate in float64
        mean = x.mean(axis=(0, 2))
        var = ((x - mean[:, None]) ** 2).mean(axis=(0, 2))
        return mean.astype(self.float), var.astype(self.float)

    def batch_norm(self, x, mean, var, weight, bias, N, C, L, eps):
        y = (x.reshape(N, C, L) - mean[:, None]) / np.sqrt(var[:, None] + eps)
        if weight is not None:
            y = y * weight[:, None]
        if bias is not None:
            y = y + bias[:, None]
        return y.astype(self.float).ravel()

    def batch_norm_backward(self, g, x, mean, var, weight, N, C, L, eps, training):
        g = g.reshape(N, C, L)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x.reshape(N, C, L) - mean[:, None]) * inv_std[:, None]
        dbias = g.sum(axis=(0, 2), dtype=np.float64).astype(self.float)
        dweight = (g * xhat).sum(axis=(0, 2), dtype=np.float64).astype(self.float)
        if training:  # through the batch's mean and var too (shaders/batch_norm_backward.wgsl)
            g = g - (dbias[:, None] + xhat * dweight[:, None]) / (N * L)
        scale = inv_std if weight is None else inv_std * weight
        return (g * scale[:, None]).astype(self.float).ravel(), dweight, dbias

    def batch_norm_update(self, running_mean, running_var, mean, var, C, momentum, count):
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (count / (count - 1))

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


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_UNARY = {
    "copy": lambda x, a: x.copy(),
    "neg": lambda x, a: -x,
    "exp": lambda x, a: np.exp(x),
    "log": lambda x, a: np.log(x),
    "sqrt": lambda x, a: np.sqrt(x),
    "abs": lambda x, a: np.abs(x),
    "sign": lambda x, a: np.sign(x),
    "square": lambda x, a: x * x,
    "relu": lambda x, a: np.maximum(x, 0),
    "sigmoid": lambda x, a: _sigmoid(x),
    "tanh": lambda x, a: np.tanh(x),
    "leaky_relu": lambda x, a: np.where(x > 0, x, a * x),
    "elu": lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
    "scale": lambda x, a: x * a,
    "add_scalar": lambda x, a: x + a,
    "pow_scalar": lambda x, a: np.power(x, a),
    "rsub_scalar": lambda x, a: a - x,
    "rdiv_scalar": lambda x, a: a / x,
}

_BINARY = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / b,
    "pow": lambda a, b, k: np.power(a, b),
    "maximum": lambda a, b, k: np.maximum(a, b),
    "minimum": lambda a, b, k: np.minimum(a, b),
    "eq": lambda a, b, k: (a == b) * 1.0,
    "ne": lambda a, b, k: (a != b) * 1.0,
    "lt": lambda a, b, k: (a < b) * 1.0,
    "le": lambda a, b, k: (a <= b) * 1.0,
    "gt": lambda a, b, k: (a > b) * 1.0,
    "ge": lambda a, b, k: (a >= b) * 1.0,
    "relu_grad": lambda g, x, k: np.where(x > 0, g, 0.0),
    "leaky_relu_grad": lambda g, x, k: np.where(x > 0, g, k * g),
    "elu_grad": lambda g, x, k: np.where(x > 0, g, g * k * np.exp(x)),
    "sigmoid_grad": lambda g, y, k: g * y * (1 - y),
    "tanh_grad": lambda g, y, k: g * (1 - y * y),
    "lhs": lambda a, b, k: a,
}
