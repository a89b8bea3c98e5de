"""Element-wise ops: unary functions, broadcasting binary arithmetic, scalars.

Kernels: shaders/unary.wgsl and shaders/binary.wgsl (one OP constant per op).
"""
from ..autograd import Function
from ..tensor import Tensor
from .shape import broadcast_shapes, unbroadcast


def _new(x, data, shape=None):
    return Tensor(data, x.shape if shape is None else shape, "float32", x.backend)


# -- unary functions and their derivatives ----------------------------------------

class Unary(Function):
    """y = f(x); the backward uses whichever of x or y makes f' cheapest."""

    # op -> (binary grad op, use the output y instead of the input x)
    GRADS = {"relu": ("relu_grad", False), "leaky_relu": ("leaky_relu_grad", False),
             "elu": ("elu_grad", False), "sigmoid": ("sigmoid_grad", True),
             "tanh": ("tanh_grad", True)}

    def forward(self, x, op, alpha=0.0):
        self.op, self.alpha = op, alpha
        y = _new(x, x.backend.unary(op, x.data, alpha))
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved
        op, a = self.op, self.alpha
        if op in self.GRADS:
            grad_op, use_y = self.GRADS[op]
            saved = y if use_y else x
            return _new(g, g.backend.binary(grad_op, g.data, g.shape, saved.data, g.shape,
                                            g.shape, a))
        if op == "neg":
            return -g
        if op == "exp":
            return g * y
        if op == "log":
            return g / x
        if op == "sqrt":
            return g / (y * 2.0)
        if op == "abs":
            return g * unary("sign", x)
        if op == "square":
            return g * x * 2.0
        if op == "scale":
            return g * a
        if op == "add_scalar":
            return g
        if op == "pow_scalar":
            return g * unary("pow_scalar", x, a - 1.0) * a
        if op == "rsub_scalar":
            return -g
        if op == "rdiv_scalar":  # d(a/x) = -a/x^2 = -y/x
            return -g * y / x
        raise NotImplementedError(f"no gradient for {op}")


def unary(op, x, alpha=0.0):
    return Unary.apply(x, op=op, alpha=float(alpha))


# -- binary arithmetic with broadcasting ------------------------------------------

class Binary(Function):
    def forward(self, a, b, op):
        self.op = op
        shape = broadcast_shapes(a.shape, b.shape)
        self.save_for_backward(a, b)
        return _new(a, a.backend.binary(op, a.data, a.shape, b.data, b.shape, shape), shape)

    def backward(self, g):
        a, b = self.saved
        op = self.op
        if op == "add":
            ga, gb = g, g
        elif op == "sub":
            ga, gb = g, -g
        elif op == "mul":
            ga, gb = g * b, g * a
        elif op == "div":
            ga, gb = g / b, -g * a / (b * b)
        elif op == "pow":  # d(a^b) = b a^(b-1) da + a^b ln(a) db
            y = binary("pow", a, b)
            ga, gb = g * b * binary("pow", a, b - 1.0), g * y * unary("log", a)
        elif op in ("maximum", "minimum"):  # the gradient goes to the winner (ties: split)
            win = binary("gt" if op == "maximum" else "lt", a, b)
            tie = binary("eq", a, b) * 0.5
            ga, gb = g * (win + tie), g * (1.0 - win - tie)
        else:
            raise NotImplementedError(f"no gradient for {op}")
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


def _check(a, b, name):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{name}: unsupported operand types {type(a).__name__} and {type(b).__name__}")
    if a.backend is not b.backend:
        raise ValueError(f"{name}: tensors live on different devices ({a.device} and {b.device})")


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
