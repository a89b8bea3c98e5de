"""Record a training step once, then replay it: tinygrad's TinyJit, CUDA graphs.

    @eg.jit
    def train_step(x, y):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    for x, y in loader:
        loss = train_step(x, y)      # 1st call: eager; 2nd: eager and recorded; then replayed

Eager, every step runs the whole Python graph: each op's forward, the autograd
walk, every launcher. But a training step whose shapes repeat issues the same
dispatches every time, with the same pipelines and the same buffers. So the
second call records them (engine/backend/runtime.py: `begin_capture`), and
every later call replays that list without running the function at all:
natively a tight loop over it, in the browser one call into JavaScript. The
result is the same as eager, bit for bit.

What changes from step to step without Python:
- the inputs: a tensor argument is copied into the recorded input's buffer
  (on the GPU, at the start of the replay);
- per-step numbers in uniforms: code that computes them on the host asks, while
  the step is recorded, to run again before each replay (`on_replay`): the
  optimizer (learning rate, Adam's bias corrections; its update kernels are in
  the recording, only their uniforms are rewritten) and dropout (where its
  random stream continues).

What a recording cannot replay, and why a call runs eagerly instead (the reason
is printed once, and kept in `step.reason`):
- a read-back inside the step (`.item()`, `.tolist()`, `if tensor:`): Python that
  depends on values would not run on a replay;
- a tensor made from host data inside the step (`eg.tensor(...)`, a batch built
  there): its next values would never reach the GPU; pass it in as an argument;
- a backend with nothing to replay (numpy): each call simply runs.

A call with other shapes or dtypes records anew (up to MAX_RECORDINGS kept).
Returned tensors are the recorded ones: a replay overwrites them, so read what
you need (loss.item()) before the next call, as with CUDA graphs.
"""
import sys
from collections import OrderedDict

from .backend import current_backend
from .tensor import Tensor

MAX_RECORDINGS = 4
_capturing = None   # the Recording being made, while a step is recorded


def on_replay(fn):
    """While a step is being recorded, run fn() before each replay of it (host code that
    computes per-step numbers); at any other time, nothing."""
    if _capturing is not None:
        _capturing.hooks.append(fn)


def capturing():
    return _capturing is not None


class jit:
    """Wrap a step function: record it on its second call, replay it from the third."""

    def __init__(self, fn, verbose=True):
        self.fn, self.verbose = fn, verbose
        self.recordings = OrderedDict()   # key -> Recording
        self.calls = {}                   # key -> eager calls so far
        self.eager_only = {}              # key -> why it cannot be replayed
        self.reason = None                # the last reason a call ran eagerly
        self.replays = 0
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, Tensor)]
        backend = tensors[0].backend if tensors else current_backend()
        key = _key(args, kwargs)
        recording = self.recordings.get(key)
        if recording is not None:
            self.recordings.move_to_end(key)
            return self._replay(recording, backend, tensors)
        if not getattr(backend, "can_replay", False):   # numpy: nothing to say, nothing to save
            self._stay_eager(key, f"{backend.describe()} has no dispatches to record: each "
                                  "call runs the function", quiet=True)
        if key in self.eager_only:
            return self.fn(*args, **kwargs)
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] == 1:      # first: eager, so optimizer state and pipelines exist
            return self.fn(*args, **kwargs)
        return self._record(key, backend, tensors, args, kwargs)

    def _record(self, key, backend, tensors, args, kwargs):
        global _capturing
        recording = backend.begin_capture()
        _capturing = recording
        try:
            out = self.fn(*args, **kwargs)
        finally:
            _capturing = None
            backend.end_capture(recording)
        if recording.refused:
            recording.close()
            self._stay_eager(key, recording.refused)
            return out
        recording.inputs = [t.data for t in tensors]   # pinned: replays copy new inputs here
        recording.output = out
        self.recordings[key] = recording
        if len(self.recordings) > MAX_RECORDINGS:
            _, old = self.recordings.popitem(last=False)
            old.close()
        return out

    def _replay(self, recording, backend, tensors):
        copies = [(t.data, dst) for t, dst in zip(tensors, recording.inputs) if t.data is not dst]
        backend.replay(recording, copies)
        self.replays += 1
        return recording.output

    def _stay_eager(self, key, reason, quiet=False):
        """From now on, calls with this key run eagerly; say why, once."""
        if key not in self.eager_only:
            self.eager_only[key] = reason
            if self.verbose and not quiet:
                print(f"webgrad jit: {self.__name__} runs eagerly: {reason}", file=sys.stderr)
        self.reason = reason

    def reset(self):
        """Forget every recording (after a change the recordings cannot see, such as a
        new optimizer); the next calls record again."""
        for recording in self.recordings.values():
            recording.close()
        self.recordings.clear()
        self.calls.clear()
        self.eager_only.clear()


def _key(args, kwargs):
    """What must match for a replay: tensors by shape, dtype and device; the rest by value."""
    def part(a):
        if isinstance(a, Tensor):
            return ("tensor", a.shape, a.dtype, id(a.backend))
        return ("value", repr(a))
    return tuple(part(a) for a in args) + tuple((k, part(v)) for k, v in sorted(kwargs.items()))
