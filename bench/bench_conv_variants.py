"""Convolution variants per adapter: ms of every conv2d variant on the ConvNetJS net's
products, natively (wgpu on this machine's adapter) and in the browser (WebGPU in Chromium).

    PYTHONPATH=. .venv/bin/python bench/bench_conv_variants.py [--where native browser] [--batch 32]

engine/backend/kernel_choice.py picks one conv2d variant per adapter kind: "tiled"
(shaders/conv2d.wgsl, tiles staged in workgroup memory) for GPUs, "blocked"
(shaders/conv2d_blocked.wgsl, register blocks, no barriers) for CPU-backed adapters
(lavapipe, SwiftShader). This bench forces each variant in turn (`kernel_choice.forced`)
and times the conv products of one training step of the page's ConvNetJS net
(engine/models/convnetjs.py): conv 1->8 5x5 pad 2 on 28x28 (forward, grad weight: its
input is data, so no grad input) and conv 8->16 5x5 pad 2 on 14x14 (forward, grad
input, grad weight). The same Python runs natively and, through Pyodide, in a headless
Chromium page (bench_kernels.py's path). Natively PyTorch CPU times the same products
in the same run (F.conv2d, torch.nn.grad.conv2d_input / conv2d_weight).

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
import json, random, struct, time
import engine as eg
from engine.backend import current_backend, kernel_choice

MODES = ("forward", "grad input", "grad weight")


def products(batch):
    """(label, mode, geometry) of the ConvNetJS net's conv products in one training step;
    geometry = (N, C_in, C_out, in_hw, out_hw, kernel, stride, padding)."""
    conv1 = (batch, 1, 8, (28, 28), (28, 28), (5, 5), (1, 1), (2, 2))
    conv2 = (batch, 8, 16, (14, 14), (14, 14), (5, 5), (1, 1), (2, 2))
    return [("conv1 1->8 " + MODES[0], 0, conv1), ("conv1 1->8 " + MODES[2], 2, conv1),
            ("conv2 8->16 " + MODES[0], 0, conv2), ("conv2 8->16 " + MODES[1], 1, conv2),
            ("conv2 8->16 " + MODES[2], 2, conv2)]


def measure(batch, repeats):
    eg.set_device("gpu")
    be = current_backend()
    rng = random.Random(0)
    # uniform floats in [-1, 1): random bytes would hold denormals, which some CPUs (an
    # Intel Xeon under lavapipe) run ~20x slower (BENCHMARKS.md section 8, "Denormal inputs")
    floats = lambda n: be.upload(struct.pack(f"<{n}f", *(rng.uniform(-1, 1) for _ in range(n))))
    results = {"adapter": be.adapter_name, "kind": kernel_choice.adapter_kind(be),
               "chosen": kernel_choice.CONV_BY_KIND[kernel_choice.adapter_kind(be)][0], "rows": []}
    for label, mode, geo in products(batch):
        N, C_in, C_out, (H, W), (OH, OW), (KH, KW) = geo[:6]
        x, w, b = floats(N * C_in * H * W), floats(C_out * C_in * KH * KW), floats(C_out)
        g = floats(N * C_out * OH * OW)
        run = [lambda: be.conv2d(x, w, b, *geo), lambda: be.conv2d_grad_input(g, w, *geo),
               lambda: be.conv2d_grad_weight(g, x, *geo)][mode]
        row = {"product": label, "mode": mode, "geometry": geo, "ms": {},
               "flops": 2 * N * C_out * OH * OW * C_in * KH * KW}
        for variant in sorted(kernel_choice.CONV_VARIANTS):
            with kernel_choice.forced(conv=variant):
                be.download(run())           # compile the pipeline, warm the caches
                best = float("inf")
                for _ in range(3):           # best of 3 timed repeats of `repeats` products
                    start = time.perf_counter()
                    for _ in range(repeats):
                        out = run()
                    be.download(out)          # one wait for the device per repeat
                    best = min(best, (time.perf_counter() - start) / repeats)
            row["ms"][variant] = 1e3 * best
        results["rows"].append(row)
    return json.dumps(results)
'''


def torch_reference(rows):
    """ms of PyTorch CPU on the same products, in this process."""
    import time

    import torch
    import torch.nn.functional as TF
    out = []
    for row in rows:
        N, C_in, C_out, (H, W), (OH, OW), (KH, KW), stride, padding = row["geometry"]
        x, w = torch.randn(N, C_in, H, W), torch.randn(C_out, C_in, KH, KW)
        b, g = torch.randn(C_out), torch.randn(N, C_out, OH, OW)
        run = [lambda: TF.conv2d(x, w, b, stride, padding),
               lambda: torch.nn.grad.conv2d_input(x.shape, w, g, stride, padding),
               lambda: torch.nn.grad.conv2d_weight(x, w.shape, g, stride, padding)][row["mode"]]
        run()
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(20):
                run()
            best = min(best, (time.perf_counter() - start) / 20)
        out.append(1e3 * best)
    return out


def print_results(title, res, torch_ms=None):
    from common import print_table
    variants = sorted(res["rows"][0]["ms"])
    chosen = res["chosen"]
    print(f"\n{title}: {res['adapter']} (kind '{res['kind']}', chooses {chosen}) -- ms per product")
    header = ["product"] + [v + ("*" if v == chosen else "") for v in variants] + ["tiled / blocked"]
    if torch_ms:
        header += ["torch CPU", "blocked / torch"]
    rows, totals = [], dict.fromkeys(variants, 0.0)
    for k, row in enumerate(res["rows"]):
        line = [row["product"]] + [row["ms"][v] for v in variants]
        line.append(row["ms"]["tiled"] / row["ms"]["blocked"])
        if torch_ms:
            line += [torch_ms[k], row["ms"]["blocked"] / torch_ms[k]]
        rows.append(line)
        for v in variants:
            totals[v] += row["ms"][v]
    total = ["the step's conv products"] + [totals[v] for v in variants]
    total.append(totals["tiled"] / totals["blocked"])
    if torch_ms:
        total += [sum(torch_ms), totals["blocked"] / sum(torch_ms)]
    rows.append(total)
    print_table(header, rows)
    print(f"the step's conv products: blocked {totals['blocked']:.2f} ms, tiled "
          f"{totals['tiled']:.2f} ms (blocked = {totals['tiled'] / totals['blocked']:.2f}x the speed"
          f" of tiled)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--where", nargs="+", choices=["native", "browser"],
                        default=["native", "browser"])
    parser.add_argument("--batch", type=int, default=32, help="the ConvNetJS recipe's batch: 32")
    parser.add_argument("--repeats", type=int, default=5, help="products per timed repeat")
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
