"""Every kernel variant, forced one at a time, against a float64 reference on the GPU adapter.

engine/backend/kernel_choice.py picks one variant per adapter kind (tiles in
workgroup memory for GPUs, register blocks for CPU-backed adapters), so the suite
on lavapipe would otherwise only ever run the "cpu" kind's choice. Here each
variant is forced (`kernel_choice.forced`) and run on shapes that miss its tiles:
odd M, N, K, K = 1, M = 1, batches, both transposed layouts the backward passes use,
unaligned rows (no vec4 loads) and aligned ones (vec4 loads), with K cut into
slices (split-K) or not. tests/test_kernels_browser.py does the same in Chromium
on WebGPU / SwiftShader.
"""
import numpy as np
import pytest
import torch.nn.functional as TF

import engine as eg
import engine.nn.functional as F
from engine.backend import kernel_choice
from engine.backend.kernel_choice import forced
from helpers import assert_close, check_op

MATMUL_VARIANTS = sorted(kernel_choice.MATMUL_VARIANTS)

# (batch, M, N, K): odd sizes, K = 1, M = 1, N = 1, sizes that are multiples of 4 (vec4
# loads) and not, the MLP's layer shapes, a tile edge plus one
MATMUL_SHAPES = [(1, 1, 1, 1), (1, 1, 130, 1), (1, 17, 1, 33), (1, 33, 65, 17), (1, 65, 64, 64),
                 (2, 5, 7, 3), (3, 17, 20, 12), (1, 64, 256, 78), (1, 10, 36, 64),
                 (1, 32, 64, 100), (2, 33, 65, 1)]


def _shape_id(s):
    return "b{}M{}N{}K{}".format(*s)


@pytest.fixture
def gpu():
    eg.set_device("gpu")
    eg.manual_seed(0)
    return eg.tensor([0.0]).backend


def run_matmul(backend, A, B, bias, trans_a, trans_b, a_batched=True, b_batched=True):
    batch = max(A.shape[0], B.shape[0])
    M, K = (A.shape[2], A.shape[1]) if trans_a else A.shape[1:]
    N = B.shape[1] if trans_b else B.shape[2]
    up = lambda x: backend.upload(np.ascontiguousarray(x, np.float32).tobytes())  # noqa: E731
    out = backend.matmul(up(A), up(B), batch, M, N, K, trans_a=trans_a, trans_b=trans_b,
                         a_batched=a_batched, b_batched=b_batched,
                         bias=None if bias is None else up(bias))
    return np.frombuffer(backend.download(out), np.float32).reshape(batch, M, N)


def reference(A, B, bias, trans_a, trans_b):
    A64, B64 = A.astype(np.float64), B.astype(np.float64)
    ref = (A64.transpose(0, 2, 1) if trans_a else A64) @ (B64.transpose(0, 2, 1) if trans_b else B64)
    return ref if bias is None else ref + bias.astype(np.float64)


