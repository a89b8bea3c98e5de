"""nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils, on both backends,
and inside a recorded training step (engine.jit)."""
import math

import numpy as np
import pytest
import torch

import engine as eg
from engine import nn, optim
import engine.nn.functional as F

SHAPES = [(5, 4), (4,), (3, 2, 2)]


def _grads(scale):
    rng = np.random.default_rng(1)
    return [(scale * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]


def _pair(grads):
    ours = [eg.zeros(*g.shape, requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for e, t, g in zip(ours, theirs, grads):
        e.grad, t.grad = eg.tensor(g), torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0], ids=["below", "above"])
def test_clip_grad_norm_matches_torch(device, norm_type, scale):
    """Gradients whose norm is below max_norm (scaled by ~1) and above it (shrunk)."""
    ours, theirs = _pair(_grads(scale))
    total = nn.utils.clip_grad_norm_(ours, max_norm=2.0, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm=2.0, norm_type=norm_type)
    assert isinstance(total, eg.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-5)
    for e, t in zip(ours, theirs):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)
    if scale > 1:   # really clipped: the new total norm is max_norm
        again = torch.nn.utils.get_total_norm([t.grad for t in theirs], norm_type)
        assert abs(again.item() - 2.0) < 1e-4


def test_clip_grad_value_matches_torch(device):
    ours, theirs = _pair(_grads(1.0))
    nn.utils.clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for e, t in zip(ours, theirs):
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert max(abs(e.grad.numpy()).max() for e in ours) == pytest.approx(0.5)


def test_clip_skips_parameters_without_grad_and_takes_one_tensor(device):
    p, frozen = eg.zeros(3, requires_grad=True), eg.zeros(2, requires_grad=True)
    p.grad = eg.tensor([3.0, 0.0, 4.0])
    assert nn.utils.clip_grad_norm_([p, frozen], 1.0).item() == pytest.approx(5.0)
    assert frozen.grad is None
    assert nn.utils.clip_grad_norm_(frozen, 1.0).item() == 0.0
    nn.utils.clip_grad_value_(p, 0.1)
    np.testing.assert_allclose(p.grad.numpy(), [0.1, 0.0, 0.1])


def test_bad_arguments_are_named(device):
    p = eg.zeros(2, requires_grad=True)
    p.grad = eg.tensor([float("inf"), 1.0])
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        nn.utils.clip_grad_norm_([p], 1.0, norm_type=-1)
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.utils.clip_grad_value_([p], -1)
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clipping_inside_a_recorded_step_equals_eager(device):
    """A jitted step that clips gives the same weights as the eager one, and on the GPU it
    is really replayed (clip_grad_norm_ reads nothing back)."""
    def run(use_jit):
        eg.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            opt.step()
            return loss, norm
        if use_jit:
            step = eg.jit(step)
        rng = np.random.default_rng(3)
        norms = []
        for _ in range(5):
            x = eg.tensor(rng.standard_normal((4, 6)).astype(np.float32) * 5)
            y = eg.tensor(rng.integers(0, 3, 4).astype(np.int32))
            _, norm = step(x, y)
            norms.append(norm.item())
        return [p.numpy() for p in model.parameters()], norms, step
    eager, eager_norms, _ = run(False)
    jitted, jit_norms, step = run(True)
    assert jit_norms == eager_norms and max(eager_norms) > 0.1   # clipping happened
    for a, b in zip(eager, jitted):
        np.testing.assert_array_equal(a, b)
    if device == "gpu":
        assert step.replays == 3 and step.reason is None
