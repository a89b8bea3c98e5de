"""The optimizer base: parameter groups, zero_grad, and per-parameter state.

Each optimizer's `step` is one fused GPU kernel per parameter
(shaders/sgd.wgsl, shaders/adam.wgsl) that updates it in place; a subclass
writes `_update(group, p, state)` for one parameter.
"""
import math

from ..replay import on_replay


class Optimizer:
    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        self.param_groups = []
        for group in params:
            full = dict(defaults)
            full.update(group)
            full["params"] = list(full["params"])
            self._check_finite(full)
            self.param_groups.append(full)
        self._check_something_trains()
        self.state = {}  # id(param) -> dict of device arrays and counters

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

    def _params_with_grad(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p, self.state.setdefault(id(p), {})

    def step(self):
        """Update every parameter that has a gradient: each subclass's `_update`, one fused
        kernel per parameter. In a step that engine.jit records, the update kernels are
        in the recording; before each replay this runs again in "uniforms only" mode, to
        write the numbers that change per step (learning rate, bias corrections)."""
        on_replay(self._update_all)
        self._update_all()

    def _update_all(self):
        for group, p, state in self._params_with_grad():
            self._update(group, p, state)

    def _update(self, group, p, state):
        raise NotImplementedError
