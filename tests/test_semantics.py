"""PyTorch's semantics where the engine used to differ, and nothing lost (issue 8).

Each test names the behaviour it pins down; where PyTorch has the behaviour the
test runs PyTorch too and compares. Ops run on both backends (the `device`
fixture: lavapipe and numpy).
"""
import gzip
import json
import math
import os
import random
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine as eg
import engine.nn.functional as F
from engine import nn, optim, serialize
from engine.data import DataLoader
from engine.data.idx import IdxFormatError, read_idx, write_idx
from engine.train import DivergedError, fit
from conftest import _select
from helpers import assert_close, check_op

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _TinyImages:
    """A synthetic image dataset: class c lights up pixel block c."""
    image_shape = (1, 4, 4)
    mean, std = 0.0, 1.0

    def __init__(self, n=96):
        self.labels = bytes(i % 4 for i in range(n))
        self.images = b"".join(bytes(255 if j // 4 == c else 0 for j in range(16))
                               for c in self.labels)

    def __len__(self):
        return len(self.labels)



# -- nll_loss ------------------------------------------------------------------------

def test_nll_loss_is_minus_the_picked_input(device):
    """The issue's example: PyTorch gives -1.0, cross_entropy of the input gave 2.41."""
    got = F.nll_loss(eg.tensor([[1.0, 2.0, 3.0]]), eg.tensor([0])).item()
    assert got == TF.nll_loss(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([0])).item() == -1.0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("log_softmax_first", [False, True], ids=["raw", "log_softmax"])
def test_nll_loss_matches_torch(device, reduction, log_softmax_first):
    targets = np.random.default_rng(3).integers(0, 7, size=13)
    first = (lambda x: F.log_softmax(x, 1)) if log_softmax_first else (lambda x: x)
    torch_first = (lambda x: TF.log_softmax(x, 1)) if log_softmax_first else (lambda x: x)
    check_op(lambda x: F.nll_loss(first(x), eg.tensor(targets.astype(np.int32)),
                                  reduction=reduction),
             lambda x: TF.nll_loss(torch_first(x), torch.tensor(targets), reduction=reduction),
             [(13, 7)], device)


@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_ignore_index_matches_torch(device, loss, reduction, ignore_index):
    """Rows whose target is ignore_index count for nothing; 'mean' divides by the rest."""
    targets = np.array([0, ignore_index, 3, 2, ignore_index, 1, 4], np.int64)
    check_op(lambda x: getattr(F, loss)(x, eg.tensor(targets.astype(np.int32)),
                                        reduction=reduction, ignore_index=ignore_index),
             lambda x: getattr(TF, loss)(x, torch.tensor(targets), reduction=reduction,
                                         ignore_index=ignore_index),
             [(7, 5)], device)


def test_ignore_index_with_label_smoothing_matches_torch(device):
    targets = np.array([1, -100, 0, 2], np.int64)
    check_op(lambda x: F.cross_entropy(x, eg.tensor(targets.astype(np.int32)),
                                       label_smoothing=0.2),
             lambda x: TF.cross_entropy(x, torch.tensor(targets), label_smoothing=0.2),
             [(4, 3)], device)


def test_all_targets_ignored_gives_nan_like_torch(device):
    x = np.zeros((2, 3), np.float32)
    ref = TF.nll_loss(torch.tensor(x), torch.tensor([-100, -100])).item()
    for fn in (F.nll_loss, F.cross_entropy):
        assert math.isnan(fn(eg.tensor(x), eg.tensor([-100, -100])).item()) and math.isnan(ref)


# -- class targets out of range ------------------------------------------------------

@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("bad", [10, -1, 12345])
def test_target_out_of_range_raises_naming_it(device, loss, bad):
    targets = [0, 9, bad, 3]
    with pytest.raises(IndexError):   # PyTorch raises too
        getattr(TF, loss)(torch.zeros(4, 10), torch.tensor(targets))
    with pytest.raises(IndexError, match=rf"{loss}: target {bad}\b.*out of bounds.*10 classes"):
        getattr(F, loss)(eg.zeros(4, 10), eg.tensor(targets))


def test_targets_computed_on_the_device_are_checked(device):
    """Targets made on the device carry no host range: the numpy backend checks them at
    once; the GPU checks them on the device and raises at the next read-back, which
    names the target, instead of returning NaN."""
    targets = (eg.tensor([0.0, 7.0, 2.0]) * 1.0).int()     # computed: no known range
    assert targets.value_range is None
    with pytest.raises(IndexError, match=r"cross_entropy: target 7 .*out of bounds.*4 classes"):
        loss = F.cross_entropy(eg.randn(3, 4), targets)
        loss.item()


def test_device_targets_with_ignore_index_match_torch(device):
    targets = np.array([1, -100, 3, 0], np.int64)
    check_op(lambda x: F.cross_entropy(x, (eg.tensor(targets.astype(np.float32)) * 1.0).int()),
             lambda x: TF.cross_entropy(x, torch.tensor(targets)), [(4, 5)], device)


class _CountingReads:
    """Counts the backend's read-backs (instrumentation; the GPU still does the work)."""

    def __init__(self, monkeypatch, backend):
        self.count, real = 0, backend.download

        def download(arr):
            self.count += 1
            return real(arr)
        monkeypatch.setattr(backend, "download", download)


def test_target_checks_read_nothing_back_during_a_step(device, monkeypatch):
    """The checks must not stall the GPU: a training step with DataLoader labels (their
    range is known on the host) or with targets computed on the device reads nothing
    back; the device check rides on the next read-back."""
    model = nn.Linear(16, 4)
    x, labels = next(iter(DataLoader(_TinyImages(), batch_size=16)))
    computed = (labels.float() * 1.0).int()
    reads = _CountingReads(monkeypatch, x.backend)
    for targets in (labels, computed):
        loss = F.cross_entropy(model(x.reshape(16, 16)), targets)
        loss.backward()
    if device == "gpu":
        assert reads.count == 0
    loss.item()


# -- in place --------------------------------------------------------------------------

def _alias(t):
    return t.reshape(t.numel()), t.detach()


def test_zero_is_in_place(device):
    x = eg.ones(2, 3)
    flat, detached = _alias(x)
    assert x.zero_() is x
    assert flat.tolist() == [0.0] * 6 and detached.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_is_in_place(device, op):
    values = [[1.0, 2.0, 4.0], [8.0, -1.0, 0.5]]
    x, tx = eg.tensor(values), torch.tensor(values)
    flat, detached = _alias(x)
    tflat = tx.reshape(6)
    same = x
    scope = {"x": x, "tx": tx, "y": eg.tensor([2.0, 4.0, 8.0]), "ty": torch.tensor([2.0, 4.0, 8.0])}
    exec(f"x {op} y\ntx {op} ty\nx {op} 3.0\ntx {op} 3.0", scope)
    assert scope["x"] is same
    assert_close(flat.numpy(), tflat.numpy(), what="alias made before the in-place op")
    assert_close(detached.numpy(), scope["tx"].numpy(), what="detached alias")


def test_in_place_on_a_leaf_that_requires_grad_raises_like_torch(device):
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w = torch.ones(3, requires_grad=True)
        w += 1
    w = eg.ones(3, requires_grad=True)
    for change in (lambda: w.__iadd__(1.0), lambda: w.__imul__(2.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*in-place"):
            change()


def test_manual_sgd_step_updates_the_parameter_in_place(device):
    """The classic loop `with no_grad(): p -= lr * p.grad` must change the model's weight."""
    layer = nn.Linear(3, 2)
    before = layer.weight.numpy()
    layer(eg.ones(4, 3)).sum().backward()
    for p in layer.parameters():
        with eg.no_grad():
            p -= 0.1 * p.grad
    assert_close(layer.weight.numpy(), before - 0.1 * 4.0 * np.ones((2, 3)), what="weight")


def test_in_place_op_inside_a_graph_matches_torch(device):
    def run(lib, x, w):
        h = x * w
        h += 1.0
        h *= w
        return h.sum()
    check_op(lambda x, w: run(eg, x, w), lambda x, w: run(torch, x, w), [(3, 4), (3, 4)],
             device)


def test_underscore_methods_work_in_place_and_refuse_graph_tensors(device):
    x = eg.tensor([1.0, 2.0])
    view = x.reshape(2, 1)
    assert x.add_(1.0).mul_(eg.tensor([2.0, 3.0])).sub_(1.0).div_(2.0) is x
    assert view.tolist() == [[1.5], [4.0]] and x.fill_(7.0).tolist() == [7.0, 7.0]
    h = eg.ones(2, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"add_: .*part of an autograd graph"):
        h.add_(1.0)                  # would otherwise leave h unchanged without a word
    with pytest.raises(RuntimeError, match=r"\+=: the result has shape \(2, 2\)"):
        x += eg.ones(2, 2)           # like PyTorch: in place cannot grow the tensor


def test_changing_a_saved_tensor_in_place_is_caught_like_torch(device):
    w, x = eg.ones(3, requires_grad=True), eg.ones(3)
    tw, tx = torch.ones(3, requires_grad=True), torch.ones(3)
    loss, tloss = (w * x).sum(), (tw * tx).sum()
    x += 1.0
    tx += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tloss.backward()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_set_to_none_matches_torch(device, set_to_none):
    values = [[1.0, -2.0], [0.5, 3.0]]
    p, tp = eg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    opt, topt = optim.SGD([p], lr=0.1), torch.optim.SGD([tp], lr=0.1)
    (p * p).sum().backward()
    (tp * tp).sum().backward()
    grad, tgrad = p.grad, tp.grad
    opt.zero_grad(set_to_none=set_to_none)
    topt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert p.grad is None and tp.grad is None
        return
    assert p.grad is grad and tp.grad is tgrad          # kept: the same tensor, zeroed
    assert p.grad.tolist() == tp.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    (p * 3.0).sum().backward()
    (tp * 3.0).sum().backward()
    assert p.grad is grad and p.grad.tolist() == tp.grad.tolist()


def test_gradients_of_two_leaves_never_share_a_buffer(device):
    """add's backward hands one gradient to both inputs; zeroing one leaf's .grad in
    place must not zero the other's (PyTorch gives each leaf its own)."""
    a, b = eg.ones(2, requires_grad=True), eg.ones(2, requires_grad=True)
    ta, tb = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    for x, y in ((a, b), (ta, tb)):
        (x + y).sum().backward()
    optim.SGD([a], lr=1.0).zero_grad(set_to_none=False)
    torch.optim.SGD([ta], lr=1.0).zero_grad(set_to_none=False)
    for x, y in ((a, b), (ta, tb)):
        (x + y).sum().backward()
    assert a.grad.tolist() == ta.grad.tolist() == [1.0, 1.0]
    assert b.grad.tolist() == tb.grad.tolist() == [2.0, 2.0]


def test_manual_seed_leaves_pythons_random_alone(device):
    random.seed(1234)
    state = random.getstate()
    torch.manual_seed(0)
    assert random.getstate() == state          # PyTorch leaves it alone
    eg.manual_seed(0)
    assert random.getstate() == state
    first = [list(y.tolist()) for _, y in DataLoader(_TinyImages(), 16, shuffle=True, seed=3)]
    random.seed(99)
    again = [list(y.tolist()) for _, y in DataLoader(_TinyImages(), 16, shuffle=True, seed=3)]
    assert first == again                      # the loader's order follows its own seed


# -- two devices ------------------------------------------------------------------------

def _on(device, make):
    eg.set_device(device)
    return make()


MIXED = {
    "matmul": lambda c, g: c(eg.randn, 2, 3) @ g(eg.randn, 3, 4),
    "linear": lambda c, g: F.linear(c(eg.randn, 2, 3), g(eg.randn, 4, 3)),
    "linear bias": lambda c, g: F.linear(c(eg.randn, 2, 3), c(eg.randn, 4, 3), g(eg.randn, 4)),
    "conv2d": lambda c, g: F.conv2d(c(eg.randn, 1, 1, 5, 5), g(eg.randn, 2, 1, 3, 3)),
    "cross_entropy": lambda c, g: F.cross_entropy(c(eg.randn, 2, 3), g(eg.tensor, [0, 1])),
    "nll_loss": lambda c, g: F.nll_loss(g(eg.randn, 2, 3), c(eg.tensor, [0, 1])),
    "mse_loss": lambda c, g: F.mse_loss(c(eg.randn, 3), g(eg.randn, 3)),
    "add": lambda c, g: c(eg.randn, 3) + g(eg.randn, 3),
    "sub": lambda c, g: g(eg.randn, 3) - c(eg.randn, 3),
    "mul": lambda c, g: c(eg.randn, 3) * g(eg.randn, 3),
    "div": lambda c, g: c(eg.randn, 3) / g(eg.randn, 3),
    "pow": lambda c, g: c(eg.rand, 3) ** g(eg.randn, 3),
    "maximum": lambda c, g: c(eg.randn, 3).maximum(g(eg.randn, 3)),
    "compare": lambda c, g: c(eg.randn, 3) < g(eg.randn, 3),
    "cat": lambda c, g: eg.cat([c(eg.randn, 3), g(eg.randn, 3)]),
    "in place": lambda c, g: c(eg.randn, 3).__iadd__(g(eg.randn, 3)),
}


@pytest.mark.gpu
@pytest.mark.parametrize("op", list(MIXED))
def test_mixing_devices_names_both(op):
    _select("gpu")   # fails, never skips, without a GPU adapter (see conftest.py)

    def cpu(make, *args):
        return _on("cpu", lambda: make(*args))

    def gpu(make, *args):
        return _on("gpu", lambda: make(*args))
    with pytest.raises(RuntimeError, match=r"two devices") as err:
        MIXED[op](cpu, gpu)
    assert "cpu: numpy" in str(err.value) and "gpu: " in str(err.value)


# -- sizes and empty reductions -----------------------------------------------------

@pytest.mark.parametrize("make", [lambda m: m.zeros(-1), lambda m: m.ones(2, -3),
                                  lambda m: m.zeros((2, -1)), lambda m: m.rand(-2),
                                  lambda m: m.randn(3, -1), lambda m: m.full((-1,), 1.0)],
                         ids=["zeros", "ones", "zeros tuple", "rand", "randn", "full"])
def test_negative_sizes_are_rejected_like_torch(device, make):
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises(ValueError, match=r"negative dimension -\d"):
        make(eg)


def test_arange_running_away_from_its_end_is_rejected_like_torch(device):
    with pytest.raises(RuntimeError):
        torch.arange(5, 0)
    with pytest.raises(ValueError, match="arange"):
        eg.arange(5, 0)
    with pytest.raises(ValueError, match="arange"):
        eg.arange(0, 5, 0)


@pytest.mark.parametrize("shape,dim", [((0,), None), ((0, 3), 0), ((2, 0), 1), ((0, 3), 1)],
                         ids=str)
def test_mean_of_nothing_is_nan_and_sum_is_zero(device, shape, dim):
    x, tx = eg.zeros(*shape), torch.zeros(*shape)
    for name in ("mean", "sum"):
        got = getattr(x, name)() if dim is None else getattr(x, name)(dim)
        ref = getattr(tx, name)() if dim is None else getattr(tx, name)(dim)
        assert_close(got.numpy(), ref.numpy(), what=f"{name} over {shape}, dim {dim}")


# -- saving: atomic, validated, never NaN --------------------------------------------

def _small_model():
    eg.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))


KILL_MID_SAVE = """
import os, signal, sys
sys.path.insert(0, {root!r})
import engine as eg
from engine import serialize
eg.set_device("cpu")

class DiesMidWrite:
    '''A file that is killed (SIGKILL: no cleanup) after its first megabyte.'''
    def __init__(self, f):
        self.f, self.written = f, 0
    def write(self, data):
        if self.written > 1 << 20:
            os.kill(os.getpid(), signal.SIGKILL)
        self.written += len(data)
        return self.f.write(data)
    def __getattr__(self, name):
        return getattr(self.f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.f.__exit__(*exc)

real_open = open
serialize.open = lambda *args, **kw: DiesMidWrite(real_open(*args, **kw))
state = {{"big.{{}}".format(i): eg.randn(256, 1024) for i in range(8)}}   # 8 MB
serialize.save(state, {path!r})
"""


def test_a_save_killed_midway_leaves_the_old_file(tmp_path):
    eg.set_device("cpu")
    path = tmp_path / "w.safetensors"
    old = _small_model().state_dict()
    serialize.save(old, path)
    out = subprocess.run([sys.executable, "-c", KILL_MID_SAVE.format(root=ROOT, path=str(path))],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == -9, out.stderr         # really killed mid-write
    loaded = serialize.load(path)                   # the old file, whole
    assert {k: v.tolist() for k, v in loaded.items()} == {k: v.tolist() for k, v in old.items()}


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    eg.set_device("cpu")
    path = tmp_path / "w.safetensors"
    serialize.save(_small_model().state_dict(), path)
    before = path.read_bytes()
    calls = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append("fsync"))
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    serialize.save(_small_model().state_dict(), tmp_path / "other.safetensors")
    assert calls == ["fsync", "replace"]            # on disk before the rename

    class DiskFull:
        """A file whose second write fails, as on a full disk."""
        def __init__(self, f):
            self.f, self.writes = f, 0

        def write(self, data):
            self.writes += 1
            if self.writes == 2:
                raise OSError(28, "No space left on device")
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)
    real_open = open
    monkeypatch.setattr(serialize, "open", lambda *a, **kw: DiskFull(real_open(*a, **kw)),
                        raising=False)
    with pytest.raises(OSError, match="No space left"):
        serialize.save({"x": eg.ones(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.safetensors", "w.safetensors"]


def _write_safetensors(path, header, body=b"\0" * 64):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + body)
    return path


def _entry(shape, offsets, dtype="F32"):
    return {"dtype": dtype, "shape": shape, "data_offsets": offsets}


@pytest.mark.parametrize("header,problem", [
    ([1, 2], r"header must be a JSON object"),
    ("weights", r"header must be a JSON object"),
    ({"w": [1, 2]}, r"tensor 'w': expected \{dtype, shape, data_offsets\}"),
    ({"w": _entry([-2], [0, 8])}, r"'w': shape \[-2\]"),
    ({"w": _entry([2.5], [0, 8])}, r"'w': shape \[2.5\]"),
    ({"w": _entry([2], [-8, 0])}, r"'w': data_offsets \[-8, 0\]"),
    ({"w": _entry([2], [0])}, r"'w': data_offsets \[0\]"),
    ({"w": _entry([2], [0, 12])}, r"'w' of shape \(2,\) needs 8 bytes"),
    ({"w": _entry([32], [0, 128])}, r"'w': byte range \[0, 128\) runs past"),
    ({"w": _entry([2 ** 62], [0, 2 ** 64])}, r"'w'"),
    ({"a": _entry([4], [0, 16]), "b": _entry([4], [8, 24])}, r"tensors 'a' and 'b' overlap"),
    ({"w": _entry([2], [0, 16], "F64")}, r"'w' has dtype 'F64'"),
])
def test_bad_safetensors_headers_name_file_and_tensor(tmp_path, header, problem):
    path = _write_safetensors(tmp_path / "bad.safetensors", header)
    with pytest.raises(ValueError, match=problem) as err:
        serialize.load(path)
    assert str(err.value).startswith(f"{path}: ")


def test_duplicate_tensor_names_are_rejected(tmp_path):
    entry = '{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    text = f'{{"w": {entry}, "w": {entry}}}'.encode()
    path = tmp_path / "dup.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\0" * 4)
    with pytest.raises(ValueError, match=r"dup\.safetensors.*'w' appears twice"):
        serialize.load(path)


def test_int32_tensor_into_a_float_parameter_is_refused(tmp_path, device):
    model = _small_model()
    state = dict(model.state_dict())
    state["0.bias"] = eg.tensor([1, 2, 3])                        # int32
    path = tmp_path / "ints.safetensors"
    serialize.save(state, path)
    with pytest.raises(TypeError, match=r"0\.bias has dtype int32.*float32.*ints\.safetensors"):
        model.load_state_dict(serialize.load(path))


def test_a_mismatched_file_leaves_the_model_untouched(tmp_path, device):
    model, other = _small_model(), nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 4))
    path = tmp_path / "other.safetensors"
    serialize.save(other.state_dict(), path)
    before = {k: v.tolist() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"2\.weight has shape \(4, 3\).*\(2, 3\)"):
        model.load_state_dict(serialize.load(path))
    assert {k: v.tolist() for k, v in model.state_dict().items()} == before   # 0.* not copied


