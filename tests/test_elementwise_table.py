"""The element-wise op table (engine/backend/elementwise_table.py) is the one source:

- the WGSL `case` of every op is the table's code (shaders/unary.wgsl, binary.wgsl);
- UNARY_OPS / BINARY_OPS, the numpy backend and the autograd rules come from it;
- every row's kernel agrees with its numpy function, forward and backward;
- the activations added through it (GELU, SiLU, softplus, hardtanh) match PyTorch,
  forward and backward, on both backends, and each activation has an nn module;
- erf, which WGSL lacks, is float32-accurate.
"""
import inspect
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine as eg
import engine.nn.functional as F
from engine import nn
from engine.backend import base
from engine.backend.elementwise_table import UNARY, BINARY
from engine.ops.elementwise import unary
from engine.shaders import shader_path

from helpers import check_op

CONST = re.compile(r"^const (\w+): u32 = (\d+)u;", re.M)
CASE = re.compile(r"case (\w+):")


def wgsl_codes(kernel):
    """The kernel's own `const NAME: u32 = Nu;` (includes left out) and its case labels."""
    with open(shader_path(kernel), encoding="utf-8") as f:
        source = f.read()
    return {name: int(code) for name, code in CONST.findall(source)}, set(CASE.findall(source))


@pytest.mark.parametrize("kernel, table", [("unary", UNARY), ("binary", BINARY)])
def test_wgsl_cases_are_the_table(kernel, table):
    consts, cases = wgsl_codes(kernel)
    expected = {op.name.upper(): op.code for op in table.values()}
    assert consts == expected, f"shaders/{kernel}.wgsl's constants differ from the table"
    assert cases == set(expected), f"shaders/{kernel}.wgsl: ops without a case, or cases " \
                                   f"without an op: {cases ^ set(expected)}"


def test_op_lists_come_from_the_table():
    assert base.UNARY_OPS == tuple(sorted(UNARY, key=lambda n: UNARY[n].code))
    assert base.BINARY_OPS == tuple(sorted(BINARY, key=lambda n: BINARY[n].code))
    assert [UNARY[n].code for n in base.UNARY_OPS] == list(range(len(UNARY)))


def _arity(fn):
    return len(inspect.signature(fn).parameters)


@pytest.mark.parametrize("table, operands, letters", [(UNARY, 1, "xy"), (BINARY, 2, "aby")])
def test_rows_are_consistent(table, operands, letters):
    for op in table.values():
        assert len(op.args) <= 2, f"{op.name}: the kernels have two scalar arguments"
        assert _arity(op.numpy) == 1 + operands + len(op.args), f"{op.name}: numpy(np, ...)"
        assert set(op.saves) <= set(letters), f"{op.name}: saves {op.saves!r}"
        if isinstance(op.grad, str):   # a gradient kernel: (g, the one saved tensor, *args)
            assert len(op.saves) == 1, f"{op.name}: a gradient kernel reads one saved tensor"
            assert op.grad in BINARY and BINARY[op.grad].args == op.args, op.name
        elif op.grad is not None:
            assert _arity(op.grad) == 1 + len(op.saves) + len(op.args), \
                f"{op.name}: grad(g, *saved, *args) must match saves={op.saves!r}, args={op.args}"


# -- every row: the WGSL case against the numpy function ---------------------------------

SAMPLE_ARGS = {"negative_slope": 0.2, "alpha": 0.7, "factor": 1.5, "value": 0.5,
               "exponent": 1.7, "beta": 1.3, "threshold": 4.0, "min_val": -0.5, "max_val": 0.8}
POSITIVE = {"log", "sqrt", "pow_scalar", "rdiv_scalar"}


def _gpu_and_cpu(fn, x):
    """fn's output and the gradient of x, on the GPU and on numpy."""
    results = []
    for device in ("gpu", "cpu"):
        eg.set_device(device)
        t = eg.tensor(x, requires_grad=True)
        y = fn(t)
        if y.requires_grad:
            y.backward(eg.tensor(np.linspace(-1, 1, x.size, dtype=np.float32).reshape(x.shape)))
        results.append((y.numpy(), None if t.grad is None else t.grad.numpy()))
    return results


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(UNARY))
def test_every_unary_kernel_matches_its_numpy(name):
    op = UNARY[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 67)).astype(np.float32) * 2
    if name in POSITIVE:
        x = np.abs(x) + 0.1
    args = [SAMPLE_ARGS[a] for a in op.args]
    (y_gpu, g_gpu), (y_cpu, g_cpu) = _gpu_and_cpu(lambda t: unary(name, t, *args), x)
    np.testing.assert_allclose(y_gpu, y_cpu, rtol=2e-5, atol=2e-6, err_msg=name)
    if op.grad is not None:
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=2e-5, atol=2e-6, err_msg=name)


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(BINARY))
def test_every_binary_kernel_matches_its_numpy(name):
    op = BINARY[name]
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((5, 33)) * 2).astype(np.float32)
    b = (np.abs(rng.standard_normal((33,))) + 0.5).astype(np.float32)   # broadcast, > 0
    a[0, :3] = b[:3]                                                   # some ties
    args = [SAMPLE_ARGS[n] for n in op.args]
    outs = []
    for device in ("gpu", "cpu"):
        eg.set_device(device)
        be = eg.tensor([0.0]).backend
        out = be.binary(name, be.upload(a.tobytes()), a.shape, be.upload(b.tobytes()), b.shape,
                        a.shape, *args)
        outs.append(np.frombuffer(be.download(out), np.float32))
    np.testing.assert_allclose(outs[0], outs[1], rtol=2e-5, atol=2e-6, err_msg=name)


