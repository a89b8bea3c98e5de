"""Launchers for engine/ops/conv.py: conv2d and its two gradients, each one implicit
GEMM (MODE 0, 1, 2; shaders/conv2d.wgsl explains them), in the variant that suits the
adapter (kernel_choice.conv_plan): shaders/conv2d.wgsl (tiles in workgroup memory, for
GPUs) or shaders/conv2d_blocked.wgsl (register blocks, for CPU-backed adapters). Both
cut the sum over K into slices whose partial products the reduce kernel adds. The
forward pass's relu=True clamps y at 0 after the bias: in the kernel's epilogue when K
is one slice, else after the slices are added."""
from ..base import FLOAT32
from ..kernel_choice import conv_plan
from . import added_slices


class ConvKernels:
    def _conv2d(self, mode, x, w, g, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride,
                padding, flipped=False, relu=False):
        """C (M x cols) = A (M x K) @ B for mode 0 (y), 1 (dx) or 2 (dw); `flipped`: mode 0
        reads w as the flipped weight of a grad input (blocked variant only)."""
        (H, W), (OH, OW), (KH, KW) = in_hw, out_hw, kernel
        M, cols, K = [(C_out, N * OH * OW, C_in * KH * KW),
                      (C_in, N * H * W, C_out * KH * KW),
                      (C_out, C_in * KH * KW, N * OH * OW)][mode]
        plan = conv_plan(self, mode, M, cols, K)
        out = self._alloc(plan.slices * M * cols, FLOAT32)
        params = dict(C_in=C_in, H=H, W=W, C_out=C_out, KH=KH, KW=KW, OH=OH, OW=OW,
                      SH=stride[0], SW=stride[1], PH=padding[0], PW=padding[1],
                      M=M, cols=cols, K=K, k_chunk=plan.k_chunk)
        constants = {"MODE": mode, "HAS_BIAS": bias is not None,
                     "UNIT_STRIDE": tuple(stride) == (1, 1), "RELU": relu and plan.slices == 1}
        if plan.variant == "tiled":
            params["blocks"] = plan.blocks[0]     # column tiles
            constants["TM"] = plan.rows
        else:
            params["blocks"] = plan.blocks[1]     # row blocks
            constants["FLIPPED"] = flipped
        self._run(plan.kernel, [self._or_dummy(a) for a in (x, w, g, bias)] + [out], params,
                  groups=plan.groups, entry=plan.entry, constants=constants)
        return added_slices(self, out, plan.slices, M * cols, relu)

    def conv2d(self, x, w, bias, *geometry, relu=False):
        return self._conv2d(0, x, w, None, bias, *geometry, relu=relu)

    def conv2d_grad_input(self, g, w, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        (KH, KW), (PH, PW) = kernel, padding
        if (conv_plan(self, 1, C_in, N * in_hw[0] * in_hw[1], C_out * KH * KW).kernel
                == "conv2d_blocked" and tuple(stride) == (1, 1) and PH < KH and PW < KW):
            # a forward convolution of g with w flipped (conv2d_blocked.wgsl's FLIPPED)
            return self._conv2d(0, g, w, None, None, N, C_out, C_in, out_hw, in_hw, kernel,
                                stride, (KH - 1 - PH, KW - 1 - PW), flipped=True)
        return self._conv2d(1, None, w, g, None, N, C_in, C_out, in_hw, out_hw, kernel, stride,
                            padding)

    def conv2d_grad_weight(self, g, x, *geometry):
        return self._conv2d(2, x, None, g, None, *geometry)
