"""Every element-wise op, one row each: the single place that defines it.

A row gives an op's
  name    what the engine calls it: `backend.unary("relu", x)`, `F.relu` -> `unary("relu", x)`
  code    its number, the OP pipeline constant of shaders/unary.wgsl (binary.wgsl for
          BINARY), where `const RELU: u32 = 6u;` names the `case` that computes it
          (tests/test_elementwise_table.py checks the two agree)
  numpy   the numpy backend's implementation, numpy(np, x, *args) (binary: np, a, b,
          *args). numpy is passed in: this file is also imported in the browser,
          which has no numpy
  args    the names of its scalar arguments, at most two (the kernels' arg0 and arg1)
  saves   what its backward needs, one letter each: "x" the input, "y" the output
          (binary: "a", "b"). Nothing for add, neg, scale...: the less a graph
          keeps, the sooner buffers go back to the pool
  grad    its backward: the name of a BINARY op that computes the input's gradient
          from (g, saved, *args) in one kernel, or a function (g, *saved, *args) ->
          gradient(s) written with tensor arithmetic; None: no gradient
The backends (cpu_numpy.py, backend/kernels/elementwise.py) and the autograd rules
(engine/ops/elementwise.py) all read their part from here.
"""
import math


class Op:
    def __init__(self, name, code, numpy, args=(), saves="", grad=None):
        self.name, self.code, self.numpy = name, code, numpy
        self.args, self.saves, self.grad = tuple(args), saves, grad

    def __repr__(self):
        return f"Op({self.name!r}, {self.code})"


def _by_name(*ops):
    table = {op.name: op for op in ops}
    assert sorted(op.code for op in ops) == list(range(len(ops))), "codes must be 0..n-1"
    return table


SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_TANH_CUBIC = 0.044715


# -- numpy versions of the helpers the kernels share (shaders/common/math.wgsl) -----------

def _sigmoid(np, x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _erf(np, x):
    """The same method as erf() in shaders/common/math.wgsl (see there)."""
    z = np.abs(x)
    z2 = x * x
    series = x * (1.1283791670955126 + z2 * (-0.37612638903183754 + z2 * (
        0.11283791670955126 + z2 * (-0.026866170645131252 + z2 * (
            0.005223977625442188 + z2 * (-0.0008548327023450852 + z2 * (
                0.00012055332981789664 + z2 * (-1.492565035840625e-05
                                               + z2 * 1.6462114365889246e-06))))))))
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(-z2 + poly)
    return np.where(z < 0.75, series, np.where(x >= 0, 1.0 - erfc, erfc - 1.0))


def _where_positive(np, test, g):
    """np.where(test > 0, g, 0.0), bit for bit (see where_mask)."""
    if test.shape != g.shape or g.dtype.kind != "f" or g.ndim == 0:
        return np.where(test > 0, g, 0.0)
    return where_mask(np, test > 0, g)


def where_mask(np, keep, g, out=None):
    """np.where(keep, g, 0.0) for a boolean mask and a float array of its shape, bit for
    bit, without np.where: a ReLU's or a max-pool's mask looks random, and np.where
    branches per element (measured 13x slower on a conv layer's 400k values). The mask
    becomes an all-ones or all-zeros bit pattern per element, ANDed with g's bits.
    `out`: a float array of g's shape to write into (a view is fine)."""
    ints = np.dtype(f"i{g.dtype.itemsize}")   # an integer as wide as g's floats
    bits = keep.astype(ints)
    np.negative(bits, out=bits)                  # 1 -> all ones (-1), 0 -> 0
    target = bits if out is None else out.view(ints)
    np.bitwise_and(bits, np.ascontiguousarray(g).view(ints), out=target)
    return bits.view(g.dtype) if out is None else out


def _normal_cdf(np, x):
    return 0.5 * (1.0 + _erf(np, x * math.sqrt(0.5)))


def _gelu_tanh_cdf(np, x):
    return 0.5 * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x)))


def _gelu_tanh_slope(np, x):
    t = np.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (
        1.0 + 3.0 * GELU_TANH_CUBIC * x * x)


def _silu_slope(np, x):
    s = _sigmoid(np, x)
    return s * (1.0 + x * (1.0 - s))


