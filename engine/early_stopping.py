"""Early stopping: end training when the validation loss stops improving, and go back
to the weights of the best epoch.

    stopper = EarlyStopping(patience=3)
    for epoch in range(1, epochs + 1):
        train_one_epoch()
        if stopper.step(epoch, validation_loss, model):
            break
    stopper.restore_best(model)

Training longer than the best epoch only fits the training set more closely
(overfitting): the validation loss turns up. `patience` epochs without an
improvement of more than `min_delta` say that it will not come back down.

The best weights are kept on the device (one copy of each tensor of the model's
state_dict, no read-back), and restoring copies them into the model's own
buffers, so a recorded training step (engine.jit) stays valid.
"""
import math

from .tensor import Tensor


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0):
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 1, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.patience, self.min_delta = patience, float(min_delta)
        self.best_loss, self.best_epoch = math.inf, None
        self.bad_epochs = 0          # epochs since the best one
        self.stopped_epoch = None    # the epoch after which step() said stop
        self._best = {}              # name -> Tensor: a copy of the best epoch's state

    def step(self, epoch, val_loss, model):
        """Record epoch `epoch`'s validation loss; keep the weights if it is the best so far.
        Returns True when training should stop (patience epochs without improvement)."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad_epochs = float(val_loss), epoch, 0
            self._keep(model)
        else:
            self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def _keep(self, model):
        for name, t in model.state_dict().items():
            if name in self._best:
                t.backend.copy_(self._best[name].data, t.data)   # reuse the buffers
            else:
                self._best[name] = _device_copy(t)

    def restore_best(self, model):
        """Copy the best epoch's weights (and buffers, such as BatchNorm's running
        statistics) back into `model`, in place. Returns the best epoch, or None when no
        epoch was validated yet (then the model is left as it is)."""
        if self.best_epoch is None:
            return None
        for name, t in model.state_dict().items():
            t.backend.copy_(t.data, self._best[name].data)
            t._version += 1
        return self.best_epoch

    # -- checkpoints (engine/checkpoint.py) ---------------------------------------------
    def state_dict(self):
        """(numbers, {name: Tensor}): the counters, and the best weights as tensors."""
        numbers = {"patience": self.patience, "min_delta": self.min_delta,
                   "best_loss": self.best_loss, "best_epoch": self.best_epoch,
                   "bad_epochs": self.bad_epochs, "stopped_epoch": self.stopped_epoch}
        return numbers, dict(self._best)

    def load_state_dict(self, numbers, best):
        """Restore what state_dict gave: `best` is {name: Tensor}, copied."""
        for key in ("best_loss", "best_epoch", "bad_epochs", "stopped_epoch"):
            setattr(self, key, numbers[key])
        self._best = {name: _device_copy(t) for name, t in best.items()}


def _device_copy(t):
    """A copy of tensor t in a new buffer on its device (no autograd, no read-back)."""
    copy = Tensor(t.backend.empty(t.numel(), t.dtype), t.shape, t.dtype, t.backend)
    t.backend.copy_(copy.data, t.data)
    return copy
