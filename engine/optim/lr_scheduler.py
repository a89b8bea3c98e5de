"""Learning-rate schedules with PyTorch's names and arguments.

Call `scheduler.step()` once after each `optimizer.step()`. A schedule only
rewrites `group["lr"]` (and, for OneCycleLR, the momentum) in the optimizer's
parameter groups; the update kernels read them at the next step.

Why schedules matter even in a one-epoch run: a large learning rate early
makes fast progress, a small one late lets the weights settle into a minimum
instead of bouncing around it (see docs/TRAINING.md).

`state_dict()` has PyTorch's layout (last_epoch, base_lrs, _last_lr, _step_count
and each schedule's own settings), so a schedule saved here loads into
torch.optim.lr_scheduler's class of the same name, and back. As PyTorch's, a
schedule writes "initial_lr" (OneCycleLR also max_lr, min_lr, ...) into the
optimizer's groups, which the optimizer's own state_dict carries.
"""
import math


class LRScheduler:
    settings = ()   # the constructor's arguments, saved by state_dict under PyTorch's names

    def __init__(self, optimizer):
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["initial_lr"] = group["lr"]   # a new schedule starts from today's lr
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_step = 0     # PyTorch's last_epoch: step() calls so far
        self._apply()

    def lr_at(self, step, base_lr):
        """The learning rate after `step` calls to step(), for a group whose lr was base_lr."""
        raise NotImplementedError

    def _apply(self):
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(self.last_step, base)

    def step(self):
        self.last_step += 1
        self._apply()

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """PyTorch's keys: torch.optim.lr_scheduler's class of the same name loads it."""
        state = {name: getattr(self, name) for name in self.settings}
        state.update(base_lrs=list(self.base_lrs), last_epoch=self.last_step,
                     _step_count=self.last_step + 1, _is_initial=False,
                     _get_lr_called_within_step=False, _last_lr=self.get_last_lr())
        return state

    def load_state_dict(self, state):
        """Continue from a state_dict of this class or of PyTorch's class of the same name
        (its settings replace the constructor's, as in PyTorch)."""
        missing = [k for k in ("last_epoch", "base_lrs") + tuple(self.settings) if k not in state]
        if missing:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state lacks "
                             f"{', '.join(missing)}: is it another schedule's?")
        if len(state["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: {len(state['base_lrs'])} "
                             f"base_lrs for {len(self.optimizer.param_groups)} parameter groups")
        for name in self.settings:
            setattr(self, name, state[name])
        self.last_step, self.base_lrs = int(state["last_epoch"]), list(state["base_lrs"])
        self._apply()


class StepLR(LRScheduler):
    """Multiply the learning rate by gamma every step_size steps."""
    settings = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, step, base_lr):
        return base_lr * self.gamma ** (step // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the base learning rate down to eta_min over T_max steps
    (and, as in PyTorch, back up over the next T_max if you keep stepping)."""
    settings = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, step, base_lr):
        t = step / self.T_max
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t)) / 2


class OneCycleLR(LRScheduler):
    """Smith's one-cycle policy: warm up from max_lr/div_factor to max_lr over
    the first pct_start of total_steps, then anneal to max_lr/(div_factor *
    final_div_factor). Momentum (SGD's momentum, Adam's beta1) moves the other
    way, between base_momentum and max_momentum, when cycle_momentum is set."""

    def __init__(self, optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos",
                 cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4):
        if total_steps < 2:
            raise ValueError(f"OneCycleLR: total_steps must be >= 2, got {total_steps}")
        if not 0 < pct_start < 1:
            raise ValueError(f"OneCycleLR: pct_start must be in (0, 1), got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', "
                             f"got {anneal_strategy!r}")
        self.total_steps = total_steps
        self.warmup_end = max(1.0, pct_start * total_steps - 1)   # PyTorch's step numbering
        self.anneal = self._cos if anneal_strategy == "cos" else self._linear
        self.div_factor, self.final_div_factor = div_factor, final_div_factor
        self.cycle_momentum = cycle_momentum
        self.base_momentum, self.max_momentum = base_momentum, max_momentum
        if cycle_momentum and not all("momentum" in g or "betas" in g
                                      for g in optimizer.param_groups):
            raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum or "
                             "betas; pass cycle_momentum=False")
        for group in optimizer.param_groups:   # PyTorch keeps the cycle's ends in the groups
            group["lr"] = group["initial_lr"] = max_lr / div_factor
            group["max_lr"] = max_lr
            group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                group["max_momentum"], group["base_momentum"] = max_momentum, base_momentum
        super().__init__(optimizer)   # base_lrs: the initial lrs, as in PyTorch

    @staticmethod
    def _cos(start, end, t):
        return end + (start - end) * (1 + math.cos(math.pi * t)) / 2

    @staticmethod
    def _linear(start, end, t):
        return start + (end - start) * t

    def _phase(self, step):
        """(phase, fraction of it done): phase 0 is the warm-up, 1 the anneal."""
        step = min(step, self.total_steps - 1)
        if step <= self.warmup_end:
            return 0, step / self.warmup_end
        return 1, (step - self.warmup_end) / max(1.0, self.total_steps - 1 - self.warmup_end)

    def _apply(self):
        phase, t = self._phase(self.last_step)
        for group in self.optimizer.param_groups:
            if phase == 0:
                group["lr"] = self.anneal(group["initial_lr"], group["max_lr"], t)
            else:
                group["lr"] = self.anneal(group["max_lr"], group["min_lr"], t)
            if not self.cycle_momentum:
                continue
            if phase == 0:
                momentum = self.anneal(group["max_momentum"], group["base_momentum"], t)
            else:
                momentum = self.anneal(group["base_momentum"], group["max_momentum"], t)
            if "betas" in group:
                group["betas"] = (momentum, group["betas"][1])
            else:
                group["momentum"] = momentum

    def state_dict(self):
        """PyTorch's OneCycleLR state: its two phases and anneal function by name."""
        state = super().state_dict()
        state.update(total_steps=self.total_steps, cycle_momentum=self.cycle_momentum,
                     use_beta1=all("betas" in g for g in self.optimizer.param_groups),
                     _anneal_func_type="cos" if self.anneal == self._cos else "linear",
                     _schedule_phases=[
                         {"end_step": self.warmup_end, "start_lr": "initial_lr",
                          "end_lr": "max_lr", "start_momentum": "max_momentum",
                          "end_momentum": "base_momentum"},
                         {"end_step": self.total_steps - 1, "start_lr": "max_lr",
                          "end_lr": "min_lr", "start_momentum": "base_momentum",
                          "end_momentum": "max_momentum"}])
        return state

    def load_state_dict(self, state):
        phases = state.get("_schedule_phases")
        if phases is None or len(phases) != 2:
            raise ValueError("OneCycleLR.load_state_dict: expected the two phases of PyTorch's "
                             "OneCycleLR (three_phase=False) in _schedule_phases")
        self.total_steps, self.cycle_momentum = state["total_steps"], state["cycle_momentum"]
        self.warmup_end = float(phases[0]["end_step"])
        self.anneal = self._cos if state["_anneal_func_type"] == "cos" else self._linear
        super().load_state_dict(state)