@pytest.mark.gpu
@pytest.mark.parametrize("slices", [None, 3], ids=["auto-slices", "3-slices"])
@pytest.mark.parametrize("shape", MATMUL_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("variant", MATMUL_VARIANTS)
def test_matmul_variant(gpu, variant, shape, slices):
    """Every layout (plain, TRANS_A, TRANS_B, both), with and without bias, against float64."""
    batch, M, N, K = shape
    rng = np.random.default_rng(batch * 1000 + M * 100 + N * 10 + K)
    force = dict(matmul=variant) | ({"matmul_slices": slices} if slices else {})
    with forced(**force):
        for trans_a in (False, True):
            for trans_b in (False, True):
                A = rng.standard_normal((batch, K, M) if trans_a else (batch, M, K)).astype(np.float32)
                B = rng.standard_normal((batch, N, K) if trans_b else (batch, K, N)).astype(np.float32)
                bias = rng.standard_normal(N).astype(np.float32) if trans_b else None
                got = run_matmul(gpu, A, B, bias, trans_a, trans_b)
                assert_close(got, reference(A, B, bias, trans_a, trans_b),
                             what=f"{variant} trans_a={trans_a} trans_b={trans_b}")


@pytest.mark.gpu
@pytest.mark.parametrize("variant", MATMUL_VARIANTS)
def test_matmul_variant_shared_operand(gpu, variant):
    """A batched A times one B shared by the batch (b_batched=False), and the other way."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 9, 13)).astype(np.float32)
    B = rng.standard_normal((1, 13, 70)).astype(np.float32)
    with forced(matmul=variant, matmul_slices=2):
        got = run_matmul(gpu, A, B, None, False, False, b_batched=False)
        assert_close(got, A.astype(np.float64) @ B[0].astype(np.float64), what="shared B")
        # op(A) = B[0]^T (70 x 13) shared; op(B) = A[z]^T (13 x 9) per batch entry
        got = run_matmul(gpu, B, A, None, True, True, a_batched=False)
        ref = B[0].T.astype(np.float64) @ A.astype(np.float64).transpose(0, 2, 1)
        assert_close(got, ref, what="shared A")


@pytest.mark.gpu
@pytest.mark.parametrize("variant", MATMUL_VARIANTS)
def test_matmul_variant_autograd(gpu, variant):
    """Forward and both backward products (TRANS_A / TRANS_B) through autograd, against
    PyTorch, and F.linear with its bias in the epilogue."""
    with forced(matmul=variant):
        check_op(lambda a, b: a @ b, None, [(33, 65), (65, 17)], "gpu")
        check_op(lambda a, b: a @ b, None, [(3, 5, 7), (3, 7, 9)], "gpu")
        check_op(F.linear, TF.linear, [(64, 78), (30, 78), (30,)], "gpu")
        check_op(F.linear, TF.linear, [(1, 3), (130, 3), (130,)], "gpu")


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.parametrize("variant", MATMUL_VARIANTS)
def test_matmul_variant_long_k(gpu, variant):
    """K past one invocation's slice (lavapipe's loop limit): the slices' sum."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((1, 2, 70_000)).astype(np.float32)
    B = rng.standard_normal((1, 70_000, 3)).astype(np.float32)
    with forced(matmul=variant):
        assert kernel_choice.matmul_plan(gpu, 1, 2, 3, 70_000).slices >= 3
        assert_close(run_matmul(gpu, A, B, None, False, False), reference(A, B, None, False, False))


@pytest.mark.gpu
@pytest.mark.parametrize("variant", ["per_thread", "per_workgroup"])
@pytest.mark.parametrize("shape", [(3, 17, 5), (512, 784, 1), (1, 300, 1), (2, 20000, 3),
                                   (1, 40000, 1)], ids=str)
def test_reduce_variant(gpu, variant, shape):
    outer, size, inner = shape
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    with forced(reduce=variant):
        for op, fn in (("sum", np.sum), ("max", np.max)):
            out = gpu.reduce(op, gpu.upload(x.tobytes()), outer, size, inner)
            got = np.frombuffer(gpu.download(out), np.float32).reshape(outer, inner)
            assert_close(got, fn(x.astype(np.float64), axis=1), what=f"{variant} {op}")
        idx = np.frombuffer(gpu.download(gpu.argmax(gpu.upload(x.tobytes()), outer, size, inner)),
                            np.int32).reshape(outer, inner)
        assert (idx == np.argmax(x, axis=1)).all()


# ---- conv2d --------------------------------------------------------------------------------

CONV_VARIANTS = sorted(kernel_choice.CONV_VARIANTS)


def _random_conv_shapes(count, seed=11):
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(count):
        k = int(rng.integers(1, 6))
        s, p = int(rng.integers(1, 3)), int(rng.integers(0, 3))
        h, w = (int(max(k - 2 * p, 1) + rng.integers(0, 10)) for _ in range(2))
        shapes.append((int(rng.integers(1, 4)), int(rng.choice([1, 3, 5, 8])), (h, w),
                       int(rng.choice([1, 3, 6, 8, 13, 16, 20])), k, s, p))
    return shapes


