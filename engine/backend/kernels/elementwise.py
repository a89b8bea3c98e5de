"""Launchers for engine/ops/elementwise.py: unary and binary ops (shaders/unary.wgsl,
binary.wgsl; which `case` runs is the op's code in ../elementwise_table.py) and
dtype casts (cast.wgsl). unary and binary's `runs` entry point take four elements per
invocation (shaders/common/vec4_runs.wgsl)."""
import math

from ..base import FLOAT32
from ..elementwise_table import UNARY, BINARY
from . import runs_of_four
from .shape import MAX_DIMS, broadcast_strides, collapse


def _one_walk(shape, *strides):
    """Whether binary.wgsl's `runs` entry point can do it: after collapse, at most one dim,
    which each operand walks (stride 1) or holds still (stride 0, a single value)."""
    return len(shape) <= 1 and all(s in (0, 1) for st in strides for s in st)


def _scalars(args):
    """An op's scalar arguments as the kernels' arg0 and arg1 (unused ones are 0)."""
    args = [float(a) for a in args] + [0.0, 0.0]
    return args[0], args[1]


class ElementwiseKernels:
    def unary(self, op, x, *args):
        out = self._alloc(x.numel, x.dtype)
        arg0, arg1 = _scalars(args)
        self._run("unary", [x, out], dict(n=x.numel, arg0=arg0, arg1=arg1), runs_of_four(x.numel),
                  constants={"OP": UNARY[op].code})
        return out

    def binary(self, op, a, a_shape, b, b_shape, out_shape, *args):
        n = math.prod(out_shape)
        out = self._alloc(n, FLOAT32)
        shape, (sa, sb) = collapse(out_shape, broadcast_strides(a_shape, out_shape),
                                   broadcast_strides(b_shape, out_shape))
        if len(shape) > MAX_DIMS:
            raise ValueError(f"broadcasting {a_shape} with {b_shape} needs more than "
                             f"{MAX_DIMS} dims after merging")
        arg0, arg1 = _scalars(args)
        params = dict(n=n, ndim=len(shape), arg0=arg0, arg1=arg1, shape=shape,
                      a_strides=sa, b_strides=sb)
        constants = {"OP": BINARY[op].code}
        if _one_walk(shape, sa, sb):   # same shapes, or a scalar operand
            self._run("binary", [a, b, out], params, runs_of_four(n), entry="runs",
                      constants=constants)
        else:
            self._run("binary", [a, b, out], params, n, constants=constants)
        return out

    def cast(self, x, dtype):
        out = self._alloc(x.numel, dtype)
        self._run("cast", [x, out], dict(n=x.numel), x.numel,
                  constants={"TO_FLOAT": dtype == FLOAT32})
        return out
