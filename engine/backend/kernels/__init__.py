"""The GPU launchers: for each primitive of base.Backend, which kernel of shaders/
it runs, with which arrays, uniform fields and workgroup count.

One module per op family, named like the engine/ops/ module that calls it
(elementwise, matmul, conv, pool, norm, loss, reduce, ...; optim for the
optimizers, creation for fill and random numbers, data for the batch gather).
Each defines a mixin class; gpu.GPUBackend combines them with the runtime
(../runtime.py: buffers, caches, lazy submission), which they reach through
`self._alloc` and `self._run`.
"""


def added_slices(backend, out, slices, n, relu):
    """A product computed in `slices` partial copies of its n values (split-K): their
    sum (the reduce kernel), clamped at 0 when relu (a kernel's RELU epilogue sees only
    its own slice). One slice: out as it is, its epilogue did the rest."""
    if slices == 1:
        return out
    out = backend.reduce("sum", out, 1, slices, n)
    return backend.unary("relu", out) if relu else out


def runs_of_four(n):
    """Invocations for a kernel that takes its arrays as runs of four floats, one run
    each (shaders/common/vec4_runs.wgsl): the optimizers, unary, binary's `runs`."""
    return -(-n // 4)
