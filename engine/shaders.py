"""Finding the WGSL kernels: shaders/NAME.wgsl beside the engine package.

The same files serve wgpu natively and WebGPU in the browser (the server ships
engine/ and shaders/ together in one zip), so there is one copy of each kernel.
"""
import os

_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "shaders")
_cache = {}


def shader_path(name):
    return os.path.join(_DIR, name + ".wgsl")


def load_shader(name):
    if name not in _cache:
        path = shader_path(name)
        try:
            with open(path, encoding="utf-8") as f:
                _cache[name] = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"kernel {name!r} not found: expected {path}") from None
    return _cache[name]