# (batch, in channels, (H, W), out channels, kernel, stride, padding): batch 1, C_in 1 and
# 3, kernels 1..5, stride 2, padding, pixel counts that are not a multiple of a block's 8
# columns, channel counts that are not a multiple of 4 rows or that need two row blocks
# (20 > 16), the ConvNetJS net's two layers
CONV_SHAPES = [(1, 1, (1, 1), 1, 1, 1, 0), (1, 1, (7, 5), 3, 3, 1, 1), (2, 3, (9, 9), 5, 5, 2, 2),
               (1, 3, (6, 7), 20, 2, 2, 0), (3, 5, (5, 5), 17, 4, 1, 2), (1, 8, (11, 13), 16, 5, 1, 2),
               (2, 1, (28, 28), 8, 5, 1, 2), (2, 8, (14, 14), 16, 5, 1, 2)] + _random_conv_shapes(4)


def _conv_id(case):
    n, c_in, (h, w), c_out, k, s, p = case
    return f"{n}x{c_in}x{h}x{w}-o{c_out}-k{k}-s{s}-p{p}"


@pytest.mark.gpu
@pytest.mark.parametrize("slices", [None, 3], ids=["auto-slices", "3-slices"])
@pytest.mark.parametrize("case", CONV_SHAPES, ids=_conv_id)
@pytest.mark.parametrize("variant", CONV_VARIANTS)
def test_conv_variant(gpu, variant, case, slices):
    """Forward (with bias), grad input and grad weight of every conv2d variant, through
    autograd, against PyTorch; with K cut into 3 slices (split-K) or the plan's own."""
    n, c_in, hw, c_out, k, s, p = case
    force = dict(conv=variant) | ({"conv_slices": slices} if slices else {})
    with forced(**force):
        check_op(lambda x, w, b: F.conv2d(x, w, b, s, p), lambda x, w, b: TF.conv2d(x, w, b, s, p),
                 [(n, c_in, *hw), (c_out, c_in, k, k), (c_out,)], "gpu")


@pytest.mark.gpu
@pytest.mark.parametrize("variant", CONV_VARIANTS)
def test_conv_variant_long_k(gpu, variant, monkeypatch):
    """A sum longer than one invocation may walk (CONV_K_SLICE, made tiny here) in every
    mode: the slices' partial products added by the reduce kernel."""
    monkeypatch.setattr(kernel_choice, "CONV_K_SLICE", 40)
    monkeypatch.setattr(kernel_choice, "CONV_WEIGHT_CHUNK", 40)
    with forced(conv=variant):
        assert kernel_choice.conv_plan(gpu, 2, 8, 25, 2 * 14 * 14).slices >= 10
        check_op(lambda x, w, b: F.conv2d(x, w, b, 1, 2), lambda x, w, b: TF.conv2d(x, w, b, 1, 2),
                 [(2, 3, 14, 14), (8, 3, 5, 5), (8,)], "gpu")


# ---- the choice itself -----------------------------------------------------------------------

class FakeAdapter:
    """What kernel_choice reads from a backend."""
    def __init__(self, name, software):
        self.adapter_name, self.is_software = name, software

    def describe(self):
        return f"gpu: {self.adapter_name}"

    def _run(self):
        pass


LAVAPIPE = FakeAdapter("llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, CPU)", True)
SWIFTSHADER = FakeAdapter("swiftshader (WebGPU, google)", True)
H100 = FakeAdapter("NVIDIA H100 (Vulkan, DiscreteGPU)", False)


def test_adapter_kinds():
    assert kernel_choice.adapter_kind(LAVAPIPE) == "cpu"
    assert kernel_choice.adapter_kind(SWIFTSHADER) == "swiftshader"
    assert kernel_choice.adapter_kind(H100) == "gpu"


