"""2-D convolution: conv2d over (N, C, H, W) tensors, forward and backward.

Kernel: shaders/conv2d.wgsl, one implicit GEMM for each product
    y  = w (C_out x C_in*kh*kw) @ unfolded x (C_in*kh*kw x N*OH*OW)   (+ bias)
    dx = w^T @ g, folded back onto the input pixels (a "transposed convolution")
    dw = g @ unfolded x^T, summed over the batch and the output pixels
and db = g summed over N, OH and OW (shaders/relu_bias_backward.wgsl, which also takes
the gradient through a ReLU fused after the conv).

Why an implicit GEMM rather than im2col (copy every window into a (C_in*kh*kw,
N*OH*OW) matrix) + shaders/matmul.wgsl: measured on lavapipe, 2 cores, batch 64
(`bench/bench_conv.py --strategies`; BENCHMARKS.md), ms implicit / im2col:

    layer                    forward       grad input    grad weight
    1->8 5x5 on 28x28        18.6 / 81.3   171 / 44.4    36.2 / 109
    8->16 5x5 on 14x14       38.5 / 136    80.0 / 64.3   47.3 / 133
    16->32 3x3 on 7x7        10.5 / 25.6   19.1 / 25.0   19.3 / 32.5
    16->16 3x3 on 14x14      27.2 / 105    45.9 / 60.9   42.7 / 121

A training step (forward, grad weight, and grad input but for a first layer, whose
input is data) is 1.7-3.5x faster implicit. Two reasons: matmul.wgsl's 64x64 tile
spends most of its work on zero rows when C_out is 8-32, where conv2d.wgsl's tile
height follows the channel count (with 64-row tiles too, implicit was still 1.0-1.7x
faster forward); and im2col writes then reads a matrix kh*kw times the input
(10 MB for the 8->16 layer). Grad input with few input channels is the exception
(0.26-0.8x): each gathered gradient there feeds only C_in multiply-adds.
"""
from ..autograd import Function
from ..tensor import Tensor
from .elementwise import grad_kernel


def _pair(v, what, name="conv2d"):
    if isinstance(v, int) and not isinstance(v, bool):
        return v, v
    if (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) for s in v)):
        return tuple(v)
    raise TypeError(f"{name}: {what} must be an int or a pair of ints, got {v!r}")


def _geometry(x, weight, bias, stride, padding):
    """Checks the arguments; -> (N, C_in, C_out, in_hw, out_hw, kernel, stride, padding),
    the backend's conv2d arguments after the arrays."""
    for what, t in (("input", x), ("weight", weight), ("bias", bias)):
        if t is None and what == "bias":
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"conv2d: {what} must be a tensor, got {type(t).__name__}")
        if t.dtype != "float32":
            raise TypeError(f"conv2d: {what} must be float32, got {t.dtype} of shape "
                            f"{t.shape}; convert it with .float()")
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D input (N, C, H, W), got shape {x.shape}"
                         + (" (add the batch dim with x.reshape(1, *x.shape))" if x.ndim == 3
                            else ""))
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (C_out, C_in, kh, kw), got shape "
                         f"{weight.shape}")
    N, C_in, H, W = x.shape
    C_out, w_in, kh, kw = weight.shape
    if C_in != w_in:
        raise ValueError(f"conv2d: the input has {C_in} channels (shape {x.shape}) but the "
                         f"weight expects {w_in} (weight shape {weight.shape})")
    if bias is not None and bias.shape != (C_out,):
        raise ValueError(f"conv2d: bias shape {bias.shape} should be ({C_out},), one per "
                         f"output channel")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"conv2d: stride {stride} must be positive and padding {padding} "
                         f"non-negative")
    if min(kh, kw) < 1:
        raise ValueError(f"conv2d: the weight's kernel {kh}x{kw} is empty "
                         f"(weight shape {weight.shape})")
    padded = (H + 2 * padding[0], W + 2 * padding[1])
    if kh > padded[0] or kw > padded[1]:
        raise ValueError(f"conv2d: kernel {kh}x{kw} is larger than the padded input "
                         f"{padded[0]}x{padded[1]} (input {H}x{W}, padding {padding}); "
                         f"input shape {x.shape}")
    out_hw = tuple((s - k) // st + 1 for s, k, st in zip(padded, (kh, kw), stride))
    return N, C_in, C_out, (H, W), out_hw, (kh, kw), stride, padding


class Conv2d(Function):
    """y = conv2d(x, w) + b; with relu, max(that, 0) in the same kernel (a Conv2d and the
    ReLU after it)."""

    def forward(self, x, w, b, geometry, relu=False):
        self.geometry, self.relu = geometry, relu
        self.bias_grad = b is not None and b.requires_grad
        data = x.backend.conv2d(x.data, w.data, None if b is None else b.data, *geometry,
                                relu=relu)
        N, _, C_out, _, out_hw = geometry[:5]
        y = Tensor(data, (N, C_out, *out_hw), "float32", x.backend)
        self.save_for_backward(x, w, *((y,) if relu else ()))
        return y

    def backward(self, g):
        x, w, *y = self.saved
        be = g.backend
        gx = gw = gb = None
        if self.bias_grad:   # through the ReLU, if any, as the bias's gradient is summed
            N, C_out, OH, OW = g.shape
            gz, gb = be.relu_bias_backward(g.data, y[0].data if self.relu else None,
                                           N, C_out, OH * OW)
            g, gb = Tensor(gz, g.shape, "float32", be), Tensor(gb, (C_out,), "float32", be)
        elif self.relu:   # the gradient where the ReLU's output was > 0
            g = grad_kernel("relu_grad", g, y[0])
        if x.requires_grad:   # not for a network's first layer: its input is data
            gx = Tensor(be.conv2d_grad_input(g.data, w.data, *self.geometry), x.shape,
                        "float32", be)
        if w.requires_grad:
            gw = Tensor(be.conv2d_grad_weight(g.data, x.data, *self.geometry), w.shape,
                        "float32", be)
        return gx, gw, gb


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """Cross-correlation of x (N, C_in, H, W) with weight (C_out, C_in, kh, kw), like
    PyTorch's: zero padding on every side, windows every `stride` pixels, + bias
    (C_out,). stride and padding are an int or an (h, w) pair.
    Output (N, C_out, (H + 2*ph - kh) // sh + 1, (W + 2*pw - kw) // sw + 1)."""
    return Conv2d.apply(x, weight, bias, geometry=_geometry(x, weight, bias, stride, padding))


def conv2d_relu(x, weight, bias=None, stride=1, padding=0):
    """relu(conv2d(...)) in one kernel, the ReLU in its epilogue: what nn.Sequential runs
    for a Conv2d followed by a ReLU. The same values as the two ops, one pass fewer."""
    return Conv2d.apply(x, weight, bias, geometry=_geometry(x, weight, bias, stride, padding),
                        relu=True)
