"""Optimizer.state_dict / load_state_dict in PyTorch's layout, both ways: an engine
optimizer's state loads into the same torch.optim class and vice versa, and the
next step then matches PyTorch's own."""
import numpy as np
import pytest
import torch

import engine as eg
from engine import optim

SHAPES = [(4, 3), (3,)]

CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.0)),
    ("Adam", dict(lr=1e-2, weight_decay=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=1e-1)),
    ("Adagrad", dict(lr=0.1, lr_decay=1e-2, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=1e-2, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=1e-2)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def _grads(step):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _start():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _engine(name, kwargs, values):
    params = [eg.tensor(v, requires_grad=True) for v in values]
    return params, getattr(optim, name)(params, **kwargs)


def _torch(name, kwargs, values):
    params = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    return params, getattr(torch.optim, name)(params, **kwargs)


def _step_engine(params, opt, grads):
    for p, g in zip(params, grads):
        p.grad = eg.tensor(g)
    opt.step()


def _step_torch(params, opt, grads):
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g)
    opt.step()


def _to_torch(state_dict):
    """An engine state_dict with its Tensors turned into torch tensors."""
    convert = (lambda v: torch.tensor(v.numpy()) if isinstance(v, eg.Tensor) else v)
    return {"state": {i: {k: convert(v) for k, v in entry.items()}
                      for i, entry in state_dict["state"].items()},
            "param_groups": [dict(g) for g in state_dict["param_groups"]]}


def _assert_same_state(ours, theirs):
    """Same keys everywhere, same numbers (float32 rounding apart)."""
    assert ours["state"].keys() == theirs["state"].keys()
    for i in theirs["state"]:
        assert ours["state"][i].keys() == theirs["state"][i].keys(), i
        for k, ref in theirs["state"][i].items():
            got = ours["state"][i][k]
            got = got.numpy() if isinstance(got, eg.Tensor) else got.numpy()
            assert got.shape == tuple(ref.shape), (i, k)
            np.testing.assert_allclose(got, ref.numpy(), rtol=1e-5, atol=1e-6, err_msg=f"{i} {k}")
    for g_ours, g_theirs in zip(ours["param_groups"], theirs["param_groups"]):
        assert g_ours.keys() == g_theirs.keys()
        for k in g_theirs:
            assert g_ours[k] == g_theirs[k] or (k == "betas" and tuple(g_ours[k]) == g_theirs[k]), k


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_engine_state_loads_into_torch(device, name, kwargs):
    """Train the engine 3 steps, hand its state to a fresh torch optimizer over the same
    weights: its state_dict equals the engine's, and its 4th step equals the engine's."""
    e_params, e_opt = _engine(name, kwargs, _start())
    for step in range(3):
        _step_engine(e_params, e_opt, _grads(step))
    weights = [p.numpy() for p in e_params]
    t_params, t_opt = _torch(name, kwargs, weights)
    state = e_opt.state_dict()
    t_opt.load_state_dict(_to_torch(state))
    _assert_same_state(state, t_opt.state_dict())
    _step_engine(e_params, e_opt, _grads(3))
    _step_torch(t_params, t_opt, _grads(3))
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_torch_state_loads_into_engine(device, name, kwargs):
    """Train torch 3 steps, load its state_dict into a fresh engine optimizer: the same
    state comes back out, and the next steps follow torch's."""
    t_params, t_opt = _torch(name, kwargs, _start())
    for step in range(3):
        _step_torch(t_params, t_opt, _grads(step))
    e_params, e_opt = _engine(name, kwargs, [p.detach().numpy() for p in t_params])
    e_opt.load_state_dict(t_opt.state_dict())
    _assert_same_state(e_opt.state_dict(), t_opt.state_dict())
    for step in (3, 4):
        _step_engine(e_params, e_opt, _grads(step))
        _step_torch(t_params, t_opt, _grads(step))
    for e, t in zip(e_params, t_params):
        np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_engine_round_trip_copies_into_existing_buffers(device):
    """Loading into an optimizer that already has state writes into its buffers (a
    recorded step keeps pointing at them) and restores the saved numbers."""
    params, opt = _engine("Adam", dict(lr=1e-2), _start())
    _step_engine(params, opt, _grads(0))
    saved = {"state": {i: {k: (eg.tensor(v.numpy()) if isinstance(v, eg.Tensor) else v)
                           for k, v in e.items()} for i, e in opt.state_dict()["state"].items()},
             "param_groups": opt.state_dict()["param_groups"]}
    buffers = [opt.state[id(p)]["exp_avg"] for p in params]
    _step_engine(params, opt, _grads(1))
    opt.load_state_dict(saved)
    assert [opt.state[id(p)]["exp_avg"] for p in params] == buffers   # the same objects
    assert opt.state[id(params[0])]["step"] == 1
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["exp_avg"].numpy(),
                                  saved["state"][0]["exp_avg"].numpy())


