"""Adam (Kingma & Ba) with bias correction, and AdamW (decoupled weight decay).

m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
"""
from .optimizer import Optimizer


class Adam(Optimizer):
    decoupled = False
    buffer_names = ("exp_avg", "exp_avg_sq")
    torch_flags = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                       differentiable=False, fused=None, decoupled_weight_decay=False)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas} or eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _update(self, group, items):
        updates = []
        for p, state in items:
            if not state:
                state["step"] = 0
                state["exp_avg"] = p.backend.full(p.numel(), 0.0)      # m, PyTorch's names
                state["exp_avg_sq"] = p.backend.full(p.numel(), 0.0)   # v
            state["step"] += 1
            updates.append((p.data, p.grad.data, state["exp_avg"], state["exp_avg_sq"],
                            p.numel(), state["step"]))
        beta1, beta2 = group["betas"]
        items[0][0].backend.adam_step(updates, group["lr"], beta1, beta2, group["eps"],
                                      group["weight_decay"], self.decoupled)


class AdamW(Adam):
    decoupled = True
    torch_flags = dict(Adam.torch_flags, decoupled_weight_decay=True)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
