"""Launchers for engine/ops/reduce.py: sum / max / min along one axis
(shaders/reduce.wgsl) and argmax (argmax.wgsl, argmax_pick.wgsl)."""
from ..base import FLOAT32, INT32, REDUCE_OPS
from ..kernel_choice import reduce_row_limit
from ..runtime import grid

REDUCE_CHUNK = 256 * 64   # row elements per workgroup: 64 loads per thread


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
