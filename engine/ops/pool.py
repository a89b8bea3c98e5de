"""2-D pooling: max_pool2d and avg_pool2d over (N, C, H, W) tensors.

Kernels: shaders/max_pool2d.wgsl, avg_pool2d.wgsl and their _backward.wgsl. Each
image plane (one channel of one sample) is pooled on its own, so the backend
sees N * C planes of H x W. Max pooling records which pixel won each window; its
backward sends each window's gradient back to that pixel. Both backward kernels
are gathers (a thread per input pixel collects from the windows covering it),
because overlapping windows (stride < kernel) would otherwise need float atomics.
"""
from ..autograd import Function
from ..tensor import Tensor


def _pair(v, name, what):
    if isinstance(v, int):
        return v, v
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(s, int) for s in v):
        return tuple(v)
    raise TypeError(f"{name}: {what} must be an int or a pair of ints, got {v!r}")


def _geometry(x, name, kernel_size, stride, padding):
    """Checks the arguments; -> (planes, in_hw, out_hw, kernel, stride, padding)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    kernel = _pair(kernel_size, name, "kernel_size")
    stride = kernel if stride is None else _pair(stride, name, "stride")
    padding = _pair(padding, name, "padding")
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"{name}: kernel_size {kernel} and stride {stride} must be positive, "
                         f"padding {padding} non-negative")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        # more would make windows of padding only (max of nothing, mean of zeros)
        raise ValueError(f"{name}: padding {padding} must be at most half the kernel size "
                         f"{kernel}")
    in_hw = x.shape[2:]
    padded = tuple(s + 2 * p for s, p in zip(in_hw, padding))
    if any(k > s for k, s in zip(kernel, padded)):
        raise ValueError(f"{name}: kernel {kernel[0]}x{kernel[1]} is larger than the padded "
                         f"input {padded[0]}x{padded[1]} (input {in_hw[0]}x{in_hw[1]}, "
                         f"padding {padding}) of shape {x.shape}")
    out_hw = tuple((s - k) // st + 1 for s, k, st in zip(padded, kernel, stride))
    return x.shape[0] * x.shape[1], in_hw, out_hw, kernel, stride, padding


class MaxPool2d(Function):
    def forward(self, x, geometry):
        self.geometry = geometry
        out, indices = x.backend.max_pool2d(x.data, *geometry)
        shape = x.shape[:2] + geometry[2]
        # where each maximum was is all the backward needs (not x itself)
        self.save_for_backward(Tensor(indices, shape, "int32", x.backend))
        return Tensor(out, shape, "float32", x.backend)

    def backward(self, g):
        (indices,) = self.saved
        dx = g.backend.max_pool2d_backward(g.data, indices.data, *self.geometry)
        return Tensor(dx, g.shape[:2] + self.geometry[1], "float32", g.backend)


class AvgPool2d(Function):
    def forward(self, x, geometry):
        self.geometry = geometry
        out = x.backend.avg_pool2d(x.data, *geometry)
        return Tensor(out, x.shape[:2] + geometry[2], "float32", x.backend)

    def backward(self, g):
        dx = g.backend.avg_pool2d_backward(g.data, *self.geometry)
        return Tensor(dx, g.shape[:2] + self.geometry[1], "float32", g.backend)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max over kernel_size windows every `stride` (default: kernel_size) pixels; the
    input is padded with -inf (padding <= kernel_size / 2), like PyTorch."""
    return MaxPool2d.apply(x, geometry=_geometry(x, "max_pool2d", kernel_size, stride, padding))


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over kernel_size windows; zero padding counts in the mean (PyTorch's
    default count_include_pad=True), so every window divides by kh * kw."""
    return AvgPool2d.apply(x, geometry=_geometry(x, "avg_pool2d", kernel_size, stride, padding))
