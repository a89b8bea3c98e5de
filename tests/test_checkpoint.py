"""Checkpoints and --resume (engine/checkpoint.py), validation splits, early stopping.

The resume tests compare PER-STEP losses (log_every=1) with an unbroken run, on the
numpy backend, exactly: the weights, the optimizer's moments, the schedule, the
DataLoader's shuffle and position, dropout's random stream and the augmentation
count must all come back for that to hold.
"""
import os
import re
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import engine as eg
from engine import nn, optim
from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.data import Augment, DataLoader, random_split
from engine.early_stopping import EarlyStopping
from engine.optim import lr_scheduler
from engine.serialize import load, save
from engine.train import fit, validate
import engine.nn.functional as F

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
EPOCHS = 3


class NoisyImages:
    """Random 8x8 images with random labels: a loss that moves differently every step."""
    image_shape = (1, 8, 8)
    mean, std = 0.5, 0.25

    def __init__(self, n=112, seed=0):
        rng = random.Random(seed)
        self.labels = bytes(rng.randrange(4) for _ in range(n))
        self.images = bytes(rng.randrange(256) for _ in range(n * 64))

    def __len__(self):
        return len(self.labels)


def build():
    """A run's objects, made as a fresh process makes them: 7 batches an epoch."""
    eg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(32, 4))
    loader = DataLoader(NoisyImages(), 16, shuffle=True, seed=3)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = lr_scheduler.OneCycleLR(opt, 1e-2, EPOCHS * len(loader))
    return model, loader, opt, sched, Augment("digits", seed=1)


def run(**kwargs):
    model, loader, opt, sched, augment = build()
    return fit(model, loader, opt, epochs=EPOCHS, log_every=1, progress=False,
               scheduler=sched, augment=augment, **kwargs)


class Crash(Exception):
    pass


def test_resume_mid_epoch_after_a_crash_repeats_every_loss(device, tmp_path):
    """Crash at step 10 with checkpoints every 4 steps: the last one is at step 8, the
    first batch of epoch 2. Resuming from it gives the unbroken run's 21 losses, on the
    GPU too (where the resumed run records and replays its step anew)."""
    unbroken = run()
    assert len(unbroken) == EPOCHS * 7

    def crash_at_10(step, _):
        if step == 10:
            raise Crash
    path = str(tmp_path / "run.ckpt")
    with pytest.raises(Crash):
        run(checkpoint=path, checkpoint_every=4, on_log=crash_at_10)
    progress = load_checkpoint(path).progress
    assert (progress["step"], progress["epoch"], progress["epoch_finished"]) == (8, 2, False)
    resumed = run(resume=path)
    assert resumed == unbroken     # every (step, loss), bit for bit


def test_resume_after_sigkill_repeats_every_loss(tmp_path):
    """A real process, killed with SIGKILL once its first checkpoint is on disk: the
    losses it logged up to the checkpoint, then the resumed run's, are the unbroken run's."""
    eg.set_device("cpu")
    unbroken = run()
    path, log = tmp_path / "run.ckpt", tmp_path / "losses.txt"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{ROOT!r}, {TESTS!r}]
        import engine as eg
        eg.set_device("cpu")
        from test_checkpoint import run
        with open({str(log)!r}, "w") as out:
            def slowly(step, loss):      # slow enough to be killed mid-run
                out.write(f"{{step}} {{loss!r}}\\n"); out.flush(); time.sleep(0.1)
            run(checkpoint={str(path)!r}, checkpoint_every=4, on_log=slowly)
        """)])
    try:
        deadline = time.time() + 120
        while not path.exists() and child.poll() is None and time.time() < deadline:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        rc = child.wait()
    assert rc == -signal.SIGKILL, f"the run ended by itself (status {rc}) before the kill"
    done = load_checkpoint(path).progress["step"]
    assert 4 <= done < len(unbroken)
    lines = log.read_text().splitlines()
    logged = [(int(s), float(v)) for s, v in (line.split() for line in lines)]
    assert logged[:done] == unbroken[:done]
    resumed = run(resume=str(path))
    assert resumed[done:] == unbroken[done:] and resumed == unbroken


_CHILD_DIES_MID_WRITE = """
import os, signal, sys
sys.path[:0] = [{root!r}, {tests!r}]
import engine as eg
eg.set_device("cpu")
from engine import serialize
from engine.checkpoint import save_checkpoint
from test_checkpoint import build
model, loader, opt, sched, augment = build()
save_checkpoint({path!r}, model, opt, sched, loader, augment)     # the good one
size = os.path.getsize({path!r})
with eg.no_grad():
    for p in model.parameters():
        p.fill_(7.0)


