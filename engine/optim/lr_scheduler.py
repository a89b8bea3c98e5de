"""Learning-rate schedules with PyTorch's names and arguments.

Call `scheduler.step()` once after each `optimizer.step()`. A schedule only
rewrites `group["lr"]` (and, for OneCycleLR, the momentum) in the optimizer's
parameter groups; the update kernels read them at the next step.

Why schedules matter even in a one-epoch run: a large learning rate early
makes fast progress, a small one late lets the weights settle into a minimum
instead of bouncing around it (see docs/TRAINING.md).
"""
import math


class LRScheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.last_step = 0
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
        return {"last_step": self.last_step, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state):
        self.last_step, self.base_lrs = state["last_step"], list(state["base_lrs"])
        self._apply()


class StepLR(LRScheduler):
    """Multiply the learning rate by gamma every step_size steps."""

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
        for group in optimizer.param_groups:
            group["lr"] = max_lr   # base_lrs below become max_lr, as in PyTorch
        super().__init__(optimizer)

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

    def lr_at(self, step, max_lr):
        initial = max_lr / self.div_factor
        phase, t = self._phase(step)
        if phase == 0:
            return self.anneal(initial, max_lr, t)
        return self.anneal(max_lr, initial / self.final_div_factor, t)

    def _apply(self):
        super()._apply()
        if not self.cycle_momentum:
            return
        phase, t = self._phase(self.last_step)
        if phase == 0:
            momentum = self.anneal(self.max_momentum, self.base_momentum, t)
        else:
            momentum = self.anneal(self.base_momentum, self.max_momentum, t)
        for group in self.optimizer.param_groups:
            if "betas" in group:
                group["betas"] = (momentum, group["betas"][1])
            else:
                group["momentum"] = momentum
