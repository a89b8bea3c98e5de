"""What the live layer view costs: training speed in the page with it on and off, in one run.

    python bench/bench_layer_view.py [--models mlp convnetjs] [--seconds 40] [--rounds 2]

Serves the page, opens it in headless Debian Chromium (WebGPU on SwiftShader on a
machine without a GPU) and, for each model, trains with the layer view switched off
and on in alternating windows (off, on, off, on, ...; the first seconds of each
window are not counted, so a switch's first refresh does not blur the edges). The
examples/s of a window is examples trained / wall seconds, from the page's own
counters, so it includes everything the view costs: the statistics kernels on the
watched step, the forward pass of the example, the one read-back per refresh and
the drawing on the page. Prints each window and the ratio on/off per model.

A benchmark, not a test: it prints figures for BENCHMARKS.md and asserts nothing.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser_harness import chromium, page_state, running_server, wait_for  # noqa: E402

SETTLE = 4.0   # seconds at the start of each window that are not counted


def set_view(page, on):
    if page.is_checked("#live-view") != on:
        page.click("#live-view")


def window(page, on, seconds):
    set_view(page, on)
    time.sleep(SETTLE)
    s0, t0 = page_state(page), time.perf_counter()
    time.sleep(seconds)
    s1, t1 = page_state(page), time.perf_counter()
    rate = (s1["examplesSeen"] - s0["examplesSeen"]) / (t1 - t0)
    refreshes = s1["snapshots"] - s0["snapshots"]
    return rate, refreshes / (t1 - t0)


def bench_model(page, model, seconds, rounds):
    pause_if_running(page)
    builds = page_state(page)["builds"]
    page.select_option("#model", model)
    wait_for(page, lambda s: s["builds"] > builds and s["model"] == model and s["state"] == "ready",
             240, f"{model} to build")
    page.fill("#epochs", "100")          # a run long enough not to end inside the benchmark
    page.locator("#epochs").blur()
    wait_for(page, lambda s: s["settings"]["epochs"] == 100, 60, "the settings")
    page.click("#start")
    wait_for(page, lambda s: s["state"] == "running" and s["examplesSeen"] > 0, 240, "training")
    results = {False: [], True: []}
    for _ in range(rounds):
        for on in (False, True):
            rate, refresh_rate = window(page, on, seconds)
            results[on].append(rate)
            print(f"  {model:10} view {'on ' if on else 'off'}  {rate:8.1f} examples/s"
                  f"  ({refresh_rate:.2f} refreshes/s)", flush=True)
    pause_if_running(page)
    set_view(page, True)
    off, on = statistics.mean(results[False]), statistics.mean(results[True])
    return off, on


def pause_if_running(page):
    if page_state(page)["state"] == "running":
        page.click("#pause")
        wait_for(page, lambda s: s["state"] == "paused", 120, "pause")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "convnetjs"])
    parser.add_argument("--seconds", type=float, default=40.0, help="counted seconds per window")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs per model")
    args = parser.parse_args(argv)
    rows = []
    with running_server() as url, chromium(webgpu=True) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(url + "/")
        ready = wait_for(page, lambda s: s["state"] == "ready" and s["snapshots"] >= 1, 300, "boot")
        print(f"device: {ready['device']}; {os.cpu_count()} CPU cores", flush=True)
        for model in args.models:
            off, on = bench_model(page, model, args.seconds, args.rounds)
            rows.append((model, off, on))
    print("\nmodel       view off (ex/s)  view on (ex/s)  on / off")
    for model, off, on in rows:
        print(f"{model:10}  {off:15.1f}  {on:14.1f}  {on / off:8.2f}")


if __name__ == "__main__":
    main()