class DiesHalfway:
    '''A file that kills its process, SIGKILL, no clean-up, half-way through.'''
    def __init__(self, f):
        self.f, self.left = f, size // 2

    def write(self, data):
        if len(data) >= self.left:
            self.f.write(data[:self.left]); self.f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        self.left -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)


enter = serialize._atomic_file.__enter__
serialize._atomic_file.__enter__ = lambda self: DiesHalfway(enter(self))
save_checkpoint({path!r}, model, opt, sched, loader, augment)
"""


def test_a_kill_during_a_checkpoint_write_leaves_the_previous_one(tmp_path):
    eg.set_device("cpu")
    path = tmp_path / "run.ckpt"
    code = _CHILD_DIES_MID_WRITE.format(root=ROOT, tests=TESTS, path=str(path))
    rc = subprocess.run([sys.executable, "-c", code]).returncode
    assert rc == -signal.SIGKILL
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert len(leftovers) == 1     # the half-written temporary file, never renamed
    half = os.path.getsize(tmp_path / leftovers[0])
    assert 0 < half < os.path.getsize(path)
    model, *_ = build()
    state = load_checkpoint(path).model_state
    for name, t in model.state_dict().items():
        np.testing.assert_array_equal(state[name].numpy(), t.numpy())   # not 7.0


def test_a_checkpoint_is_a_safetensors_file(tmp_path):
    """The safetensors package (PyTorch's reader) opens it: the tensors by the names
    engine/checkpoint.py documents, the numbers as JSON in __metadata__."""
    import json
    from safetensors import safe_open
    eg.set_device("cpu")
    model, loader, opt, sched, augment = build()
    path = str(tmp_path / "run.ckpt")
    fit(model, loader, opt, progress=False, scheduler=sched, checkpoint=path, patience=1,
        val_loader=DataLoader(NoisyImages(n=32, seed=1), 16))
    with safe_open(path, "np") as f:
        names = set(f.keys())
        meta = json.loads(f.metadata()["webgrad"])
        np.testing.assert_array_equal(f.get_tensor("model/1.weight"),
                                      model.state_dict()["1.weight"].numpy())
        assert f.get_tensor("optimizer/0/step").shape == ()
    assert {"model/1.weight", "optimizer/0/exp_avg", "optimizer/0/exp_avg_sq",
            "best/4.bias"} <= names
    assert meta["format"] == "webgrad-checkpoint/1" and meta["progress"]["step"] == 7
    assert meta["loader"]["batches_done"] == 7 and meta["early_stopping"]["best_epoch"] == 1
    assert meta["scheduler"]["class"] == "OneCycleLR"


def test_checkpoint_errors_name_the_problem(tmp_path):
    eg.set_device("cpu")
    model, loader, opt, sched, augment = build()
    weights = tmp_path / "weights.safetensors"
    save(model.state_dict(), weights)
    with pytest.raises(ValueError, match="not a webgrad checkpoint"):
        load_checkpoint(weights)
    path = tmp_path / "run.ckpt"
    save_checkpoint(path, model, opt, sched, loader)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="the checkpoint's optimizer is Adam, this run's SGD"):
        load_checkpoint(path).restore(model, sgd, sched, loader)
    with pytest.raises(ValueError, match="written with a learning-rate scheduler"):
        load_checkpoint(path).restore(model, opt, None, loader)
    other = DataLoader(NoisyImages(), 8, shuffle=True, seed=3)
    with pytest.raises(ValueError, match="batch_size 16, this loader has batch_size 8"):
        load_checkpoint(path).restore(model, opt, sched, other)


# -- the DataLoader's position ---------------------------------------------------------

def test_loader_state_continues_the_same_shuffle_mid_epoch():
    eg.set_device("cpu")

    def labels(loader, n=None):
        out = []
        for _, y in loader:
            out.append(y.tolist())
            if len(out) == n:     # stop right after the n-th batch given
                break
        return out
    whole = DataLoader(NoisyImages(), 16, shuffle=True, seed=5)
    first, second = labels(whole), labels(whole)
    half = DataLoader(NoisyImages(), 16, shuffle=True, seed=5)
    labels(half)
    taken = labels(half, 3)                       # 3 batches into epoch 2
    resumed = DataLoader(NoisyImages(), 16, shuffle=True, seed=5)
    resumed.load_state_dict(half.state_dict())
    assert taken + labels(resumed) == second != first
    assert labels(resumed) != labels(resumed)     # and later epochs shuffle on


# -- validation split --------------------------------------------------------------------

def test_random_split_is_disjoint_complete_and_reproducible():
    data = NoisyImages(n=100)
    train, val = random_split(data, [80, 20], seed=1)
    assert len(train) == 80 and len(val) == 20
    assert sorted(train.indices + val.indices) == list(range(100))
    assert random_split(data, [80, 20], seed=1)[1].indices == val.indices
    assert random_split(data, [80, 20], seed=2)[1].indices != val.indices
    a, b, c = random_split(data, [0.5, 0.3, 0.2])
    assert (len(a), len(b), len(c)) == (50, 30, 20)
    x, y = random_split(train, [60, 20], seed=0)       # a split of a split
    assert x.dataset is data and set(x.indices + y.indices) == set(train.indices)
    with pytest.raises(ValueError, match="add up to the dataset's 100 samples"):
        random_split(data, [80, 30])


def test_fit_validates_every_epoch(device):
    data = NoisyImages(n=112)
    train, val = random_split(data, [96, 16], seed=0)
    eg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
    val_loader = DataLoader(val, 8)
    history = fit(model, DataLoader(train, 16, shuffle=True), optim.SGD(model.parameters(), lr=0.1),
                  epochs=2, progress=False, val_loader=val_loader)
    assert [v["epoch"] for v in history.validation] == [1, 2]
    loss, accuracy = validate(model, val_loader)
    assert history.validation[-1]["loss"] == pytest.approx(loss, rel=1e-6)
    assert history.validation[-1]["accuracy"] == accuracy
    x = eg.tensor(np.stack([np.frombuffer(data.images, np.uint8)[i * 64:(i + 1) * 64]
                            for i in val.indices]).reshape(16, 1, 8, 8) / 255.0 / 0.25 - 2.0)
    y = eg.tensor(np.array([data.labels[i] for i in val.indices], np.int32))
    with eg.no_grad():
        assert loss == pytest.approx(F.cross_entropy(model(x), y).item(), rel=1e-5)


# -- early stopping ------------------------------------------------------------------------

def test_early_stopping_on_a_scripted_curve_restores_the_best_weights(device):
    """Validation losses 1.0, 0.8, 0.9, 0.7, 0.75, 0.72 with patience 2: epoch 4 is the
    best, epochs 5 and 6 do not beat it, so training stops after epoch 6 (of 10) and the
    model ends with epoch 4's weights, on a jitted training step."""
    curve = [1.0, 0.8, 0.9, 0.7, 0.75, 0.72, 0.1, 0.1, 0.1, 0.1]
    snapshots = []

    def scripted(model):
        snapshots.append({k: t.numpy() for k, t in model.state_dict().items()})
        return curve[len(snapshots) - 1], None
    eg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.BatchNorm1d(8), nn.Linear(8, 4))
    history = fit(model, DataLoader(NoisyImages(), 16, shuffle=True),
                  optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=10,
                  progress=False, val_loader=scripted, patience=2, jit=True)
    assert len(snapshots) == 6
    assert (history.best_epoch, history.stopped_epoch) == (4, 6)
    final = {k: t.numpy() for k, t in model.state_dict().items()}
    for name, best in snapshots[3].items():   # weights and BatchNorm's running statistics
        np.testing.assert_array_equal(final[name], best, err_msg=name)
    assert not np.array_equal(final["1.weight"], snapshots[5]["1.weight"])


