"""Element-wise ops: unary functions, broadcasting binary arithmetic, scalars.

Each op is one row of engine/backend/elementwise_table.py: its kernel code (the
`case` of shaders/unary.wgsl or binary.wgsl), its numpy version, what its backward
saves and its gradient rule. The Functions below apply those rows.
"""
from ..autograd import Function, check_same_device
from ..backend.elementwise_table import UNARY, BINARY
from ..tensor import Tensor
from .shape import broadcast_shapes, unbroadcast


def _new(x, data, shape=None):
    return Tensor(data, x.shape if shape is None else shape, "float32", x.backend)


# -- unary functions and their derivatives ----------------------------------------

def _saved(row, named):
    """The tensors a row's `saves` asks for, e.g. "y" -> (y,)."""
    return tuple(named[letter] for letter in row.saves)


class Unary(Function):
    """y = op(x, *args). What it saves and its backward are the op's row in UNARY."""

    def forward(self, x, op, args=()):
        self.row, self.args = UNARY[op], args
        y = _new(x, x.backend.unary(op, x.data, *args))
        self.save_for_backward(*_saved(self.row, {"x": x, "y": y}))
        return y

    def backward(self, g):
        grad = self.row.grad
        if grad is None:
            raise NotImplementedError(f"no gradient for {self.row.name}")
        if isinstance(grad, str):   # one kernel: binary grad op of (g, what was saved)
            (saved,) = self.saved
            return grad_kernel(grad, g, saved, *self.args)
        return grad(g, *self.saved, *self.args)


def grad_kernel(op, g, saved, *args):
    """g taken back through a unary op by its gradient kernel: the BINARY op `op` (e.g.
    "relu_grad") of g and what the forward saved (x or y, g's shape), one kernel."""
    return _new(g, g.backend.binary(op, g.data, g.shape, saved.data, g.shape, g.shape, *args))


def unary(op, x, *args):
    """op(x, *args) for an op of UNARY; args: its scalar arguments (the row's `args`)."""
    row = UNARY[op]
    if len(args) != len(row.args):
        raise TypeError(f"{op} takes {len(row.args)} scalar argument(s) "
                        f"{', '.join(row.args) or ''}, got {len(args)}")
    return Unary.apply(x, op=op, args=tuple(float(a) for a in args))


# -- binary arithmetic with broadcasting ------------------------------------------

class Binary(Function):
    """op(a, b) broadcast; what it saves and its backward are the op's row in BINARY."""

    def forward(self, a, b, op):
        self.row, self.shapes = BINARY[op], (a.shape, b.shape)
        shape = broadcast_shapes(a.shape, b.shape)
        self.save_for_backward(*_saved(self.row, {"a": a, "b": b}))
        return _new(a, a.backend.binary(op, a.data, a.shape, b.data, b.shape, shape), shape)

    def backward(self, g):
        if self.row.grad is None:
            raise NotImplementedError(f"no gradient for {self.row.name}")
        ga, gb = self.row.grad(g, *self.saved)
        return unbroadcast(ga, self.shapes[0]), unbroadcast(gb, self.shapes[1])


def _check(a, b, name):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}: unsupported operand types {type(a).__name__} and {type(b).__name__}")
    check_same_device(name, a, b)


def binary(op, a, b):
    if not isinstance(b, Tensor):
        b = Tensor(a.backend.full(1, float(b)), (), "float32", a.backend)
    _check(a, b, op)
    return Binary.apply(a, b, op=op)


def _is_scalar(x):
    return isinstance(x, (int, float)) or type(x).__name__ in ("float32", "float64", "int64", "int32")


def add(a, b):
    return unary("add_scalar", a, b) if _is_scalar(b) else binary("add", a, b)


def sub(a, b):
    return unary("add_scalar", a, -b) if _is_scalar(b) else binary("sub", a, b)


def rsub(a, b):  # b - a with b a scalar
    return unary("rsub_scalar", a, b)


def mul(a, b):
    return unary("scale", a, b) if _is_scalar(b) else binary("mul", a, b)


def div(a, b):
    return unary("scale", a, 1.0 / b) if _is_scalar(b) else binary("div", a, b)


def rdiv(a, b):  # b / a with b a scalar
    return unary("rdiv_scalar", a, b)


def pow(a, b):
    if _is_scalar(b):
        if b == 2:
            return unary("square", a)
        return unary("pow_scalar", a, b)
    return binary("pow", a, b)


def clamp(x, lo=None, hi=None):
    if lo is not None:
        x = binary("maximum", x, lo)
    if hi is not None:
        x = binary("minimum", x, hi)
    return x


def compare(op, a, b):
    """a <op> b as float32 0/1, no gradient. int32 operands are compared as floats."""
    if isinstance(b, Tensor):
        _check(a, b, op)
        b = b.float()
    with_grad_off = a.detach().float()
    other = b.detach() if isinstance(b, Tensor) else b
    return binary(op, with_grad_off, other)
