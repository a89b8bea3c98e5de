"""Tensor: an n-dimensional array on the current device, with a gradient.

A Tensor is a flat device array (`data`) plus its `shape` and `dtype`. Every
tensor is contiguous and row-major: reshapes are free, transposes copy. The
arithmetic lives in engine/ops/ (forward and backward together); the methods
here only route to it, so this file reads as the list of what a tensor can do.
"""
import array
import math

from . import autograd, device_checks
from .backend import current_backend
from .backend.base import FLOAT32, INT32

float32, int32 = FLOAT32, INT32


def prod(shape):
    return math.prod(shape)


class Tensor:
    __slots__ = ("_data", "shape", "dtype", "backend", "requires_grad", "grad", "_ctx",
                 "value_range", "_version", "__weakref__")
    __array_priority__ = 100  # numpy scalars on the left defer to Tensor's operators

    def __init__(self, data, shape, dtype=FLOAT32, backend=None, requires_grad=False):
        self._data = data
        self.shape = tuple(int(s) for s in shape)
        self.dtype = dtype
        self.backend = backend or current_backend()
        self.requires_grad = requires_grad
        self.grad = None
        self._ctx = None
        # (min, max) of an int32 tensor made from host data (eg.tensor, the DataLoader's
        # labels), known for free; None when computed on the device. Lets cross_entropy
        # check class targets without reading them back (engine/device_checks.py).
        self.value_range = None
        self._version = 0  # bumped by every in-place change; autograd checks it

    @property
    def data(self):
        """The flat device array (a GPU buffer, or a numpy array on the "cpu" backend)."""
        return self._data

    @data.setter
    def data(self, array):
        self._data = array
        self.value_range = None   # it described the old array

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
    def _download(self):
        """The raw bytes; every read-back comes here, so checks of device data that were
        waiting for one (class targets computed on the GPU) run here too."""
        raw = self.backend.download(self.data)
        device_checks.run_pending()
        return raw

    def _host_array(self):
        return array.array("f" if self.dtype == FLOAT32 else "i", self._download())

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
        return np.frombuffer(self._download(), kind).reshape(self.shape).copy()

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
            gradient = Tensor(self.backend.one(), self.shape, backend=self.backend)
        elif not isinstance(gradient, Tensor) or gradient.shape != self.shape:
            raise ValueError(f"backward(gradient): the gradient must be a tensor of the output's "
                             f"shape {self.shape}, got "
                             f"{getattr(gradient, 'shape', type(gradient).__name__)}")
        autograd.backward(self, gradient)

    def detach(self):
        t = Tensor(self.data, self.shape, self.dtype, self.backend)
        t.value_range = self.value_range
        return t

    def clone(self):
        """A copy in a buffer of its own (recorded for autograd, like PyTorch's)."""
        if self.dtype == FLOAT32:
            return self * 1.0
        t = Tensor(self.backend.empty(self.numel(), self.dtype), self.shape, self.dtype,
                   self.backend)
        self.backend.copy_(t.data, self.data)
        t.value_range = self.value_range
        return t

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place, as PyTorch does: `p.requires_grad_(False)` freezes a
        parameter (backward leaves its .grad None, so optimizers skip it). Only a leaf can
        be frozen: a computed tensor's flag says whether its inputs need gradients."""
        requires_grad = bool(requires_grad)
        if requires_grad and self.dtype != FLOAT32:
            raise RuntimeError(f"requires_grad_: only float32 tensors can require gradients, "
                               f"this one (shape {self.shape}) is {self.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(f"requires_grad_(False) on a tensor of shape {self.shape} that "
                               f"was computed from tensors requiring grad: only leaves can be "
                               f"frozen; use .detach() to cut it out of the graph")
        self.requires_grad = requires_grad
        return self

    # -- in place (PyTorch's trailing underscore, and += -= *= /=) --------------------------
    # They write into the tensor's own buffer, so every tensor sharing it (a view
    # from reshape, a detach()) sees the new values. One exception, while gradients
    # are recorded and the tensor or the operand requires grad: `x += y` makes a new
    # tensor, recorded in the graph, and rebinds the name x to it, leaving the old
    # buffer to the backward rules that may still read it (PyTorch writes the buffer
    # and guards it with version counters shared by all views); `x.add_(y)`, which
    # cannot rebind a name, raises there instead of doing nothing.
    def _check_in_place(self, name):
        if self.requires_grad and self._ctx is None and autograd.is_grad_enabled():
            raise RuntimeError(f"{name}: a leaf tensor that requires grad (shape {self.shape}) "
                               f"is being used in an in-place operation; do it inside "
                               f"`with eg.no_grad():` (as optimizers do) or out of place")

    def _assign(self, result):
        """Write `result`'s values into this tensor's buffer."""
        self.backend.copy_(self.data, result.data)
        self._version += 1
        self.value_range = None
        return self

    def _in_place(self, name, op, other, can_rebind=False):
        other_grad = isinstance(other, Tensor) and other.requires_grad
        recorded = autograd.is_grad_enabled() and (self.requires_grad or other_grad)
        if recorded:
            self._check_in_place(name)
            if not can_rebind:
                raise RuntimeError(f"{name}: the tensor (shape {self.shape}) is part of an "
                                   f"autograd graph, where this engine does not change "
                                   f"tensors in place; write it out of place (x = x + y) "
                                   f"or as x += y, which rebinds x")
        result = op(self, other)
        if result.shape != self.shape:
            raise RuntimeError(f"{name}: the result has shape {result.shape} but an in-place "
                               f"op must keep the tensor's shape {self.shape}")
        return result if recorded else self._assign(result)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_in_place("fill_")
        self.backend.fill_(self.data, value)
        self._version += 1
        self.value_range = (int(value), int(value)) if self.dtype == INT32 else None
        return self

    def copy_(self, src):
        """Copy src's values (broadcast to this shape, same dtype) into this tensor.
        Not recorded for autograd: use it under no_grad or on tensors without gradients."""
        self._check_in_place("copy_")
        if not isinstance(src, Tensor) or src.dtype != self.dtype:
            raise TypeError(f"copy_: src must be a {self.dtype} tensor, got "
                            f"{getattr(src, 'dtype', type(src).__name__)}")
        if autograd.is_grad_enabled() and (src.requires_grad or self.requires_grad):
            raise RuntimeError("copy_: gradients do not flow through copy_; call it under "
                               "`with eg.no_grad():`")
        autograd.check_same_device("copy_", self, src)
        if src.shape != self.shape:
            src = src.expand(*self.shape)
        self._assign(src)
        self.value_range = src.value_range
        return self

    def add_(self, other): return self._in_place("add_", ops.elementwise.add, other)
    def sub_(self, other): return self._in_place("sub_", ops.elementwise.sub, other)
    def mul_(self, other): return self._in_place("mul_", ops.elementwise.mul, other)
    def div_(self, other): return self._in_place("div_", ops.elementwise.div, other)
    def __iadd__(self, other): return self._in_place("+=", ops.elementwise.add, other, True)
    def __isub__(self, other): return self._in_place("-=", ops.elementwise.sub, other, True)
    def __imul__(self, other): return self._in_place("*=", ops.elementwise.mul, other, True)
    def __itruediv__(self, other): return self._in_place("/=", ops.elementwise.div, other, True)

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


def download(tensors):
    """The raw bytes of several tensors (little-endian float32 or int32), joined in order,
    read back from the device with one wait for it. `t.tolist()` reads one tensor; this
    reads many at once: the playground reads a whole layer-view refresh this way."""
    tensors = list(tensors)
    if not tensors:
        return b""
    backend = tensors[0].backend
    for t in tensors:
        if t.backend is not backend:
            raise RuntimeError(f"download: tensors on two devices, {backend.describe()} and "
                               f"{t.device}; read each device's tensors separately")
    raw = backend.download_many([t.data for t in tensors])
    device_checks.run_pending()
    return raw


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
