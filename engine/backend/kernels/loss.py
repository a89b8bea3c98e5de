"""Launchers for engine/ops/loss.py: softmax and log-softmax with their backward
(shaders/softmax.wgsl, softmax_backward.wgsl) and the fused cross-entropy
(cross_entropy.wgsl, cross_entropy_backward.wgsl)."""
from ..base import FLOAT32
from ..runtime import WG, grid

WIDE_ROW = 256   # rows wider than this get a workgroup each
SUMMED_WORK = 4096   # most logits one thread of cross_entropy.wgsl's `summed` reads


class LossKernels:
    def _run_rows(self, kernel, arrays, params, constants=None):
        """A row-wise kernel: one thread per row for narrow rows, a workgroup per row
        for wide ones (bounded loops per thread; lavapipe stops after 65,535)."""
        rows, cols = params["rows"], params["cols"]
        if cols <= WIDE_ROW:
            self._run(kernel, arrays, params, rows, constants=constants)
        else:
            self._run(kernel, arrays, params, groups=grid(rows), entry="per_workgroup",
                      constants=constants)

    def softmax(self, x, rows, cols, log=False):
        out = self._alloc(rows * cols, FLOAT32)
        self._run_rows("softmax", [x, out], dict(rows=rows, cols=cols), {"LOG": bool(log)})
        return out

    def softmax_backward(self, y, g, rows, cols, log=False):
        out = self._alloc(rows * cols, FLOAT32)
        self._run_rows("softmax_backward", [y, g, out], dict(rows=rows, cols=cols),
                       {"LOG": bool(log)})
        return out

    def cross_entropy(self, logits, targets, rows, cols, smoothing=0.0):
        return self._cross_entropy_rows(logits, targets, rows, cols, smoothing)[:2]

    def _cross_entropy_rows(self, logits, targets, rows, cols, smoothing, grad_scale=None):
        """(loss per row, lse per row, and with a grad_scale the gradient: see
        cross_entropy_total)."""
        losses, lse = self._alloc(rows, FLOAT32), self._alloc(rows, FLOAT32)
        grad = None if grad_scale is None else self._alloc(rows * cols, FLOAT32)
        self._run_rows("cross_entropy", [logits, targets, losses, lse, self._or_dummy(grad)],
                       dict(rows=rows, cols=cols, smoothing=float(smoothing), scale=1.0,
                            grad_scale=float(grad_scale or 0.0)),
                       {"GRAD": grad is not None})
        return losses, lse, grad

    def cross_entropy_total(self, logits, targets, rows, cols, smoothing, scale, with_grad=False):
        """(scale * the sum of the rows' losses as one value, lse per row, and with_grad
        d total / d logits, else None). A small batch takes one dispatch (`summed`: one
        workgroup); a bigger one the per-row kernel, then the sum and the scaling, so
        that every core gets work."""
        grad_scale = scale if with_grad else None
        if -(-rows // WG) * cols > SUMMED_WORK:   # rows per thread x logits per row
            losses, lse, grad = self._cross_entropy_rows(logits, targets, rows, cols,
                                                         smoothing, grad_scale)
            total = self.reduce("sum", losses, 1, rows, 1)
            return (total if scale == 1.0 else self.unary("scale", total, scale)), lse, grad
        total, lse = self._alloc(1, FLOAT32), self._alloc(rows, FLOAT32)
        grad = self._alloc(rows * cols, FLOAT32) if with_grad else None
        self._run("cross_entropy", [logits, targets, total, lse, self._or_dummy(grad)],
                  dict(rows=rows, cols=cols, smoothing=float(smoothing), scale=float(scale),
                       grad_scale=float(scale)),
                  groups=(1, 1, 1), entry="summed", constants={"GRAD": with_grad})
        return total, lse, grad

    def cross_entropy_backward(self, logits, targets, lse, grad_out, rows, cols, scale,
                               smoothing=0.0):
        out = self._alloc(rows * cols, FLOAT32)
        self._run("cross_entropy_backward", [logits, targets, lse, grad_out, out],
                  dict(rows=rows, cols=cols, scale=float(scale), smoothing=float(smoothing)),
                  rows * cols)
        return out