# -- the new activations against PyTorch ------------------------------------------------------

ACTIVATIONS = {
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta2_threshold5": (lambda x: F.softplus(x, beta=2.0, threshold=5.0),
                                  lambda x: TF.softplus(x, beta=2.0, threshold=5.0)),
    "softplus_beta0.5": (lambda x: F.softplus(x, 0.5), lambda x: TF.softplus(x, 0.5)),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_-0.5_2": (lambda x: F.hardtanh(x, -0.5, 2.0), lambda x: TF.hardtanh(x, -0.5, 2.0)),
}
ODD_SHAPES = [(7,), (3, 65), (2, 3, 257), (1, 1, 5, 11)]


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_matches_pytorch(device, name, shape):
    fn, torch_fn = ACTIVATIONS[name]
    check_op(lambda x: fn(x * 3.0), lambda x: torch_fn(x * 3.0), [shape], device)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_large_and_special_inputs(device, name):
    # overflow of exp / tanh, the softplus threshold from both sides, hardtanh's edges
    x = np.array([-100.0, -50.0, -20.0, -10.0, -2.5, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0,
                  2.0, 2.5, 4.0, 10.0, 19.9, 20.1, 50.0, 100.0])
    fn, torch_fn = ACTIVATIONS[name]
    check_op(fn, torch_fn, device=device, inputs=[x])


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "softplus", "hardtanh"])
def test_activation_gradient_at_zero(device, name):
    fn, torch_fn = ACTIVATIONS[name]
    check_op(fn, torch_fn, device=device, inputs=[np.array([-1.0, 0.0, 0.0, 1.0])])


MODULES = [(nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
           (nn.ELU(0.5), torch.nn.ELU(0.5)), (nn.Sigmoid(), torch.nn.Sigmoid()),
           (nn.Tanh(), torch.nn.Tanh()), (nn.GELU(), torch.nn.GELU()),
           (nn.GELU("tanh"), torch.nn.GELU("tanh")), (nn.SiLU(), torch.nn.SiLU()),
           (nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0)),
           (nn.Hardtanh(-0.5, 2.0), torch.nn.Hardtanh(-0.5, 2.0)),
           (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
           (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1))]


@pytest.mark.parametrize("module, torch_module", MODULES, ids=lambda m: repr(m))
def test_activation_modules(device, module, torch_module):
    assert repr(module) == repr(torch_module)
    check_op(lambda x: module(x * 3.0), lambda x: torch_module(x * 3.0), [(4, 37)], device)


ACTIVATION_MODULES = {"relu": "ReLU", "leaky_relu": "LeakyReLU", "elu": "ELU",
                      "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU", "silu": "SiLU",
                      "softplus": "Softplus", "hardtanh": "Hardtanh", "softmax": "Softmax",
                      "log_softmax": "LogSoftmax"}


def test_every_activation_function_has_a_module():
    for function, module in ACTIVATION_MODULES.items():
        assert function in F.__all__ and hasattr(torch.nn.functional, function), function
        assert hasattr(nn, module) and hasattr(torch.nn, module), f"nn.{module}"


def test_bad_arguments_say_so():
    x = eg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="min_val .* cannot be greater than max_val"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match="min_val .* cannot be greater than max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(TypeError, match="softplus takes 2 scalar argument"):
        unary("softplus", x, 1.0)


# -- erf: float32-accurate --------------------------------------------------------------------

def test_erf_is_float32_accurate(device):
    """shaders/common/math.wgsl documents the method; its max error is checked here."""
    xs = np.concatenate([np.linspace(-6, 6, 2_000_001), np.geomspace(1e-30, 0.8, 200_000),
                         -np.geomspace(1e-30, 0.8, 200_000)]).astype(np.float32)
    ref = np.vectorize(math.erf)(xs.astype(np.float64))
    got = unary("erf", eg.tensor(xs)).numpy().astype(np.float64)
    error = np.abs(got - ref)
    ulps = error / np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    nonzero = ref != 0
    assert error.max() <= 2.5e-7, \
        f"max absolute error {error.max():.3g} at x = {xs[error.argmax()]}"
    assert ulps[nonzero].max() <= 4.0, \
        f"max error {ulps[nonzero].max():.2f} ulp at x = {xs[nonzero][ulps[nonzero].argmax()]}"
    assert got[-1] < 0 and got[xs == 0.0].tolist() == [0.0] and got.max() == 1.0
