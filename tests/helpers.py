"""check_op: one expression, run in the engine and in PyTorch, forward and backward.

The tolerance, used everywhere unless a test says why not:

    relative error = max|engine - ref| / max(max|ref|, 1)   <=   TOL = 1e-4

i.e. a relative error for outputs larger than 1 and an absolute one below,
so values near zero (softmax tails, gradients that cancel) don't demand more
than float32 can give. It is applied to the forward output and to the gradient
of every input, against two references:

- float64: PyTorch in float64 on the *same* inputs (the float32-rounded
  values, widened), the mathematically exact answer up to ~1e-16;
- PyTorch float32 on the CPU, what a user would compare with.

NaN and inf must appear in the same places as in the reference (same sign for
inf); the finite rest is compared with the formula above. Gradients flow from a
fixed random upstream gradient G (`out.backward(G)`), so a wrong backward rule
can't hide behind a gradient that is the same for every element.
"""
import time

import numpy as np
import torch

import engine as eg

TOL = 1e-4


def rel_err(got, ref):
    """max|got - ref| / max(max|ref|, 1) over the finite elements of ref."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    if ref.size == 0:
        return 0.0
    finite = np.isfinite(ref)
    if not finite.any():
        return 0.0
    scale = max(float(np.max(np.abs(ref[finite]))), 1.0)
    return float(np.max(np.abs(got[finite] - ref[finite]))) / scale


def assert_close(got, ref, tol=TOL, what="value"):
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, expected {ref.shape}"
    nan_got, nan_ref = np.isnan(got), np.isnan(ref)
    assert (nan_got == nan_ref).all(), (
        f"{what}: NaN at {np.argwhere(nan_got != nan_ref)[:5].tolist()} differs from the "
        f"reference (engine NaNs {int(nan_got.sum())}, reference NaNs {int(nan_ref.sum())})")
    inf_ref = np.isinf(ref)
    assert (np.isinf(got) == inf_ref).all() and (got[inf_ref] == ref[inf_ref]).all(), \
        f"{what}: infinities differ from the reference"
    err = rel_err(got, ref)
    if err > tol:
        diff = np.where(np.isfinite(ref), np.abs(got - ref), 0.0)
        at = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        raise AssertionError(f"{what}: relative error {err:.3g} > {tol:g}; worst at index "
                             f"{tuple(int(i) for i in at)}: got {got[at]!r}, "
                             f"expected {ref[at]!r}")
    return err


def make_input(rng, shape, low=None, high=None, away_from_zero=None):
    """float64 random values, already rounded to float32 (so every library sees the same
    numbers). Standard normal by default, uniform [low, high) if given; away_from_zero=a
    pushes |x| >= a keeping the sign (for denominators and negative-base powers)."""
    if low is not None:
        x = rng.uniform(low, high, size=shape)
    else:
        x = rng.standard_normal(size=shape)
    if away_from_zero is not None:
        x = np.sign(x + (x == 0)) * (np.abs(x) + away_from_zero)
    return np.asarray(x, np.float32).astype(np.float64)


def _torch_run(fn, arrays, G, dtype, grad):
    ts = [torch.tensor(a, dtype=dtype, requires_grad=grad) for a in arrays]
    out = fn(*ts)
    grads = None
    if grad:
        out.backward(torch.tensor(G, dtype=dtype))
        grads = [None if t.grad is None else t.grad.detach().numpy().astype(np.float64)
                 for t in ts]
    return out.detach().numpy().astype(np.float64), grads


def check_op(fn, torch_fn=None, shapes=(), device=None, *, inputs=None, low=None, high=None,
             away_from_zero=None, grad=True, tol=TOL, seed=0, verbose=True):
    """Run `fn` on engine tensors and `torch_fn` (default: the same `fn`, when the APIs
    agree) on torch tensors; compare the output and every input's gradient against
    PyTorch float64 and float32 (see the module docstring for the tolerance).

    shapes: one shape per input (random inputs from `make_input`), or `inputs`: the
    float64 arrays themselves. device: the `device` fixture's value; the engine's
    output must live on that backend. Returns the engine's output as numpy.
    """
    torch_fn = torch_fn or fn
    rng = np.random.default_rng(seed)
    if inputs is None:
        inputs = [make_input(rng, s, low, high, away_from_zero) for s in shapes]
    inputs = [np.asarray(np.asarray(a, np.float32), np.float64) for a in inputs]

    t0 = time.perf_counter()
    ref_out, ref_grads = _torch_run(torch_fn, inputs, None, torch.float64, False)
    G = np.asarray(rng.standard_normal(ref_out.shape), np.float32).astype(np.float64)
    if grad:
        ref_out, ref_grads = _torch_run(torch_fn, inputs, G, torch.float64, True)
    t32_out, t32_grads = _torch_run(torch_fn, inputs, G, torch.float32, grad)
    t1 = time.perf_counter()

    xs = [eg.tensor(a.astype(np.float32), requires_grad=grad) for a in inputs]
    out = fn(*xs)
    assert isinstance(out, eg.Tensor), f"expected an engine Tensor, got {type(out).__name__}"
    if device is not None:
        assert out.device.startswith(device), f"output on {out.device}, expected {device}"
    assert out.dtype == "float32", f"output dtype {out.dtype}"
    got = out.numpy()
    got_grads = []
    if grad:
        assert out.requires_grad, "output does not require grad although its inputs do"
        out.backward(eg.tensor(G.astype(np.float32)))
        got_grads = [None if x.grad is None else x.grad.numpy() for x in xs]
    t2 = time.perf_counter()
    if verbose:
        print(f"  torch {1e3 * (t1 - t0):7.2f} ms   engine[{device}] {1e3 * (t2 - t1):7.2f} ms"
              f"   shapes {[tuple(np.shape(a)) for a in inputs]}")

    assert_close(got, ref_out, tol, "forward vs torch float64")
    assert_close(got, t32_out, tol, "forward vs torch float32")
    for i, (g, r, r32) in enumerate(zip(got_grads, ref_grads or [], t32_grads or [])):
        if r is None:  # the input doesn't take part: the engine must agree
            assert g is None or not np.any(g), f"grad of input {i}: nonzero, expected none"
            continue
        assert g is not None, f"grad of input {i} (shape {inputs[i].shape}) is missing"
        assert_close(g, r, tol, f"grad of input {i} vs torch float64")
        assert_close(g, r32, tol, f"grad of input {i} vs torch float32")
    return got