def test_restored_weights_are_used_by_a_recorded_step(device):
    """restore_best writes into the parameters' own buffers: a step recorded before it,
    replayed after it, trains from the restored weights (the same as an eager step)."""
    def setup():
        eg.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
        return model, optim.SGD(model.parameters(), lr=0.5)

    def step_fn(model, opt):
        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    batches = list(DataLoader(NoisyImages(), 16))
    model, opt = setup()
    stopper = EarlyStopping(patience=1)
    stopper.step(1, 1.0, model)                   # keep the initial weights
    step = eg.jit(step_fn(model, opt))
    for x, y in batches[:4]:                      # eager, recorded, replayed, replayed
        step(x, y)
    stopper.restore_best(model)
    jitted = step(*batches[4]).item()
    ref_model, ref_opt = setup()
    eager = step_fn(ref_model, ref_opt)(*batches[4]).item()
    assert jitted == eager
    for a, b in zip(model.parameters(), ref_model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    if device == "gpu":
        assert step.replays == 3


def test_model_load_state_dict_writes_into_the_recorded_buffers(device):
    """Module.load_state_dict copies into each tensor's own buffer, as PyTorch's copy_:
    a step recorded before the load trains the loaded weights when it is replayed."""
    batches = list(DataLoader(NoisyImages(), 16))
    eg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
    start = {k: eg.tensor(t.numpy()) for k, t in model.state_dict().items()}
    buffers = [p.data for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=0.5)

    @eg.jit
    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    first = step(*batches[0]).item()
    for x, y in batches[1:4]:
        step(x, y)
    model.load_state_dict(start)
    assert all(p.data is old for p, old in zip(model.parameters(), buffers))
    assert step(*batches[0]).item() == first        # from the loaded (initial) weights
    if device == "gpu":
        assert step.replays == 3


def test_early_stopping_survives_a_resume(tmp_path):
    """The counters and the best weights are in the checkpoint: a run resumed after epoch
    3 stops where the unbroken one stops, with the same weights."""
    eg.set_device("cpu")
    curve = iter([])

    def scripted(model):
        return next(curve), None

    def go(**kwargs):
        model, loader, opt, sched, augment = build()
        history = fit(model, loader, opt, epochs=EPOCHS + 3, log_every=1, progress=False,
                      val_loader=scripted, patience=2, **kwargs)
        return history, [p.numpy() for p in model.parameters()]
    curve = iter([1.0, 0.5, 0.9, 0.8, 0.7])
    unbroken, weights = go()
    path = str(tmp_path / "run.ckpt")

    def crash_in_epoch_4(step, _):
        if step == 23:
            raise Crash
    curve = iter([1.0, 0.5, 0.9])
    with pytest.raises(Crash):
        go(checkpoint=path, on_log=crash_in_epoch_4)
    curve = iter([0.8, 0.7])
    resumed, resumed_weights = go(resume=path)
    assert (resumed.best_epoch, resumed.stopped_epoch) == (unbroken.best_epoch, 4) == (2, 4)
    assert resumed == unbroken and resumed.validation == unbroken.validation
    for a, b in zip(weights, resumed_weights):
        np.testing.assert_array_equal(a, b)



# -- the command line --------------------------------------------------------------------

@pytest.fixture(scope="module")
def noisy_idx(tmp_path_factory):
    """NoisyImages in the MNIST file layout, for python -m engine.train --dataset FOLDER."""
    from engine.data.idx import write_idx
    folder = tmp_path_factory.mktemp("noisy_idx")
    data = NoisyImages(n=96)
    for images, labels in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                           ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
        write_idx(folder / images, (len(data), 8, 8), data.images)
        write_idx(folder / labels, (len(data),), data.labels)
    return str(folder)


def _cli(folder, *args):
    return subprocess.run([sys.executable, "-m", "engine.train", "--no-progress", "--device",
                           "cpu", "--dataset", folder, "--batch-size", "8", "--schedule", "none",
                           *args], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_cli_resume_continues_to_the_same_weights(noisy_idx, tmp_path):
    """2 epochs with --checkpoint, then --resume to 3 epochs in a new process: the same
    weights, bit for bit, as 3 epochs in one run."""
    a, ckpt, c = tmp_path / "a.safetensors", tmp_path / "b.ckpt", tmp_path / "c.safetensors"
    for args in (("--epochs", "3", "--save", str(a)),
                 ("--epochs", "2", "--checkpoint", str(ckpt), "--checkpoint-every", "5"),
                 ("--epochs", "3", "--resume", str(ckpt), "--save", str(c))):
        out = _cli(noisy_idx, "--clip-grad-norm", "1", *args)
        assert out.returncode == 0, out.stderr
    unbroken, resumed = load(a), load(c)
    assert unbroken.keys() == resumed.keys()
    for name in unbroken:
        np.testing.assert_array_equal(unbroken[name].numpy(), resumed[name].numpy())


def test_cli_speed_counts_only_the_examples_this_process_trained(noisy_idx, tmp_path):
    """96 images an epoch: 3 epochs in one run train 288; resuming after epoch 2 trains
    96 here, and the examples/s figure must be 96 over this process's seconds."""
    ckpt = tmp_path / "run.ckpt"
    trained = []
    for args in (("--epochs", "3"), ("--epochs", "2", "--checkpoint", str(ckpt)),
                 ("--epochs", "3", "--resume", str(ckpt))):
        out = _cli(noisy_idx, *args)
        assert out.returncode == 0, out.stderr
        speed = re.search(r"training: [\d,]+ examples/s \(([\d,]+) examples in [\d.]+ s\)",
                          out.stdout)
        assert speed, out.stdout
        trained.append(int(speed[1].replace(",", "")))
    assert trained == [288, 192, 96]


def test_cli_without_progress_bar_prints_a_plain_line_per_epoch(noisy_idx):
    """--no-progress (a log file): each epoch still reports its losses, one line each."""
    out = _cli(noisy_idx, "--epochs", "2", "--val-split", "24")
    assert out.returncode == 0, out.stderr
    lines = re.findall(r"^epoch (\d)/2: training loss [0-9.]+, validation loss [0-9.]+, "
                       r"accuracy [0-9.]+%$", out.stdout, re.MULTILINE)
    assert lines == ["1", "2"], out.stdout + out.stderr
    assert "\r" not in out.stderr                      # and no progress bar


def test_cli_validates_and_stops_early(noisy_idx, tmp_path):
    """Random labels: the validation loss soon rises, so patience 1 stops the run."""
    out = _cli(noisy_idx, "--epochs", "30", "--val-split", "0.25", "--patience", "1",
               "--optimizer", "adam", "--lr", "0.01")
    assert out.returncode == 0, out.stderr
    assert "72 training images (24 held out to validate)" in out.stderr
    stopped = re.search(r"early stopping: stopped early after epoch (\d+); kept the weights of "
                        r"epoch (\d+) \(validation loss [0-9.]+\)", out.stdout)
    assert stopped, out.stdout
    assert int(stopped[1]) < 30 and int(stopped[2]) == int(stopped[1]) - 1
    assert re.search(r"validation loss: [0-9.]+, accuracy [0-9.]+% after epoch", out.stdout)


@pytest.mark.parametrize("args,message", [
    (("--patience", "2"), "--patience needs --val-split"),
    (("--checkpoint-every", "5"), "--checkpoint-every needs --checkpoint PATH"),
    (("--val-split", "1.5"), "must be a count >= 1 or a fraction in (0, 1), got 1.5"),
    (("--val-split", "96"), "--val-split 96: the training set has only 96 images"),
    (("--resume", "nowhere.ckpt"), "--resume nowhere.ckpt: no such checkpoint file"),
    (("--clip-grad-norm", "0"), "must be a finite number > 0, got 0"),
])
def test_cli_run_flags_name_their_mistakes(noisy_idx, args, message):
    out = _cli(noisy_idx, *args)
    assert out.returncode in (1, 2) and message in out.stderr, out.stderr


def test_cli_checkpoint_onto_an_existing_file_needs_force(noisy_idx, tmp_path):
    path = tmp_path / "old.ckpt"
    path.write_bytes(b"an earlier run")
    out = _cli(noisy_idx, "--checkpoint", str(path))
    assert out.returncode == 1 and "pass --force to overwrite it" in out.stderr
    assert path.read_bytes() == b"an earlier run"
