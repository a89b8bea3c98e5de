"""Launchers for the reductions: sum / max / min along one axis (shaders/reduce.wgsl)
and argmax (argmax.wgsl, argmax_pick.wgsl) for engine/ops/reduce.py, and a layer's
bias gradient, through its ReLU (relu_bias_backward.wgsl) for ops/matmul.py and
ops/conv.py."""
from ..base import FLOAT32, INT32, REDUCE_OPS
from ..kernel_choice import reduce_row_limit
from ..runtime import grid

REDUCE_CHUNK = 256 * 64   # row elements per workgroup: 64 loads per thread
RELU_BIAS_ROWS = 4096     # a longer column is summed by the reduce kernel, in parallel


class ReduceKernels:
    def _reduce_pass(self, kernel, x, outer, size, inner, out_dtype, constants):
        """One pass: (outer, size, inner) -> (outer, nchunks, inner); returns (out, nchunks)."""
        if size <= reduce_row_limit(self):   # short rows (any row on a CPU): a thread per output
            out = self._alloc(outer * inner, out_dtype)
            self._run(kernel, [x, out], dict(outer=outer, size=size, inner=inner, chunk=size),
                      outer * inner, entry="per_thread", constants=constants)
            return out, 1
        # long rows: a workgroup per chunk of a row, tree reduction in shared memory
        chunks = -(-size // REDUCE_CHUNK)
        out = self._alloc(outer * chunks * inner, out_dtype)
        self._run(kernel, [x, out], dict(outer=outer, size=size, inner=inner,
                                         chunk=min(size, REDUCE_CHUNK)),
                  groups=grid(outer * chunks * inner), entry="per_workgroup",
                  constants=constants)
        return out, chunks

    def reduce(self, op, x, outer, size, inner):
        constants = {"OP": REDUCE_OPS.index(op)}
        out, chunks = self._reduce_pass("reduce", x, outer, size, inner, FLOAT32, constants)
        while chunks > 1:  # reduce the chunks' partial results in turn
            out, chunks = self._reduce_pass("reduce", out, outer, chunks, inner, FLOAT32,
                                            constants)
        return out

    def argmax(self, x, outer, size, inner):
        cand, chunks = self._reduce_pass("argmax", x, outer, size, inner, INT32, {})
        if chunks == 1:
            return cand
        out = self._alloc(outer * inner, INT32)
        self._run("argmax_pick", [x, cand, out],
                  dict(outer=outer, size=size, inner=inner, nchunks=chunks), outer * inner)
        return out

    def relu_bias_backward(self, g, y, rows, cols, plane=1):
        """(gz, gb) for g viewed as (rows, cols, plane): gz = g where y > 0 else 0 (the
        gradient through a fused layer's ReLU; g itself when y is None, no ReLU) and gb its
        sums over rows and plane per column (the bias's gradient). One dispatch for a
        Linear's (batch, features, 1): a thread per column walks down the rows. A
        Conv2d's (batch, channels, pixels) is summed over the rows the same way, a thread
        per (channel, pixel), then over each channel's pixels by the reduce kernel."""
        n, columns = rows * cols * plane, cols * plane
        if rows > RELU_BIAS_ROWS:   # long columns: the reduce kernel sums them in parallel
            gz = g if y is None else self.binary("relu_grad", g, (n,), y, (n,), (n,))
            summed = self.reduce("sum", gz, 1, rows, columns)
        else:
            gz = None if y is None else self._alloc(n, FLOAT32)
            summed = self._alloc(columns, FLOAT32)
            # without a ReLU, two dummies stand in for y and gz (see _or_dummy)
            self._run("relu_bias_backward", [g, self._or_dummy(y), self._or_dummy(gz, 1), summed],
                      dict(rows=rows, cols=columns), columns, constants={"RELU": y is not None})
            gz = g if gz is None else gz
        return gz, (summed if plane == 1 else self.reduce("sum", summed, cols, plane, 1))
