"""Batch normalisation: every channel (dim 1) shifted and scaled to mean 0, variance 1,

    y = (x - mean) / sqrt(var + eps) * weight + bias

with mean and var taken per channel over the batch and every position (N, H, W).
Training uses the batch's own statistics and updates running averages of them in
place; evaluation uses those running averages, so a prediction does not depend on
the rest of its batch. Kernels: shaders/batch_norm_stats.wgsl (chunked per-channel
sums), batch_norm.wgsl, batch_norm_backward.wgsl and batch_norm_update.wgsl.
"""
from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor


class BatchNorm(Function):
    """x (N, C, ...) seen as (N, C, L); weight and bias are (C,) or None."""

    def forward(self, x, weight, bias, running_mean, running_var, training, momentum, eps):
        N, C = x.shape[:2]
        L = x.numel() // (N * C)
        be = x.backend
        if training:
            mean, var = be.batch_norm_stats(x.data, N, C, L)
            if running_mean is not None:
                be.batch_norm_update(running_mean.data, running_var.data, mean, var, C,
                                     momentum, N * L)
        elif is_grad_enabled():
            # copies: a later training step updates the running statistics in place,
            # and this graph's backward must still see the values its forward used
            mean, var = be.unary("copy", running_mean.data), be.unary("copy", running_var.data)
        else:
            mean, var = running_mean.data, running_var.data
        self.dims, self.training, self.eps = (N, C, L), training, eps
        self.save_for_backward(x, weight, Tensor(mean, (C,), "float32", be),
                               Tensor(var, (C,), "float32", be))
        y = be.batch_norm(x.data, mean, var, None if weight is None else weight.data,
                          None if bias is None else bias.data, N, C, L, eps)
        return Tensor(y, x.shape, "float32", be)

    def backward(self, g):
        x, weight, mean, var = self.saved
        (N, C, L), be = self.dims, g.backend
        dx, dweight, dbias = be.batch_norm_backward(
            g.data, x.data, mean.data, var.data, None if weight is None else weight.data,
            N, C, L, self.eps, self.training)
        has_bias = self.parents[2] is not None
        return (Tensor(dx, x.shape, "float32", be),
                None if weight is None else Tensor(dweight, (C,), "float32", be),
                Tensor(dbias, (C,), "float32", be) if has_bias else None)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """PyTorch's F.batch_norm for (N, C), (N, C, L) and (N, C, H, W) inputs. training:
    normalise with the batch's mean and biased variance and, if running_mean and
    running_var are given, update them in place (the variance unbiased, as PyTorch
    does): running = (1 - momentum) * running + momentum * batch."""
    if not isinstance(x, Tensor) or x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    C = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (C,)):
            raise ValueError(f"batch_norm: {name} must have shape ({C},), one value per channel "
                             f"of the input of shape {x.shape}, got "
                             f"{getattr(t, 'shape', type(t).__name__)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise ValueError("batch_norm: evaluation (training=False) normalises with "
                         "running_mean and running_var; none were given")
    if training and x.numel() // max(C, 1) <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}")
    if x.numel() == 0:
        return x
    return BatchNorm.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                           training=training, momentum=float(momentum), eps=float(eps))
