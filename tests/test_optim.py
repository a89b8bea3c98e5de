"""Optimizers against torch.optim: same starting parameters, same gradients each
step (fresh random ones, so momentum and Adam's moments see varied inputs), five
steps, then the parameters must agree. Shapes miss the 256-thread workgroup."""
import numpy as np
import pytest
import torch

import engine as eg
from engine import optim
from helpers import assert_close

SHAPES = [(17, 65), (257,), (3,), ()]
STEPS = 5
# Five float32 updates of parameters of size ~1 differ from float64 by a few ulps
# each; 1e-5 of max(|p|, 1) is ~100 ulps of headroom and still catches any wrong
# term (a missing bias correction or weight decay changes p by ~lr = 1e-2).
TOL = 1e-5


def _run(device, make_engine_opt, make_torch_opt, steps=STEPS, zero_grad_some=False):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(steps)]

    ours = [eg.tensor(p, requires_grad=True) for p in init]
    theirs = [torch.tensor(p.astype(np.float64), requires_grad=True) for p in init]
    opt, topt = make_engine_opt(ours), make_torch_opt(theirs)
    for step in range(steps):
        opt.zero_grad()
        topt.zero_grad()
        for i, (p, tp, g) in enumerate(zip(ours, theirs, grads[step])):
            if zero_grad_some and i == 1 and step % 2 == 0:
                # a parameter without a gradient this step must not move; its first step
                # comes later than the others' (SGD and Adam update two per kernel: the
                # pair's flags and step counts are each its own)
                continue
            p.grad = eg.tensor(g)
            tp.grad = torch.tensor(g.astype(np.float64))
        opt.step()
        topt.step()
    for i, (p, tp) in enumerate(zip(ours, theirs)):
        assert p.shape == tuple(tp.shape)
        assert p.device.startswith(device)
        assert_close(p.numpy(), tp.detach().numpy(), TOL, f"parameter {i} {p.shape}")
    # the updates happened (a no-op optimizer must not pass)
    assert not np.allclose(ours[0].numpy(), init[0])


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.1, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.05),
    "all": dict(lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True),
}


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd(device, case):
    kw = SGD_CASES[case]
    _run(device, lambda ps: optim.SGD(ps, **kw), lambda ps: torch.optim.SGD(ps, **kw))


ADAM_CASES = {
    "default": dict(lr=1e-2),
    "betas": dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6),
    "weight_decay": dict(lr=1e-2, weight_decay=0.1),
}


@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam(device, case):
    kw = ADAM_CASES[case]
    _run(device, lambda ps: optim.Adam(ps, **kw), lambda ps: torch.optim.Adam(ps, **kw))


@pytest.mark.parametrize("case", ["default", "weight_decay"])
def test_adamw(device, case):
    kw = dict(lr=1e-2) if case == "default" else dict(lr=1e-2, weight_decay=0.3)
    _run(device, lambda ps: optim.AdamW(ps, **kw), lambda ps: torch.optim.AdamW(ps, **kw))


ADAGRAD_CASES = {
    "default": dict(lr=1e-1),
    "lr_decay": dict(lr=1e-1, lr_decay=0.1, eps=1e-6),
    "weight_decay_and_initial": dict(lr=1e-1, weight_decay=0.1, initial_accumulator_value=0.5),
}


@pytest.mark.parametrize("case", list(ADAGRAD_CASES))
def test_adagrad(device, case):
    kw = ADAGRAD_CASES[case]
    _run(device, lambda ps: optim.Adagrad(ps, **kw), lambda ps: torch.optim.Adagrad(ps, **kw))


RMSPROP_CASES = {
    "default": dict(lr=1e-2),
    "alpha_eps": dict(lr=1e-2, alpha=0.9, eps=1e-4),
    "momentum": dict(lr=1e-2, momentum=0.9),
    "centered": dict(lr=1e-2, centered=True),
    "all": dict(lr=1e-2, momentum=0.5, centered=True, weight_decay=0.1),
}


@pytest.mark.parametrize("case", list(RMSPROP_CASES))
def test_rmsprop(device, case):
    kw = RMSPROP_CASES[case]
    _run(device, lambda ps: optim.RMSprop(ps, **kw), lambda ps: torch.optim.RMSprop(ps, **kw))


