"""cat and stack: joining tensors along a dimension.

Kernel: shaders/cat.wgsl. Viewing every tensor as (outer, size, inner) around the
joined dim, cat copies each input into its columns of the output, one dispatch
per input; the backward cuts the gradient into the same pieces again.
"""
import math

from ..autograd import Function, check_same_device
from ..tensor import Tensor


class Cat(Function):
    def forward(self, *tensors, dim):
        first = tensors[0]
        self.dim, self.sizes = dim, [t.shape[dim] for t in tensors]
        self.outer, self.inner = math.prod(first.shape[:dim]), math.prod(first.shape[dim + 1:])
        data = first.backend.cat([t.data for t in tensors], self.outer, self.sizes, self.inner)
        shape = first.shape[:dim] + (sum(self.sizes),) + first.shape[dim + 1:]
        return Tensor(data, shape, first.dtype, first.backend)

    def backward(self, g):
        grads, start, total = [], 0, sum(self.sizes)
        for t, size in zip(self.parents, self.sizes):
            if t.requires_grad:
                data = g.backend.narrow(g.data, self.outer, total, start, size, self.inner)
                grads.append(Tensor(data, t.shape, "float32", g.backend))
            else:
                grads.append(None)
            start += size
        return tuple(grads)


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: item {i} is a {type(t).__name__}, not a tensor")
    check_same_device(name, tensors)
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.dtype != first.dtype:
            raise TypeError(f"{name}: tensor {i} is {t.dtype} but tensor 0 is {first.dtype}; "
                            f"convert them with .float() or .int()")
    return list(tensors)


def _check_dim(dim, ndim, name, shape):
    if not -ndim <= dim < ndim:
        raise IndexError(f"{name}: dim {dim} is out of range for {ndim}-D results "
                         f"(tensor 0 has shape {shape})")
    return dim % ndim


def cat(tensors, dim=0):
    """Join tensors along an existing dim; their other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    dim = _check_dim(dim, first.ndim, "cat", first.shape)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim:
            raise ValueError(f"cat: tensor {i} has {t.ndim} dims (shape {t.shape}) but tensor 0 "
                             f"has {first.ndim} (shape {first.shape})")
        for d, (a, b) in enumerate(zip(t.shape, first.shape)):
            if d != dim and a != b:
                raise ValueError(f"cat: tensor {i} has size {a} in dim {d} but tensor 0 has {b} "
                                 f"(shapes {t.shape} and {first.shape}); only dim {dim}, the "
                                 f"one joined along, may differ")
    if first.dtype != "float32":   # int32 carries no gradient: skip the graph
        return Cat().forward(*tensors, dim=dim)
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Join equal-shaped tensors along a new dim: cat of each with a size-1 dim there."""
    tensors = _tensor_list(tensors, "stack")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has {shape}; "
                             f"stack needs equal shapes")
    dim = _check_dim(dim, len(shape) + 1, "stack", shape)
    return cat([t.unsqueeze(dim) for t in tensors], dim)
