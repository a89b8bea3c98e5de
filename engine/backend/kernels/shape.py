"""Launchers for engine/ops/shape.py: permute (shaders/permute.wgsl); and how shapes
become the per-dim strides the broadcasting and permute kernels walk."""
import math

MAX_DIMS = 8   # the broadcast/permute kernels index up to 8 dims (two vec4<u32>)


def contiguous_strides(shape):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return strides[::-1]


def broadcast_strides(shape, out_shape):
    """The strides of `shape` read as out_shape: 0 along every broadcast dim."""
    shape = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    return [0 if s == 1 and o != 1 else st
            for s, o, st in zip(shape, out_shape, contiguous_strides(shape))]


def collapse(out_shape, *stride_lists):
    """Merge neighbouring dims that every operand walks contiguously, drop size-1
    dims: (64, 256) + bias (256,) stays 2-D, same-shape operands become 1-D."""
    dims = [(s, [st[i] for st in stride_lists]) for i, s in enumerate(out_shape) if s != 1]
    merged = []
    for size, strides in dims:
        if merged:
            psize, pstrides = merged[-1]
            if all(ps == st * size for ps, st in zip(pstrides, strides)):
                merged[-1] = (psize * size, strides)
                continue
        merged.append((size, strides))
    shape = [s for s, _ in merged]
    return shape, [[st[k] for _, st in merged] for k in range(len(stride_lists))]


class ShapeKernels:
    def permute(self, x, shape, perm):
        if len(shape) > MAX_DIMS:
            raise ValueError(f"permute: at most {MAX_DIMS} dims on the GPU, got shape {shape}")
        n = math.prod(shape)
        out = self._alloc(n, x.dtype)
        strides = contiguous_strides(shape)
        self._run("permute", [x, out], dict(n=n, ndim=len(shape),
                                            shape=[shape[p] for p in perm],
                                            in_strides=[strides[p] for p in perm]), n)
        return out