SCHEDULERS = {
    "step": (lambda o: optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "cosine": (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "onecycle": (lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20),
                 lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20)),
    "onecycle_linear": (
        lambda o: optim.lr_scheduler.OneCycleLR(o, 0.5, 17, pct_start=0.15,
                                                anneal_strategy="linear", cycle_momentum=False),
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, 17, pct_start=0.15,
                                                      anneal_strategy="linear",
                                                      cycle_momentum=False)),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_scheduler_matches_torch(name):
    make, make_torch = SCHEDULERS[name]
    opt = optim.SGD([eg.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)
    sched, tsched = make(opt), make_torch(topt)
    for step in range(16):
        assert sched.get_last_lr()[0] == pytest.approx(tsched.get_last_lr()[0], rel=1e-9,
                                                         abs=1e-12), f"lr at step {step}"
        assert opt.param_groups[0]["momentum"] == pytest.approx(
            topt.param_groups[0]["momentum"], rel=1e-9), f"momentum at step {step}"
        topt.step()   # torch warns when a scheduler steps before its optimizer
        sched.step()
        tsched.step()


def test_params_without_grad_are_left_alone(device):
    _run(device, lambda ps: optim.Adam(ps, lr=1e-2), lambda ps: torch.optim.Adam(ps, lr=1e-2),
         zero_grad_some=True)
    _run(device, lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), zero_grad_some=True)


def test_lr_change_between_steps(device):
    class Both:
        def __init__(self, opt, is_torch):
            self.opt, self.is_torch, self.n = opt, is_torch, 0

        def zero_grad(self):
            self.opt.zero_grad()

        def step(self):
            self.opt.step()
            self.n += 1
            lr = 0.1 / (1 + self.n)
            if self.is_torch:
                for g in self.opt.param_groups:
                    g["lr"] = lr
            else:
                self.opt.lr = lr

    _run(device, lambda ps: Both(optim.SGD(ps, lr=0.1, momentum=0.5), False),
         lambda ps: Both(torch.optim.SGD(ps, lr=0.1, momentum=0.5), True))


def test_training_step_end_to_end(device):
    """backward + step through a Linear layer, against torch doing the same."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((33, 20)).astype(np.float32)
    y = rng.integers(0, 7, size=33)
    w0 = rng.standard_normal((7, 20)).astype(np.float32) * 0.2
    b0 = rng.standard_normal(7).astype(np.float32) * 0.2
    w, b = eg.tensor(w0, requires_grad=True), eg.tensor(b0, requires_grad=True)
    tw = torch.tensor(w0.astype(np.float64), requires_grad=True)
    tb = torch.tensor(b0.astype(np.float64), requires_grad=True)
    opt = optim.Adam([w, b], lr=1e-2)
    topt = torch.optim.Adam([tw, tb], lr=1e-2)
    xs, ys = eg.tensor(x), eg.tensor(y.astype(np.int32))
    for _ in range(STEPS):
        opt.zero_grad()
        loss = eg.nn.functional.cross_entropy(eg.nn.functional.linear(xs, w, b), ys)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(
            torch.nn.functional.linear(torch.tensor(x, dtype=torch.float64), tw, tb),
            torch.tensor(y))
        tloss.backward()
        topt.step()
        assert_close(loss.item(), tloss.item(), 1e-4, "loss")
    assert_close(w.numpy(), tw.detach().numpy(), TOL, "weight")
    assert_close(b.numpy(), tb.detach().numpy(), TOL, "bias")


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_back_to_back_steps_with_changing_lr(device, name):
    """Two steps recorded with no upload between them: the second step's learning rate
    (a uniform rewritten in place on the GPU) must not leak into the first."""
    init = np.linspace(-1, 1, 300, dtype=np.float32)
    grad = np.cos(np.arange(300, dtype=np.float32))
    p = eg.tensor(init, requires_grad=True)
    tp = torch.tensor(init.astype(np.float64), requires_grad=True)
    make = {"sgd": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                    lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
            "adam": (lambda ps: optim.Adam(ps, lr=0.1), lambda ps: torch.optim.Adam(ps, lr=0.1))}
    opt, topt = make[name][0]([p]), make[name][1]([tp])
    p.grad, tp.grad = eg.tensor(grad), torch.tensor(grad.astype(np.float64))
    for lr in (0.1, 0.02, 0.5):
        opt.lr = lr
        topt.param_groups[0]["lr"] = lr
        opt.step()
        topt.step()
    assert_close(p.numpy(), tp.detach().numpy(), TOL, f"{name} parameter")
