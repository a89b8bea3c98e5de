"""Every op, forward and gradient, against PyTorch float64 and float32 (tests/helpers.py),
on the GPU backend (WGSL through wgpu; lavapipe here) and the numpy backend.

Shapes are chosen to miss the kernels' tiles: matmul tiles are 64x64 with K
slices of 16, element-wise and reduction workgroups are 256 threads, and rows
longer than 64 switch reductions from one-thread-per-output to a workgroup per
output. Broadcasting covers bias-like (N,), (1, N), (M, 1), 0-d and 3-D batches.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine as eg
import engine.nn.functional as F
from helpers import TOL, assert_close, check_op, make_input

ODD = (1, 3, 17, 63, 65, 127, 129, 257)

UNARY_SHAPES = [(), (1,), (3,), (257,), (63, 65), (3, 17, 129)]

BROADCAST = [
    ((), ()),
    ((3,), (3,)),
    ((257,), (257,)),
    ((65, 127), (65, 127)),
    ((17, 63), (63,)),        # bias
    ((17, 63), (1, 63)),
    ((17, 63), (17, 1)),      # per-row
    ((17, 63), ()),           # 0-d scalar tensor
    ((), (17, 63)),
    ((1,), (3, 5)),
    ((5, 1, 7), (3, 1)),      # both sides broadcast
    ((2, 3, 65), (3, 65)),    # 3-D batch
    ((1, 129), (33, 1)),      # outer product shape
    ((4, 1, 3, 1), (1, 5, 1, 6)),
]


def _id(shapes):
    return "x".join("(" + ",".join(map(str, s)) + ")" for s in shapes)


# -- element-wise binary -------------------------------------------------------------------

@pytest.mark.parametrize("shapes", BROADCAST, ids=_id)
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
def test_binary(device, op, shapes):
    fn = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}[op]
    check_op(fn, None, shapes, device)


@pytest.mark.parametrize("shapes", BROADCAST, ids=_id)
def test_div(device, shapes):
    # denominators kept away from 0: |b| >= 0.5 keeps the quotient well-conditioned
    rng = np.random.default_rng(1)
    a = make_input(rng, shapes[0])
    b = make_input(rng, shapes[1], away_from_zero=0.5)
    check_op(lambda x, y: x / y, None, device=device, inputs=[a, b])


@pytest.mark.parametrize("shapes", [((), ()), ((257,), (257,)), ((17, 63), (63,)),
                                    ((17, 63), (17, 1)), ((2, 3, 65), ())], ids=_id)
def test_pow_tensor_exponent(device, shapes):
    rng = np.random.default_rng(2)
    base = make_input(rng, shapes[0], low=0.5, high=2.0)
    exponent = make_input(rng, shapes[1], low=-2.0, high=2.0)
    check_op(lambda x, y: x ** y, None, device=device, inputs=[base, exponent])


def test_pow_tensor_exponent_negative_base(device):
    # integer exponents: real powers of negative bases; d/d(exponent) = y*log(base) is NaN
    # there, in PyTorch too, and the helper checks the NaNs sit in the same places
    rng = np.random.default_rng(2)
    base = make_input(rng, (5, 17), away_from_zero=0.5)
    exponent = rng.integers(-2, 4, size=(17,)).astype(np.float64)
    check_op(lambda x, y: x ** y, None, device=device, inputs=[base, exponent])


@pytest.mark.parametrize("exponent", [2, 3, -1, -2, 0, 1, 0.5, 2.5, -1.5])
def test_pow_scalar_exponent(device, exponent):
    rng = np.random.default_rng(3)
    if float(exponent).is_integer():  # negative bases are fine with an integer exponent
        x = make_input(rng, (17, 65), away_from_zero=0.5)
    else:
        x = make_input(rng, (17, 65), low=0.5, high=2.0)
    check_op(lambda t: t ** exponent, None, device=device, inputs=[x])


def test_pow_negative_base_fractional_exponent_is_nan(device):
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    check_op(lambda t: t ** 0.5, None, device=device, inputs=[x], grad=False)


@pytest.mark.parametrize("expr", ["x+2", "2+x", "x-2", "2-x", "x*3", "3*x", "x/4", "4/x",
                                  "x+x", "x*x", "x-x", "-x"])
def test_scalar_arithmetic(device, expr):
    rng = np.random.default_rng(4)
    x = make_input(rng, (3, 65), away_from_zero=0.5)
    fn = eval("lambda x: " + expr)
    check_op(fn, None, device=device, inputs=[x])


# -- runs of four: unary.wgsl, and binary.wgsl's `runs` for same shapes or a scalar operand,
# take four elements per invocation. Sizes that end part-way through a run (4k+1, 4k+2,
# 4k+3; 1025: one run into a second workgroup of 256 runs) catch a wrong last run.

RUN_TAILS = (1, 2, 3, 4, 5, 66, 67, 1025)


@pytest.mark.parametrize("n", RUN_TAILS)
def test_unary_in_runs_of_four(device, n):
    # scale, add_scalar, relu, sigmoid forward; mul, relu_grad, sigmoid_grad backward
    check_op(lambda x: (x * 1.5 + 0.5).relu().sigmoid(), None, [(n,)], device)


RUN_SHAPES = [shapes for n in RUN_TAILS
              for shapes in [((n,), (n,)), ((n,), ()), ((), (n,)), ((1,), (n,)), ((3, n), (3, n))]]


@pytest.mark.parametrize("shapes", RUN_SHAPES, ids=_id)
def test_binary_in_runs_of_four(device, shapes):
    check_op(lambda a, b: (a - b) * b, None, shapes, device)


@pytest.mark.parametrize("n", (1, 3, 5, 67))
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
def test_in_place_in_runs_of_four(device, op, n):
    # the in-place ops run a fresh kernel output and rebind the tensor to it
    for other in [(n,), (), (1,)]:
        check_op(lambda a, b: getattr(a, op)(b), None, [(n,), other], device, grad=False,
                 away_from_zero=0.5)
    check_op(lambda a: getattr(a, op)(2.5), None, [(n,)], device, grad=False)


# -- element-wise unary ------------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, None, {}),
    "exp": (lambda x: x.exp(), None, {}),
    "log": (lambda x: x.log(), None, dict(low=0.05, high=5.0)),
    "sqrt": (lambda x: x.sqrt(), None, dict(low=0.05, high=5.0)),
    "abs": (lambda x: x.abs(), None, {}),
    "relu": (lambda x: x.relu(), None, {}),
    "F.relu": (F.relu, TF.relu, {}),
    "sigmoid": (lambda x: x.sigmoid(), None, {}),
    "F.sigmoid": (F.sigmoid, torch.sigmoid, {}),
    "tanh": (lambda x: x.tanh(), None, {}),
    "F.tanh": (F.tanh, torch.tanh, {}),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, {}),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), {}),
    "elu": (F.elu, TF.elu, {}),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), {}),
}


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(device, name, shape):
    fn, torch_fn, kw = UNARY[name]
    check_op(fn, torch_fn, [shape], device, **kw)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "elu", "exp", "relu", "abs"])
def test_unary_large_inputs(device, name):
    # tanh(x) = (e^2x - 1)/(e^2x + 1) overflows to inf/inf = NaN around |x| > 44 in float32
    x = np.array([-100.0, -50.0, -45.0, -20.0, -10.0, -1e-3, 0.0, 1e-3, 10.0, 20.0, 45.0,
                  50.0, 80.0, 100.0])
    if name == "exp":
        x = x[np.abs(x) <= 80]  # e^80 is still finite in float32
    fn, torch_fn, _ = UNARY[name]
    check_op(fn, torch_fn, device=device, inputs=[x])


@pytest.mark.parametrize("name", ["relu", "abs", "leaky_relu_0.2", "elu_0.5"])
def test_gradient_at_zero(device, name):
    # PyTorch's choices at the kink: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
    # elu'(0) = alpha
    fn, torch_fn, _ = UNARY[name]
    check_op(fn, torch_fn, device=device, inputs=[np.array([-1.0, 0.0, 0.0, 1.0])])


# -- reductions --------------------------------------------------------------------------------

REDUCE_CASES = [((1,), None), ((3,), 0), ((257,), -1), ((1000,), None), ((3, 17), None),
                ((3, 17), 0), ((3, 17), 1), ((63, 65), 0), ((63, 65), 1), ((65, 63), -1),
                ((4, 129, 5), None), ((4, 129, 5), 0), ((4, 129, 5), 1), ((4, 129, 5), 2),
                ((2, 300, 3), 1), ((1, 1), 1), ((), None)]


def _rid(case):
    return f"{case[0]}-dim{case[1]}".replace(" ", "")


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
@pytest.mark.parametrize("case", REDUCE_CASES, ids=_rid)
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reduce(device, op, case, keepdim):
    shape, dim = case
    if dim is None:
        if not keepdim:
            check_op(lambda x: getattr(x, op)(), None, [shape], device)
        elif op in ("max", "min"):  # torch's x.max() has no keepdim; amax over every dim does
            check_op(lambda x: getattr(x, op)(keepdim=True),
                     lambda x: getattr(x, "a" + op)(dim=tuple(range(x.ndim)), keepdim=True),
                     [shape], device)
        else:
            check_op(lambda x: getattr(x, op)(keepdim=True),
                     lambda x: getattr(x, op)(dim=None, keepdim=True), [shape], device)
        return
    if op in ("max", "min"):  # returns (values, indices): compare both
        check_op(lambda x: getattr(x, op)(dim, keepdim)[0],
                 lambda x: getattr(x, op)(dim, keepdim)[0], [shape], device)
        x = make_input(np.random.default_rng(0), shape)
        got = getattr(eg.tensor(x), op)(dim, keepdim)[1]
        want = getattr(torch.tensor(x), op)(dim, keepdim)[1]
        assert got.dtype == "int32" and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    else:
        check_op(lambda x: getattr(x, op)(dim, keepdim),
                 lambda x: getattr(x, op)(dim=dim, keepdim=keepdim), [shape], device)


@pytest.mark.parametrize("case", [((257,), None), ((3, 17), 0), ((3, 17), 1), ((63, 65), 1),
                                  ((4, 129, 5), 1), ((4, 129, 5), None), ((300,), 0),
                                  ((1,), None), ((3, 1), 1)], ids=_rid)
@pytest.mark.filterwarnings(r"ignore:var\(\). degrees of freedom")  # torch, on one sample
@pytest.mark.parametrize("unbiased", [True, False], ids=["unbiased", "biased"])
@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
def test_var(device, case, unbiased, keepdim):
    shape, dim = case
    check_op(lambda x: x.var(dim, keepdim=keepdim, unbiased=unbiased),
             lambda x: x.var(dim=dim, keepdim=keepdim, correction=int(unbiased)),
             [shape], device)


@pytest.mark.parametrize("case", [((257,), None), ((3, 17), None), ((3, 17), 1), ((4, 129, 5), 1),
                                  ((70, 3), 0), ((2, 1000), 1)], ids=_rid)
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_ties(device, op, case):
    # values from {-1, 0, 1}: ties everywhere. PyTorch: x.max() shares the gradient among
    # the tied elements; x.max(dim) returns the first index and sends it all there.
    shape, dim = case
    x = np.random.default_rng(14).integers(-1, 2, size=shape).astype(np.float64)
    if dim is None:
        check_op(lambda t: getattr(t, op)(), None, device=device, inputs=[x])
        return
    check_op(lambda t: getattr(t, op)(dim)[0], None, device=device, inputs=[x])
    got = getattr(eg.tensor(x.astype(np.float32)), op)(dim)[1]
    want = getattr(torch.tensor(x), op)(dim)[1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


ARGMAX_CASES = [((1,), None), ((257,), None), ((257,), 0), ((3, 17), 0), ((3, 17), 1),
                ((63, 65), 1), ((63, 65), -1), ((4, 129, 5), 1), ((4, 129, 5), 2),
                ((2, 1000), 1), ((70, 3), 0)]


@pytest.mark.parametrize("keepdim", [False, True], ids=["", "keepdim"])
@pytest.mark.parametrize("case", ARGMAX_CASES, ids=_rid)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_argmax(device, case, ties, keepdim):
    shape, dim = case
    rng = np.random.default_rng(5)
    # with ties (values from {0, 1, 2}) PyTorch returns the first maximal index
    x = rng.integers(0, 3, size=shape).astype(np.float32) if ties else \
        make_input(rng, shape).astype(np.float32)
    if dim is None and keepdim:
        got, want = eg.tensor(x).argmax(keepdim=True), torch.tensor(x).argmax(keepdim=True)
    else:
        got, want = eg.tensor(x).argmax(dim, keepdim), torch.tensor(x).argmax(dim, keepdim)
    assert got.dtype == "int32"
    assert got.shape == tuple(want.shape)
    assert got.requires_grad is False
    np.testing.assert_array_equal(got.numpy(), want.numpy().astype(np.int32))


# -- long rows: workgroup reductions and the 2-D dispatch grid ----------------------------------

@pytest.mark.parametrize("n", [255, 256, 257, 4097, 65537, 300_007])
def test_long_1d_reductions(device, n):
    # The shared tolerance holds here without loosening. (It is strict for sums: a
    # float32 sum of n normal values has rounding error ~ sqrt(n) * 6e-8 * sqrt(n), so
    # past a million elements a sum that cancels to ~1 can miss 1e-4 absolute without
    # any kernel being wrong; the 20M-element test compares a sum far from 0.)
    rng = np.random.default_rng(n)
    x = make_input(rng, (n,))
    for op in ("sum", "mean", "max", "min"):
        check_op(lambda t: getattr(t, op)(), None, device=device, inputs=[x])
    positive = make_input(rng, (n,), low=0.0, high=1.0)  # no cancellation to hide behind
    check_op(lambda t: t.sum(), None, device=device, inputs=[positive])
    assert eg.tensor(x).argmax().item() == int(np.argmax(x.astype(np.float32)))


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_chunked_reductions_with_inner_dim(device, op):
    # rows longer than one workgroup's chunk (16,384), reduced over dim 0 with inner = 3:
    # the partial results of the chunks are reduced again
    x = make_input(np.random.default_rng(6), (40_000, 3))
    if op in ("max", "min"):
        check_op(lambda t: getattr(t, op)(0)[0], None, device=device, inputs=[x])
    else:
        check_op(lambda t: getattr(t, op)(0), None, device=device, inputs=[x])
    if op in ("max", "min"):  # and the indices, through the chunked argmax
        want = (np.argmax if op == "max" else np.argmin)(x.astype(np.float32), 0)
        np.testing.assert_array_equal(getattr(eg.tensor(x), op)(0)[1].numpy(), want)


def test_argmax_first_maximum_across_chunks(device):
    n = 100_000  # several chunks: the first maximum may sit in any of them
    x = np.zeros(n, np.float32)
    assert eg.tensor(x).argmax().item() == 0                 # all equal: index 0
    x[[70_000, 20_000, 99_999]] = 1.0
    assert eg.tensor(x).argmax().item() == 20_000            # ties across chunks: the first
    x[16_384] = 2.0                                          # first element of chunk 2
    assert eg.tensor(x).argmax().item() == 16_384
    x[:] = -np.inf
    x[55_555] = -1e30
    assert eg.tensor(x).argmax().item() == 55_555
    cols = np.zeros((n, 2), np.float32)
    cols[[30_000, 90_000], 1] = 5.0
    cols[[99_998, 40_000], 0] = 3.0
    assert eg.tensor(cols).argmax(0).tolist() == [40_000, 30_000]


@pytest.mark.slow
def test_reduce_many_rows_2d_grid(device):
    # 65,537 rows of 65 > 64: one workgroup per row, more than 65,535 of them, so the
    # dispatch spreads over x and y. (Forward only: lavapipe needs ~50 us a workgroup.)
    x = make_input(np.random.default_rng(6), (65_537, 65)).astype(np.float32)
    t = eg.tensor(x)
    assert_close(t.sum(1).numpy(), x.astype(np.float64).sum(1), TOL, "sum over rows")
    np.testing.assert_array_equal(t.argmax(1).numpy(), np.argmax(x, 1))


@pytest.mark.slow
@pytest.mark.gpu
def test_20_million_elements_2d_grid():
    # More than 65,535 * 256 elements: every 1-D kernel's grid spreads over x and y.
    # The GPU only (numpy has no grid), once.
    eg.set_device("gpu")  # no adapter -> NoGPUError: the test fails, it does not skip
    n = 20_000_003
    rng = np.random.default_rng(7)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    ta, tb = eg.tensor(a), eg.tensor(b)
    np.testing.assert_array_equal((ta + tb).numpy(), a + b)         # float32 add: exact
    np.testing.assert_array_equal((ta * tb).numpy(), a * b)
    np.testing.assert_array_equal(ta.relu().numpy(), np.maximum(a, 0))
    row = ta.reshape(1, n)                                          # 20M outputs, rows of 1
    np.testing.assert_array_equal(row.sum(0).numpy(), a)
    np.testing.assert_array_equal(row.argmax(0).numpy(), np.zeros(n, np.int32))
    half = eg.tensor(a[:n - 3]).reshape(2, (n - 3) // 2)          # permute kernel
    np.testing.assert_array_equal(half.T.numpy(), a[:n - 3].reshape(2, -1).T)
    ints = (ta * 100).int()
    np.testing.assert_array_equal(ints.numpy(), (a * np.float32(100)).astype(np.int32))
    assert_close(ta.sum().item(), a.astype(np.float64).sum(), TOL, "sum of 20M")
    assert ta.max().item() == a.max() and ta.min().item() == a.min()
    assert ta.argmax().item() == int(np.argmax(a))


# -- shape ops ----------------------------------------------------------------------------------

SHAPE_OPS = {
    "reshape": ((3, 4, 5), lambda x: x.reshape(5, 12), None),
    "reshape_-1": ((3, 4, 5), lambda x: x.reshape(-1, 10), None),
    "reshape_tuple": ((3, 4, 5), lambda x: x.reshape((60,)), None),
    "view": ((3, 4, 5), lambda x: x.view(4, 15), None),
    "reshape_0d": ((), lambda x: x.reshape(1, 1), None),
    "flatten": ((3, 4, 5), lambda x: x.flatten(), None),
    "flatten_1": ((3, 4, 5), lambda x: x.flatten(1), None),
    "flatten_0_1": ((3, 4, 5), lambda x: x.flatten(0, 1), None),
    "transpose": ((17, 65), lambda x: x.transpose(0, 1), None),
    "transpose_3d": ((3, 17, 5), lambda x: x.transpose(0, 2), None),
    "transpose_neg": ((3, 17, 5), lambda x: x.transpose(-1, -2), None),
    "permute": ((2, 3, 4, 5), lambda x: x.permute(2, 0, 3, 1), None),
    "permute_tuple": ((2, 3, 4), lambda x: x.permute((1, 2, 0)), None),
    "T": ((65, 129), lambda x: x.T, None),
    "T_1d": ((17,), lambda x: x.T, lambda x: x.permute(0)),
    "expand": ((3, 1), lambda x: x.expand(3, 65), None),
    "expand_new_dims": ((1, 5), lambda x: x.expand(2, 4, 5), None),
    "expand_-1": ((3, 1), lambda x: x.expand(-1, 7), None),
    "unsqueeze_0": ((3, 5), lambda x: x.unsqueeze(0), None),
    "unsqueeze_-1": ((3, 5), lambda x: x.unsqueeze(-1), None),
    "unsqueeze_1": ((3, 5), lambda x: x.unsqueeze(1), None),
    "squeeze": ((1, 3, 1, 5), lambda x: x.squeeze(), None),
    "squeeze_dim": ((1, 3, 1, 5), lambda x: x.squeeze(2), None),
    "squeeze_noop": ((1, 3, 1, 5), lambda x: x.squeeze(1), None),
    # shape ops in the middle of a computation, so the gradient has to be permuted back
    "permute_then_mul": ((2, 3, 4), lambda x: x.permute(2, 0, 1) * x.sum(2).unsqueeze(0), None),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_op(device, name):
    shape, fn, torch_fn = SHAPE_OPS[name]
    check_op(fn, torch_fn, [shape], device)


# -- matmul and linear ----------------------------------------------------------------------------

SIZES = (1, 3, 17, 64, 65, 100, 130)
# every size in every position, and the tile-edge combinations
MNK = sorted({(m, n, k) for i, m in enumerate(SIZES) for j, n in enumerate(SIZES)
              for k in SIZES if (i + 2 * j + 3 * SIZES.index(k)) % 7 == 0}
             | {(64, 64, 64), (65, 65, 65), (63, 1, 129), (1, 130, 1), (130, 17, 16),
                (17, 33, 15)})


@pytest.mark.parametrize("mnk", MNK, ids=lambda t: "M{}N{}K{}".format(*t))
def test_matmul_2d(device, mnk):
    m, n, k = mnk
    check_op(lambda a, b: a @ b, None, [(m, k), (k, n)], device)


MATMUL_SHAPES = [
    ((3, 17, 65), (3, 65, 5)),       # batched
    ((2, 65, 17), (2, 17, 130)),
    ((4, 3, 17), (17, 65)),          # 3-D @ 2-D
    ((17, 65), (4, 65, 3)),          # 2-D @ 3-D
    ((2, 1, 5, 7), (3, 7, 2)),       # broadcast batch dims
    ((1, 5, 7), (3, 7, 2)),
    ((65,), (65,)),                  # vector . vector -> 0-d
    ((65,), (65, 17)),               # vector @ matrix
    ((17, 65), (65,)),               # matrix @ vector
    ((3, 17, 65), (65,)),
    ((65,), (3, 65, 17)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=_id)
def test_matmul_batched_and_vectors(device, shapes):
    check_op(lambda a, b: a @ b, None, shapes, device)
    check_op(lambda a, b: a.matmul(b), None, shapes, device)


@pytest.mark.parametrize("x_shape,out_features", [((17, 65), 3), ((1, 3), 130), ((64, 64), 64),
                                                  ((4, 5, 17), 10), ((17,), 5), ((130, 100), 65)],
                         ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_linear(device, x_shape, out_features, bias):
    shapes = [x_shape, (out_features, x_shape[-1])] + ([(out_features,)] if bias else [])
    check_op(F.linear, TF.linear, shapes, device)


def test_linear_then_activation_fused_path(device):
    # the pattern a training step runs: linear + relu + linear, gradients through all
    check_op(lambda x, w1, b1, w2: F.linear(F.linear(x, w1, b1).relu(), w2),
             lambda x, w1, b1, w2: TF.linear(TF.linear(x, w1, b1).relu(), w2),
             [(33, 65), (70, 65), (70,), (10, 70)], device)


@pytest.mark.parametrize("rows,n_in,n_out,bias", [
    (33, 65, 70, True), (1, 3, 1, True), (17, 9, 10, False),
    (5000, 3, 7, True),       # past RELU_BIAS_ROWS: the ReLU's and bias's gradients apart
    (2, 70_000, 3, True)],    # split-K: the ReLU after the slices are added
    ids=lambda v: str(v))
def test_linear_relu(device, rows, n_in, n_out, bias):
    # a Linear and its ReLU in one kernel (what nn.Sequential runs for the pair)
    from engine.ops.matmul import linear_relu
    shapes = [(rows, n_in), (n_out, n_in)] + ([(n_out,)] if bias else [])
    check_op(linear_relu, lambda x, w, *b: TF.relu(TF.linear(x, w, *b)), shapes, device)


@pytest.mark.parametrize("shapes", [((2, 70_000), (70_000, 3)),    # K past one kernel's slice
                                    ((70_000, 2), (70_000, 3))],   # dW = x^T g: K = rows
                         ids=["K70000", "rows70000"])
def test_matmul_very_long_k(device, shapes):
    # Very long K is split into slices whose products are added (on lavapipe a shader
    # stops after 65,535 loop iterations, silently); the backward passes use the long
    # dimension as K too.
    if shapes[0][0] == 70_000:
        check_op(lambda a, b: a.T @ b, None, shapes, device)
    else:
        check_op(lambda a, b: a @ b, None, shapes, device)


def test_matmul_empty_k(device):
    a, b = eg.zeros(3, 0), eg.zeros(0, 4)
    assert (a @ b).tolist() == [[0.0] * 4] * 3


# -- softmax and losses ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 17), (65, 10), (1, 257), (2, 3, 65)], ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax(device, shape, dim, log):
    name = "log_softmax" if log else "softmax"
    check_op(lambda x: getattr(F, name)(x, dim), lambda x: getattr(TF, name)(x, dim),
             [shape], device)
    check_op(lambda x: getattr(x, name)(dim), lambda x: getattr(x, name)(dim), [shape], device)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_0d(device, log):
    name = "log_softmax" if log else "softmax"
    check_op(lambda x: getattr(F, name)(x, 0), lambda x: getattr(TF, name)(x, 0), [()], device)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_large_logits(device, log):
    x = make_input(np.random.default_rng(8), (5, 33)) * 100  # exp would overflow unshifted
    name = "log_softmax" if log else "softmax"
    check_op(lambda t: getattr(F, name)(t, -1), lambda t: getattr(TF, name)(t, -1),
             device=device, inputs=[x])


@pytest.mark.parametrize("shape,dim", [((2, 257), -1), ((3, 1000), 1), ((2, 40_000), -1),
                                       ((30_000,), 0), ((30_000, 3), 0)], ids=str)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_wide_rows(device, shape, dim, log):
    # rows wider than 256 get a workgroup each; past ~22k columns a thread per row
    # would loop more than lavapipe's 65,535 iterations
    name = "log_softmax" if log else "softmax"
    check_op(lambda x: getattr(F, name)(x, dim), lambda x: getattr(TF, name)(x, dim),
             [shape], device)


@pytest.mark.parametrize("rows,classes", [(1, 1), (1, 3), (17, 10), (64, 10), (65, 129),
                                          (300, 7), (3, 257), (2, 40_000)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(device, rows, classes, reduction):
    targets = np.random.default_rng(9).integers(0, classes, size=rows)
    check_op(lambda x: F.cross_entropy(x, eg.tensor(targets.astype(np.int32)),
                                       reduction=reduction),
             lambda x: TF.cross_entropy(x, torch.tensor(targets), reduction=reduction),
             [(rows, classes)], device)


@pytest.mark.parametrize("rows,classes", [(1, 3), (17, 10), (3, 300)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("smoothing", [0.1, 1.0])
def test_cross_entropy_label_smoothing(device, rows, classes, reduction, smoothing):
    targets = np.random.default_rng(11).integers(0, classes, size=rows)
    check_op(lambda x: F.cross_entropy(x, eg.tensor(targets.astype(np.int32)),
                                       reduction=reduction, label_smoothing=smoothing),
             lambda x: TF.cross_entropy(x, torch.tensor(targets), reduction=reduction,
                                        label_smoothing=smoothing),
             [(rows, classes)], device)


def test_cross_entropy_default_and_large_logits(device):
    rng = np.random.default_rng(10)
    x = make_input(rng, (9, 5)) * 60
    targets = rng.integers(0, 5, size=9)
    check_op(lambda t: F.cross_entropy(t, eg.tensor(targets.astype(np.int32))),
             lambda t: TF.cross_entropy(t, torch.tensor(targets)), device=device, inputs=[x])


# one workgroup (`summed`), a thread per row (`main`), a workgroup per row (`per_workgroup`)
@pytest.mark.parametrize("rows,classes", [(64, 10), (1, 3), (5000, 250), (2, 40_000)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_gradient_comes_with_the_forward_pass(device, rows, classes, reduction,
                                                            smoothing):
    # loss.backward() hands out the gradient the forward kernel wrote: no dispatch of its
    # own, the same bits as the backward kernel's (a gradient given explicitly), and
    # PyTorch's values
    rng = np.random.default_rng(12)
    x, targets = make_input(rng, (rows, classes)) * 4, rng.integers(0, classes, size=rows)
    grads, backward_dispatches = [], []
    for seed in (None, eg.tensor(1.0)):
        logits = eg.tensor(x, requires_grad=True)
        loss = F.cross_entropy(logits, eg.tensor(targets.astype(np.int32)),
                               reduction=reduction, label_smoothing=smoothing)
        logits.backend.one()   # backward()'s seed made (one fill, the first time) before counting
        counted = getattr(logits.backend, "stats", {"dispatches": 0})
        before = counted["dispatches"]
        loss.backward(seed)
        backward_dispatches.append(counted["dispatches"] - before)
        grads.append(logits.grad.numpy())
    assert np.array_equal(grads[0], grads[1])
    if device == "gpu":
        assert backward_dispatches == [0, 1]
    reference = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    TF.cross_entropy(reference, torch.tensor(targets), reduction=reduction,
                     label_smoothing=smoothing).backward()
    assert_close(grads[0], reference.grad.numpy(), TOL)


@pytest.mark.parametrize("shape", [(), (17,), (17, 65), (2, 3, 5)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(device, shape, reduction):
    check_op(lambda a, b: F.mse_loss(a, b, reduction=reduction),
             lambda a, b: TF.mse_loss(a, b, reduction=reduction), [shape, shape], device)


@pytest.mark.parametrize("shape", [(17,), (17, 65), (3, 4, 5)], ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(device, shape, reduction):
    rng = np.random.default_rng(11)
    logits = make_input(rng, shape) * 10            # saturating logits on both sides
    target = make_input(rng, shape, low=0.0, high=1.0)
    check_op(lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
             lambda x, y: TF.binary_cross_entropy_with_logits(x, y, reduction=reduction),
             device=device, inputs=[logits, target])


# -- random numbers ---------------------------------------------------------------------------------

def test_randn_statistics(device):
    x = eg.randn(1000, 1000)
    assert x.shape == (1000, 1000) and x.dtype == "float32" and not x.requires_grad
    v = x.numpy().astype(np.float64)
    assert np.isfinite(v).all()
    assert abs(v.mean()) < 5e-3          # 5 standard errors (1/sqrt(1e6) = 1e-3)
    assert abs(v.std() - 1.0) < 5e-3
    assert abs(np.mean(np.abs(v) < 1.0) - 0.682689) < 5e-3   # the shape, not just 2 moments
    assert abs(np.mean(v > 2.0) - 0.0227501) < 1.5e-3


def test_rand_statistics(device):
    u = eg.rand(1000, 1000).numpy().astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 2e-3
    assert abs(u.var() - 1 / 12) < 1e-3
    hist = np.histogram(u, bins=10, range=(0, 1))[0] / u.size
    assert np.abs(hist - 0.1).max() < 3e-3


def test_manual_seed_reproduces(device):
    eg.manual_seed(123)
    a, b = eg.randn(1000).numpy(), eg.rand(77).numpy()
    eg.manual_seed(123)
    np.testing.assert_array_equal(a, eg.randn(1000).numpy())
    np.testing.assert_array_equal(b, eg.rand(77).numpy())
    assert not np.array_equal(eg.randn(1000).numpy(), a)      # the stream moves on
    eg.manual_seed(124)
    assert not np.array_equal(eg.randn(1000).numpy(), a)


@pytest.mark.gpu
def test_random_same_numbers_on_gpu_and_cpu():
    draws = {}
    for dev in ("gpu", "cpu"):
        eg.set_device(dev)  # no adapter -> NoGPUError: fails, never skips
        eg.manual_seed(42)
        draws[dev] = (eg.randn(300_001).numpy(), eg.rand(1000).numpy(), eg.randn(7, 9).numpy())
    for g, c in zip(draws["gpu"], draws["cpu"]):
        assert np.abs(g - c).max() <= 1e-5


# -- comparisons, casts, leaving the device ------------------------------------------------------------

@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
@pytest.mark.parametrize("shapes", [((17, 65), (17, 65)), ((17, 65), (65,)), ((3, 1), (1, 4)),
                                    ((257,), ())], ids=_id)
def test_comparison(device, op, shapes):
    rng = np.random.default_rng(12)
    # small integers, so equal values occur
    a, b = (rng.integers(-2, 3, size=s).astype(np.float32) for s in shapes)
    fn = eval(f"lambda x, y: x {op} y")
    ta = eg.tensor(a, requires_grad=True)
    got = fn(ta, eg.tensor(b))
    want = fn(torch.tensor(a), torch.tensor(b))
    assert got.dtype == "float32" and not got.requires_grad
    assert got.shape == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy().astype(np.float32))
    # with a Python scalar, on either side
    np.testing.assert_array_equal(fn(ta, 0).numpy(), fn(torch.tensor(a), 0).numpy())
    np.testing.assert_array_equal(fn(0.5, ta).numpy(), fn(0.5, torch.tensor(a)).numpy())


def test_comparison_of_int_tensors(device):
    a, b = eg.tensor([1, 2, 3]), eg.tensor([3, 2, 1])
    assert a.dtype == "int32"
    assert (a == b).tolist() == [0.0, 1.0, 0.0]
    assert (a < 2.5).tolist() == [1.0, 1.0, 0.0]


def test_casts(device):
    x = np.array([-2.7, -1.5, -0.2, 0.0, 0.4, 1.5, 2.999, 1e6, -16777216.0], np.float32)
    t = eg.tensor(x)
    i = t.int()
    assert i.dtype == "int32" and i.shape == t.shape
    np.testing.assert_array_equal(i.numpy(), torch.tensor(x).int().numpy())
    assert t.long().dtype == "int32"
    back = i.float()
    assert back.dtype == "float32"
    np.testing.assert_array_equal(back.numpy(), torch.tensor(x).int().float().numpy())
    assert t.float() is t and i.int() is i
    big = eg.tensor(np.array([[1, -7], [2 ** 24, -(2 ** 31)]], np.int32))
    assert big.float().tolist() == [[1.0, -7.0], [16777216.0, -2147483648.0]]
    assert eg.arange(5).float().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert eg.zeros(3, dtype=eg.int32).tolist() == [0, 0, 0]
    assert eg.ones(2, 2, dtype=eg.int32).tolist() == [[1, 1], [1, 1]]
    assert eg.full((3,), 7, dtype=eg.int32).tolist() == [7, 7, 7]


def test_tolist_item_numpy(device):
    assert eg.tensor(2.5).item() == 2.5
    assert eg.tensor(2.5).tolist() == 2.5
    assert eg.tensor(2.5).shape == ()
    assert eg.tensor([[1.5]]).item() == 1.5
    assert isinstance(eg.tensor([7]).item(), int) and eg.tensor([7]).item() == 7
    nested = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]
    t = eg.tensor(nested)
    assert t.tolist() == nested and t.shape == (2, 3) and t.dtype == "float32"
    assert t.numpy().dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.array(nested, np.float32))
    ints = eg.tensor([[1, 2], [3, -4]])
    assert ints.dtype == "int32" and ints.tolist() == [[1, 2], [3, -4]]
    assert ints.numpy().dtype == np.int32
    x = np.random.default_rng(13).standard_normal((3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(eg.tensor(x).numpy(), x)
    assert eg.tensor(x).tolist() == x.tolist()
    assert float(eg.tensor([3.25])) == 3.25 and int(eg.tensor([3])) == 3
    z = eg.zeros(0)
    assert z.shape == (0,) and z.tolist() == [] and z.numpy().shape == (0,)
    with pytest.raises(ValueError, match=r"one element.*\(2, 3\)"):
        t.item()
    assert eg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert eg.ones(4).numpy().tolist() == [1.0] * 4
    assert eg.full((2,), 3.5).tolist() == [3.5, 3.5]
    assert eg.arange(2, 11, 3).tolist() == [2, 5, 8]