def test_non_finite_weights_are_named(device):
    from engine.train import check_finite_weights
    model = _small_model()
    with eg.no_grad():
        model[2].bias.fill_(float("nan"))
    with pytest.raises(DivergedError, match=r"2\.bias.*nothing was saved"):
        check_finite_weights(model.state_dict())


# -- fit: every loss read is checked, the last one too ----------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # numpy's own overflow warnings
def test_a_run_shorter_than_log_every_is_checked(device):
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))
    loader = DataLoader(_TinyImages(), batch_size=16)              # 6 steps
    with pytest.raises(DivergedError, match=r"at step 6 of epoch 1"):
        fit(model, loader, optim.SGD(model.parameters(), lr=1e30), log_every=20, progress=False)


def test_divergence_in_the_last_steps_is_caught(device):
    calls = []

    def loss_fn(out, y):   # finite for every logged step, NaN at the very last one
        calls.append(1)
        return F.cross_entropy(out, y) * (float("nan") if len(calls) == 7 else 1.0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
    loader = DataLoader(_TinyImages(n=112), batch_size=16)         # 7 steps
    with pytest.raises(DivergedError, match=r"loss is nan at step 7.*last finite loss"):
        # jit=False: this loss function keeps Python state of its own (the count), which
        # a recorded and replayed step would not run (engine.jit)
        fit(model, loader, optim.SGD(model.parameters(), lr=0.1), loss_fn=loss_fn, log_every=5,
            progress=False, jit=False)


def test_fit_history_ends_with_the_last_step(device):
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
    history = fit(model, DataLoader(_TinyImages(n=112), batch_size=16),
                  optim.SGD(model.parameters(), lr=0.1), log_every=5, progress=False)
    assert [step for step, _ in history] == [5, 7]


def test_optimizers_refuse_a_non_finite_lr():
    params = [eg.ones(2, requires_grad=True)]
    for make in (optim.SGD, optim.Adam, optim.AdamW, optim.Adagrad, optim.RMSprop):
        for lr in (float("nan"), float("inf")):
            with pytest.raises(ValueError, match=r"lr=(nan|inf)"):
                make(params, lr=lr)


# -- the command line -------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_idx(tmp_path_factory):
    """A 4x4-pixel, 4-class dataset in the MNIST file layout: the CLI trains on it in
    about a second on numpy."""
    folder = tmp_path_factory.mktemp("tiny_idx")
    data = _TinyImages(n=64)
    for images, labels in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                           ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        write_idx(folder / images, (len(data), 4, 4), data.images)
        write_idx(folder / labels, (len(data),), data.labels)
    return str(folder)


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "engine.train", "--no-progress",
                           "--device", "cpu", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.mark.parametrize("lr", ["nan", "inf", "-0.1", "0"])
def test_cli_rejects_a_learning_rate_that_is_not_positive_and_finite(tiny_idx, lr):
    out = _cli("--dataset", tiny_idx, "--lr", lr)
    assert out.returncode == 2
    assert f"argument --lr: must be a finite number > 0, got {lr}" in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2, out.stderr


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cli_never_saves_diverged_weights(tiny_idx, tmp_path):
    path = tmp_path / "w.safetensors"
    out = _cli("--dataset", tiny_idx, "--optimizer", "sgd", "--lr", "1e30", "--schedule",
               "none", "--batch-size", "8", "--epochs", "2", "--save", str(path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "diverged" in out.stderr and "Traceback" not in out.stderr
    assert not path.exists()


def test_cli_save_onto_an_existing_file_needs_force(tiny_idx, tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"an earlier run's weights")
    out = _cli("--dataset", tiny_idx, "--save", str(path))
    assert out.returncode == 1
    assert "the file exists; pass --force" in out.stderr
    assert "test accuracy" not in out.stdout            # refused before training
    assert path.read_bytes() == b"an earlier run's weights"
    out = _cli("--dataset", tiny_idx, "--save", str(path), "--force")
    assert out.returncode == 0, out.stderr
    assert "replacing the file that was there" in out.stdout
    assert serialize.load(path)                         # the new weights, whole


@pytest.mark.parametrize("where", ["missing folder", "a folder", "under a file"])
def test_cli_unwritable_save_path_fails_before_training(tiny_idx, tmp_path, where):
    (tmp_path / "file").write_text("x")
    path = {"missing folder": tmp_path / "nope" / "w.safetensors", "a folder": tmp_path,
            "under a file": tmp_path / "file" / "w.safetensors"}[where]
    start = time.perf_counter()
    out = _cli("--dataset", tiny_idx, "--save", str(path), "--epochs", "50")
    assert out.returncode == 1
    assert f"cannot save to '{path}'" in out.stderr
    assert "test accuracy" not in out.stdout and "Traceback" not in out.stderr
    assert time.perf_counter() - start < 60             # 50 epochs were not trained first


def test_cli_errors_print_the_message_and_the_traceback_only_with_debug(tmp_path):
    missing = str(tmp_path / "no-such-dataset")
    out = _cli("--dataset", missing)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert "Traceback" not in out.stderr and 1 <= len(lines) <= 2, out.stderr
    assert lines[0].startswith("python -m engine.train: error: ") and "no-such-dataset" in lines[0]
    out = _cli("--dataset", missing, "--debug")
    assert out.returncode != 0 and "Traceback" in out.stderr


# -- IDX gzip: bounded decompression -----------------------------------------------------

def _gzip_of_zeros(header, megabytes):
    """A gzip member: `header`, then `megabytes` MB of zeros (~1 KB per MB compressed)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [deflate.compress(header)]
    chunk = bytes(1 << 20)
    parts += [deflate.compress(chunk) for _ in range(megabytes)]
    return b"".join(parts) + deflate.flush()


def test_a_gzip_bomb_stops_at_the_declared_size(tmp_path):
    """The header declares 10 bytes; 64 MB of zeros follow. Reading must stop after
    the declared size (plus a little), fast and in little memory."""
    bomb = tmp_path / "labels.gz"
    bomb.write_bytes(_gzip_of_zeros(bytes([0, 0, 8, 1]) + struct.pack(">I", 10), 64))
    assert bomb.stat().st_size < 100_000
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(IdxFormatError, match=r"labels\.gz: trailing garbage"):
        read_idx(bomb)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MB while reading a 10-byte IDX file"
    assert seconds < 2.0


def test_a_header_larger_than_its_gzip_can_hold_fails_at_once(tmp_path):
    forged = tmp_path / "images.gz"
    forged.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 4096, 4096)))
    with pytest.raises(IdxFormatError, match=r"images\.gz: the header declares \d+ bytes"):
        read_idx(forged)


def test_bounded_gzip_still_reads_real_files(tmp_path):
    """Multi-member gzip, a cut stream and a bad CRC behave as before."""
    data = bytes(range(200))
    raw = bytes([0, 0, 8, 1]) + struct.pack(">I", 200) + data
    path = tmp_path / "two.gz"
    path.write_bytes(gzip.compress(raw[:50]) + gzip.compress(raw[50:]))
    assert read_idx(path).data == data
    whole = gzip.compress(raw)
    path.write_bytes(whole[:-4])                       # the length field cut off
    with pytest.raises(IdxFormatError, match="corrupt gzip data"):
        read_idx(path)
    path.write_bytes(whole[:-8] + bytes(b ^ 0xFF for b in whole[-8:-4]) + whole[-4:])
    with pytest.raises(IdxFormatError, match="corrupt gzip data"):
        read_idx(path)
