"""Softmax, log-softmax and the losses.

Kernels: shaders/softmax.wgsl (row-wise softmax / log-softmax and their
backward) and shaders/cross_entropy.wgsl (softmax + negative log-likelihood
fused: one numerically stable kernel forward, one backward).
"""
from ..autograd import Function
from ..tensor import Tensor
from . import elementwise as ew


class Softmax(Function):
    """Softmax (or log-softmax) over the last dim of a (rows, cols) view."""

    def forward(self, x, log):
        self.log = log
        cols = x.shape[-1] if x.ndim else 1
        rows = x.numel() // max(cols, 1)
        y = Tensor(x.backend.softmax(x.data, rows, cols, log), x.shape, "float32", x.backend)
        self.save_for_backward(y)
        self.rows, self.cols = rows, cols
        return y

    def backward(self, g):
        (y,) = self.saved
        data = g.backend.softmax_backward(y.data, g.data, self.rows, self.cols, self.log)
        return Tensor(data, g.shape, "float32", g.backend)


def _over_dim(x, dim, log):
    if x.ndim == 0:  # a 0-d tensor is one row of one: the result stays 0-d, like PyTorch
        return _over_dim(x.reshape(1), dim, log).reshape(())
    dim = dim % x.ndim
    if dim == x.ndim - 1:
        return Softmax.apply(x, log=log)
    moved = x.transpose(dim, -1)
    return Softmax.apply(moved, log=log).transpose(dim, -1)


def softmax(x, dim=-1):
    return _over_dim(x, dim, log=False)


def log_softmax(x, dim=-1):
    return _over_dim(x, dim, log=True)


class CrossEntropy(Function):
    """Mean over rows of -log softmax(logits)[target]; with label smoothing s, of the
    cross-entropy against (1 - s) * onehot(target) + s / classes."""

    int_inputs = (1,)

    def forward(self, logits, targets, reduction, smoothing):
        rows, cols = logits.shape
        be = logits.backend
        losses, lse = be.cross_entropy(logits.data, targets.data, rows, cols, smoothing)
        self.save_for_backward(logits, targets, Tensor(lse, (rows,), "float32", be))
        self.reduction, self.smoothing = reduction, smoothing
        per_row = Tensor(losses, (rows,), "float32", be)
        if reduction == "none":
            return per_row
        total = Tensor(be.reduce("sum", losses, 1, rows, 1), (), "float32", be)
        return total if reduction == "sum" else total * (1.0 / rows)

    def backward(self, g):
        logits, targets, lse = self.saved
        rows, cols = logits.shape
        be = g.backend
        if self.reduction == "none":  # a gradient per row: scale each row by it
            ones = Tensor(be.full(1, 1.0), (), "float32", be)
            unit = be.cross_entropy_backward(logits.data, targets.data, lse.data, ones.data,
                                             rows, cols, 1.0, self.smoothing)
            return Tensor(unit, logits.shape, "float32", be) * g.reshape(rows, 1), None
        scale = 1.0 if self.reduction == "sum" else 1.0 / rows
        data = be.cross_entropy_backward(logits.data, targets.data, lse.data, g.data,
                                         rows, cols, scale, self.smoothing)
        return Tensor(data, logits.shape, "float32", be), None


def cross_entropy(logits, targets, reduction="mean", label_smoothing=0.0):
    """logits (N, C) float32, targets (N,) int32 class indices in [0, C).
    label_smoothing in [0, 1] mixes the one-hot target with a uniform one, which
    keeps the network from growing over-confident logits (PyTorch's argument)."""
    if not isinstance(targets, Tensor):
        raise TypeError("cross_entropy: targets must be a tensor of class indices")
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (batch, classes), got shape {logits.shape}")
    if targets.dtype != "int32":
        raise TypeError(f"cross_entropy: targets must be int32 class indices, got {targets.dtype} "
                        f"of shape {targets.shape} (for probabilities use mse_loss or "
                        f"binary_cross_entropy_with_logits)")
    if targets.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: logits have {logits.shape[0]} rows (shape "
                         f"{logits.shape}) but targets have shape {targets.shape}; expected "
                         f"({logits.shape[0]},)")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    return CrossEntropy.apply(logits, targets, reduction=reduction,
                              smoothing=float(label_smoothing))


def _reduce(loss, reduction, name):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _same_shape(pred, target, name):
    if not isinstance(target, Tensor):
        raise TypeError(f"{name}: target must be a tensor")
    if pred.shape != target.shape:
        raise ValueError(f"{name}: input shape {pred.shape} and target shape {target.shape} "
                         f"differ; they must be equal")
    for which, t in (("input", pred), ("target", target)):
        if t.dtype != "float32":
            raise TypeError(f"{name}: {which} must be float32, got {t.dtype}; use .float()")


def mse_loss(pred, target, reduction="mean"):
    _same_shape(pred, target, "mse_loss")
    diff = pred - target
    return _reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Stable form: max(x, 0) - x*y + log(1 + exp(-|x|))."""
    _same_shape(logits, target, "binary_cross_entropy_with_logits")
    softplus = ew.unary("log", ew.unary("exp", -logits.abs()) + 1.0)
    loss = logits.relu() - logits * target + softplus
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def nll_loss(log_probs, targets, reduction="mean"):
    """Negative log-likelihood of log-probabilities: cross_entropy minus its softmax.
    Computed as cross_entropy(log_probs) since log_softmax is idempotent."""
    return cross_entropy(log_probs, targets, reduction)
