"""The Python side of the playground page: trains a model on MNIST with webgrad.

The Web Worker (web/static/worker.js) writes this file into Pyodide's file
system, imports it and calls the functions below; the page itself never sees
the engine, only the dicts these functions return. Plain webgrad code, the
same as natively: it uses only the public engine API.

    init(model_name, lr, batch_size)   build the model, optimizer and data loader
    train_steps(n)                     n optimizer steps; reads the loss back once, at the end
    evaluate(n_test)                   test accuracy + predictions for a few fixed test digits
    set_lr(lr), set_batch_size(b), reset()
"""
import sys
import time

import engine as eg
from engine import nn, optim  # noqa: F401  (nn: for models defined here)
import engine.nn.functional as F
from engine.data import MNIST, DataLoader, Subset
from engine import models as zoo

DATA = "/data/mnist"  # where the worker puts the four IDX files in Pyodide's file system
SHOWN_DIGITS = list(range(20))  # the test digits drawn on the page, always the same ones
EVAL_BATCH = 500

# The models the page offers: name -> (label, builder). They come from the engine's
# model zoo (engine/models/), the same ones `python -m engine.train` uses; the label
# is the first line of each model file's docstring, up to its first colon or period.
def _label(name):
    return zoo.describe(name).split(":")[0].split(" (")[0].rstrip(".")


MODELS = {name: (_label(name), (lambda name=name: zoo.build(name))) for name in zoo.MODELS}


class Session:
    """Everything one training run holds: model, optimizer, data, counters."""

    def __init__(self, model_name, lr, batch_size):
        if model_name not in MODELS:
            raise ValueError(f"unknown model {model_name!r}; choose one of {', '.join(MODELS)}")
        eg.manual_seed(0)
        self.model_name = model_name
        self.model = MODELS[model_name][1]()
        self.model.train()
        self.opt = optim.Adam(self.model.parameters(), lr=float(lr))
        self.steps = 0
        self.examples_seen = 0
        self.recent = []  # (hits, count) of the batches whose numbers were read back
        self.set_batch_size(batch_size)

    def set_batch_size(self, batch_size):
        self.batch_size = int(batch_size)
        self.loader = DataLoader(_data()["train"], batch_size=self.batch_size, shuffle=True,
                                 seed=0, drop_last=True)
        self.batches = iter(self.loader)

    def next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:  # end of an epoch: the loader reshuffles
            self.batches = iter(self.loader)
            return next(self.batches)

    def train_steps(self, n):
        """n steps of Adam; only the last one's loss and accuracy are read back."""
        model, opt = self.model, self.opt
        t0 = time.perf_counter()
        for _ in range(n):
            x, y = self.next_batch()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with eg.no_grad():
            hits = (logits.detach().argmax(1) == y).sum()
        t1 = time.perf_counter()      # the steps are encoded and submitted ...
        loss_value = loss.item()      # ... and this waits for the GPU to finish them
        t2 = time.perf_counter()
        hit_count = int(hits.item())
        t3 = time.perf_counter()

        count = y.shape[0]
        self.steps += n
        self.examples_seen += n * count
        self.recent = (self.recent + [(hit_count, count)])[-10:]
        return {
            "loss": loss_value,
            "train_acc": sum(h for h, _ in self.recent) / sum(c for _, c in self.recent),
            "examples_seen": self.examples_seen,
            "steps": self.steps,
            "batch_size": count,
            "examples_per_s": n * count / (t3 - t0),
            "python_ms_per_step": 1000 * (t1 - t0) / n,  # encoding: Python + FFI, GPU not awaited
            "gpu_wait_ms_per_step": 1000 * (t2 - t1) / n,  # waiting for the GPU at the readback
            "readback_ms": 1000 * (t3 - t2),
        }

    def evaluate(self, n_test):
        """Accuracy on the first n_test test digits, and the shown digits' predictions."""
        test = _data()["test"]
        n_test = max(1, min(int(n_test), len(test)))
        t0 = time.perf_counter()
        self.model.eval()
        try:
            with eg.no_grad():
                hits = None
                for x, y in DataLoader(Subset(test, range(n_test)), batch_size=EVAL_BATCH):
                    h = (self.model(x).argmax(1) == y).sum()
                    hits = h if hits is None else hits + h
                correct = int(hits.item())
                x, _ = next(iter(DataLoader(Subset(test, SHOWN_DIGITS), batch_size=len(SHOWN_DIGITS))))
                probs = F.softmax(self.model(x), dim=1).tolist()
        finally:
            self.model.train()
        predictions = [max(range(10), key=p.__getitem__) for p in probs]
        return {
            "test_acc": correct / n_test,
            "test_count": n_test,
            "predictions": predictions,
            "confidence": [p[k] for p, k in zip(probs, predictions)],
            "labels": [test.labels[i] for i in SHOWN_DIGITS],
            "pixels": b"".join(test[i][0] for i in SHOWN_DIGITS),  # uint8, 28x28 each
            "eval_ms": 1000 * (time.perf_counter() - t0),
            "examples_seen": self.examples_seen,
        }


_datasets = {}
_session = None
_device = None


def _data():
    if not _datasets:
        _datasets["train"] = MNIST(DATA, train=True)
        _datasets["test"] = MNIST(DATA, train=False)
    return _datasets


def init(model_name="mlp", lr=1e-3, batch_size=64, device="gpu"):
    """Select the GPU, load MNIST, build a fresh model. Returns what the page shows about it."""
    global _session, _device
    if _device is None:
        eg.set_device(device)  # "gpu": WebGPU in the browser ("cpu" only natively, for tests)
        _device = eg.get_device()
    data = _data()
    _session = Session(model_name, lr, batch_size)
    params = sum(p.numel() for p in _session.model.parameters())
    return {
        "device": _device,
        "model": model_name,
        "models": [[name, label] for name, (label, _) in MODELS.items()],
        "parameters": params,
        "train_size": len(data["train"]),
        "test_size": len(data["test"]),
        "numpy_imported": "numpy" in sys.modules,
    }


def train_steps(n=10):
    stats = _session.train_steps(int(n))
    stats["numpy_imported"] = "numpy" in sys.modules
    return stats


def evaluate(n_test=2000):
    return _session.evaluate(n_test)


def set_lr(lr):
    for group in _session.opt.param_groups:  # the PyTorch idiom
        group["lr"] = float(lr)


def set_batch_size(batch_size):
    _session.set_batch_size(batch_size)


def reset(model_name=None, lr=None, batch_size=None):
    """A fresh model (same seed, so a reset run repeats the first one), counters at zero."""
    s = _session
    return init(model_name or s.model_name, s.opt.param_groups[0]["lr"] if lr is None else lr,
                s.batch_size if batch_size is None else batch_size)
