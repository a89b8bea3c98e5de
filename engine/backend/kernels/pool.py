"""Launchers for engine/ops/pool.py: max and average pooling and their backward
(shaders/max_pool2d.wgsl, avg_pool2d.wgsl and their _backward.wgsl)."""
import math

from ..base import FLOAT32, INT32


def _windows_per_pixel(kernel, stride, out_hw):
    """The most pooling windows one pixel can lie in: ceil(k / s) along each axis,
    at most all of them (the backward kernels' `down` and `across`)."""
    return math.prod(min(-(-k // s), o) for k, s, o in zip(kernel, stride, out_hw))


def _params(planes, in_hw, out_hw, ksize, stride, padding, k0=0, k1=0):
    """common/pool.wgsl's struct Params."""
    return dict(planes=planes, in_h=in_hw[0], in_w=in_hw[1], out_h=out_hw[0], out_w=out_hw[1],
                kh=ksize[0], kw=ksize[1], sh=stride[0], sw=stride[1], ph=padding[0],
                pw=padding[1], k0=k0, k1=k1)


class PoolKernels:
    POOL_SLICE = 16384   # most window pixels (or windows, backward) one pool dispatch walks
    TILE_PIXELS = 256    # the largest window max_pool2d_backward's `tiles` scatters

    def _run_pool(self, kernel, arrays, threads, steps, planes, in_hw, out_hw, ksize, stride,
                  padding):
        """A pooling kernel whose threads each walk `steps` positions: in slices of at
        most POOL_SLICE, one dispatch each, every one going on from the last (lavapipe
        stops a thread after 65,535 loop iterations; a global pool can have more)."""
        for k0 in range(0, steps, self.POOL_SLICE):
            params = _params(planes, in_hw, out_hw, ksize, stride, padding, k0,
                             min(steps, k0 + self.POOL_SLICE))
            self._run(kernel, arrays, params, threads)

    def max_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * out_hw[0] * out_hw[1]
        out, indices = self._alloc(n, FLOAT32), self._alloc(n, INT32)
        steps = kernel[0] * kernel[1]   # a thread per output walks its window
        self._run_pool("max_pool2d", [x, out, indices], n, steps,
                       planes, in_hw, out_hw, kernel, stride, padding)
        return out, indices

    def max_pool2d_backward(self, g, indices, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * in_hw[0] * in_hw[1]
        dx = self._alloc(n, FLOAT32)
        if (tuple(stride) == tuple(kernel) and tuple(padding) == (0, 0)
                and kernel[0] * kernel[1] <= self.TILE_PIXELS):
            # the windows tile the plane: a thread per window scatters (its `tiles`),
            # its loop far below lavapipe's 65,535 iterations
            self._run("max_pool2d_backward", [g, indices, dx],
                      _params(planes, in_hw, out_hw, kernel, stride, padding),
                      planes * out_hw[0] * out_hw[1], entry="tiles")
            return dx
        # a thread per input pixel: a gather, no atomics
        self._run_pool("max_pool2d_backward", [g, indices, dx], n,
                       _windows_per_pixel(kernel, stride, out_hw),
                       planes, in_hw, out_hw, kernel, stride, padding)
        return dx

    def avg_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * out_hw[0] * out_hw[1]
        out = self._alloc(n, FLOAT32)
        self._run_pool("avg_pool2d", [x, out], n, kernel[0] * kernel[1],
                       planes, in_hw, out_hw, kernel, stride, padding)
        return out

    def avg_pool2d_backward(self, g, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * in_hw[0] * in_hw[1]
        dx = self._alloc(n, FLOAT32)
        self._run_pool("avg_pool2d_backward", [g, dx], n,
                       _windows_per_pixel(kernel, stride, out_hw),
                       planes, in_hw, out_hw, kernel, stride, padding)
        return dx
