"""Launcher for engine/ops/matmul.py: the tiled matrix product (shaders/matmul.wgsl)."""
from ..base import FLOAT32

MATMUL_K_SLICE = 32768   # longest K one dispatch walks (lavapipe's loop limit)


class MatmulKernels:
    def matmul(self, a, b, batch, M, N, K, trans_a=False, trans_b=False,
               a_batched=True, b_batched=True, bias=None):
        total = None
        # K in slices (rarely more than one): each slice's product, then their sum
        for k_begin in range(0, max(K, 1), MATMUL_K_SLICE):
            first = k_begin == 0
            out = self._alloc(batch * M * N, FLOAT32)
            params = dict(M=M, N=N, K=K, a_batch_stride=M * K if a_batched else 0,
                          b_batch_stride=K * N if b_batched else 0, k_begin=k_begin,
                          k_end=min(K, k_begin + MATMUL_K_SLICE))
            constants = {"TRANS_A": bool(trans_a), "TRANS_B": bool(trans_b),
                         "HAS_BIAS": first and bias is not None}
            groups = (-(-N // 64), -(-M // 64), batch)
            self._run("matmul", [a, b, bias if first and bias is not None else a, out],
                      params, groups=groups, constants=constants)
            total = out if first else self.binary("add", total, (batch * M * N,), out,
                                                  (batch * M * N,), (batch * M * N,))
        return total
