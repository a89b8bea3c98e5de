"""Launcher for engine/ops/matmul.py: the matrix product, in the variant that suits the
adapter (kernel_choice.py): shaders/matmul.wgsl (tiles in workgroup memory, for GPUs) or
shaders/matmul_blocked.wgsl (register blocks, for CPU-backed adapters). Both take the
same uniform fields and bindings, and both cut K into slices (split-K) whose partial
products the reduce kernel adds. relu=True clamps the result at 0 (after the bias): in
the product's own epilogue when K is one slice, else after the slices are added."""
from ..base import FLOAT32
from ..kernel_choice import matmul_plan
from . import added_slices


class MatmulKernels:
    def matmul(self, a, b, batch, M, N, K, trans_a=False, trans_b=False,
               a_batched=True, b_batched=True, bias=None, relu=False):
        plan = matmul_plan(self, batch, M, N, K)
        out = self._alloc(plan.slices * batch * M * N, FLOAT32)
        params = dict(M=M, N=N, K=K, batch=batch, a_batch_stride=M * K if a_batched else 0,
                      b_batch_stride=K * N if b_batched else 0, k_chunk=plan.k_chunk)
        constants = {"TRANS_A": bool(trans_a), "TRANS_B": bool(trans_b),
                     "HAS_BIAS": bias is not None, "RELU": relu and plan.slices == 1}
        if plan.kernel == "matmul_blocked":
            # whole vec4 loads where every 4-float run of an operand starts on a multiple of 4
            constants["A_VEC"] = (M if trans_a else K) % 4 == 0
            constants["B_VEC"] = (K if trans_b else N) % 4 == 0
        self._run(plan.kernel, [a, b, self._or_dummy(bias), out], params,
                  groups=plan.groups, entry=plan.entry, constants=constants)
        return added_slices(self, out, plan.slices, batch * M * N, relu)
