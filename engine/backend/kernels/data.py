"""Launcher for engine/data/: a batch gathered from a dataset kept on the GPU as
bytes (shaders/gather_images.wgsl)."""
from ..base import FLOAT32


class DataKernels:
    def gather_images(self, images, indices, count, row_len, scale, shift):
        out = self._alloc(count * row_len, FLOAT32)
        self._run("gather_images", [images, indices, out],
                  dict(count=count, row_len=row_len, scale=float(scale), shift=float(shift)),
                  count * row_len)
        return out
