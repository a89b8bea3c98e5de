"""The numpy backend's batch-norm primitives (see __init__.py; the kernels they match
are shaders/batch_norm*.wgsl)."""
import numpy as np


class NormPrimitives:
    """Mixed into NumpyBackend: `self.float` is its float dtype. Arrays are viewed as
    (N, C, L): batch, channels, the values of one channel of one example."""

    # Per-channel sums over the batch and the pixels: each image's row of L values is
    # summed along its contiguous axis, then the N row sums in float64 (sums of
    # millions). Reducing over axes (0, 2) at once in float64 was 2x slower (measured).
    @staticmethod
    def _channel_sums(x):
        return x.sum(axis=2).sum(axis=0, dtype=np.float64)

    def batch_norm_stats(self, x, N, C, L):
        x = x.reshape(N, C, L)
        mean = (self._channel_sums(x) / (N * L)).astype(self.float)
        centred = x - mean[:, None]
        np.square(centred, out=centred)
        var = self._channel_sums(centred) / (N * L)
        return mean, var.astype(self.float)

    def batch_norm(self, x, mean, var, weight, bias, N, C, L, eps):
        scale = 1.0 / np.sqrt(var + eps)   # per channel, then whole-array passes in place
        if weight is not None:
            scale = scale * weight
        y = x.reshape(N, C, L) - mean[:, None]
        y *= scale[:, None]
        if bias is not None:
            y += bias[:, None]
        return y.ravel()

    def batch_norm_backward(self, g, x, mean, var, weight, N, C, L, eps, training):
        g = g.reshape(N, C, L)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = x.reshape(N, C, L) - mean[:, None]
        xhat *= inv_std[:, None]
        dbias = self._channel_sums(g).astype(self.float)
        dweight = self._channel_sums(g * xhat).astype(self.float)
        scale = inv_std if weight is None else inv_std * weight
        if not training:
            return (g * scale[:, None]).ravel(), dweight, dbias
        # through the batch's mean and var too (shaders/batch_norm_backward.wgsl):
        # dx = (g - (dbias + xhat * dweight) / (N*L)) * scale
        #    = g * scale + xhat * (-dweight * scale / (N*L)) - dbias * scale / (N*L),
        # per-channel factors, so three whole-array passes (xhat's memory reused)
        share = scale / (N * L)
        xhat *= (-dweight * share)[:, None]
        xhat += (-dbias * share)[:, None]
        dx = g * scale[:, None]
        dx += xhat
        return dx.ravel(), dweight, dbias

    def batch_norm_update(self, running_mean, running_var, mean, var, C, momentum, count):
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (count / (count - 1))
