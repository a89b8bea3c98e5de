"""Checkpoints: everything a training run needs to continue exactly where it stopped.

    save_checkpoint("run.ckpt", model, optimizer, scheduler, loader, progress={...})
    ...killed...
    load_checkpoint("run.ckpt").restore(model, optimizer, scheduler, loader)

The format is one safetensors file (engine/serialize.py), so it is written
atomically (a temporary file beside it, fsync, rename: a run killed while it
writes leaves the previous checkpoint whole) and any safetensors reader opens it.

- tensors: "model/<name>" the model's state_dict; "optimizer/<index>/<key>" the
  optimizer's per-parameter state (PyTorch's names: momentum_buffer, exp_avg,
  step, ...); "best/<name>" the best weights kept by early stopping;
- the header's __metadata__ {"webgrad": JSON} holds the numbers: the optimizer's
  class and param_groups, the scheduler's state_dict, the DataLoader's position
  (epoch, batches given, so a run resumes mid-epoch with the same shuffle),
  webgrad's random stream (manual_seed's seed and offset: dropout), the Augment
  call count, early stopping's counters, and the loop's progress (epoch, step,
  the loss history).
"""
import json

from . import serialize
from .creation import default_generator

FORMAT = "webgrad-checkpoint/1"


def save_checkpoint(path, model, optimizer, scheduler=None, loader=None, augment=None,
                    early_stopping=None, progress=None):
    """Write the whole training state to `path`, atomically."""
    tensors = {f"model/{name}": t for name, t in model.state_dict().items()}
    opt = optimizer.state_dict()
    for index, entry in opt["state"].items():
        for key, value in entry.items():
            tensors[f"optimizer/{index}/{key}"] = value
    meta = {"format": FORMAT,
            "optimizer": {"class": type(optimizer).__name__, "param_groups": opt["param_groups"]},
            "rng": {"seed": default_generator.seed, "offset": default_generator.offset},
            "progress": progress or {}}
    if scheduler is not None:
        meta["scheduler"] = {"class": type(scheduler).__name__, "state": scheduler.state_dict()}
    if loader is not None:
        meta["loader"] = loader.state_dict()
    if augment is not None:
        meta["augment_calls"] = augment.calls
    if early_stopping is not None:
        numbers, best = early_stopping.state_dict()
        meta["early_stopping"] = numbers
        tensors.update({f"best/{name}": t for name, t in best.items()})
    serialize.save(tensors, path, metadata={"webgrad": json.dumps(meta)})


def load_checkpoint(path):
    """Read a checkpoint (on the current device); `.restore(...)` puts it back."""
    state = serialize.load(path)
    try:
        meta = json.loads(state.metadata["webgrad"])
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}")
    except (KeyError, ValueError) as err:
        raise ValueError(f"{path}: not a webgrad checkpoint ({FORMAT}): {err}; a file of "
                         f"weights alone (--save) loads with model.load_state_dict") from None
    return Checkpoint(path, state, meta)


class Checkpoint:
    """A loaded checkpoint: `progress` is the training loop's own record (epoch, step,
    history); `restore` writes the rest into the objects of a new run."""

    def __init__(self, path, tensors, meta):
        self.path, self.meta = path, meta
        self.progress = meta["progress"]
        self.model_state, self.best, optimizer_state = {}, {}, {}
        for name, t in tensors.items():
            kind, _, rest = name.partition("/")
            if kind == "model":
                self.model_state[rest] = t
            elif kind == "best":
                self.best[rest] = t
            elif kind == "optimizer":
                index, _, key = rest.partition("/")
                optimizer_state.setdefault(int(index), {})[key] = t
        self.optimizer_state = {"state": optimizer_state,
                                "param_groups": meta["optimizer"]["param_groups"]}

    def restore(self, model, optimizer, scheduler=None, loader=None, augment=None,
                early_stopping=None):
        """Load every part into the given objects, which must be built as in the run
        that wrote the checkpoint (the same model, optimizer class, scheduler class)."""
        self._check_class("optimizer", optimizer, self.meta["optimizer"]["class"])
        saved_scheduler = self.meta.get("scheduler")
        if (scheduler is None) != (saved_scheduler is None):
            raise ValueError(f"{self.path}: the checkpoint was written "
                             f"{'with' if saved_scheduler else 'without'} a learning-rate "
                             f"scheduler, this run has {'one' if scheduler else 'none'}")
        if scheduler is not None:
            self._check_class("scheduler", scheduler, saved_scheduler["class"])
        model.load_state_dict(self.model_state)
        optimizer.load_state_dict(self.optimizer_state)
        if scheduler is not None:
            scheduler.load_state_dict(saved_scheduler["state"])
        if loader is not None and "loader" in self.meta:
            loader.load_state_dict(self.meta["loader"])
        if augment is not None and "augment_calls" in self.meta:
            augment.calls = self.meta["augment_calls"]
        if early_stopping is not None and "early_stopping" in self.meta:
            early_stopping.load_state_dict(self.meta["early_stopping"], self.best)
        default_generator.seed = self.meta["rng"]["seed"]
        default_generator.offset = self.meta["rng"]["offset"]
        return self.progress

    def _check_class(self, what, obj, saved):
        if type(obj).__name__ != saved:
            raise ValueError(f"{self.path}: the checkpoint's {what} is {saved}, this run's "
                             f"{type(obj).__name__}: resume with the same settings")
