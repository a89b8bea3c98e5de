"""Gradient clipping, PyTorch's torch.nn.utils functions with the same names.

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Both work on the device and read nothing back (the total norm stays a tensor),
so they can sit inside a recorded training step (engine.jit): each replay
measures the new gradients and scales them again.
"""
import math

from ..autograd import no_grad
from ..tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(x, norm_type):
    """The norm of all of x's elements as one vector, a 0-d tensor."""
    if norm_type == math.inf:
        return x.abs().max()
    if norm_type == 2:
        return (x * x).sum().sqrt()
    if norm_type == 1:
        return x.abs().sum()
    return (x.abs() ** norm_type).sum() ** (1.0 / norm_type)


def _check_norm_type(norm_type):
    norm_type = float(norm_type)
    if not norm_type > 0:   # catches NaN too
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type}")
    return norm_type


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of `parameters` together so that their total norm (the norm of
    all of them as one vector) is at most `max_norm`; return that total norm, before
    clipping, as a 0-d Tensor. As PyTorch, the scale is max_norm / (norm + 1e-6), capped
    at 1, and it is applied even when it is 1 (no `if` on a device value, no read-back).
    error_if_nonfinite=True raises if the norm is NaN or infinite, which needs a
    read-back: leave it off inside engine.jit."""
    norm_type = _check_norm_type(norm_type)
    max_norm = float(max_norm)
    grads = _grads(parameters)
    if not grads:
        from ..creation import tensor
        return tensor(0.0)
    from ..ops.cat import stack
    with no_grad():
        per_grad = stack([_vector_norm(g, norm_type) for g in grads])
        total = _vector_norm(per_grad, norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                               f"gradients is {total.item()}, so they cannot be clipped; "
                               f"pass error_if_nonfinite=False to clip anyway")
        scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element of `parameters` into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    with no_grad():
        for g in _grads(parameters):
            g.copy_(g.clamp(-clip_value, clip_value))
