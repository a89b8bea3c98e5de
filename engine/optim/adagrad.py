"""Adagrad (Duchi et al. 2011): each weight's step shrinks with the sum of its
squared gradients, so rarely-updated weights keep larger steps.

sum += g^2;   p -= lr / (1 + (t-1) lr_decay) * g / (sqrt(sum) + eps)
"""
from .optimizer import Optimizer


class Adagrad(Optimizer):
    buffer_names = ("sum",)
    torch_flags = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        if lr < 0 or lr_decay < 0 or weight_decay < 0 or eps < 0 or initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: lr, lr_decay, weight_decay, initial_accumulator_value and "
                             f"eps must be >= 0, got {lr}, {lr_decay}, {weight_decay}, "
                             f"{initial_accumulator_value}, {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def _update(self, group, items):
        updates = []
        for p, state in items:
            if not state:
                state["step"] = 0
                state["sum"] = p.backend.full(p.numel(), group["initial_accumulator_value"])
            state["step"] += 1
            clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
            updates.append((p.data, p.grad.data, state["sum"], p.numel(), clr))
        items[0][0].backend.adagrad_step(updates, group["eps"], group["weight_decay"])
