"""Stochastic gradient descent with momentum, Nesterov and weight decay
(PyTorch's formulation: v = mu*v + (1-dampening)*g;  p -= lr * v)."""
from .optimizer import Optimizer


class SGD(Optimizer):
    buffer_names = ("momentum_buffer",)
    settings_only = True   # what its kernel is given: the settings, and whether it is the first step
    torch_flags = dict(maximize=False, foreach=None, differentiable=False, fused=None)
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got "
                             f"{lr}, {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, group, items):
        updates = []
        for p, state in items:
            first = state.get("momentum_buffer") is None   # PyTorch's first step: buffer = grad
            if first and group["momentum"]:
                state["momentum_buffer"] = p.backend.empty(p.numel())
                self._written = None   # this uniform says "first step": the next one must not
            updates.append((p.data, p.grad.data, state.get("momentum_buffer"), p.numel(), first))
        items[0][0].backend.sgd_step(updates, group["lr"], group["momentum"],
                                     group["dampening"], group["weight_decay"],
                                     group["nesterov"])
