"""Softmax, log-softmax and the losses.

Kernels: shaders/softmax.wgsl (row-wise softmax / log-softmax and their
backward) and shaders/cross_entropy.wgsl (softmax + negative log-likelihood
fused: one numerically stable kernel forward, which in a training step also
writes the gradient; cross_entropy_backward.wgsl for any other upstream gradient).
"""
import array
import math

from .. import device_checks
from ..autograd import Function, check_same_device, is_grad_enabled
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
    cross-entropy against (1 - s) * onehot(target) + s / classes.

    A training step calls loss.backward() right after: when the logits need a
    gradient, the forward kernel writes d loss / d logits too (it has each row's
    log-sum-exp at hand), and backward hands it out when its own gradient is
    backward()'s seed of 1, with no dispatch of its own. Any other gradient (the
    loss scaled, or added to another) goes through cross_entropy_backward.wgsl."""

    int_inputs = (1,)

    def forward(self, logits, targets, reduction, smoothing):
        rows, cols = logits.shape
        be = logits.backend
        self.reduction, self.smoothing, self.unit_grad = reduction, smoothing, None
        if reduction == "none":
            losses, lse = be.cross_entropy(logits.data, targets.data, rows, cols, smoothing)
            out = Tensor(losses, (rows,), "float32", be)
        else:   # the sum or mean over the batch, in the same kernel (small batches)
            scale = 1.0 if reduction == "sum" else (1.0 / rows if rows else math.nan)
            with_grad = logits.requires_grad and is_grad_enabled()
            total, lse, self.unit_grad = be.cross_entropy_total(
                logits.data, targets.data, rows, cols, smoothing, scale, with_grad)
            out = Tensor(total, (), "float32", be)
        self.save_for_backward(logits, targets, Tensor(lse, (rows,), "float32", be))
        return out

    def backward(self, g):
        logits, targets, lse = self.saved
        rows, cols = logits.shape
        be = g.backend
        unit_grad, self.unit_grad = self.unit_grad, None   # its buffer is not kept after
        if unit_grad is not None and g.data is be.one():   # loss.backward()
            return Tensor(unit_grad, logits.shape, "float32", be), None
        if self.reduction == "none":  # a gradient per row: scale each row by it
            ones = Tensor(be.full(1, 1.0), (), "float32", be)
            unit = be.cross_entropy_backward(logits.data, targets.data, lse.data, ones.data,
                                             rows, cols, 1.0, self.smoothing)
            return Tensor(unit, logits.shape, "float32", be) * g.reshape(rows, 1), None
        scale = 1.0 if self.reduction == "sum" else 1.0 / max(rows, 1)
        data = be.cross_entropy_backward(logits.data, targets.data, lse.data, g.data,
                                         rows, cols, scale, self.smoothing)
        return Tensor(data, logits.shape, "float32", be), None


class NLLLoss(Function):
    """loss[i] = -input[i, target[i]] for each row of log-probabilities."""

    int_inputs = (1,)

    def forward(self, log_probs, targets):
        rows, cols = log_probs.shape
        be = log_probs.backend
        # The fused cross-entropy kernel already picks input[i, target[i]]: its loss is
        # lse[i] - input[i, target[i]] and it returns lse[i] too, so their difference
        # is the answer (to float32 rounding of lse, which is ~0 for log-probabilities).
        losses, lse = be.cross_entropy(log_probs.data, targets.data, rows, cols, 0.0)
        self.save_for_backward(targets)
        self.cols = cols
        return Tensor(losses, (rows,), "float32", be) - Tensor(lse, (rows,), "float32", be)

    def backward(self, g):
        (targets,) = self.saved
        rows, be = targets.shape[0], g.backend
        classes = array.array("f", range(self.cols)).tobytes()
        classes = Tensor(be.upload(classes), (1, self.cols), "float32", be)
        onehot = classes == targets.reshape(rows, 1)          # (rows, cols) of 0/1
        return onehot * -g.reshape(rows, 1), None


# -- class targets: the checks cross_entropy and nll_loss share ---------------------
# PyTorch raises for a target outside 0..C-1 (other than ignore_index). Checking
# that must not read the targets back from the GPU every step, so the check takes
# the cheapest route the targets allow (see _check_targets and engine/device_checks.py).

def _check_class_loss_args(name, scores, targets, weight, reduction, ignore_index):
    """Types, shapes and options; -> (rows, classes)."""
    if not isinstance(targets, Tensor):
        raise TypeError(f"{name}: targets must be a tensor of class indices")
    check_same_device(name, scores, targets)
    if weight is not None:
        hint = "; pass reduction= by keyword" if isinstance(weight, str) else ""
        raise NotImplementedError(f"{name}: class weights are not supported (the third "
                                  f"argument is PyTorch's `weight`, got {weight!r}){hint}")
    if scores.ndim != 2:
        raise ValueError(f"{name}: input must be (batch, classes), got shape {scores.shape}")
    if targets.dtype != "int32":
        raise TypeError(f"{name}: targets must be int32 class indices, got {targets.dtype} "
                        f"of shape {targets.shape} (for probabilities use mse_loss or "
                        f"binary_cross_entropy_with_logits)")
    if targets.shape != (scores.shape[0],):
        raise ValueError(f"{name}: input has {scores.shape[0]} rows (shape {scores.shape}) "
                         f"but targets have shape {targets.shape}; expected "
                         f"({scores.shape[0]},)")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    return scores.shape


def _target_error(name, target, classes, ignore_index, where="", note=""):
    return IndexError(f"{name}: target {target}{where} is out of bounds: the input has "
                      f"{classes} classes, so targets must lie in 0..{classes - 1} (or be "
                      f"ignore_index={ignore_index}){note}")


def _check_targets(name, targets, classes, ignore_index):
    """Raises for a target outside 0..classes-1 that is not ignore_index, as soon as
    that is free to know. Returns
      "valid"     every target is a class: the loss needs no masking;
      "ignored"   valid, but some may equal ignore_index: the loss masks those rows;
      "unchecked" targets computed on the GPU: mask, and check at the next read-back.
    """
    if targets.value_range is not None:   # made from host data: min and max are known
        low, high = targets.value_range
        for extreme in (low, high):
            if not 0 <= extreme < classes and extreme != ignore_index:
                raise _target_error(name, extreme, classes, ignore_index)
        if 0 <= low and high < classes:
            return "ignored" if low <= ignore_index <= high else "valid"
        # an extreme is ignore_index: what lies between is unknown, so look further
    if targets.backend.reads_are_free:   # numpy: the targets are in host memory
        values = array.array("i", targets.backend.download(targets.data))
        for row, target in enumerate(values):
            if not 0 <= target < classes and target != ignore_index:
                raise _target_error(name, target, classes, ignore_index, f" at row {row}")
        return "ignored" if ignore_index in values else "valid"
    return "unchecked"


def _without_ignored(targets, ignore_index):
    """-> (keep: float 1/0 per row, targets with ignored rows pointing at class 0)."""
    keep = targets != ignore_index
    safe = (targets.float() * keep).int()   # any valid class will do: those rows are masked
    return keep, safe


def _check_at_next_read_back(name, safe_targets, classes, ignore_index):
    """Reduce the targets to their min and max on the device; decide later."""
    if safe_targets.numel() == 0:
        return
    as_float = safe_targets.float()
    low, high = as_float.min(), as_float.max()

    def verify(values):
        for extreme in values:
            if not 0 <= extreme < classes:
                raise _target_error(name, int(extreme), classes, ignore_index, note=(
                    ". The targets were on the GPU, so they were checked there and the "
                    "error shows at this read-back, the first since that call"))
    device_checks.defer(safe_targets.backend, [low.data, high.data], verify)


def _class_loss(name, per_row, scores, targets, reduction, ignore_index):
    """Shared tail of cross_entropy and nll_loss: per_row(scores, targets, reduction)
    is the loss over valid targets; rows whose target is ignore_index count for
    nothing, and 'mean' divides by the rows that count, as in PyTorch."""
    status = _check_targets(name, targets, scores.shape[1], ignore_index)
    if status == "valid":
        return per_row(scores, targets, reduction)
    keep, safe = _without_ignored(targets, ignore_index)
    if status == "unchecked":
        _check_at_next_read_back(name, safe, scores.shape[1], ignore_index)
    losses = per_row(scores, safe, "none") * keep
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total / keep.sum()   # all ignored: 0/0 = NaN


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """input (N, C) float32 logits, target (N,) int32 class indices in [0, C), or
    ignore_index (those rows count for nothing, as in PyTorch). label_smoothing in
    [0, 1] mixes the one-hot target with a uniform one, which keeps the network from
    growing over-confident logits (PyTorch's argument)."""
    _check_class_loss_args("cross_entropy", input, target, weight, reduction, ignore_index)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    smoothing = float(label_smoothing)

    def per_row(logits, targets, how):
        return CrossEntropy.apply(logits, targets, reduction=how, smoothing=smoothing)
    return _class_loss("cross_entropy", per_row, input, target, reduction, ignore_index)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood: input (N, C) holds log-probabilities (log_softmax's
    output), and the loss of row i is -input[i, target[i]], as in PyTorch."""
    _check_class_loss_args("nll_loss", input, target, weight, reduction, ignore_index)

    def per_row(log_probs, targets, how):
        losses = NLLLoss.apply(log_probs, targets)
        return losses if how == "none" else _reduce(losses, how, "nll_loss")
    return _class_loss("nll_loss", per_row, input, target, reduction, ignore_index)


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
