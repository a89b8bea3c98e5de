"""The GPU launchers: for each primitive of base.Backend, which kernel of shaders/
it runs, with which arrays, uniform fields and workgroup count.

One module per op family, named like the engine/ops/ module that calls it
(elementwise, matmul, conv, pool, norm, loss, reduce, ...; optim for the
optimizers, creation for fill and random numbers, data for the batch gather).
Each defines a mixin class; gpu.GPUBackend combines them with the runtime
(../runtime.py: buffers, caches, lazy submission), which they reach through
`self._alloc` and `self._run`.
"""


def runs_of_four(n):
    """Invocations for a kernel that takes its arrays as runs of four floats, one run
    each (shaders/common/vec4_runs.wgsl): the optimizers, unary, binary's `runs`."""
    return -(-n // 4)