def test_mismatched_states_are_refused_and_change_nothing(device):
    params, opt = _engine("Adam", dict(lr=1e-2), _start())
    _step_engine(params, opt, _grads(0))
    before = opt.state_dict()
    before_m = before["state"][0]["exp_avg"].numpy()
    t_params, t_opt = _torch("Adam", dict(lr=1e-2, amsgrad=True), _start())
    _step_torch(t_params, t_opt, _grads(0))
    with pytest.raises(ValueError, match="amsgrad=True"):
        opt.load_state_dict(t_opt.state_dict())
    _, sgd = _torch("SGD", dict(lr=0.1, momentum=0.9), _start())
    with pytest.raises(ValueError, match="lacks betas"):
        opt.load_state_dict(sgd.state_dict())
    _, one = _torch("Adam", dict(lr=1e-2), _start()[:1])
    with pytest.raises(ValueError, match="group 0 of the state has 1 parameters"):
        opt.load_state_dict(one.state_dict())
    wrong = _to_torch(before)
    wrong["state"][1]["exp_avg"] = torch.zeros(7)
    with pytest.raises(ValueError, match="'exp_avg' has 7 elements"):
        opt.load_state_dict(wrong)
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["exp_avg"].numpy(), before_m)
    assert opt.param_groups[0]["lr"] == 1e-2 and "amsgrad" not in opt.param_groups[0]


# -- learning-rate schedules: PyTorch's state_dict layout -----------------------------------

SCHEDULES = {
    "step": ("SGD", dict(lr=0.1, momentum=0.9), "StepLR", dict(step_size=3, gamma=0.5)),
    "cosine": ("Adam", dict(lr=0.1), "CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    "onecycle-sgd": ("SGD", dict(lr=0.1, momentum=0.9), "OneCycleLR",
                     dict(max_lr=0.5, total_steps=20)),
    "onecycle-adam-linear": ("Adam", dict(lr=0.1), "OneCycleLR",
                             dict(max_lr=0.5, total_steps=17, pct_start=0.15,
                                  anneal_strategy="linear")),
}


def _scheduled(lib, case, values):
    opt_name, opt_kwargs, sched_name, sched_kwargs = SCHEDULES[case]
    if lib == "engine":
        params, opt = _engine(opt_name, opt_kwargs, values)
        return params, opt, getattr(optim.lr_scheduler, sched_name)(opt, **sched_kwargs)
    params, opt = _torch(opt_name, opt_kwargs, values)
    return params, opt, getattr(torch.optim.lr_scheduler, sched_name)(opt, **sched_kwargs)


def _hyper(opt):
    group = opt.param_groups[0]
    return (group["lr"], group.get("momentum", 0.0)) + tuple(group.get("betas", ()))


def _assert_same_course(e_opt, e_sched, t_opt, t_sched, steps=8):
    for _ in range(steps):
        for (a, b) in zip(_hyper(e_opt), _hyper(t_opt)):
            assert a == pytest.approx(b, rel=1e-6, abs=1e-12)
        e_sched.step()
        t_opt.step()          # torch wants an optimizer step before each schedule step
        t_sched.step()


@pytest.mark.parametrize("case", SCHEDULES)
def test_engine_schedule_loads_into_torch(case):
    eg.set_device("cpu")
    e_params, e_opt, e_sched = _scheduled("engine", case, _start())
    for step in range(5):
        _step_engine(e_params, e_opt, _grads(step))
        e_sched.step()
    t_params, t_opt, t_sched = _scheduled("torch", case, [p.numpy() for p in e_params])
    assert e_sched.state_dict().keys() == t_sched.state_dict().keys()
    t_opt.load_state_dict(_to_torch(e_opt.state_dict()))
    t_sched.load_state_dict(e_sched.state_dict())
    assert t_sched.last_epoch == 5
    _assert_same_course(e_opt, e_sched, t_opt, t_sched)


@pytest.mark.parametrize("case", SCHEDULES)
def test_torch_schedule_loads_into_engine(case):
    eg.set_device("cpu")
    t_params, t_opt, t_sched = _scheduled("torch", case, _start())
    for step in range(5):
        _step_torch(t_params, t_opt, _grads(step))
        t_sched.step()
    e_params, e_opt, e_sched = _scheduled("engine", case, [p.detach().numpy() for p in t_params])
    e_opt.load_state_dict(t_opt.state_dict())
    e_sched.load_state_dict(t_sched.state_dict())
    assert e_sched.last_step == 5 and e_sched.state_dict().keys() == t_sched.state_dict().keys()
    _assert_same_course(e_opt, e_sched, t_opt, t_sched)


def test_a_schedule_state_of_another_kind_is_refused():
    eg.set_device("cpu")
    _, opt, sched = _scheduled("engine", "step", _start())
    _, _, cosine = _scheduled("torch", "cosine", _start())
    with pytest.raises(ValueError, match="lacks step_size, gamma"):
        sched.load_state_dict(cosine.state_dict())
