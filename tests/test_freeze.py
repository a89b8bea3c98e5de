"""Freezing parameters, PyTorch's way: requires_grad_(False) on a tensor or a module.

A frozen parameter takes part in the forward pass, passes gradients on to what came
before it, but gets no .grad of its own, so an optimizer built over *all* parameters
skips it. Each test does the same thing in PyTorch and compares (examples/transfer.py
relies on all of it: freeze the body, replace the head, fine-tune).
"""
import numpy as np
import pytest
import torch

import engine as eg
from engine import nn, optim
import engine.nn.functional as F
from engine.train import fit
from helpers import assert_close

STEPS = 4


def _twin_models():
    """The same 6-16-5 MLP in the engine and in PyTorch (float64), weights copied."""
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 5))
    twin = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(),
                               torch.nn.Linear(16, 5)).double()
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(model.named_parameters(), twin.named_parameters()):
            assert name == tname
            tp.copy_(torch.tensor(p.numpy().astype(np.float64)))
    return model, twin


def _batch(seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((12, 6)).astype(np.float32), rng.integers(0, 5, 12)


@pytest.mark.parametrize("make", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    (lambda ps: optim.Adam(ps, lr=1e-2), lambda ps: torch.optim.Adam(ps, lr=1e-2)),
], ids=["sgd", "adam"])
def test_frozen_body_is_skipped_by_the_optimizer(device, make):
    model, twin = _twin_models()
    before = {name: p.numpy().copy() for name, p in model.named_parameters()}
    assert model[0].requires_grad_(False) is model[0]       # returns the module, as torch
    twin[0].requires_grad_(False)
    opt, topt = make[0](model.parameters()), make[1](twin.parameters())   # all parameters
    x, y = _batch()
    for _ in range(STEPS):
        loss = F.cross_entropy(model(eg.tensor(x)), eg.tensor(y.astype(np.int32)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(twin(torch.tensor(x, dtype=torch.float64)),
                                                  torch.tensor(y))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert_close(loss.item(), tloss.item(), 1e-4, "loss")
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert twin[0].weight.grad is None                      # the reference agrees
    for name, p in model.named_parameters():
        if name.startswith("0."):
            np.testing.assert_array_equal(p.numpy(), before[name], err_msg=name)  # untouched
        else:
            assert not np.array_equal(p.numpy(), before[name]), f"{name} did not train"
            assert_close(p.numpy(), dict(twin.named_parameters())[name].detach().numpy(),
                         1e-4, name)


def test_gradient_flows_through_a_frozen_layer(device):
    """Frozen weights still carry the gradient to the input (and to layers before it)."""
    model, twin = _twin_models()
    model.requires_grad_(False)
    twin.requires_grad_(False)
    x, _ = _batch()
    ex = eg.tensor(x, requires_grad=True)
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    model(ex).square().sum().backward()
    twin(tx).square().sum().backward()
    assert_close(ex.grad.numpy(), tx.grad.numpy(), 1e-4, "input gradient")
    assert all(p.grad is None for p in model.parameters())


def test_frozen_model_records_no_graph(device):
    """With every parameter frozen and an input without grad, nothing is recorded:
    the frozen body of a transfer-learning model costs only its forward pass."""
    model, _ = _twin_models()
    model.requires_grad_(False)
    out = model(eg.tensor(_batch()[0]))
    assert out.requires_grad is False and out._ctx is None
    model.requires_grad_()                                  # the default is True, as torch
    assert all(p.requires_grad for p in model.parameters())
    assert model(eg.tensor(_batch()[0])).requires_grad


def test_unfreezing_later_trains_the_parameter(device):
    """An optimizer keeps frozen parameters, so unfreezing one (gradual unfreezing)
    makes the next steps train it, as in PyTorch."""
    model, _ = _twin_models()
    model[0].requires_grad_(False)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = _batch()
    first = model[0].weight.numpy().copy()

    def step():
        loss = F.cross_entropy(model(eg.tensor(x)), eg.tensor(y.astype(np.int32)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    step()
    np.testing.assert_array_equal(model[0].weight.numpy(), first)
    model[0].requires_grad_(True)
    step()
    assert not np.array_equal(model[0].weight.numpy(), first)


def test_frozen_body_under_fit_with_replay(device):
    """engine.train.fit records the step and replays it (eg.jit on the GPU): the frozen
    layer stays as it was there too, and the head trains."""
    model, _ = _twin_models()
    model[0].requires_grad_(False)
    frozen, head = model[0].weight.numpy().copy(), model[2].weight.numpy().copy()
    rng = np.random.default_rng(0)
    batches = [(eg.tensor(rng.standard_normal((8, 6)).astype(np.float32)),
                eg.tensor(rng.integers(0, 5, 8).astype(np.int32))) for _ in range(5)]
    fit(model, batches, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), progress=False)
    np.testing.assert_array_equal(model[0].weight.numpy(), frozen)
    assert not np.array_equal(model[2].weight.numpy(), head)


def test_tensor_requires_grad_follows_torch(device):
    w = eg.zeros(3)
    assert w.requires_grad_() is w and w.requires_grad     # returns self, default True
    assert w.requires_grad_(False) is w and not w.requires_grad
    # a computed tensor cannot be frozen (torch: "only change requires_grad flags of
    # leaf variables"); setting it True again is harmless
    leaf = eg.ones(3, requires_grad=True)
    computed = leaf * 2.0
    computed.requires_grad_(True)
    with pytest.raises(RuntimeError, match=r"only leaves can be frozen.*detach"):
        computed.requires_grad_(False)
    with pytest.raises(RuntimeError):
        (torch.ones(3, requires_grad=True) * 2.0).requires_grad_(False)
    # only float tensors can require gradients, in both
    with pytest.raises(RuntimeError, match=r"only float32 tensors.*int32"):
        eg.tensor([1, 2], dtype=eg.int32).requires_grad_()
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).requires_grad_()


def test_optimizer_over_only_frozen_parameters_says_so(device):
    """PyTorch accepts it and trains nothing; the engine says why nothing would train."""
    model = nn.Linear(3, 2).requires_grad_(False)
    with pytest.raises(ValueError, match=r"no parameter requires grad.*requires_grad_"):
        optim.SGD(model.parameters(), lr=0.1)