def _softplus(np, x, beta, threshold):
    z = beta * x   # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): no overflow
    return np.where(z > threshold, x, (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta)


def _split(g, win, tie):
    """maximum / minimum: the gradient goes to the winner, ties share it equally."""
    share = win + tie * 0.5
    return g * share, g * (1.0 - share)


UNARY = _by_name(
    Op("copy", 0, lambda np, x: x.copy(), grad=lambda g: g),
    Op("neg", 1, lambda np, x: -x, grad=lambda g: -g),
    Op("exp", 2, lambda np, x: np.exp(x), saves="y", grad=lambda g, y: g * y),
    Op("log", 3, lambda np, x: np.log(x), saves="x", grad=lambda g, x: g / x),
    Op("sqrt", 4, lambda np, x: np.sqrt(x), saves="y", grad=lambda g, y: g / (y * 2.0)),
    Op("abs", 5, lambda np, x: np.abs(x), saves="x", grad="abs_grad"),
    # relu and hardtanh keep their output: the next layer usually keeps it anyway
    Op("relu", 6, lambda np, x: np.maximum(x, 0), saves="y", grad="relu_grad"),
    Op("sigmoid", 7, _sigmoid, saves="y", grad="sigmoid_grad"),
    Op("tanh", 8, lambda np, x: np.tanh(x), saves="y", grad="tanh_grad"),
    Op("leaky_relu", 9, lambda np, x, slope: np.where(x > 0, x, slope * x),
       args=["negative_slope"], saves="x", grad="leaky_relu_grad"),
    Op("elu", 10, lambda np, x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
       args=["alpha"], saves="x", grad="elu_grad"),
    Op("scale", 11, lambda np, x, c: x * c, args=["factor"], grad=lambda g, c: g * c),
    Op("add_scalar", 12, lambda np, x, c: x + c, args=["value"], grad=lambda g, c: g),
    Op("pow_scalar", 13, lambda np, x, e: np.power(x, e), args=["exponent"], saves="x",
       grad=lambda g, x, e: g * x ** (e - 1.0) * e),
    Op("rsub_scalar", 14, lambda np, x, c: c - x, args=["value"], grad=lambda g, c: -g),
    Op("rdiv_scalar", 15, lambda np, x, c: c / x, args=["value"], saves="x",
       grad=lambda g, x, c: g * (-c) / (x * x)),
    Op("sign", 16, lambda np, x: np.sign(x), grad=lambda g: g * 0.0),
    Op("square", 17, lambda np, x: x * x, saves="x", grad=lambda g, x: g * x * 2.0),
    Op("erf", 18, _erf, saves="x", grad="erf_grad"),
    Op("gelu", 19, lambda np, x: x * _normal_cdf(np, x), saves="x", grad="gelu_grad"),
    Op("gelu_tanh", 20, lambda np, x: x * _gelu_tanh_cdf(np, x), saves="x",
       grad="gelu_tanh_grad"),
    Op("silu", 21, lambda np, x: x * _sigmoid(np, x), saves="x", grad="silu_grad"),
    Op("softplus", 22, _softplus, args=["beta", "threshold"], saves="x",
       grad="softplus_grad"),
    Op("hardtanh", 23, lambda np, x, lo, hi: np.minimum(np.maximum(x, lo), hi),
       args=["min_val", "max_val"], saves="y", grad="hardtanh_grad"),
)

BINARY = _by_name(
    Op("add", 0, lambda np, a, b: a + b, grad=lambda g: (g, g)),
    Op("sub", 1, lambda np, a, b: a - b, grad=lambda g: (g, -g)),
    Op("mul", 2, lambda np, a, b: a * b, saves="ab", grad=lambda g, a, b: (g * b, g * a)),
    Op("div", 3, lambda np, a, b: a / b, saves="ab",
       grad=lambda g, a, b: (g / b, -g * a / (b * b))),
    # d(a^b) = b a^(b-1) da + a^b ln(a) db
    Op("pow", 4, lambda np, a, b: np.power(a, b), saves="ab",
       grad=lambda g, a, b: (g * b * a ** (b - 1.0), g * a ** b * a.log())),
    Op("maximum", 5, lambda np, a, b: np.maximum(a, b), saves="ab",
       grad=lambda g, a, b: _split(g, a > b, a == b)),
    Op("minimum", 6, lambda np, a, b: np.minimum(a, b), saves="ab",
       grad=lambda g, a, b: _split(g, a < b, a == b)),
    # comparisons: float 0/1, no gradient
    Op("eq", 7, lambda np, a, b: (a == b) * 1.0),
    Op("ne", 8, lambda np, a, b: (a != b) * 1.0),
    Op("lt", 9, lambda np, a, b: (a < b) * 1.0),
    Op("le", 10, lambda np, a, b: (a <= b) * 1.0),
    Op("gt", 11, lambda np, a, b: (a > b) * 1.0),
    Op("ge", 12, lambda np, a, b: (a >= b) * 1.0),
    # the unary ops' gradient kernels: (g, what the forward saved, *its args) -> dx
    Op("relu_grad", 13, lambda np, g, y: _where_positive(np, y, g)),
    Op("leaky_relu_grad", 14, lambda np, g, x, slope: np.where(x > 0, g, slope * g),
       args=["negative_slope"]),
    Op("elu_grad", 15, lambda np, g, x, alpha: np.where(x > 0, g, g * alpha * np.exp(x)),
       args=["alpha"]),
    Op("sigmoid_grad", 16, lambda np, g, y: g * y * (1 - y)),
    Op("tanh_grad", 17, lambda np, g, y: g * (1 - y * y)),
    Op("lhs", 18, lambda np, a, b: a),   # a broadcast to the output shape (expand)
    Op("abs_grad", 19, lambda np, g, x: g * np.sign(x)),
    Op("erf_grad", 20, lambda np, g, x: g * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x)),
    Op("gelu_grad", 21, lambda np, g, x: g * (_normal_cdf(np, x) + x * np.exp(-0.5 * x * x)
                                              / math.sqrt(2.0 * math.pi))),
    Op("gelu_tanh_grad", 22, lambda np, g, x: g * _gelu_tanh_slope(np, x)),
    Op("silu_grad", 23, lambda np, g, x: g * _silu_slope(np, x)),
    Op("softplus_grad", 24, lambda np, g, x, beta, threshold: np.where(
        x * beta > threshold, g, g * _sigmoid(np, beta * x)), args=["beta", "threshold"]),
    Op("hardtanh_grad", 25, lambda np, g, y, lo, hi: np.where((y > lo) & (y < hi), g, 0.0),
       args=["min_val", "max_val"]),
)

UNARY_OPS = tuple(sorted(UNARY, key=lambda name: UNARY[name].code))
BINARY_OPS = tuple(sorted(BINARY, key=lambda name: BINARY[name].code))
