"""engine.jit: a training step recorded once and replayed gives what eager gives, bit for
bit; a new shape records anew; what a replay could not repeat runs eagerly, with its
reason. On "gpu" (lavapipe) the replays are real; on "cpu" (numpy) every call is eager.

The browser's replay (one call into JavaScript a step) is checked in
tests/test_replay_browser.py.
"""
import numpy as np
import pytest

import engine as eg
import engine.nn.functional as F
from engine import models as zoo
from engine import nn, optim
from engine.data import DataLoader
from engine.train import fit

STEPS = 6


@pytest.fixture
def gpu():
    """The GPU backend (lavapipe here), where steps are really recorded and replayed."""
    from conftest import _select
    return _select("gpu")


class Digits:
    """48 random 'images' with labels: a dataset the DataLoader reads like MNIST."""
    image_shape, classes = (1, 28, 28), [str(k) for k in range(10)]

    def __init__(self, n=48, seed=0):
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes()
        self.labels = bytes(rng.integers(0, 10, n).tolist())

    def __len__(self):
        return len(self.labels)


def dropout_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.25),
                         nn.Linear(32, 10))


MODELS = {name: (lambda name=name: zoo.build(name)) for name in zoo.MODELS}
MODELS["dropout_mlp"] = dropout_mlp


def train(make_model, use_jit, optimizer="adam", batches=None, steps=STEPS):
    """(losses, state, calls of the Python step, the jit) of a short seeded run."""
    eg.manual_seed(0)
    model = make_model()
    if optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    calls = []

    def step(x, y):
        calls.append(1)
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    jitted = eg.jit(step) if use_jit else step
    batches = batches or [8] * steps
    loaders = {}
    losses = []
    for size in batches:
        if size not in loaders:
            loaders[size] = iter(DataLoader(Digits(), size, shuffle=True, seed=size))
        x, y = next(loaders[size])
        losses.append(jitted(x, y).item())
        sched.step()
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    return losses, state, len(calls), jitted


@pytest.mark.parametrize("name", list(MODELS))
def test_replayed_training_equals_eager_bit_for_bit(device, name):
    optimizer = "sgd" if name in ("lenet5", "resnet_mini") else "adam"
    eager, eager_state, _, _ = train(MODELS[name], False, optimizer)
    replayed, state, calls, step = train(MODELS[name], True, optimizer)
    assert replayed == eager, (replayed, eager)
    assert state.keys() == eager_state.keys()
    for key in state:
        assert np.array_equal(state[key], eager_state[key]), key
    if device == "gpu":   # the Python ran twice (eager, recorded); the rest were replays
        assert calls == 2 and step.replays == STEPS - 2 and step.reason is None
    else:
        assert calls == STEPS and step.replays == 0 and "no dispatches" in step.reason
    if name == "resnet_mini":   # batch norm's counter goes on counting on a replay
        assert int(state["0.weight"].shape[0]) == 16
        assert eager_state["1.num_batches_tracked"] == state["1.num_batches_tracked"] == STEPS


@pytest.mark.gpu
def test_replays_through_wgpu_py_where_its_c_functions_are_not_at_hand(gpu, monkeypatch):
    # natively a replay calls wgpu-native's C functions (_CReplay); without them it takes
    # wgpu-py's public calls, with the same result
    from engine.backend import current_backend
    backend = current_backend()
    assert backend._c_replay is not None        # the fast path is the one normally taken
    eager, eager_state, _, _ = train(MODELS["mlp"], False, "sgd")
    monkeypatch.setattr(backend, "_c_replay", None)
    replayed, state, calls, step = train(MODELS["mlp"], True, "sgd")
    assert calls == 2 and step.replays == STEPS - 2
    assert replayed == eager
    assert all(np.array_equal(state[k], eager_state[k]) for k in state)


@pytest.mark.gpu
def test_a_new_shape_records_again_and_each_shape_replays(gpu):
    sizes = [8, 8, 8, 4, 4, 4, 8, 4]
    eager, eager_state, _, _ = train(MODELS["mlp"], False, batches=sizes)
    replayed, state, calls, step = train(MODELS["mlp"], True, batches=sizes)
    assert replayed == eager
    assert all(np.array_equal(state[k], eager_state[k]) for k in state)
    assert len(step.recordings) == 2 and calls == 4 and step.replays == 4


@pytest.mark.gpu
@pytest.mark.parametrize("case,words", [
    ("item", "read-back"), ("branch", "read-back"), ("host", "host data")])
