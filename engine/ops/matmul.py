"""Matrix products: `a @ b` (with batch dims) and `F.linear` (bias fused; a ReLU after it
too, in `linear_relu`).

Kernel: shaders/matmul.wgsl, a tiled GEMM that reads either operand transposed
by a flag, so the backward passes never copy a transpose:
    y = x @ w        dx = g @ w^T      dw = x^T @ g
"""
import math

from ..autograd import Function
from ..tensor import Tensor
from .elementwise import grad_kernel
from .shape import broadcast_shapes


def _mm(backend, a, b, batch, M, N, K, **flags):
    return backend.matmul(a.data, b.data, batch, M, N, K, **flags)


class MatMul(Function):
    """(B?, M, K) @ (B?, K, N) -> (B, M, N); an operand without a batch is shared."""

    def forward(self, a, b, batch, a_batched, b_batched, out_shape):
        M, K = a.shape[-2:]
        N = b.shape[-1]
        self.dims = (batch, M, N, K, a_batched, b_batched)
        self.save_for_backward(a, b)
        data = _mm(a.backend, a, b, batch, M, N, K, a_batched=a_batched, b_batched=b_batched)
        return Tensor(data, out_shape, "float32", a.backend)

    def backward(self, g):
        a, b = self.saved
        batch, M, N, K, a_batched, b_batched = self.dims
        be = g.backend
        ga = gb = None
        if a.requires_grad:  # dA = g @ B^T
            data = _mm(be, g, b, batch, M, K, N, trans_b=True, b_batched=b_batched)
            ga = Tensor(data, (batch, M, K), "float32", be)
            ga = (ga if a_batched else ga.sum(0)).reshape(a.shape)
        if b.requires_grad:  # dB = A^T @ g
            data = _mm(be, a, g, batch, K, N, M, trans_a=True, a_batched=a_batched)
            gb = Tensor(data, (batch, K, N), "float32", be)
            gb = (gb if b_batched else gb.sum(0)).reshape(b.shape)
        return ga, gb


def matmul(a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError("matmul: both operands must be tensors")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes "
                         f"{a.shape} and {b.shape} (use * for scalars)")
    # vectors become matrices and lose that dimension again at the end
    a2 = a.reshape(1, a.shape[0]) if a.ndim == 1 else a
    b2 = b.reshape(b.shape[0], 1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} don't fit: inner dimensions "
                         f"{a2.shape[-1]} (last of the first) and {b2.shape[-2]} "
                         f"(second-to-last of the second) must be equal")
    M, N = a2.shape[-2], b2.shape[-1]
    batch_a, batch_b = a2.shape[:-2], b2.shape[:-2]
    batch_shape = broadcast_shapes(batch_a, batch_b)
    out_shape = batch_shape + (M, N)
    if not batch_b:  # (..., M, K) @ (K, N): one big 2-D product
        rows = math.prod(batch_a) * M
        out = MatMul.apply(a2.reshape(rows, a2.shape[-1]), b2, batch=1, a_batched=True,
                           b_batched=False, out_shape=(rows, N))
    else:
        if batch_a and batch_a != batch_shape:
            a2 = a2.expand(*batch_shape, *a2.shape[-2:])
        if batch_b != batch_shape:
            b2 = b2.expand(*batch_shape, *b2.shape[-2:])
        batch = math.prod(batch_shape)
        out = MatMul.apply(a2, b2, batch=batch, a_batched=bool(batch_a), b_batched=True,
                           out_shape=(batch, M, N))
    final = out_shape
    if a.ndim == 1:
        final = final[:-2] + final[-1:]
    if b.ndim == 1:
        final = final[:-1]
    return out.reshape(final)


class Linear(Function):
    """y = x @ w^T + b with x (rows, in), w (out, in): one kernel, bias in its epilogue;
    with relu, y = max(that, 0) in the same kernel (a Linear and the ReLU after it)."""

    def forward(self, x, w, b, relu=False):
        rows, n_in = x.shape
        n_out = w.shape[0]
        self.has_bias, self.relu = b is not None, relu
        data = x.backend.matmul(x.data, w.data, 1, rows, n_out, n_in, trans_b=True,
                                b_batched=False, bias=None if b is None else b.data, relu=relu)
        y = Tensor(data, (rows, n_out), "float32", x.backend)
        self.save_for_backward(x, w, *((y,) if relu else ()))
        return y

    def backward(self, g):
        x, w, *y = self.saved
        rows, n_in = x.shape
        n_out = w.shape[0]
        be = g.backend
        gx = gw = gb = None
        if self.has_bias:   # through the ReLU, if any, and the bias's gradient: one pass
            gz, gb = be.relu_bias_backward(g.data, y[0].data if self.relu else None, rows, n_out)
            g, gb = (Tensor(gz, g.shape, "float32", be), Tensor(gb, (n_out,), "float32", be))
        elif self.relu:   # the gradient where the ReLU's output was > 0
            g = grad_kernel("relu_grad", g, y[0])
        if x.requires_grad:  # dx = g @ w
            gx = Tensor(_mm(be, g, w, 1, rows, n_in, n_out), x.shape, "float32", be)
        if w.requires_grad:  # dw = g^T @ x
            gw = Tensor(_mm(be, g, x, 1, n_out, n_in, rows, trans_a=True), w.shape, "float32", be)
        return gx, gw, gb


def linear(x, weight, bias=None):
    return _linear(x, weight, bias, relu=False)


def linear_relu(x, weight, bias=None):
    """relu(linear(x, weight, bias)) in one kernel, the ReLU in the product's epilogue:
    what nn.Sequential runs for a Linear followed by a ReLU. The same values as the two
    ops, and one dispatch and one buffer fewer."""
    return _linear(x, weight, bias, relu=True)


def _linear(x, weight, bias, relu):
    if x.ndim == 0 or weight.ndim != 2:
        raise ValueError(f"linear: expected input (..., in_features) and weight (out, in), got "
                         f"{x.shape} and {weight.shape}")
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the "
                         f"weight expects {weight.shape[1]} (weight shape {weight.shape})")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias shape {bias.shape} should be ({weight.shape[0]},)")
    lead = x.shape[:-1]
    y = Linear.apply(x.reshape(math.prod(lead), x.shape[-1]), weight, bias, relu=relu)
    return y.reshape(lead + (weight.shape[0],))
