"""Launchers for engine/creation.py: filling a buffer with one value (shaders/fill.wgsl)
and counter-based random numbers (random.wgsl)."""
import struct

from ..base import FLOAT32


class CreationKernels:
    def full(self, numel, value, dtype=FLOAT32):
        return self.fill_(self._alloc(numel, dtype), value)

    def fill_(self, arr, value):
        # raw 32-bit words: one kernel for float32 and int32 (zeros(dtype=int32) passes 0.0)
        value = float(value) if arr.dtype == FLOAT32 else int(value)
        bits = struct.unpack("<I", struct.pack("<f" if arr.dtype == FLOAT32 else "<i", value))[0]
        words = -(-arr.nbytes // 4)
        self._run("fill", [arr], dict(n=words, bits=bits), words)
        return arr

    def random(self, numel, seed, offset, normal=False):
        out = self._alloc(numel, FLOAT32)
        self._run("random", [out], dict(n=numel, seed=seed & 0xFFFFFFFF,
                                        offset=offset & 0xFFFFFFFF, normal=int(normal)), numel)
        return out
