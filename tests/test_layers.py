"""Pooling, batch normalisation, dropout and cat/stack: forward and every gradient
against PyTorch float64 and float32 (tests/helpers.py) on the GPU (WGSL through
wgpu; lavapipe here) and numpy backends, then the layers' state (running
statistics, train/eval, state_dict) and the errors a student will meet.

Pooling shapes are odd on purpose: sizes that leave a remainder after the last
window, strides 1-3 with kernels 1-7 (overlapping windows exercise the gather in
the backward kernels), padding 0-2, channel counts that are not powers of two
and batch 1; a few more come from a seeded generator.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine as eg
from engine import nn
import engine.nn.functional as F
from helpers import assert_close, check_op, make_input


# -- pooling ------------------------------------------------------------------------------

def _random_pool_cases(count, seed=42):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        k = int(rng.integers(1, 8))
        s = int(rng.integers(1, 4))
        p = int(rng.integers(0, min(2, k // 2) + 1))
        h, w = (int(v) for v in rng.integers(max(k - 2 * p, 1), k + 10, size=2))
        n, c = int(rng.integers(1, 4)), int(rng.choice([1, 3, 5, 6, 7]))
        cases.append(((n, c, h, w), k, s, p))
    return cases


POOL_CASES = [
    ((1, 3, 7, 7), 2, None, 0),            # batch 1; stride = kernel; a row/col left over
    ((2, 5, 9, 11), 3, 2, 1),              # overlapping windows, padding 1
    ((2, 3, 13, 10), 3, 3, 0),             # stride 3
    ((1, 6, 17, 15), 5, 2, 2),             # padding 2
    ((3, 7, 8, 9), 1, 2, 0),               # kernel 1: strided subsampling
    ((2, 3, 15, 16), 7, 3, 3),             # kernel 7 with padding kernel // 2
    ((2, 2, 6, 10), (2, 3), (1, 2), (1, 0)),   # rectangular kernel, stride, padding
    ((1, 1, 5, 5), 5, 1, 0),               # one window: the whole image
    ((2, 3, 6, 6), 4, 1, 2),               # stride 1, windows overlapping 3 ways
] + _random_pool_cases(6)


def _pool_id(case):
    shape, k, s, p = case
    return f"{'x'.join(map(str, shape))}-k{k}-s{s}-p{p}".replace(" ", "")


@pytest.mark.parametrize("case", POOL_CASES, ids=_pool_id)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d(device, kind, case):
    shape, k, s, p = case
    ours = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    theirs = {"max": TF.max_pool2d, "avg": TF.avg_pool2d}[kind]
    check_op(lambda x: ours(x, k, s, p), lambda x: theirs(x, k, s, p), [shape], device)


@pytest.mark.parametrize("layer", ["MaxPool2d", "AvgPool2d"])
def test_pool_layers(device, layer):
    ours = getattr(nn, layer)(3, stride=2, padding=1)
    theirs = getattr(torch.nn, layer)(3, stride=2, padding=1)
    assert repr(ours) == f"{layer}(kernel_size=3, stride=2, padding=1)"
    check_op(ours, theirs, [(2, 3, 10, 9)], device)
    assert getattr(nn, layer)(2).stride == 2   # stride defaults to the kernel size


def test_max_pool2d_ties_and_infinities(device):
    # ties go to the first position in the window; -inf padding never wins, but a
    # real -inf can (all-equal window), and its gradient goes to the first pixel
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, :2] = -np.inf
    check_op(lambda t: F.max_pool2d(t, 2), lambda t: TF.max_pool2d(t, 2), device=device,
             inputs=[x])
    check_op(lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: TF.max_pool2d(t, 3, 1, 1),
             device=device, inputs=[np.ones((1, 2, 5, 4))])


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_huge_window(device, kind):
    # windows of 90,300 pixels: more loop iterations than lavapipe lets one GPU thread
    # run (65,535), so the kernel walks each window in slices, a dispatch each
    ours = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    theirs = {"max": TF.max_pool2d, "avg": TF.avg_pool2d}[kind]
    x = make_input(np.random.default_rng(0), (1, 2, 300, 301))
    x[0, :, -1, -1] = 10.0   # the maximum in the last pixel of the window
    check_op(lambda t: ours(t, (300, 301)), lambda t: theirs(t, (300, 301)), device=device,
             inputs=[x])


@pytest.mark.parametrize("case", POOL_CASES[:4], ids=_pool_id)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_in_slices(device, kind, case, monkeypatch):
    # the same slicing on every pool: a few window pixels (forward) or windows
    # (backward) per dispatch, each dispatch going on from the previous one's result
    backend = eg.tensor([0.0]).backend
    if hasattr(backend, "POOL_SLICE"):
        monkeypatch.setattr(type(backend), "POOL_SLICE", 2)
    shape, k, s, p = case
    ours = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    theirs = {"max": TF.max_pool2d, "avg": TF.avg_pool2d}[kind]
    check_op(lambda x: ours(x, k, s, p), lambda x: theirs(x, k, s, p), [shape], device)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool2d_big(device, kind):
    # more than 65,535 * 256 outputs and inputs: the dispatch spreads over a 2-D grid
    pool = {"max": F.max_pool2d, "avg": F.avg_pool2d}[kind]
    x = eg.randn(2, 33, 512, 520, requires_grad=True)
    y = pool(x, 3, 1, 1)
    y.backward(eg.ones(y.shape))
    ref = {"max": TF.max_pool2d, "avg": TF.avg_pool2d}[kind]
    xt = torch.tensor(x.numpy(), requires_grad=True)
    yt = ref(xt, 3, 1, 1)
    yt.backward(torch.ones_like(yt))
    assert_close(y.numpy(), yt.detach().numpy(), what="forward")
    assert_close(x.grad.numpy(), xt.grad.numpy(), what="grad")


# -- batch normalisation ---------------------------------------------------------------------

BN_SHAPES = [(8, 5), (1, 3, 7), (4, 129), (3, 6, 17), (2, 6, 5, 7), (1, 3, 4, 4),
             (5, 3, 63, 65)]   # the last: 20,475 values per channel, 2 chunks per channel


def _bn_inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    # an offset much larger than the spread: a one-pass E[x^2] - E[x]^2 would fail here
    x = make_input(rng, shape) * 2.0 + 3.0
    return x, make_input(rng, (c,)), make_input(rng, (c,))


@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_batch_norm_training(device, shape, affine):
    x, w, b = _bn_inputs(shape)
    if affine:
        check_op(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                 lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
                 device=device, inputs=[x, w, b])
    else:
        check_op(lambda x: F.batch_norm(x, None, None, training=True),
                 lambda x: TF.batch_norm(x, None, None, training=True),
                 device=device, inputs=[x])


@pytest.mark.parametrize("shape", [(8, 5), (3, 6, 17), (2, 6, 5, 7)], ids=str)
def test_batch_norm_eval(device, shape):
    x, w, b = _bn_inputs(shape)
    rng = np.random.default_rng(1)
    rm = make_input(rng, (shape[1],)) + 3.0
    rv = make_input(rng, (shape[1],), low=0.5, high=4.0)

    def ours(x, w, b):
        return F.batch_norm(x, eg.tensor(rm), eg.tensor(rv), w, b, training=False, eps=1e-3)

    def theirs(x, w, b):
        stats = [torch.tensor(a, dtype=x.dtype) for a in (rm, rv)]
        return TF.batch_norm(x, *stats, w, b, training=False, eps=1e-3)

    check_op(ours, theirs, device=device, inputs=[x, w, b])


def test_batch_norm_many_chunks(device):
    # 3 channels of 270,000 values: 17 chunks each, summed again by reduce.wgsl
    x, w, b = _bn_inputs((3, 3, 300, 300))
    check_op(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
             lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
             device=device, inputs=[x, w, b])


@pytest.mark.parametrize("layer,shapes", [("BatchNorm1d", [(6, 5), (4, 5), (7, 5)]),
                                          ("BatchNorm1d", [(3, 5, 4), (2, 5, 9), (4, 5, 3)]),
                                          ("BatchNorm2d", [(2, 5, 3, 4), (3, 5, 2, 2),
                                                           (1, 5, 6, 3)])])
def test_batch_norm_running_statistics(device, layer, shapes):
    ours = getattr(nn, layer)(5, eps=1e-3, momentum=0.3)
    theirs = getattr(torch.nn, layer)(5, eps=1e-3, momentum=0.3)
    assert repr(ours) == (f"{layer}(5, eps=0.001, momentum=0.3, affine=True, "
                          f"track_running_stats=True)")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(7)
    for shape in shapes:   # training steps, each with its own batch
        x = make_input(rng, shape) * 3.0 + 1.0
        assert_close(ours(eg.tensor(x.astype(np.float32))).numpy(),
                     theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                     what="training output")
    for name, ref in theirs.state_dict().items():
        assert_close(ours.state_dict()[name].numpy(), ref.numpy(), what=name)
    assert ours.num_batches_tracked.item() == len(shapes)
    ours.eval()
    theirs.eval()
    x = make_input(rng, shapes[0])
    before = ours.running_mean.numpy()
    assert_close(ours(eg.tensor(x.astype(np.float32))).numpy(),
                 theirs(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                 what="eval output")
    assert (ours.running_mean.numpy() == before).all(), "eval() must not update the statistics"
    assert ours.num_batches_tracked.item() == len(shapes)


def test_batch_norm_loads_pytorch_state(device):
    theirs = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 2.0)
        theirs.bias.normal_()
        theirs.running_mean.normal_()
        theirs.running_var.uniform_(0.5, 2.0)
        theirs.num_batches_tracked.fill_(12)
    ours = nn.BatchNorm2d(3).load_state_dict({k: v.numpy() for k, v in
                                              theirs.state_dict().items()})
    assert ours.num_batches_tracked.item() == 12
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    assert_close(ours.eval()(eg.tensor(x)).numpy(),
                 theirs.eval()(torch.tensor(x)).detach().numpy())


def test_batch_norm_without_running_stats(device):
    # track_running_stats=False: batch statistics in eval too, no buffers
    ours, theirs = nn.BatchNorm1d(4, affine=False, track_running_stats=False), \
        torch.nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    assert_close(ours.eval()(eg.tensor(x)).numpy(),
                 theirs.eval()(torch.tensor(x)).detach().numpy())


# -- dropout ---------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_statistics(device, p):
    n = 200_000
    x = eg.rand(n) + 0.5                     # values in [0.5, 1.5)
    y = F.dropout(x, p).numpy()
    xs = x.numpy()
    kept = y != 0
    # the fraction kept is Binomial(n, 1 - p) / n: within 5 standard deviations
    assert abs(kept.mean() - (1 - p)) <= 5 * math.sqrt(p * (1 - p) / n)
    # kept values are scaled by 1 / (1 - p), in float32 like PyTorch
    assert (y[kept] == xs[kept] * np.float32(1 / (1 - p))).all()
    # the expectation identity E[dropout(x)] = x: mean(y) - mean(x) = sum x (m/(1-p) - 1) / n
    # has standard deviation sqrt(sum x^2 * p / (1 - p)) / n
    bound = 5 * math.sqrt((xs.astype(np.float64) ** 2).sum() * p / (1 - p)) / n
    assert abs(y.astype(np.float64).mean() - xs.astype(np.float64).mean()) <= bound


def test_dropout_gradient_is_the_mask(device):
    p = 0.3
    x = eg.randn(37, 129, requires_grad=True)
    G = eg.randn(37, 129)
    y = F.dropout(x, p)
    y.backward(G)
    mask = (y.numpy() != 0).astype(np.float32)      # randn has no exact zeros
    assert 0.6 < mask.mean() < 0.8
    expected = G.numpy() * mask * np.float32(1 / (1 - p))
    assert_close(x.grad.numpy(), expected, tol=1e-6, what="grad = G * mask / (1 - p)")


def test_dropout_seeded(device):
    eg.manual_seed(11)
    a = F.dropout(eg.ones(1000), 0.5).numpy()
    b = F.dropout(eg.ones(1000), 0.5).numpy()
    eg.manual_seed(11)
    again = F.dropout(eg.ones(1000), 0.5).numpy()
    assert (a == again).all(), "the same seed must give the same mask"
    assert (a != b).any(), "successive calls must draw new masks"


@pytest.mark.gpu
def test_dropout_same_mask_on_both_backends():
    masks = {}
    for name in ("gpu", "cpu"):
        eg.set_device(name)
        eg.manual_seed(1234)
        eg.rand(17)   # a draw first: the offset counter must advance alike too
        x = eg.randn(3, 1000, requires_grad=True)
        y = F.dropout(x, 0.37)
        y.backward(eg.ones(y.shape))
        masks[name] = (y.numpy() != 0, x.grad.numpy())
    assert (masks["gpu"][0] == masks["cpu"][0]).all()
    assert (masks["gpu"][1] == masks["cpu"][1]).all()


def test_dropout_edge_probabilities(device):
    x = eg.randn(5, 7, requires_grad=True)
    assert (F.dropout(x, 0.0).numpy() == x.numpy()).all()
    assert (F.dropout(x, 0.5, training=False).numpy() == x.numpy()).all()
    layer = nn.Dropout(0.5).eval()
    assert (layer(x).numpy() == x.numpy()).all()
    y = F.dropout(x, 1.0)                        # p = 1: everything dropped, no 0 * inf
    y.backward(eg.ones(y.shape))
    assert (y.numpy() == 0).all() and (x.grad.numpy() == 0).all()
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"


@pytest.mark.parametrize("p", [-0.1, 1.5, "half", True])
def test_dropout_bad_probability(device, p):
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1"):
        F.dropout(eg.ones(3), p)
    with pytest.raises(ValueError, match=r"dropout probability has to be between 0 and 1"):
        nn.Dropout(p)


# -- cat and stack ----------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cat(device, dim):
    sizes = (2, 5, 1)
    shapes = []
    for s in sizes:
        shape = [3, 4, 6]
        shape[dim] = s
        shapes.append(tuple(shape))
    check_op(lambda *xs: eg.cat(list(xs), dim), lambda *xs: torch.cat(xs, dim), shapes, device)


@pytest.mark.parametrize("shapes,dim", [([(7,), (1,), (300,)], 0),
                                        ([(2, 3, 4, 5), (2, 3, 1, 5)], 2),
                                        ([(1, 257), (1, 129)], 1)], ids=str)
def test_cat_more_shapes(device, shapes, dim):
    check_op(lambda *xs: eg.cat(xs, dim), lambda *xs: torch.cat(xs, dim), shapes, device)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(device, dim):
    check_op(lambda *xs: eg.stack(xs, dim), lambda *xs: torch.stack(xs, dim),
             [(3, 5)] * 3, device)


def test_cat_partial_gradients_and_int32(device):
    a, b = eg.randn(2, 3, requires_grad=True), eg.randn(4, 3)
    y = eg.cat([a, b, a])
    y.backward(eg.ones(y.shape))
    assert (a.grad.numpy() == 2).all() and b.grad is None
    ints = eg.cat([eg.tensor([[1, 2]]), eg.tensor([[3, 4], [5, 6]])])
    assert ints.dtype == "int32" and ints.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert eg.stack([eg.tensor([1, 2]), eg.tensor([3, 4])], 1).tolist() == [[1, 3], [2, 4]]


def test_cat_errors(device):
    with pytest.raises(ValueError, match=r"cat: expected a non-empty list"):
        eg.cat([])
    with pytest.raises(TypeError, match=r"list or tuple of tensors"):
        eg.cat(eg.ones(3))
    with pytest.raises(TypeError, match=r"item 1 is a list"):
        eg.cat([eg.ones(3), [1.0]])
    with pytest.raises(ValueError, match=r"tensor 2 has size 4 in dim 1 but tensor 0 has 3 "
                                         r"\(shapes \(2, 4\) and \(2, 3\)\).*only dim 0"):
        eg.cat([eg.ones(2, 3), eg.ones(5, 3), eg.ones(2, 4)])
    with pytest.raises(ValueError, match=r"tensor 1 has 3 dims \(shape \(1, 2, 3\)\) but "
                                         r"tensor 0 has 2"):
        eg.cat([eg.ones(2, 3), eg.ones(1, 2, 3)])
    with pytest.raises(TypeError, match=r"tensor 1 is int32 but tensor 0 is float32"):
        eg.cat([eg.ones(2), eg.tensor([1, 2])])
    with pytest.raises(IndexError, match=r"dim 2 is out of range.*\(2, 3\)"):
        eg.cat([eg.ones(2, 3)], 2)
    with pytest.raises(ValueError, match=r"zero-dimensional"):
        eg.cat([eg.tensor(1.0), eg.tensor(2.0)])
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3,\) but tensor 0 has "
                                         r"\(2,\)"):
        eg.stack([eg.ones(2), eg.ones(3)])


# -- layers together ----------------------------------------------------------------------------

def _fused_then_hooked(model, x, hooked, counted):
    """Run model forward and backward twice: as it is, then with a forward hook on
    model[hooked]. counted: method names of nn.Conv2d / nn.Linear whose calls to count.
    -> ({method: the layers it ran for, in order}; what the hook saw; outputs;
    gradients of x and the parameters), each of the last two per run."""
    calls, seen, outputs, grads = {name: [] for _, name in counted}, [], [], []
    originals = [(cls, name, getattr(cls, name)) for cls, name in counted]
    for cls, name, original in originals:
        setattr(cls, name, lambda self, *args, original=original, log=calls[name]:
                log.append(self) or original(self, *args))
    try:
        for run in range(2):
            if run == 1:
                model[hooked].register_forward_hook(lambda m, a, out: seen.append(out.numpy()))
            x.grad = None
            model.zero_grad()
            y = model(x)
            y.sum().backward()
            outputs.append(y.numpy())
            grads.append([x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()])
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
    return calls, seen, outputs, grads


@pytest.mark.parametrize("layer", ["linear", "conv2d"])
def test_sequential_fuses_a_layer_and_its_relu_unless_a_hook_watches(device, layer):
    # A Linear or Conv2d then a ReLU runs as one kernel (forward_relu); a forward hook on
    # either needs the layer's own output, so then the two run apart. Same values both ways.
    eg.manual_seed(3)
    if layer == "linear":   # two pairs, and a ReLU with no layer before it
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.ReLU())
        x, cls, hooked = eg.randn(7, 6, requires_grad=True), nn.Linear, 0
        fused_runs = [model[0], model[2], model[2]]   # the hooked first pair ran apart
    else:
        model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(),
                              nn.Linear(48, 2))
        x, cls, hooked = eg.randn(2, 2, 4, 4, requires_grad=True), nn.Conv2d, 1
        fused_runs = [model[0]]                       # the ReLU hooked: apart
    calls, seen, (fused, apart), (fused_grads, apart_grads) = _fused_then_hooked(
        model, x, hooked, [(cls, "forward_relu")])
    assert calls["forward_relu"] == fused_runs and len(seen) == 1
    if hooked == 0:
        assert seen[0].min() < 0                      # the Linear's own output
    assert np.array_equal(fused, apart)
    for a, b in zip(fused_grads, apart_grads):
        assert np.array_equal(a, b)


def test_sequential_runs_conv_relu_pool_as_one_op_unless_a_hook_watches(device):
    # Conv2d, ReLU, MaxPool2d: one op (engine/ops/conv_block.py; one primitive on numpy);
    # a hook on the pool needs the pool's own output, so then the pool runs apart, after
    # the Conv2d+ReLU pair. The same values both ways (the bias gradient's sum may be
    # ordered differently on numpy).
    eg.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2, stride=1),
                          nn.Flatten(), nn.Linear(4, 2))
    x = eg.randn(3, 2, 8, 8, requires_grad=True)
    calls, seen, outputs, grads = _fused_then_hooked(
        model, x, 2, [(nn.Conv2d, "forward_relu_max_pool"), (nn.Conv2d, "forward_relu")])
    # both triples went through forward_relu_max_pool (the second's overlapping pool runs
    # apart inside it), until the hook split the first one
    assert calls["forward_relu_max_pool"] == [model[0], model[3], model[3]]
    assert calls["forward_relu"] == [model[0]] and [a.shape for a in seen] == [(3, 3, 4, 4)]
    assert np.array_equal(outputs[0], outputs[1])
    for a, b in zip(*grads):
        assert_close(a, b, 1e-6)


def test_sequential_train_eval(device):
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8),
                                 torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3))
    ours = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(8, 3))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = eg.randn(16, 6)

    assert ours.training and all(m.training for m in ours.modules())
    first, second = ours(x).numpy(), ours(x).numpy()
    assert (first != second).any(), "training: dropout draws a new mask each pass"
    assert ours[1].num_batches_tracked.item() == 2
    stats = ours[1].running_mean.numpy()
    assert np.abs(stats).max() > 0, "training updates the running mean"

    ours.eval()
    assert not any(m.training for m in ours.modules())
    first, second = ours(x).numpy(), ours(x).numpy()
    assert (first == second).all(), "eval: deterministic"
    assert (ours[1].running_mean.numpy() == stats).all()
    # eval against PyTorch with the same weights and running statistics
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert_close(first, theirs.eval()(torch.tensor(x.numpy())).detach().numpy())

    ours.train()
    loss = ours(x).sum()   # and gradients reach every parameter in training mode
    loss.backward()
    assert all(p.grad is not None for p in ours.parameters())


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pool_errors(device, pool):
    name = pool.__name__
    with pytest.raises(ValueError, match=rf"{name}: expected a 4-D input.*\(3, 8, 8\)"):
        pool(eg.ones(3, 8, 8), 2)
    with pytest.raises(ValueError, match=r"kernel 5x5 is larger than the padded input 4x4 "
                                         r"\(input 2x2, padding \(1, 1\)\)"):
        pool(eg.ones(1, 1, 2, 2), 5, padding=1)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the kernel "
                                         r"size \(3, 3\)"):
        pool(eg.ones(1, 1, 8, 8), 3, padding=2)
    with pytest.raises(ValueError, match=r"must be positive"):
        pool(eg.ones(1, 1, 8, 8), 2, stride=0)
    with pytest.raises(TypeError, match=r"kernel_size must be an int or a pair"):
        pool(eg.ones(1, 1, 8, 8), 2.5)
    layer = nn.MaxPool2d(2) if pool is F.max_pool2d else nn.AvgPool2d(2)
    with pytest.raises(ValueError, match=r"4-D input.*\(8, 8\)"):
        layer(eg.ones(8, 8))


def test_batch_norm_errors(device):
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 16 channels \(num_features\) "
                                         r"in dim 1, got input of shape \(2, 3, 4, 4\)"):
        nn.BatchNorm2d(16)(eg.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 3 channels.*\(4, 5\)"):
        nn.BatchNorm1d(3)(eg.ones(4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2-D or 3-D input, got a 4-D "
                                         r"input of shape \(2, 3, 4, 4\)"):
        nn.BatchNorm1d(3)(eg.ones(2, 3, 4, 4))
    for shape in [(2, 3), (2, 3, 4)]:
        with pytest.raises(ValueError, match=rf"BatchNorm2d: expected a 4-D input, got a "
                                             rf"{len(shape)}-D input of shape"):
            nn.BatchNorm2d(3)(eg.ones(*shape))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        nn.BatchNorm1d(3)(eg.ones(1, 3))
    with pytest.raises(ValueError, match=r"running_mean and running_var; none were given"):
        F.batch_norm(eg.ones(4, 3), None, None)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\).*got \(4,\)"):
        F.batch_norm(eg.ones(4, 3), None, None, eg.ones(4), training=True)
    with pytest.raises(ValueError, match=r"momentum=None"):
        nn.BatchNorm1d(3, momentum=None)
