"""RMSprop (Hinton's lecture 6e): divide each step by a running root-mean-square
of recent gradients, so the step size adapts per weight but, unlike Adagrad,
does not shrink forever.

sq = alpha sq + (1 - alpha) g^2;   p -= lr * g / (sqrt(sq) + eps)
`centered` divides by an estimate of the gradient's variance instead;
`momentum` accumulates the scaled steps like SGD's momentum.
"""
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or momentum < 0 or not 0 <= alpha <= 1:
            raise ValueError(f"RMSprop: invalid lr={lr}, alpha={alpha}, eps={eps}, "
                             f"weight_decay={weight_decay} or momentum={momentum}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    buffer_names = ("square_avg", "momentum_buffer", "grad_avg")
    torch_flags = dict(capturable=False, foreach=None, maximize=False, differentiable=False)

    def _update(self, group, items):
        updates = []
        for p, state in items:
            be, n = p.backend, p.numel()
            if not state:
                state["step"] = 0
                state["square_avg"] = be.full(n, 0.0)
                state["grad_avg"] = be.full(n, 0.0) if group["centered"] else None
                state["momentum_buffer"] = be.full(n, 0.0) if group["momentum"] > 0 else None
            state["step"] += 1   # only counted, as in PyTorch (its state_dict has it)
            updates.append((p.data, p.grad.data, state["square_avg"], state.get("grad_avg"),
                            state.get("momentum_buffer"), n))
        items[0][0].backend.rmsprop_step(updates, group["lr"], group["alpha"], group["eps"],
                                         group["weight_decay"], group["momentum"])
