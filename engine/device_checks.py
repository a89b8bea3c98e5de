"""Checks of data that lives on the GPU, decided at the next read-back.

Some mistakes show only in device data: a class target outside 0..C-1 that was
computed on the GPU, say. Reading it back to check it would make the CPU wait
for the GPU in the middle of every training step, the stall the whole engine is
built to avoid. So such a check reduces the data to a few numbers on the device
(a min and a max) and leaves them here; they are read with the next read-back
that happens anyway (`loss.item()` every `log_every` steps, `.tolist()`,
`.numpy()`), when the GPU has just finished its work. The error surfaces there,
naming the problem, much as PyTorch's CUDA errors surface at its next sync.

Checks that cost nothing are not deferred: tensors made from host data carry
their value range, and the numpy backend's arrays are host memory.
"""
import array

_pending = []     # (backend, [one-element float32 device arrays], verify(list of floats))
MAX_PENDING = 64  # a program that never reads anything back still gets checked


def defer(backend, scalars, verify):
    """Call verify(values) at the next read-back, `values` being the numbers held by
    `scalars` (one-element float32 device arrays of `backend`); verify raises on a
    problem."""
    _pending.append((backend, list(scalars), verify))
    if len(_pending) >= MAX_PENDING:
        run_pending()


def run_pending():
    """Read every pending check's numbers and raise the first failure. Called by the
    Tensor read-backs after their own download, so the GPU is idle by then."""
    if not _pending:
        return
    checks = list(_pending)
    _pending.clear()
    backend = checks[0][0]
    if any(b is not backend for b, _, _ in checks):   # two GPU backends: one read each
        for b, scalars, verify in checks:
            verify(_read(b, scalars))
        return
    values = _read(backend, [s for _, scalars, _ in checks for s in scalars])
    for _, scalars, verify in checks:
        verify(values[:len(scalars)])
        values = values[len(scalars):]


def _read(backend, scalars):
    """The numbers in `scalars`, with one read-back."""
    return array.array("f", backend.download_many(scalars)).tolist()
