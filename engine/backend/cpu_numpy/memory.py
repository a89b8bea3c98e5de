"""Keep freed big arrays' memory in the process (glibc's malloc, on Linux).

A numpy training step allocates and frees arrays of megabytes (im2col's columns, a
layer's activations, their gradients). glibc hands each block bigger than its
"mmap threshold" straight back to the system when it is freed, and the next one
comes from fresh pages that fault in one by one as they are first written, which
costs about as much as the copy that writes them. Raising the threshold and the
"trim threshold" makes freed blocks stay in the heap for the next allocation, as
PyTorch's and TensorFlow's caching allocators do (measured in BENCHMARKS.md,
section 6). The process's memory then stays at its peak instead of shrinking.
Elsewhere (macOS, Windows, musl, Pyodide) nothing changes.
"""
import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # mallopt's parameters (malloc.h)
MMAP_THRESHOLD = 256 << 20    # blocks up to 256 MiB come from the heap
TRIM_THRESHOLD = 512 << 20    # up to 512 MiB free at the heap's top is kept

_taken = None   # whether glibc took the settings, once tried


def keep_freed_blocks():
    """Once per process (later calls answer the same); True where glibc took the settings."""
    global _taken
    if _taken is None:
        _taken = sys.platform.startswith("linux") and _set_thresholds()
    return _taken


def _set_thresholds():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt   # glibc only: musl has no mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
