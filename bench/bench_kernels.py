"""Kernel variants per adapter: GFLOP/s of every matmul variant on the course MLP's shapes,
natively (wgpu on this machine's adapter) and in the browser (WebGPU in Chromium).

    PYTHONPATH=. .venv/bin/python bench/bench_kernels.py [--where native browser] [--batch 64]

engine/backend/kernel_choice.py picks one matmul variant per adapter kind (tiles staged
in workgroup memory for GPUs, register blocks for CPU-backed adapters such as lavapipe
and SwiftShader). This bench forces each variant in turn (`kernel_choice.forced`) and
times the products one training step of the MLP 784-256-256-10 makes at batch 64:
each layer's forward (x @ W^T + b), its weight gradient (g^T @ x) and its input gradient
(g @ W). The same Python runs natively and, through Pyodide, in a headless Chromium
page (WebGPU on SwiftShader on a machine without a GPU), so the two columns of
choices are measured the same way. The reference in the same run: PyTorch CPU on the
same shapes natively, and the variant the engine would choose (marked *).

A benchmark, not a test: it prints figures for BENCHMARKS.md and asserts nothing.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

# Runs natively and in Pyodide alike: no numpy (Pyodide's page has none), no torch.
TIMING = r'''
import array, json, random, time
import engine as eg
from engine.backend import current_backend, kernel_choice


def shapes(batch):
    """(label, M, N, K, trans_a, trans_b, bias) of one MLP training step's products."""
    rows = []
    for n_in, n_out in ((784, 256), (256, 256), (256, 10)):
        rows.append((f"fwd {batch}x{n_in} @ {n_in}x{n_out}", batch, n_out, n_in, False, True, True))
        rows.append((f"dW  {n_out}x{batch} @ {batch}x{n_in}", n_out, n_in, batch, True, False, False))
        if n_in != 784:   # the input layer's input gradient is never needed
            rows.append((f"dX  {batch}x{n_out} @ {n_out}x{n_in}", batch, n_in, n_out, False, False,
                         False))
    return rows


def measure(batch, repeats):
    eg.set_device("gpu")
    be = current_backend()
    rng = random.Random(0)
    # uniform in [-1, 1): normal floats, as in training. (Random bytes made many products
    # denormal, which an Intel Xeon runs up to 18x slower, in another variant order.)
    floats = lambda n: be.upload(array.array("f", (rng.uniform(-1, 1) for _ in range(n))))
    chosen = kernel_choice.matmul_plan(be, 1, batch, 256, 784).variant
    results = {"adapter": be.adapter_name, "kind": kernel_choice.adapter_kind(be),
               "chosen": chosen, "rows": []}
    for label, M, N, K, ta, tb, bias in shapes(batch):
        a, b, c = floats(M * K), floats(K * N), floats(N) if bias else None
        row = {"shape": label, "mnk": (M, N, K), "flops": 2 * M * N * K, "gflops": {}}
        for variant in sorted(kernel_choice.MATMUL_VARIANTS):
            with kernel_choice.forced(matmul=variant):
                run = lambda: be.matmul(a, b, 1, M, N, K, trans_a=ta, trans_b=tb, bias=c)
                be.download(run())           # compile the pipeline, warm the caches
                best = float("inf")
                for _ in range(3):           # best of 3 timed repeats of `repeats` products
                    start = time.perf_counter()
                    for _ in range(repeats):
                        out = run()
                    be.download(out)          # one wait for the device per repeat
                    best = min(best, (time.perf_counter() - start) / repeats)
            row["gflops"][variant] = row["flops"] / best / 1e9
        results["rows"].append(row)
    return json.dumps(results)
'''

def torch_reference(rows):
    """GFLOP/s of PyTorch CPU on the same shapes, in this process."""
    import time

    import torch
    out = []
    for row in rows:
        M, N, K = row["mnk"]
        A, B = torch.randn(M, K), torch.randn(K, N)
        torch.mm(A, B)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(20):
                torch.mm(A, B)
            best = min(best, (time.perf_counter() - start) / 20)
        out.append(row["flops"] / best / 1e9)
    return out


def print_results(title, res, torch_gflops=None):
    from common import print_table
    variants = sorted(res["rows"][0]["gflops"])
    print(f"\n{title}: {res['adapter']} (kind '{res['kind']}', chooses {res['chosen']}) -- GFLOP/s")
    header = ["product"] + [v + ("*" if v == res["chosen"] else "") for v in variants]
    if torch_gflops:
        header += ["torch CPU", "chosen x torch"]
    rows = []
    totals = dict.fromkeys(variants, 0.0)
    flops = 0
    for k, row in enumerate(res["rows"]):
        line = [row["shape"]] + [row["gflops"][v] for v in variants]
        if torch_gflops:
            line += [torch_gflops[k], row["gflops"][res["chosen"]] / torch_gflops[k]]
        rows.append(line)
        flops += row["flops"]
        for v in variants:
            totals[v] += row["flops"] / row["gflops"][v] / 1e9
    total = ["whole step's products"] + [flops / totals[v] / 1e9 for v in variants]
    if torch_gflops:   # all the products' flops over all their time, as for each variant
        torch_seconds = sum(r["flops"] / g / 1e9 for r, g in zip(res["rows"], torch_gflops))
        total += [flops / torch_seconds / 1e9, torch_seconds / totals[res["chosen"]]]
    rows.append(total)
    print_table(header, rows)
    best = min(totals, key=totals.get)
    print(f"whole step: {1e3 * totals[res['chosen']]:.2f} ms with the chosen {res['chosen']}, "
          f"fastest here {best} ({1e3 * totals[best]:.2f} ms), tiled64 {1e3 * totals['tiled64']:.2f} ms "
          f"(chosen / tiled64 = {totals['tiled64'] / totals[res['chosen']]:.2f}x the speed)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--where", nargs="+", choices=["native", "browser"],
                        default=["native", "browser"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10, help="products per timed repeat")
    args = parser.parse_args()
    from common import LoadMonitor, describe_machine, measure_in
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    if "native" in args.where:
        res = measure_in("native", TIMING, args.batch, args.repeats)
        print_results("native wgpu", res, torch_reference(res["rows"]))
    if "browser" in args.where:
        print_results("browser (Chromium, WebGPU)", measure_in("browser", TIMING, args.batch, args.repeats))
    print(load.report())


if __name__ == "__main__":
    main()
