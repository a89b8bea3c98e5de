"""Tensor: an n-dimensional array on the current device, with a gradient.

A Tensor is a flat device array (`data`) plus its `shape` and `dtype`. Every
tensor is contiguous and row-major: reshapes are free, transposes copy. The
arithmetic lives in engine/ops/ (forward and backward together); the methods
here only route to it, so this file reads as the list of what a tensor can do.
"""
import array
import math

from . import autograd
from .backend import current_backend
from .backend.base import FLOAT32, INT32, ITEMSIZE

float32, int32 = FLOAT32, INT32


def prod(shape):
    return math.prod(shape)


class Tensor:
    __slots__ = ("data", "shape", "dtype", "backend", "requires_grad", "grad", "_ctx",
                 "__weakref__")
    __array_priority__ = 100  # numpy scalars on the left defer to Tensor's operators

    def __init__(self, data, shape, dtype=FLOAT32, backend=None, requires_grad=False):
        self.data = data
        self.shape = tuple(int(s) for s in shape)
        self.dtype = dtype
        self.backend = backend or current_backend()
        self.requires_grad = requires_grad
        self.grad = None
        self._ctx = None

    # -- basic facts -------------------------------------------------------------
    @property
    def ndim(self):
        return len(self.shape)

    def numel(self):
        return prod(self.shape)

    def dim(self):
        return len(self.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def device(self):
        return self.backend.describe()

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        if self.numel() <= 64:
            return f"tensor({self.tolist()}{grad})"
        return f"tensor(shape={self.shape}, dtype={self.dtype}{grad})"

    # -- leaving the device --------------------------------------------------------
    def _host_array(self):
        return array.array("f" if self.dtype == FLOAT32 else "i", self.backend.download(self.data))

    def tolist(self):
        flat = self._host_array().tolist()
        if not self.shape:
            return flat[0]
        return _nest(flat, self.shape)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._host_array()[0]

    def numpy(self):
        import numpy as np  # native only; the engine never imports numpy in the browser
        kind = np.float32 if self.dtype == FLOAT32 else np.int32
        return np.frombuffer(self.backend.download(self.data), kind).reshape(self.shape).copy()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    # -- autograd --------------------------------------------------------------------
    def backward(self, gradient=None):
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no parameter "
                               "with requires_grad=True took part in computing it")
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError(f"backward() without an argument needs a scalar, got shape "
                                   f"{self.shape}; pass a gradient of that shape")
            gradient = Tensor(self.backend.full(1, 1.0), self.shape, backend=self.backend)
        elif not isinstance(gradient, Tensor) or gradient.shape != self.shape:
            raise ValueError(f"backward(gradient): the gradient must be a tensor of the output's "
                             f"shape {self.shape}, got "
                             f"{getattr(gradient, 'shape', type(gradient).__name__)}")
        autograd.backward(self, gradient)

    def detach(self):
        return Tensor(self.data, self.shape, self.dtype, self.backend)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    def zero_(self):
        self.data = self.backend.full(self.numel(), 0, self.dtype)
        return self

    # -- dtype -------------------------------------------------------------------------
    def float(self):
        if self.dtype == FLOAT32:
            return self
        return Tensor(self.backend.cast(self.data, FLOAT32), self.shape, FLOAT32, self.backend)

    def int(self):
        if self.dtype == INT32:
            return self
        return Tensor(self.backend.cast(self.data, INT32), self.shape, INT32, self.backend)

    long = int

    # -- shape ---------------------------------------------------------------------------
    def reshape(self, *shape):
        return ops.shape.reshape(self, _shape_args(shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        return ops.shape.flatten(self, start_dim, end_dim)

    def permute(self, *dims):
        return ops.shape.Permute.apply(self, dims=_shape_args(dims))

    def transpose(self, dim0, dim1):
        return ops.shape.transpose(self, dim0, dim1)

    @property
    def T(self):
        return ops.shape.Permute.apply(self, dims=tuple(reversed(range(self.ndim))))

    def expand(self, *shape):
        return ops.shape.Expand.apply(self, shape=_shape_args(shape))

    def unsqueeze(self, dim):
        dim = dim + self.ndim + 1 if dim < 0 else dim
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        dim = dim % self.ndim
        if self.shape[dim] != 1:
            return self
        return self.reshape(self.shape[:dim] + self.shape[dim + 1:])

    def contiguous(self):
        return self

    # -- arithmetic (broadcasting like PyTorch) -----------------------------------------
    def __add__(self, other): return ops.elementwise.add(self, other)
    def __radd__(self, other): return ops.elementwise.add(self, other)
    def __sub__(self, other): return ops.elementwise.sub(self, other)
    def __rsub__(self, other): return ops.elementwise.rsub(self, other)
    def __mul__(self, other): return ops.elementwise.mul(self, other)
    def __rmul__(self, other): return ops.elementwise.mul(self, other)
    def __truediv__(self, other): return ops.elementwise.div(self, other)
    def __rtruediv__(self, other): return ops.elementwise.rdiv(self, other)
    def __pow__(self, other): return ops.elementwise.pow(self, other)
    def __neg__(self): return ops.elementwise.unary("neg", self)
    def __matmul__(self, other): return ops.matmul.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul.matmul(other, self)
    def matmul(self, other): return ops.matmul.matmul(self, other)

    def __iadd__(self, other): return self + other
    def __isub__(self, other): return self - other
    def __imul__(self, other): return self * other

    # comparisons give float32 0/1 tensors and carry no gradient
    def __eq__(self, other): return ops.elementwise.compare("eq", self, other)
    def __ne__(self, other): return ops.elementwise.compare("ne", self, other)
    def __lt__(self, other): return ops.elementwise.compare("lt", self, other)
    def __le__(self, other): return ops.elementwise.compare("le", self, other)
    def __gt__(self, other): return ops.elementwise.compare("gt", self, other)
    def __ge__(self, other): return ops.elementwise.compare("ge", self, other)
    __hash__ = object.__hash__

    def exp(self): return ops.elementwise.unary("exp", self)
    def log(self): return ops.elementwise.unary("log", self)
    def sqrt(self): return ops.elementwise.unary("sqrt", self)
    def abs(self): return ops.elementwise.unary("abs", self)
    def relu(self): return ops.elementwise.unary("relu", self)
    def sigmoid(self): return ops.elementwise.unary("sigmoid", self)
    def tanh(self): return ops.elementwise.unary("tanh", self)
    def square(self): return ops.elementwise.unary("square", self)
    def maximum(self, other): return ops.elementwise.binary("maximum", self, other)
    def minimum(self, other): return ops.elementwise.binary("minimum", self, other)
    def clamp(self, min=None, max=None): return ops.elementwise.clamp(self, min, max)

    # -- reductions ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False): return ops.reduce.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return ops.reduce.mean(self, dim, keepdim)
    def max(self, dim=None, keepdim=False): return ops.reduce.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.reduce.min(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return ops.reduce.argmax(self, dim, keepdim)
    def var(self, dim=None, keepdim=False, unbiased=True):
        return ops.reduce.var(self, dim, keepdim, unbiased)

    def softmax(self, dim=-1): return ops.loss.softmax(self, dim)
    def log_softmax(self, dim=-1): return ops.loss.log_softmax(self, dim)


def _shape_args(args):
    """Accept t.reshape(2, 3) and t.reshape((2, 3))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _nest(flat, shape):
    if len(shape) == 1:
        return flat
    step = prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


from . import ops  # noqa: E402  (ops import Tensor; import them last)
