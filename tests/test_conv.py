"""conv2d and nn.Conv2d: forward and the gradients of input, weight and bias against
PyTorch float64 and float32 (tests/helpers.py) on the GPU (shaders/conv2d.wgsl through
wgpu; lavapipe here) and numpy backends; the numpy backend in float64 against PyTorch
float64; the layer's initialisation and repr; the errors a student will meet.

The shapes miss the kernel's tiles on purpose (64 columns: batch x pixels; 16, 32 or 64
rows: channels): odd image sizes from 1x1 to 28x28, strides 1-3, padding 0-2, kernels
1-7 and non-square, channel counts 1-12 and 70 (two row tiles), batch 1. More come
from a seeded generator. Sums longer than one workgroup's slice (which the host adds
up): a 17,600-long forward sum, the batch-64 shapes' grad weight, and tiny slices
forced on three cases.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine as eg
from engine import nn
import engine.nn.functional as F
from engine.backend import kernel_choice
from engine.backend.cpu_numpy import NumpyBackend
from helpers import assert_close, check_op, make_input


def _random_cases(count, seed=7):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, 3))
        h, w = (int(max(k - 2 * p, 1) + rng.integers(0, 12)) for k in (kh, kw))
        n = int(rng.integers(1, 4))
        c_in, c_out = (int(rng.choice([1, 3, 5, 7, 12])) for _ in range(2))
        cases.append((n, c_in, (h, w), c_out, (kh, kw), s, p))
    return cases


# (batch, in channels, (H, W), out channels, kernel, stride, padding)
CASES = [
    (1, 1, (1, 1), 1, 1, 1, 0),           # the smallest: one pixel, one channel
    (2, 3, (5, 7), 5, 3, 1, 1),           # odd, non-square image
    (1, 5, (13, 13), 7, 3, 2, 0),         # batch 1, stride 2, a row left over
    (3, 7, (13, 13), 12, (4, 3), 3, 2),   # non-square kernel, stride 3, padding 2
    (2, 3, (28, 28), 5, 7, 1, 0),         # kernel 7; 2 * 22 * 22 = 968 windows
    (2, 1, (28, 28), 8, 5, 1, 2),         # the MNIST first layer, batch 2
    (2, 12, (9, 11), 70, (5, 1), 2, 2),   # 70 out channels: 64-row tiles, two of them
    (1, 3, (5, 7), 3, (1, 7), 1, 0),      # kernel as wide as the image
    (2, 5, (6, 6), 3, 6, 1, 2),           # kernel 6 > the image, fits the padding
    (2, 3, (7, 7), 5, 2, (2, 1), (0, 1)), # stride and padding as (h, w) pairs
    (1, 1100, (4, 4), 3, 4, 1, 0),        # K = 17,600 > CONV_K_SLICE: two slices
] + _random_cases(6)


def _id(case):
    n, c_in, hw, c_out, k, s, p = case
    return f"{n}x{c_in}x{hw[0]}x{hw[1]}-o{c_out}-k{k}-s{s}-p{p}".replace(" ", "")


def _check_conv(case, device, bias=True):
    n, c_in, hw, c_out, k, s, p = case
    kh, kw = (k, k) if isinstance(k, int) else k
    shapes = [(n, c_in, *hw), (c_out, c_in, kh, kw)] + ([(c_out,)] if bias else [])
    check_op(lambda x, w, b=None: F.conv2d(x, w, b, s, p),
             lambda x, w, b=None: TF.conv2d(x, w, b, s, p), shapes, device)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_conv2d(device, case):
    _check_conv(case, device)


def test_conv2d_without_bias(device):
    _check_conv((2, 3, (9, 8), 4, 3, 2, 1), device, bias=False)


@pytest.mark.parametrize("case", [CASES[3], CASES[4], CASES[6]], ids=_id)
def test_conv2d_in_slices(device, case, monkeypatch):
    # tiny slices: every kernel's sum runs over many workgroups, then reduce.wgsl adds them
    # (kernel_choice's limits, read by both variants' plans; the numpy backend has none)
    monkeypatch.setattr(kernel_choice, "CONV_K_SLICE", 20)
    monkeypatch.setattr(kernel_choice, "CONV_WEIGHT_CHUNK", 33)
    _check_conv(case, device)


@pytest.mark.parametrize("sliced", [False, True], ids=["one_slice", "slices"])
@pytest.mark.parametrize("case", [CASES[3], CASES[6]], ids=_id)
def test_conv2d_relu(device, case, sliced, monkeypatch):
    # a Conv2d and its ReLU in one kernel (what nn.Sequential runs for the pair); in
    # slices, the ReLU comes after reduce.wgsl has added them
    from engine.ops.conv import conv2d_relu
    if sliced:
        monkeypatch.setattr(kernel_choice, "CONV_K_SLICE", 20)
    n, c_in, hw, c_out, k, s, p = case
    kh, kw = (k, k) if isinstance(k, int) else k
    check_op(lambda x, w, b: conv2d_relu(x, w, b, s, p),
             lambda x, w, b: TF.relu(TF.conv2d(x, w, b, s, p)),
             [(n, c_in, *hw), (c_out, c_in, kh, kw), (c_out,)], device)


@pytest.mark.parametrize("relu", [True, False], ids=["relu", "bias_only"])
@pytest.mark.parametrize("rows, cols, plane, row_limit", [
    (3, 5, 1, None),      # a Linear's (batch, features): one pass
    (2, 4, 100, None),    # a Conv2d's (batch, channels, pixels): rows, then each channel's pixels
    (70, 3, 513, None),   # 1,539 columns, 70 rows each
    (9, 2, 300, 4),       # more rows than the limit: relu_grad, then the reduce kernel
])
def test_relu_bias_backward(device, rows, cols, plane, row_limit, relu, monkeypatch):
    # The primitive under Conv2d's and Linear's backward: the gradient through the ReLU
    # and its sums per channel (the bias's gradient), against float64
    from engine.backend.kernels import reduce as launcher
    if row_limit is not None:
        monkeypatch.setattr(launcher, "RELU_BIAS_ROWS", row_limit)
    be = eg.backend.current_backend()
    rng = np.random.default_rng(rows * 1000 + plane)
    g = rng.standard_normal((rows, cols, plane)).astype(np.float32)
    y = rng.standard_normal((rows, cols, plane)).astype(np.float32)
    y[0, 0, 0] = 0.0   # a ReLU's output at 0 passes no gradient
    gz, gb = be.relu_bias_backward(eg.tensor(g).data, eg.tensor(y).data if relu else None,
                                   rows, cols, plane)
    want = np.where(y > 0, g, 0).astype(np.float64) if relu else g.astype(np.float64)
    got_gz = eg.Tensor(gz, (rows, cols, plane), "float32", be).numpy()
    got_gb = eg.Tensor(gb, (cols,), "float32", be).numpy()
    assert np.array_equal(got_gz, want.astype(np.float32))
    assert_close(got_gb, want.sum(axis=(0, 2)), what="the bias gradient")


def test_input_without_grad(device):
    # a network's first layer: the data needs no gradient, so none is computed
    x = eg.randn(2, 3, 8, 8)
    w = eg.randn(4, 3, 3, 3, requires_grad=True)
    F.conv2d(x, w, padding=1).sum().backward()
    assert x.grad is None
    wt = torch.tensor(w.numpy(), dtype=torch.float64, requires_grad=True)
    TF.conv2d(torch.tensor(x.numpy(), dtype=torch.float64), wt, padding=1).sum().backward()
    assert_close(w.grad.numpy(), wt.grad.numpy(), what="grad weight")


@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[6]], ids=_id)
def test_numpy_float64_reference(case):
    # the numpy backend in float64 is the tests' high-precision reference: it must agree
    # with PyTorch float64 to ~1e-15, not just float32's 1e-4
    n, c_in, hw, c_out, k, s, p = case
    kh, kw = (k, k) if isinstance(k, int) else k
    s, p = ((s, s) if isinstance(s, int) else s), ((p, p) if isinstance(p, int) else p)
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(shape) for shape in
               [(n, c_in, *hw), (c_out, c_in, kh, kw), (c_out,)])
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = TF.conv2d(xt, wt, bt, s, p)
    g = rng.standard_normal(yt.shape)
    yt.backward(torch.tensor(g))
    be = NumpyBackend("float64")
    geometry = (n, c_in, c_out, hw, tuple(yt.shape[2:]), (kh, kw), s, p)
    y = be.conv2d(x.ravel(), w.ravel(), b, *geometry)
    dx = be.conv2d_grad_input(g.ravel(), w.ravel(), *geometry)
    dw = be.conv2d_grad_weight(g.ravel(), x.ravel(), *geometry)
    for got, ref, what in ((y, yt, "forward"), (dx, xt.grad, "grad input"),
                           (dw, wt.grad, "grad weight")):
        assert got.dtype == np.float64, what
        assert_close(got.reshape(ref.shape), ref.detach().numpy(), 1e-12, what)


@pytest.mark.parametrize("shape", [(64, 1, 28, 28, 8, 5, 2), (64, 8, 14, 14, 16, 5, 2),
                                   (64, 16, 7, 7, 32, 3, 1), (64, 16, 14, 14, 16, 3, 1)],
                         ids=lambda s: "x".join(map(str, s)))
def test_conv2d_mnist_shapes(device, shape):
    # the benchmark's shapes (bench/bench_conv.py): batch 64, grad weight sums 3,136-50,176
    # products, in 4-49 slices
    n, c_in, h, w, c_out, k, p = shape
    _check_conv((n, c_in, (h, w), c_out, k, 1, p), device)


@pytest.mark.slow
@pytest.mark.gpu
def test_conv2d_2d_grid():
    # 1 x 2100 x 2100 pixels = 69,000 tiles of 64 columns: the tiles spread over x and y
    eg.set_device("gpu")
    rng = np.random.default_rng(5)
    x = make_input(rng, (1, 1, 2100, 2100)).astype(np.float32)
    w = make_input(rng, (2, 1, 3, 3)).astype(np.float32)
    xe, we = eg.tensor(x, requires_grad=True), eg.tensor(w)
    y = F.conv2d(xe, we, padding=1)
    y.backward(eg.ones(y.shape))
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = TF.conv2d(xt, torch.tensor(w, dtype=torch.float64), padding=1)
    yt.backward(torch.ones_like(yt))
    assert_close(y.numpy(), yt.detach().numpy(), what="forward")
    assert_close(xe.grad.numpy(), xt.grad.numpy(), what="grad input")


# -- nn.Conv2d ------------------------------------------------------------------------------

def test_conv2d_layer_shapes_and_repr(device):
    layer = nn.Conv2d(1, 8, 5, padding=2)
    assert layer.weight.shape == (8, 1, 5, 5) and layer.bias.shape == (8,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == ("Conv2d(in_channels=1, out_channels=8, kernel_size=(5, 5), "
                           "stride=(1, 1), padding=(2, 2), bias=True)")
    y = layer(eg.randn(3, 1, 28, 28))
    assert y.shape == (3, 8, 28, 28)
    odd = nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(0, 1), bias=False)
    assert odd.bias is None and odd.weight.shape == (5, 3, 3, 2)
    assert [name for name, _ in odd.named_parameters()] == ["weight"]
    assert repr(odd).endswith("kernel_size=(3, 2), stride=(2, 1), padding=(0, 1), bias=False)")
    assert odd(eg.randn(2, 3, 7, 7)).shape == (2, 5, 3, 8)


@pytest.mark.parametrize("c_in,c_out,k", [(16, 32, 5), (3, 64, (3, 5))])
def test_conv2d_layer_init(device, c_in, c_out, k):
    # PyTorch's default: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    # fan_in = c_in * kh * kw (kaiming_uniform_ with a = sqrt(5) comes to that)
    eg.manual_seed(0)
    layer = nn.Conv2d(c_in, c_out, k)
    fan_in = c_in * math.prod(layer.kernel_size)
    bound = 1 / math.sqrt(fan_in)
    assert bound == pytest.approx(torch.nn.init._calculate_correct_fan(
        torch.nn.Conv2d(c_in, c_out, k).weight, "fan_in") ** -0.5)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on (-bound, bound): mean 0, std bound / sqrt(3) (10,000+ samples: within 3%)
    assert abs(w.mean()) < 0.03 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert np.abs(b).max() > 0.5 * bound   # the bias spreads over the same range, not less


def test_conv2d_layer_in_a_model_matches_torch(device):
    # Conv2d -> ReLU -> Flatten -> Linear, weights copied into PyTorch: the same loss and grads
    eg.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 5, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(5 * 4 * 4, 7))
    ref = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, stride=2, padding=1), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(5 * 4 * 4, 7)).double()
    with torch.no_grad():
        for p, q in zip(model.parameters(), ref.parameters()):
            q.copy_(torch.tensor(p.numpy()))
    x = make_input(np.random.default_rng(4), (2, 3, 8, 7))
    targets = np.array([1, 6])
    loss = F.cross_entropy(model(eg.tensor(x.astype(np.float32))),
                           eg.tensor(targets.astype(np.int32)))
    loss.backward()
    ref_loss = TF.cross_entropy(ref(torch.tensor(x)), torch.tensor(targets))
    ref_loss.backward()
    assert_close(loss.item(), ref_loss.item(), what="loss")
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        assert_close(p.grad.numpy(), q.grad.numpy(), what=f"grad of {name}")


# -- errors -----------------------------------------------------------------------------------

def test_input_not_4d(device):
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\), got shape \(3, 5, 5\)"):
        F.conv2d(eg.zeros(3, 5, 5), eg.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"4-D weight .* got shape \(2, 3, 3\)"):
        F.conv2d(eg.zeros(1, 3, 5, 5), eg.zeros(2, 3, 3))


def test_int_tensor_where_float_needed(device):
    x = eg.zeros(1, 3, 5, 5, dtype="int32")
    with pytest.raises(TypeError, match=r"input must be float32, got int32 of shape "
                                        r"\(1, 3, 5, 5\); convert it with \.float\(\)"):
        F.conv2d(x, eg.zeros(2, 3, 3, 3))
    with pytest.raises(TypeError, match="weight must be float32, got int32"):
        F.conv2d(x.float(), eg.zeros(2, 3, 3, 3, dtype="int32"))


def test_channel_mismatch(device):
    with pytest.raises(ValueError, match=r"input has 3 channels \(shape \(2, 3, 5, 5\)\) but "
                                         r"the weight expects 4 \(weight shape \(8, 4, 3, 3\)\)"):
        F.conv2d(eg.zeros(2, 3, 5, 5), eg.zeros(8, 4, 3, 3))
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"in_channels=3, got shape \(2, 1, 28, 28\)"):
        layer(eg.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"bias shape \(4,\) should be \(8,\)"):
        F.conv2d(eg.zeros(2, 3, 5, 5), eg.zeros(8, 3, 3, 3), eg.zeros(4))


def test_kernel_larger_than_padded_input(device):
    with pytest.raises(ValueError, match=r"kernel 5x5 is larger than the padded input 3x3 "
                                         r"\(input 3x3, padding \(0, 0\)\)"):
        F.conv2d(eg.zeros(1, 1, 3, 3), eg.zeros(1, 1, 5, 5))
    with pytest.raises(ValueError, match=r"kernel 2x7 is larger than the padded input 7x6"):
        F.conv2d(eg.zeros(1, 1, 5, 4), eg.zeros(1, 1, 2, 7), padding=1)
    assert F.conv2d(eg.zeros(1, 1, 3, 3), eg.zeros(1, 1, 5, 5), padding=1).shape == (1, 1, 1, 1)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(stride=0), ValueError, r"stride \(0, 0\) must be positive"),
    (dict(stride=(1, -2)), ValueError, r"stride \(1, -2\) must be positive"),
    (dict(padding=-1), ValueError, r"padding \(-1, -1\) non-negative"),
    (dict(stride=1.5), TypeError, r"stride must be an int or a pair of ints, got 1\.5"),
    (dict(padding=(1, 1, 1)), TypeError, r"padding must be an int or a pair of ints"),
])
def test_invalid_stride_or_padding(device, kwargs, error, message):
    with pytest.raises(error, match=message):
        F.conv2d(eg.zeros(1, 1, 5, 5), eg.zeros(1, 1, 3, 3), **kwargs)


def test_invalid_layer_arguments(device):
    with pytest.raises(ValueError, match="channel counts must be positive"):
        nn.Conv2d(0, 8, 3)
    with pytest.raises(ValueError, match=r"kernel_size \(0, 3\)"):
        nn.Conv2d(1, 8, (0, 3))
    with pytest.raises(TypeError, match="Conv2d: stride must be an int or a pair of ints"):
        nn.Conv2d(1, 8, 3, stride="2")


def test_numpy_conv_keeps_its_columns_for_the_weight_gradient_only():
    # The numpy backend keeps a forward pass's im2col for the weight gradient (built
    # once per layer and step, not twice), but never serves it to another forward
    # pass (its input may have changed in place since), and forgets it after the
    # backward pass or when the input is gone.
    eg.set_device("cpu")
    backend = eg.backend.current_backend()
    eg.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = eg.randn(4, 2, 6, 6)
    first = conv(x).numpy()
    with eg.no_grad():
        x += 1.0                                   # in place: the same array, new values
    again = conv(x)
    twin = torch.nn.Conv2d(2, 3, 3, padding=1).double()
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(conv.weight.numpy()))
        twin.bias.copy_(torch.tensor(conv.bias.numpy()))
    expected = twin(torch.tensor(x.numpy(), dtype=torch.float64)).detach().numpy()
    assert not np.allclose(again.numpy(), first)
    assert_close(again.numpy(), expected)
    again.sum().backward()                         # uses the kept columns
    expected_grad = torch.autograd.grad(twin(torch.tensor(x.numpy(), dtype=torch.float64)).sum(),
                                        twin.weight)[0].numpy()
    assert_close(conv.weight.grad.numpy(), expected_grad, what="grad weight")
    assert backend._kept_columns == {}             # forgotten after their last use
    with eg.no_grad():
        conv(eg.randn(4, 2, 6, 6))                 # an input nobody keeps
    assert backend._kept_columns == {}


# (batch, in channels, (H, W), out channels, kernel, stride, padding, pool kernel, pool
# stride): conv2d + ReLU + max-pool, one op on the numpy backend where the windows tile
BLOCK_CASES = [
    (2, 1, (28, 28), 8, 5, 1, 2, 2, None),     # ConvNetJS's and LeNet-5's first block
    (3, 8, (14, 14), 16, 5, 1, 2, 3, None),    # ConvNetJS's second: 14 -> 4, 2 rows left
    (2, 3, (11, 9), 5, 3, 2, 1, (2, 3), None), # non-square pool, strided conv
    (1, 2, (7, 7), 4, 3, 1, 0, 5, None),       # one window: the whole 5x5 map
    (2, 3, (9, 9), 4, 3, 1, 1, 3, 2),          # overlapping windows: the ops apart
]


def _block_id(case):
    *conv, pool, pool_stride = case
    return f"{_id(conv)}-pool{pool}-{pool_stride}".replace(" ", "")


@pytest.mark.parametrize("case", BLOCK_CASES, ids=_block_id)
def test_conv2d_relu_max_pool2d(device, case):
    from engine.ops.conv_block import conv2d_relu_max_pool2d
    n, c_in, hw, c_out, k, s, p, pool, pool_stride = case
    check_op(lambda x, w, b: conv2d_relu_max_pool2d(x, w, b, s, p, pool, pool_stride),
             lambda x, w, b: TF.max_pool2d(TF.relu(TF.conv2d(x, w, b, s, p)), pool,
                                           pool_stride),
             [(n, c_in, *hw), (c_out, c_in, k, k), (c_out,)], device)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", BLOCK_CASES, ids=_block_id)
def test_conv_block_fused_equals_apart(case, bias, monkeypatch):
    # numpy runs the block as one primitive where the pool's windows tile the map: the
    # same values as the ops apart, bit for bit but for the bias gradient's order of
    # summation. NaNs and ties included: they go where max_pool2d sends them.
    from engine.ops.conv import conv2d_relu
    from engine.ops.conv_block import conv2d_relu_max_pool2d
    eg.set_device("cpu")
    n, c_in, hw, c_out, k, s, p, pool, pool_stride = case
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, c_in, *hw)).astype(np.float32)
    x[-1] = 1.0                  # a flat image: equal outputs inside, tied windows
    x[0, 0, :3, :3] = np.nan     # NaN pixels
    w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32) if bias else None
    backend = eg.backend.current_backend()
    primitive = backend.conv2d_relu_max_pool2d
    fused_calls = []
    monkeypatch.setattr(backend, "conv2d_relu_max_pool2d",
                        lambda *a: fused_calls.append(a) or primitive(*a))
    runs, grad = [], None
    for fused in (True, False):
        xs = [None if a is None else eg.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = (conv2d_relu_max_pool2d(*xs, s, p, pool, pool_stride) if fused else
             F.max_pool2d(conv2d_relu(*xs, s, p), pool, pool_stride))
        if grad is None:
            grad = rng.standard_normal(y.shape).astype(np.float32)
        y.backward(eg.tensor(grad))
        runs.append([y.numpy()] + [t.grad.numpy() for t in xs if t is not None])
    assert len(fused_calls) == (0 if pool_stride else 1)   # overlapping windows: apart
    fused, apart = runs
    for what, a, c in zip(["output", "grad x", "grad w", "grad bias"], fused, apart):
        if what == "grad bias":
            assert_close(a, c, 1e-6, what)
        else:
            assert np.array_equal(a, c, equal_nan=True), what
