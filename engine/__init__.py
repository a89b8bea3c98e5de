"""webgrad's engine: a small autograd library whose kernels are WGSL.

    import engine as eg
    from engine import nn, optim
    import engine.nn.functional as F

The same source runs natively (wgpu, or numpy as the reference) and in the
browser under Pyodide (WebGPU). See README.md and docs/ARCHITECTURE.md.
"""
from .autograd import no_grad, is_grad_enabled
from .backend import get_device, set_device, IN_BROWSER
from .backend.base import FLOAT32 as float32, INT32 as int32
from .tensor import Tensor, download
from .creation import (tensor, zeros, ones, full, zeros_like, ones_like, randn, rand, arange,
                       manual_seed)
from .ops.cat import cat, stack
from . import nn, optim  # noqa: E402
from .summary import summary  # noqa: E402
from .replay import jit  # noqa: E402

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "randn",
           "rand", "arange", "manual_seed", "no_grad", "is_grad_enabled", "get_device",
           "set_device", "float32", "int32", "nn", "optim", "summary", "IN_BROWSER"]
__all__ += ["cat", "stack", "download", "jit"]
