"""Launchers for engine/ops/norm.py: batch normalisation (shaders/batch_norm_stats.wgsl
for the per-channel sums, batch_norm.wgsl, batch_norm_backward.wgsl and
batch_norm_update.wgsl for the running statistics)."""
from ..base import FLOAT32
from ..runtime import grid
from .reduce import REDUCE_CHUNK


class NormKernels:
    def _channel_sums(self, what, x, N, C, L, g=None, mean=None, var=None, eps=0.0):
        """Per-channel sums of batch_norm_stats.wgsl's summand `what`: a workgroup per
        chunk of a channel, then reduce.wgsl over the chunks."""
        chunks = -(-(N * L) // REDUCE_CHUNK)
        out = self._alloc(C * chunks, FLOAT32)
        self._run("batch_norm_stats", [x, *map(self._or_dummy, (g, mean, var)), out],
                  dict(n=N, c=C, l=L, chunk=REDUCE_CHUNK, eps=float(eps)),
                  groups=grid(C * chunks), constants={"WHAT": what})
        return out if chunks == 1 else self.reduce("sum", out, C, chunks, 1)

    def batch_norm_stats(self, x, N, C, L):
        # two passes: the mean, then the mean squared distance from it
        mean = self.unary("scale", self._channel_sums(0, x, N, C, L), 1.0 / (N * L))
        var = self.unary("scale", self._channel_sums(1, x, N, C, L, mean=mean), 1.0 / (N * L))
        return mean, var

    def batch_norm(self, x, mean, var, weight, bias, N, C, L, eps):
        y = self._alloc(x.numel, FLOAT32)
        constants = {"HAS_WEIGHT": weight is not None, "HAS_BIAS": bias is not None}
        self._run("batch_norm", [x, mean, var, self._or_dummy(weight), self._or_dummy(bias), y],
                  dict(numel=x.numel, c=C, l=L, eps=float(eps)), x.numel, constants=constants)
        return y

    def batch_norm_backward(self, g, x, mean, var, weight, N, C, L, eps, training):
        dbias = self._channel_sums(0, g, N, C, L)
        dweight = self._channel_sums(2, x, N, C, L, g=g, mean=mean, var=var, eps=eps)
        sums = self.cat([dbias, dweight], 1, [C, C], 1) if training else None
        dx = self._alloc(x.numel, FLOAT32)
        self._run("batch_norm_backward",
                  [g, x, mean, var, self._or_dummy(weight), self._or_dummy(sums), dx],
                  dict(numel=x.numel, c=C, l=L, eps=float(eps), count=float(N * L)), x.numel,
                  constants={"TRAINING": bool(training), "HAS_WEIGHT": weight is not None})
        return dx, dweight, dbias

    def batch_norm_update(self, running_mean, running_var, mean, var, C, momentum, count):
        self._run("batch_norm_update", [running_mean, running_var, mean, var],
                  dict(c=C, momentum=float(momentum), unbias=count / (count - 1)), C)
