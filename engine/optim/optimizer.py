"""The optimizer base: parameter groups, zero_grad, and per-parameter state.

Each optimizer's `step` updates every parameter in place with fused GPU kernels
(shaders/sgd.wgsl, shaders/adam.wgsl: two parameters per dispatch); a subclass
writes `_update(group, items)` for one group's parameters that have a gradient,
items being [(param, its state)], and hands them to the backend in one call.

`state_dict()` / `load_state_dict()` use PyTorch's layout and key names, so a
state moves between webgrad and torch.optim in both directions:

    {"state": {0: {"momentum_buffer": Tensor}, ...},       # by parameter index
     "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1, ...]}]}
"""
import math

from ..replay import on_replay
from ..tensor import Tensor

# PyTorch group flags that only pick an implementation (the numbers stay the same):
# any value loads. The other flags a subclass lists in `torch_flags` change the
# arithmetic, so a state that sets them differently is refused.
_IMPLEMENTATION_FLAGS = ("foreach", "fused", "capturable", "differentiable")


class Optimizer:
    buffer_names = ()   # the per-parameter device buffers in `state`, by PyTorch's names
    torch_flags = {}    # PyTorch's group keys that webgrad fixes, with their values
    # True where what an update kernel is given depends on the groups' settings alone (no
    # step counter, no state to count): a replay then rewrites nothing while they stay
    settings_only = False

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = []
        for group in params:
            full = dict(defaults)
            full.update(group)
            full["params"] = list(full["params"])
            self._check_finite(full)
            self.param_groups.append(full)
        self._check_something_trains()
        self.state = {}  # id(param) -> dict of device arrays and counters
        self._written = None   # the settings the update kernels' uniforms were last given

    def _check_something_trains(self):
        """Frozen parameters (requires_grad False) are welcome, as in PyTorch: backward gives
        them no .grad and step() skips them, so `SGD(model.parameters())` after freezing the
        body trains only the head. But when *none* of them requires grad, nothing would ever
        change: a forgotten requires_grad=True, said now rather than after a silent run."""
        params = [p for group in self.param_groups for p in group["params"]]
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not any(getattr(p, "requires_grad", False) for p in params):
            raise ValueError(f"{type(self).__name__}: no parameter requires grad, so nothing "
                             f"would train: the first, of shape "
                             f"{getattr(params[0], 'shape', '?')}, does not require grad. Make "
                             f"them with requires_grad=True, or unfreeze with requires_grad_()")

    @property
    def lr(self):
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for group in self.param_groups:
            group["lr"] = value

    def _check_finite(self, group):
        """A NaN or infinite hyperparameter (lr=nan slips past `lr < 0`) would turn every
        weight into NaN at the first step."""
        for key, value in group.items():
            numbers = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, (int, float)) and not math.isfinite(v) for v in numbers):
                raise ValueError(f"{type(self).__name__}: {key}={value} must be finite")

    def zero_grad(self, set_to_none=True):
        """set_to_none=True (PyTorch's default) drops the gradients, freeing their buffers;
        False zeroes each .grad in place, keeping the tensor and its buffer."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def _groups_with_grad(self):
        """(group, [(param, state)]) for each group with a parameter that has a gradient."""
        for group in self.param_groups:
            items = [(p, self.state.setdefault(id(p), {})) for p in group["params"]
                     if p.grad is not None]
            if items:
                yield group, items

    def step(self):
        """Update every parameter that has a gradient: each subclass's `_update`, one call
        into the backend per parameter group. In a step that engine.jit records, the
        update kernels are in the recording; before each replay this runs again in
        "uniforms only" mode, to write the numbers that change per step (learning rate,
        bias corrections)."""
        on_replay(self._before_replay)
        self._update_all()

    def _before_replay(self):
        """Write the update kernels' per-step numbers for the coming replay. A hook runs on
        every replayed step, where microseconds count (six parameters' uniforms take ~70 us
        to pack and compare natively): with `settings_only`, while no group's settings
        have changed since the uniforms were last written (no new learning rate), there
        is nothing to do."""
        if self.settings_only and self._written == self._settings():
            return
        self._update_all()

    def _settings(self):
        return [[v for k, v in g.items() if k != "params"] for g in self.param_groups]

    def _update_all(self):
        if self.settings_only:
            self._written = self._settings()
        for group, items in self._groups_with_grad():
            self._update(group, items)

    def _update(self, group, items):
        raise NotImplementedError

    # -- saving and restoring (PyTorch's layout) --------------------------------------
    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """{"state": {index: {name: value}}, "param_groups": [...]}, as torch.optim writes it:
        buffers are Tensors shaped like their parameter (views of the optimizer's own
        device buffers, as PyTorch's are), `step` a 0-d float32 Tensor."""
        from ..creation import tensor
        index = {id(p): i for i, p in enumerate(self._indexed_params())}
        state = {}
        for p in self._indexed_params():
            own = self.state.get(id(p))
            if not own:
                continue
            entry = {}
            for name, value in own.items():
                if name == "step":
                    entry[name] = tensor(float(value))
                elif name in self.buffer_names and value is not None:
                    entry[name] = Tensor(value, p.shape, "float32", p.backend)
            state[index[id(p)]] = entry
        groups = []
        for group in self.param_groups:
            saved = {k: v for k, v in group.items() if k != "params"}
            saved.update({k: v for k, v in self.torch_flags.items() if k not in saved})
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state_dict from this class or from the same torch.optim class. Buffers
        are copied into the existing device buffers where there are some, so a recorded
        training step (engine.jit) goes on using them. Everything is checked first: a
        state that does not fit leaves the optimizer as it was."""
        name = type(self).__name__
        groups, saved_groups = self.param_groups, state_dict.get("param_groups")
        if not isinstance(saved_groups, list) or len(saved_groups) != len(groups):
            raise ValueError(f"{name}.load_state_dict: the state has "
                             f"{len(saved_groups or [])} parameter group(s), this optimizer "
                             f"{len(groups)}")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(saved.get("params", ())) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i} of the state has "
                                 f"{len(saved.get('params', ()))} parameters, this optimizer's "
                                 f"{len(group['params'])}")
            self._check_flags(saved)
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                raise ValueError(f"{name}.load_state_dict: group {i} of the state lacks "
                                 f"{', '.join(missing)}: is it another optimizer's?")
        params = self._indexed_params()
        by_index = {}
        for group, saved in zip(groups, saved_groups):
            by_index.update(zip(saved["params"], group["params"]))
        new_state = {}
        for key, entry in state_dict.get("state", {}).items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key}, but "
                                 f"there are {len(params)} parameters")
            new_state[id(p)] = {k: self._loaded_value(k, v, p) for k, v in entry.items()}
        for group, saved in zip(groups, saved_groups):   # nothing can fail from here on
            kept = group["params"]
            group.clear()
            group.update({k: (tuple(v) if k == "betas" else v) for k, v in saved.items()
                          if k != "params" and k not in self.torch_flags})
            group["params"] = kept
        self._written = None   # new settings and state: a replay writes its uniforms again
        by_id = {id(p): p for p in params}
        for pid in [pid for pid in self.state if pid not in new_state]:
            del self.state[pid]              # as torch: the saved state replaces the whole state
        for pid, entry in new_state.items():
            p, own = by_id[pid], self.state.setdefault(pid, {})
            for k, value in entry.items():
                if not isinstance(value, bytes):
                    own[k] = value
                    continue
                fresh = p.backend.upload(value, "float32")
                if own.get(k) is not None:
                    p.backend.copy_(own[k], fresh)   # in place: a recorded step keeps its buffer
                else:
                    own[k] = fresh

    def _check_flags(self, saved):
        for flag, ours in self.torch_flags.items():
            if flag in _IMPLEMENTATION_FLAGS or flag not in saved:
                continue
            if bool(saved[flag]) != bool(ours):
                raise ValueError(f"{type(self).__name__}.load_state_dict: the state has "
                                 f"{flag}={saved[flag]!r}, which webgrad's "
                                 f"{type(self).__name__} does not implement ({flag}={ours!r})")

    def _loaded_value(self, key, value, p):
        """A state entry from a saved state: `step` -> int, a buffer -> bytes checked
        against the parameter's size (uploaded later, when nothing can fail any more)."""
        from ..creation import tensor
        if key == "step":
            return int(float(value))
        if key not in self.buffer_names:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown state {key!r} "
                             f"(expected step or {', '.join(self.buffer_names)})")
        if value is None:
            return None
        if not isinstance(value, Tensor):
            if hasattr(value, "detach"):          # a torch tensor
                value = value.detach().cpu().numpy()
            value = tensor(value, dtype="float32")
        if value.numel() != p.numel():
            raise ValueError(f"{type(self).__name__}.load_state_dict: {key!r} has "
                             f"{value.numel()} elements, its parameter of shape {p.shape} "
                             f"{p.numel()}")
        return value.backend.download(value.data)
