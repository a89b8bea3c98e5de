"""Launchers for engine/ops/conv.py: conv2d and its two gradients, each one implicit
GEMM of shaders/conv2d.wgsl (MODE 0, 1, 2; the kernel explains them)."""
from ..base import FLOAT32
from ..runtime import grid


class ConvKernels:
    CONV_K_SLICE = 16384      # longest sum a conv2d workgroup walks: <= 26k loop iterations
    CONV_WEIGHT_CHUNK = 1024  # grad weight sums N*OH*OW products: this many per workgroup,
                              # so that its few output tiles still make many workgroups

    def _conv2d(self, mode, x, w, g, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride,
                padding):
        """C (M x cols) = A (M x K) @ B for mode 0 (y), 1 (dx) or 2 (dw)."""
        (H, W), (OH, OW), (KH, KW) = in_hw, out_hw, kernel
        M, cols, K = [(C_out, N * OH * OW, C_in * KH * KW),
                      (C_in, N * H * W, C_out * KH * KW),
                      (C_out, C_in * KH * KW, N * OH * OW)][mode]
        # the sum over K in slices, one layer of workgroups each; then the slices' sum
        k_chunk = self.CONV_K_SLICE if mode < 2 else self.CONV_WEIGHT_CHUNK
        slices = max(1, -(-K // k_chunk))
        rows = min(64, max(8, 1 << (M - 1).bit_length()))   # the tile's height TM: 8 .. 64
        col_tiles = -(-cols // 64)
        out = self._alloc(slices * M * cols, FLOAT32)
        params = dict(C_in=C_in, H=H, W=W, C_out=C_out, KH=KH, KW=KW, OH=OH, OW=OW,
                      SH=stride[0], SW=stride[1], PH=padding[0], PW=padding[1],
                      M=M, cols=cols, K=K, k_chunk=k_chunk, col_tiles=col_tiles)
        self._run("conv2d", [self._or_dummy(a) for a in (x, w, g, bias)] + [out], params,
                  groups=grid(col_tiles * -(-M // rows))[:2] + (slices,),
                  constants={"MODE": mode, "TM": rows, "HAS_BIAS": bias is not None})
        return out if slices == 1 else self.reduce("sum", out, 1, slices, M * cols)

    def conv2d(self, x, w, bias, *geometry):
        return self._conv2d(0, x, w, None, bias, *geometry)

    def conv2d_grad_input(self, g, w, *geometry):
        return self._conv2d(1, None, w, g, None, *geometry)

    def conv2d_grad_weight(self, g, x, *geometry):
        return self._conv2d(2, x, None, g, None, *geometry)
