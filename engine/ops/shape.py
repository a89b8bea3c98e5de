"""Shape ops: reshape (free: same buffer), permute (a copy kernel,
shaders/permute.wgsl), expand, and the broadcasting rules."""
import math

from ..autograd import Function
from ..tensor import Tensor


def broadcast_shapes(a, b):
    """PyTorch/numpy broadcasting: align right; sizes must match or be 1."""
    n = max(len(a), len(b))
    given = tuple(a), tuple(b)  # the message names the shapes as the caller wrote them
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"shapes {given[0]} and {given[1]} cannot be broadcast together: "
                             f"sizes {x} and {y} differ and neither is 1")
        out.append(max(x, y) if x and y else 0)
    return tuple(out)


def unbroadcast(grad, shape):
    """Sum a gradient back down to the shape of the input it belongs to."""
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    padded = (1,) * lead + tuple(shape)
    for dim, (gs, s) in enumerate(zip(grad.shape, padded)):
        if s == 1 and gs != 1:
            grad = grad.sum(dim, keepdim=True)
    return grad.reshape(shape)


class Reshape(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        return Tensor(x.data, shape, x.dtype, x.backend)

    def backward(self, g):
        return g.reshape(self.in_shape)


Reshape.int_inputs = (0,)  # reshaping int tensors is fine


def _resolve_shape(shape, numel):
    shape = list(shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension can be -1, got {tuple(shape)}")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or numel % known:
            raise ValueError(f"reshape: cannot infer -1 in {tuple(shape)} for {numel} elements")
        shape[shape.index(-1)] = numel // known
    if math.prod(shape) != numel:
        raise ValueError(f"reshape: shape {tuple(shape)} has {math.prod(shape)} elements, "
                         f"the tensor has {numel}")
    return tuple(shape)


def reshape(x, shape):
    shape = _resolve_shape(shape, x.numel())
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    merged = math.prod(x.shape[start:end + 1])
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


class Permute(Function):
    int_inputs = (0,)

    def forward(self, x, dims):
        dims = tuple(d % x.ndim for d in dims) if x.ndim else ()
        if sorted(dims) != list(range(x.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims of {x.shape}")
        self.dims = dims
        shape = tuple(x.shape[d] for d in dims)
        if dims == tuple(range(x.ndim)):
            return Tensor(x.data, shape, x.dtype, x.backend)
        return Tensor(x.backend.permute(x.data, x.shape, dims), shape, x.dtype, x.backend)

    def backward(self, g):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return g.permute(*inverse)


def transpose(x, dim0, dim1):
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


class Expand(Function):
    def forward(self, x, shape):
        shape = tuple(x.shape[i - len(shape) + x.ndim] if s == -1 else s
                      for i, s in enumerate(shape))
        try:
            out = broadcast_shapes(x.shape, shape)
        except ValueError:
            out = None
        if out != shape:
            raise ValueError(f"expand: cannot expand {x.shape} to {shape}: each size must "
                             f"match the target's or be 1")
        self.in_shape = x.shape
        return Tensor(x.backend.binary("lhs", x.data, x.shape, x.data, x.shape, shape),
                      shape, x.dtype, x.backend)

    def backward(self, g):
        return unbroadcast(g, self.in_shape)