def test_matmul_plans_per_adapter(monkeypatch):
    monkeypatch.setattr(kernel_choice, "cores", lambda: 2)
    fwd = (1, 64, 256, 784)   # the MLP's first layer at batch 64
    assert kernel_choice.matmul_plan(SWIFTSHADER, *fwd).variant == "scalar_8x8"
    assert kernel_choice.matmul_plan(LAVAPIPE, *fwd).variant == "blocked_16x16"
    plan = kernel_choice.matmul_plan(H100, *fwd)
    assert plan.variant == "tiled64"
    # 4 tiles of 64x64 on a GPU: K cut into 3 slices of >= 256, one more layer of tiles each
    assert (plan.slices, plan.k_chunk, plan.groups) == (3, 272, (4, 1, 3))
    # on 2 cores, 2 x 8 tiles of 32x32 are enough: no split
    assert kernel_choice.matmul_plan(SWIFTSHADER, *fwd).slices == 1
    # a small output with a long K is split on a CPU too, a short K never
    assert kernel_choice.matmul_plan(LAVAPIPE, 1, 16, 10, 4096).slices == 4
    assert kernel_choice.matmul_plan(LAVAPIPE, 1, 16, 10, 300).slices == 1
    # every slice within lavapipe's loop limit, whatever the adapter
    for adapter in (LAVAPIPE, SWIFTSHADER, H100):
        plan = kernel_choice.matmul_plan(adapter, 1, 2, 3, 100_000)
        assert plan.k_chunk <= kernel_choice.MATMUL_K_SLICE and plan.slices * plan.k_chunk >= 100_000
    # the same question, the same answer: a recorded step replays the same dispatches
    assert kernel_choice.matmul_plan(H100, *fwd) == kernel_choice.matmul_plan(H100, *fwd)


def test_conv_plans_per_adapter(monkeypatch):
    monkeypatch.setattr(kernel_choice, "cores", lambda: 2)
    # the ConvNetJS net at batch 32: conv1 forward (M 8, cols 32 x 28 x 28, K 25) ...
    for adapter in (LAVAPIPE, SWIFTSHADER):
        plan = kernel_choice.conv_plan(adapter, 0, 8, 32 * 784, 25)
        assert (plan.variant, plan.entry, plan.slices) == ("blocked", "rows8", 1)
        assert plan.groups == (49, 1, 1)   # 3,136 blocks of 8 columns, 64 per workgroup
    plan = kernel_choice.conv_plan(H100, 0, 8, 32 * 784, 25)
    assert (plan.variant, plan.kernel, plan.rows) == ("tiled", "conv2d", 8)
    # ... and its grad weight (M 8, cols 25, K 25,088): one workgroup of columns, so
    # split-K gives each of 2 cores 4 workgroups
    plan = kernel_choice.conv_plan(LAVAPIPE, 2, 8, 25, 32 * 784)
    assert (plan.slices, plan.groups) == (8, (1, 1, 8))
    # 20 output channels: two row blocks of 16
    assert kernel_choice.conv_plan(LAVAPIPE, 0, 20, 1000, 75).blocks == (125, 2)
    # a short sum is never split; every slice within the limit on every adapter
    assert kernel_choice.conv_plan(LAVAPIPE, 2, 8, 25, 100).slices == 1
    for adapter in (LAVAPIPE, SWIFTSHADER, H100):
        for mode in (0, 1, 2):
            plan = kernel_choice.conv_plan(adapter, mode, 3, 10, 100_000)
            assert plan.k_chunk <= kernel_choice.CONV_K_SLICE
            assert plan.slices * plan.k_chunk >= 100_000


def test_an_unknown_conv_variant_is_named():
    with forced(conv="im2col"), pytest.raises(ValueError, match=r"conv2d variant 'im2col': "
                                                                r"expected one of \['blocked', 'tiled'\]"):
        kernel_choice.conv_plan(H100, 0, 8, 8, 8)


def test_forced_choice_is_restored():
    with forced(matmul="blocked_4x8"):
        assert kernel_choice.matmul_plan(H100, 1, 8, 8, 8).variant == "blocked_4x8"
    assert kernel_choice.matmul_plan(H100, 1, 8, 8, 8).variant == "tiled64"


def test_describe_names_every_family():
    for adapter in (LAVAPIPE, SWIFTSHADER, H100):
        text = kernel_choice.describe(adapter)
        for family in ("matmul", "reduce", "conv2d"):
            assert f"  {family}" in text, text
        assert adapter.adapter_name in text


@pytest.mark.gpu
def test_describe_the_adapter_in_use(gpu):
    text = kernel_choice.describe()
    assert gpu.adapter_name in text and "matmul" in text
    print(text)
