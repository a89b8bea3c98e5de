"""Matrix product speed: GFLOP/s of the engine's matmul against numpy and PyTorch.

    PYTHONPATH=. .venv/bin/python bench/bench_matmul.py [--sizes 256 512 1024 2048]

Columns: the engine on its wgpu backend (shaders/matmul.wgsl) and on its numpy
backend (both called at the backend level: `backend.matmul(...)`), numpy `@`
directly, and PyTorch (CUDA when available, else CPU). Then the MLP's own
shapes, with the transposed operands of the backward pass, and one F.linear
forward + backward through the engine's autograd.
"""
import argparse

import numpy as np
import torch

from common import (TORCH_DEVICE, LoadMonitor, describe_machine, eg, engine_backend, engine_sync,
                    print_table, timeit, torch_sync)

GPU, CPU = engine_backend("gpu"), engine_backend("cpu")
SYNC_GPU = engine_sync(GPU)


def gflops(flops, seconds):
    return flops / seconds / 1e9


def matmul_case(M, N, K, trans_a=False, trans_b=False, bias=False):
    """GFLOP/s of C = op(A) @ op(B) (+ bias) -> [wgpu, engine numpy, numpy, torch]."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((K, M) if trans_a else (M, K), dtype=np.float32)
    B = rng.standard_normal((N, K) if trans_b else (K, N), dtype=np.float32)
    b = rng.standard_normal(N, dtype=np.float32) if bias else None
    flops = 2 * M * N * K
    results = []
    for be, sync in ((GPU, SYNC_GPU), (CPU, lambda: None)):
        a_, b_ = be.upload(A.tobytes()), be.upload(B.tobytes())
        bias_ = be.upload(b.tobytes()) if bias else None
        run = lambda: be.matmul(a_, b_, 1, M, N, K, trans_a=trans_a,  # noqa: E731
                                trans_b=trans_b, bias=bias_)
        results.append(gflops(flops, timeit(run, sync)))

    opA, opB = (A.T if trans_a else A), (B.T if trans_b else B)
    results.append(gflops(flops, timeit(lambda: opA @ opB + b if bias else opA @ opB)))

    tA, tB = (torch.from_numpy(x).to(TORCH_DEVICE) for x in (A, B))
    tA, tB = (tA.t() if trans_a else tA), (tB.t() if trans_b else tB)
    tb = torch.from_numpy(b).to(TORCH_DEVICE) if bias else None
    run = (lambda: torch.addmm(tb, tA, tB)) if bias else (lambda: torch.mm(tA, tB))
    results.append(gflops(flops, timeit(run, torch_sync)))
    return results


def linear_autograd_case(rows=64, n_in=784, n_out=256):
    """GFLOP/s of y = F.linear(x, W, b); y.backward(g): forward, dW and db
    -> [wgpu, engine numpy, torch]."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, n_in), dtype=np.float32)
    W = rng.standard_normal((n_out, n_in), dtype=np.float32) * 0.05
    bias = np.zeros(n_out, np.float32)
    G = rng.standard_normal((rows, n_out), dtype=np.float32)
    flops = 2 * (2 * rows * n_in * n_out)  # forward and dW
    results = []
    for device, sync in (("gpu", SYNC_GPU), ("cpu", lambda: None)):
        eg.set_device(device)
        x, g = eg.tensor(X), eg.tensor(G)
        w, b = eg.tensor(W, requires_grad=True), eg.tensor(bias, requires_grad=True)

        def step():
            w.grad = b.grad = None
            eg.nn.functional.linear(x, w, b).backward(g)
        results.append(gflops(flops, timeit(step, sync)))

    x, g = (torch.from_numpy(v).to(TORCH_DEVICE) for v in (X, G))
    w, b = (torch.from_numpy(v).to(TORCH_DEVICE).requires_grad_() for v in (W, bias))

    def step():
        w.grad = b.grad = None
        torch.nn.functional.linear(x, w, b).backward(g)
    results.append(gflops(flops, timeit(step, torch_sync)))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    args = parser.parse_args()
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    ref = f"torch-{TORCH_DEVICE}"
    heads = ["wgpu", "eng-numpy", "numpy", ref, "wgpu/numpy", f"wgpu/{ref}"]

    print("\nSquare matmul C = A @ B, GFLOP/s (median)")
    rows = []
    for n in args.sizes:
        w, en, npy, tt = matmul_case(n, n, n)
        rows.append([f"{n}^3", w, en, npy, tt, w / npy, w / tt])
    print_table(["M=N=K"] + heads, rows)

    print("\nMLP shapes (batch 64, course MLP 784-256-256-10), GFLOP/s (median)")
    cases = [("fwd x@W^T+b  64x784 . 784x256", dict(M=64, N=256, K=784, trans_b=True, bias=True)),
             ("dW  g^T@x    256x64 . 64x784", dict(M=256, N=784, K=64, trans_a=True)),
             ("dx  g@W      64x256 . 256x256", dict(M=64, N=256, K=256))]
    rows = []
    for name, kw in cases:
        w, en, npy, tt = matmul_case(**kw)
        rows.append([name, w, en, npy, tt, w / npy, w / tt])
    w, en, tt = linear_autograd_case()
    rows.append(["F.linear fwd+bwd (autograd) 784->256", w, en, "-", tt, "-", w / tt])
    print_table(["op"] + heads, rows)
    print(f"\nengine wgpu backend: {GPU.stats}")
    print(load.report())


if __name__ == "__main__":
    main()
