"""Convolution speed: conv2d forward + backward on the engine's backends and in PyTorch.

    PYTHONPATH=. .venv/bin/python bench/bench_conv.py [--strategies]

For the course CNN's layers and a ResNet-like block at batch 64: ms and GFLOP/s of
one F.conv2d forward + backward through the engine's autograd, on its wgpu backend
(shaders/conv2d.wgsl) and its numpy backend, and of the same in PyTorch (CUDA when
available, else CPU), with the engine's throughput as a fraction of PyTorch's.

--strategies also times each GPU kernel (forward, grad input, grad weight) at the
backend level against the alternative: im2col (bench/shaders/conv2d_im2col.wgsl) +
shaders/matmul.wgsl (+ col2im for grad input). That is the measurement behind the
implicit GEMM chosen in engine/ops/conv.py.
"""
import argparse
import os

import numpy as np
import torch

from common import (TORCH_DEVICE, LoadMonitor, describe_machine, eg, engine_backend, engine_sync,
                    print_table, timeit, torch_sync)

GPU = engine_backend("gpu")
SYNC_GPU = engine_sync(GPU)

# (name, batch, in channels, image size, out channels, kernel, padding); stride 1
SHAPES = [("conv1 1->8 5x5 28x28", 64, 1, 28, 8, 5, 2),
          ("conv2 8->16 5x5 14x14", 64, 8, 14, 16, 5, 2),
          ("conv3 16->32 3x3 7x7", 64, 16, 7, 32, 3, 1),
          ("res 16->16 3x3 14x14", 64, 16, 14, 16, 3, 1)]


def product_flops(N, c_in, size, c_out, k):
    """2 * multiply-adds of one of the three products (forward, grad input, grad weight)."""
    return 2 * N * c_out * size * size * c_in * k * k   # size: stride 1, "same" padding


def inputs(N, c_in, size, c_out, k):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape, dtype=np.float32) for shape in
            ((N, c_in, size, size), (c_out, c_in, k, k), (c_out,), (N, c_out, size, size))]


def autograd_case(N, c_in, size, c_out, k, pad):
    """ms of forward + backward -> [wgpu, engine numpy, torch]. The first layer's input
    is data (no gradient), like in training: its grad-input product is not computed."""
    X, W, B, G = inputs(N, c_in, size, c_out, k)
    x_grad = c_in > 1
    times = []
    for device, sync in (("gpu", SYNC_GPU), ("cpu", lambda: None)):
        eg.set_device(device)
        x, g = eg.tensor(X, requires_grad=x_grad), eg.tensor(G)
        w, b = eg.tensor(W, requires_grad=True), eg.tensor(B, requires_grad=True)

        def step():
            x.grad = w.grad = b.grad = None
            eg.nn.functional.conv2d(x, w, b, 1, pad).backward(g)
        times.append(timeit(step, sync))

    x, g = (torch.from_numpy(v).to(TORCH_DEVICE) for v in (X, G))
    x.requires_grad_(x_grad)
    w, b = (torch.from_numpy(v).to(TORCH_DEVICE).requires_grad_() for v in (W, B))

    def step():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, 1, pad).backward(g)
    times.append(timeit(step, torch_sync))
    return times, 3 if x_grad else 2


# -- the im2col alternative, at the backend level ----------------------------------------------

# bench-only: outside shaders/, so that the browser's copy of the kernels leaves it out
IM2COL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shaders", "conv2d_im2col.wgsl")


def im2col(entry, src, out_numel, N, c_in, size, k, pad):
    out = GPU._alloc(out_numel, "float32")
    params = dict(N=N, C_in=c_in, H=size, W=size, KH=k, KW=k, OH=size, OW=size, SH=1, SW=1,
                  PH=pad, PW=pad)
    GPU._run(IM2COL, [src, out], params, out_numel, entry=entry)
    return out


def im2col_forward(x, w, b, N, c_in, size, c_out, k, pad):
    K, L = c_in * k * k, size * size
    col = im2col("im2col", x, N * K * L, N, c_in, size, k, pad)
    y = GPU.matmul(w, col, N, c_out, L, K, a_batched=False)       # w @ col[n]
    return GPU.binary("add", y, (N, c_out, L), b, (c_out, 1), (N, c_out, L))


def im2col_grad_input(w, g, N, c_in, size, c_out, k, pad):
    K, L = c_in * k * k, size * size
    dcol = GPU.matmul(w, g, N, K, L, c_out, trans_a=True, a_batched=False)   # w^T @ g[n]
    return im2col("col2im", dcol, N * c_in * L, N, c_in, size, k, pad)


def im2col_grad_weight(x, g, N, c_in, size, c_out, k, pad):
    K, L = c_in * k * k, size * size
    col = im2col("im2col", x, N * K * L, N, c_in, size, k, pad)
    dw = GPU.matmul(g, col, N, c_out, K, L, trans_b=True)          # g[n] @ col[n]^T
    return GPU.reduce("sum", dw, 1, N, c_out * K)


def strategies_case(N, c_in, size, c_out, k, pad):
    """ms of each kernel -> [(implicit GEMM, im2col) for forward, grad input, grad weight]."""
    x, w, b, g = (GPU.upload(v.tobytes()) for v in inputs(N, c_in, size, c_out, k))
    geometry = (N, c_in, c_out, (size, size), (size, size), (k, k), (1, 1), (pad, pad))
    dims = (N, c_in, size, c_out, k, pad)
    pairs = [(lambda: GPU.conv2d(x, w, b, *geometry), lambda: im2col_forward(x, w, b, *dims)),
             (lambda: GPU.conv2d_grad_input(g, w, *geometry),
              lambda: im2col_grad_input(w, g, *dims)),
             (lambda: GPU.conv2d_grad_weight(g, x, *geometry),
              lambda: im2col_grad_weight(x, g, *dims))]
    return [(timeit(a, SYNC_GPU), timeit(b_, SYNC_GPU)) for a, b_ in pairs]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strategies", action="store_true",
                        help="also time implicit GEMM against im2col + matmul, kernel by kernel")
    args = parser.parse_args()
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    ref = f"torch-{TORCH_DEVICE}"

    print("\nconv2d forward + backward (autograd), batch 64, stride 1: ms and GFLOP/s (median)")
    rows = []
    for name, *shape in SHAPES:
        (tw, tn, tt), products = autograd_case(*shape)
        flops = products * product_flops(*shape[:5])
        gf = [flops / t / 1e9 for t in (tw, tn, tt)]
        rows.append([name, "x,w,b" if products == 3 else "w,b", 1e3 * tw, 1e3 * tn, 1e3 * tt,
                     *gf, tt / tw, tt / tn])
    print_table(["shape", "grads", "wgpu ms", "numpy ms", f"{ref} ms", "wgpu GF/s",
                 "numpy GF/s", f"{ref} GF/s", f"wgpu x {ref}", f"numpy x {ref}"], rows)

    if args.strategies:
        print("\nwgpu kernels: implicit GEMM (conv2d.wgsl) vs im2col + matmul.wgsl, ms (median)")
        rows = []
        for name, *shape in SHAPES:
            times = strategies_case(*shape)
            rows.append([name] + [f"{1e3 * a:.1f} / {1e3 * b:.1f} ({b / a:.2g}x)"
                                  for a, b in times])
        print_table(["shape", "forward", "grad input", "grad weight"], rows)
        print("each cell: implicit / im2col (im2col time / implicit time)")
    print(f"\nengine wgpu backend: {GPU.stats}")
    print(load.report())


if __name__ == "__main__":
    main()
