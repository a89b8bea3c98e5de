"""The GPU backend: every primitive of `base.Backend` as WGSL dispatches.

Put together from two halves, so that each can be read alone:

- the launchers, kernels/*.py, one module per op family named like the
  engine/ops/ module that calls it: which kernel of shaders/ a primitive runs,
  with which uniform fields and how many workgroups
  (`backend.matmul` -> kernels/matmul.py -> shaders/matmul.wgsl);
- the runtime, runtime.py: buffer pool, pipeline / uniform / bind-group caches,
  lazy submission.

Neither knows the GPU API: the subclasses `wgpu_native.WgpuBackend` (wgpu-py)
and `webgpu_js.WebGPUBackend` (Pyodide + navigator.gpu) supply the plumbing.
"""
from .kernels.augment import AugmentKernels
from .kernels.cat import CatKernels
from .kernels.conv import ConvKernels
from .kernels.creation import CreationKernels
from .kernels.data import DataKernels
from .kernels.dropout import DropoutKernels
from .kernels.elementwise import ElementwiseKernels
from .kernels.loss import LossKernels
from .kernels.matmul import MatmulKernels
from .kernels.norm import NormKernels
from .kernels.optim import OptimKernels
from .kernels.pool import PoolKernels
from .kernels.reduce import ReduceKernels
from .kernels.shape import ShapeKernels
from .runtime import GPUArray, GPURuntime, DeviceLimitError, MAX_PENDING  # noqa: F401

LAUNCHERS = (CreationKernels, ElementwiseKernels, ShapeKernels, ReduceKernels, MatmulKernels,
             LossKernels, ConvKernels, PoolKernels, NormKernels, DropoutKernels, CatKernels,
             OptimKernels, DataKernels, AugmentKernels)


class GPUBackend(*LAUNCHERS, GPURuntime):
    pass
