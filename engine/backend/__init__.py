"""Which backend runs the arithmetic: choosing it and naming it.

"gpu" means wgpu natively and WebGPU in the browser; "cpu" is numpy. "auto"
takes a real GPU when there is one. Where the only native adapter is a software
rasteriser (Mesa's lavapipe), "auto" takes numpy and says why: lavapipe runs
the real WGSL kernels but is ~50x slower than numpy on the same cores
(see BENCHMARKS.md), so it is for testing kernels, not for training.
"""
import sys

IN_BROWSER = sys.platform == "emscripten"

_current = None
_gpu = None  # the GPU backend is created once: re-creating a device is slow
_cpu = None


class NoGPUError(RuntimeError):
    pass


def _gpu_backend():
    global _gpu
    if _gpu is None:
        if IN_BROWSER:
            from .webgpu_js import WebGPUBackend
            _gpu = WebGPUBackend()
        else:
            from .wgpu_native import WgpuBackend
            _gpu = WgpuBackend()
    return _gpu


def _cpu_backend():
    global _cpu
    if _cpu is None:
        if IN_BROWSER:
            raise ValueError('the "cpu" (numpy) backend is not available in the browser; use "gpu"')
        from .cpu_numpy import NumpyBackend
        _cpu = NumpyBackend()
    return _cpu


def set_device(name="auto", quiet=False):
    """Select the backend for new tensors: "auto", "gpu" or "cpu". Returns its description."""
    global _current
    if name not in ("auto", "gpu", "cpu"):
        raise ValueError(f'device must be "auto", "gpu" or "cpu", got {name!r}')
    if name == "cpu":
        _current = _cpu_backend()
    elif name == "gpu" or IN_BROWSER:
        _current = _gpu_backend()
    else:
        try:
            gpu = _gpu_backend()
        except NoGPUError as err:
            reason = str(err)
        else:
            if not gpu.is_software:
                _current = gpu
                return _current.describe()
            reason = (f"the only GPU adapter is a software one ({gpu.adapter_name}); "
                      "numpy is much faster on the same CPU cores")
        _current = _cpu_backend()
        if not quiet:
            print(f"webgrad: device auto -> cpu (numpy): {reason}. "
                  "Use --device gpu / set_device('gpu') to run the WGSL kernels anyway.",
                  file=sys.stderr)
    return _current.describe()


def current_backend():
    if _current is None:
        set_device("auto")
    return _current


def get_device():
    """A string naming the backend and the adapter, e.g. 'gpu: llvmpipe (...) [Vulkan, CPU]'."""
    return current_backend().describe()
