"""Launcher for engine/data/augment.py (shaders/augment.wgsl): one thread per output pixel."""
from ..augment_fields import augment_fields
from ..base import FLOAT32


class AugmentKernels:
    def augment(self, x, count, channels, hw, seed, policy, black, white):
        numel = count * channels * hw[0] * hw[1]
        out = self._alloc(numel, FLOAT32)
        fields = augment_fields(policy, count, channels, hw, seed, black, white)
        self._run("augment", [x, out], fields, numel)
        return out
