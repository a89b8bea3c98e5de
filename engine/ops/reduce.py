"""Reductions over one dimension or all: sum, mean, max, min, argmax, var.

Kernels: shaders/reduce.wgsl (sum/max/min) and shaders/argmax.wgsl. A reduction
over `dim` views the tensor as (outer, size, inner) and reduces the middle.
"""
import builtins
import math

from ..autograd import Function
from ..tensor import Tensor


def _split(shape, dim):
    if not shape:
        return 1, 1, 1
    dim = dim % len(shape)
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])


def _out_shape(shape, dim, keepdim):
    if dim is None:
        return (1,) * len(shape) if keepdim else ()
    dim = dim % len(shape)
    return shape[:dim] + ((1,) if keepdim else ()) + shape[dim + 1:]


def _check_dim(x, dim, name):
    if dim is not None and not (-x.ndim <= dim < builtins.max(x.ndim, 1)):
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor of shape {x.shape}")


class Sum(Function):
    def forward(self, x, dim, keepdim):
        self.in_shape, self.kept = x.shape, _out_shape(x.shape, dim, True)
        outer, size, inner = (1, x.numel(), 1) if dim is None else _split(x.shape, dim)
        data = x.backend.reduce("sum", x.data, outer, size, inner)
        return Tensor(data, _out_shape(x.shape, dim, keepdim), "float32", x.backend)

    def backward(self, g):
        # put the reduced dim back as size 1, then broadcast over it
        return g.reshape(self.kept).expand(*self.in_shape)


def sum(x, dim=None, keepdim=False):
    _check_dim(x, dim, "sum")
    if x.ndim == 0 and dim is not None:
        dim = None
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    _check_dim(x, dim, "mean")
    count = x.numel() if dim is None else x.shape[dim]
    # the mean of nothing is 0 / 0 = NaN, as in PyTorch (the sum of nothing is 0)
    return sum(x, dim, keepdim) * (1.0 / count if count else math.nan)


def var(x, dim=None, keepdim=False, unbiased=True):
    _check_dim(x, dim, "var")
    count = x.numel() if dim is None else x.shape[dim]
    centred = x - mean(x, dim, keepdim=True)
    dof = count - (1 if unbiased else 0)
    # no degrees of freedom left (one sample, unbiased): NaN, like PyTorch
    return sum(centred * centred, dim, keepdim) * (1.0 / dof if dof > 0 else math.nan)


class MaxMin(Function):
    """max/min over a dim or all, with PyTorch's gradient: over all elements, ties
    share it equally; over a dim, it goes to the index that max(dim) returns."""

    def forward(self, x, op, dim, keepdim):
        self.op, self.dim, self.keepdim = op, dim, keepdim
        outer, size, inner = (1, x.numel(), 1) if dim is None else _split(x.shape, dim)
        y = Tensor(x.backend.reduce(op, x.data, outer, size, inner),
                   _out_shape(x.shape, dim, keepdim), "float32", x.backend)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved
        kept = _out_shape(x.shape, self.dim, True)
        if self.dim is None:
            hit = x == y.reshape(kept)   # 1 where x equals the extreme value
            return hit / hit.sum() * g.reshape(kept)
        from ..creation import arange
        dim = self.dim % x.ndim
        index = argmax(x if self.op == "max" else -x, dim, keepdim=True).float()
        along = [1] * x.ndim
        along[dim] = x.shape[dim]
        hit = arange(x.shape[dim]).float().reshape(along) == index   # one-hot along dim
        return hit * g.reshape(kept)


def max(x, dim=None, keepdim=False):
    _check_dim(x, dim, "max")
    values = MaxMin.apply(x, op="max", dim=dim, keepdim=keepdim)
    if dim is None:
        return values
    return values, argmax(x, dim, keepdim)


def min(x, dim=None, keepdim=False):
    _check_dim(x, dim, "min")
    values = MaxMin.apply(x, op="min", dim=dim, keepdim=keepdim)
    if dim is None:
        return values
    return values, argmax(-x.detach(), dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    """Index of the first largest value, as int32 (PyTorch gives int64)."""
    _check_dim(x, dim, "argmax")
    x = x.float()
    outer, size, inner = (1, x.numel(), 1) if dim is None else _split(x.shape, dim)
    data = x.backend.argmax(x.data, outer, size, inner)
    return Tensor(data, _out_shape(x.shape, dim, keepdim), "int32", x.backend)