def test_what_a_replay_cannot_repeat_runs_eagerly_with_its_reason(gpu, case, words, capsys):
    eg.manual_seed(0)
    model = MODELS["mlp"]()
    opt = optim.SGD(model.parameters(), lr=0.05)
    seen = []

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        if case == "item":
            seen.append(loss.item())                       # a read-back inside the step
        elif case == "branch" and loss > 100.0:            # Python control flow on a value
            loss = loss * 0.5
        elif case == "host":
            loss = loss * eg.tensor([1.0]).reshape(())     # a tensor made from host data
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    jitted = eg.jit(step)
    loader = iter(DataLoader(Digits(), 8, shuffle=True))
    losses = [jitted(*next(loader)).item() for _ in range(5)]
    assert jitted.replays == 0 and words in jitted.reason and "test_replay.py:" in jitted.reason
    err = capsys.readouterr().err
    assert err.count("runs eagerly") == 1 and words in err      # said once, on one line
    assert all(np.isfinite(losses)) and len(set(losses)) == 5   # still trains, eagerly
    if case == "item":
        assert len(seen) == 5


@pytest.mark.gpu
def test_returned_tensors_are_the_recorded_ones(gpu):
    eg.manual_seed(0)
    model = MODELS["mlp"]()
    opt = optim.SGD(model.parameters(), lr=0.05)

    @eg.jit
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    loader = iter(DataLoader(Digits(), 8, shuffle=True))
    outputs = [step(*next(loader)) for _ in range(3)]
    first_replay = outputs[2].item()
    fourth = step(*next(loader))
    assert fourth is outputs[1] is outputs[2]          # a replay returns the recorded tensor ...
    assert fourth.item() != first_replay               # ... with the new step's value in it


def test_fit_replays_and_trains_as_eager(device):
    histories = []
    for use_jit in (False, True):
        eg.manual_seed(0)
        model = MODELS["convnetjs"]()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = DataLoader(Digits(96), 16, shuffle=True)
        histories.append(fit(model, loader, opt, epochs=2, log_every=2, progress=False,
                             jit=use_jit))
    assert histories[0] == histories[1]


def sgd_run(use_jit, schedule, count_writes=None):
    """(losses, weights) of an SGD run with momentum where the second linear layer first
    gets a gradient on the second call (the recorded one, under jit), and where
    schedule[i] = (lr of step i, whether step i runs the plain function in between)."""
    eg.manual_seed(0)
    first, second = nn.Linear(784, 10), nn.Linear(784, 10)
    opt = optim.SGD(list(first.parameters()) + list(second.parameters()), lr=0.05,
                    momentum=0.9)
    calls = []

    def step(x, y):
        calls.append(1)
        logits = first(x.flatten(1))
        if len(calls) > 1:    # from the second call on (a recording keeps this branch)
            logits = logits + second(x.flatten(1))
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    jitted = eg.jit(step) if use_jit else step
    loader = iter(DataLoader(Digits(96), 8, shuffle=True))
    losses = []
    for i, (lr, plain) in enumerate(schedule):
        opt.lr = lr
        x, y = next(loader)
        if count_writes is not None and i >= 2:
            count_writes.append([])
        losses.append((step if plain else jitted)(x, y).item())
    weights = [p.numpy().copy() for p in list(first.parameters()) + list(second.parameters())]
    return losses, weights


@pytest.mark.gpu
def test_sgd_replays_rewrite_its_uniforms_only_when_something_changed(gpu, monkeypatch):
    """SGD's update kernels are given nothing that changes by itself from step to step,
    so a replay's hook packs their uniforms only after a change: a new learning rate, an
    eager step in between with another one, or the end of a parameter's first step (here
    the second layer's first update is inside the recorded step). Replayed and eager
    give the same losses and weights all along."""
    schedule = [(0.05, False)] * 5 + [(0.02, False)] * 2 + [(0.5, True), (0.02, False),
                                                           (0.02, False)]
    eager, eager_weights = sgd_run(False, schedule)
    writes = []
    backend = type(eg.tensor([0.0]).backend)
    real_update = backend.sgd_step

    def counting_update(self, updates, *args):
        if writes:   # True: a replay's hook packing uniforms
            writes[-1].extend([self._uniforms_only] * len(updates))
        real_update(self, updates, *args)

    monkeypatch.setattr(backend, "sgd_step", counting_update)
    replayed, weights = sgd_run(True, schedule, count_writes=writes)
    assert replayed == eager
    assert all(np.array_equal(a, b) for a, b in zip(weights, eager_weights))
    uniform_writes = [sum(step) for step in writes]   # per step from the third: parameters packed
    # from the third step: the first replay (the second layer's first step is over), 2
    # unchanged, a new lr, unchanged, an eager step at lr 0.5 (its updates are not a
    # hook's), back to 0.02, unchanged
    assert uniform_writes == [4, 0, 0, 4, 0, 0, 4, 0], uniform_writes
