"""Launcher for engine/ops/dropout.py (shaders/dropout.wgsl)."""
import math

from ..base import FLOAT32


class DropoutKernels:
    def dropout(self, x, numel, p, seed, offset, slot=None):
        # kept when the 24-bit random integer >= p * 2^24: decided on integers, so the
        # numpy backend (comparing exact float64s) keeps exactly the same elements
        out = self._alloc(numel, FLOAT32)
        params = dict(n=numel, seed=seed & 0xFFFFFFFF, offset=offset & 0xFFFFFFFF,
                      threshold=math.ceil(p * (1 << 24)),
                      scale=0.0 if p == 1 else 1.0 / (1.0 - p))
        self._run("dropout", [x, out], params, numel, slot=slot)
        return out
