"""A class loading the page at once: N concurrent clients fetch the playground and every
file it needs from one `server.py`.

    PYTHONPATH=. .venv/bin/python bench/bench_class_load.py [--clients 100]

What a student's browser fetches is taken from a real page load, not from a list kept by
hand: headless Chromium opens the page, and every request it makes to the server until
the page is ready to train is recorded (the page, its scripts and styles, the editor's
modules, Pyodide and its standard library, the engine archive, the dataset). Then
`--clients` threads each fetch that whole list, in the page's order, at the same
time, from one `python server.py` (as a teacher starts it). Printed: the files and bytes
per client, every client's total time (slowest, median, fastest), and the errors (a
status other than 200, a body shorter than the first load's, a refused connection).

A benchmark: it prints figures for BENCHMARKS.md and asserts nothing. The server and the
clients share this machine's cores, so the time is an upper bound on what a class on a
network would see from a server of its own.
"""
import argparse
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from browser_harness import chromium, running_server, wait_for  # noqa: E402


def what_the_page_fetches(url):
    """The server URLs a page load requests until the page trains, in order, with the
    size of each response."""
    seen = {}
    with chromium() as browser:
        page = browser.new_page()

        def finished(request):
            if request.url.startswith(url) and request.url not in seen:
                response = request.response()
                seen[request.url] = len(response.body()) if response else 0
        page.on("requestfinished", finished)
        page.goto(url + "/")
        # the model is built and evaluated on test digits: Pyodide, the engine and the
        # dataset are all loaded, the page is ready to train
        wait_for(page, lambda state: state["state"] == "ready" and state["evaluations"] >= 1,
                 300, "the page to be ready")
    return list(seen.items())


def client(urls, results, index, barrier):
    """Fetch every URL in turn, as one browser would; record the time and what failed."""
    errors, received = [], 0
    barrier.wait()   # every client starts at once
    start = time.perf_counter()
    for url, size in urls:
        try:
            with urllib.request.urlopen(url, timeout=600) as response:
                body = response.read()
            received += len(body)
            if len(body) < size:
                errors.append(f"{url}: {len(body)} bytes, expected {size}")
        except (urllib.error.URLError, OSError) as e:
            errors.append(f"{url}: {e}")
    results[index] = (time.perf_counter() - start, received, errors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    from common import LoadMonitor, describe_machine
    load = LoadMonitor()
    print("\n".join(describe_machine()))
    with running_server() as url:
        urls = what_the_page_fetches(url)
        total = sum(size for _, size in urls)
        print(f"\none page load fetches {len(urls)} files, {total / 2**20:.1f} MiB, from the server:")
        for u, size in sorted(urls, key=lambda item: -item[1])[:6]:
            print(f"  {size / 2**20:7.2f} MiB  {u[len(url):]}")
        results = [None] * args.clients
        barrier = threading.Barrier(args.clients)
        threads = [threading.Thread(target=client, args=(urls, results, k, barrier))
                   for k in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    times = sorted(r[0] for r in results)
    errors = [e for r in results for e in r[2]]
    received = sum(r[1] for r in results)
    print(f"\n{args.clients} clients at once, each fetching all {len(urls)} files "
          f"({received / 2**30:.2f} GiB in all, {received / 2**20 / wall:.0f} MiB/s):")
    print(f"  slowest client {times[-1]:.1f} s, median {statistics.median(times):.1f} s, "
          f"fastest {times[0]:.1f} s")
    print(f"  clients that completed without an error: {sum(not r[2] for r in results)} of "
          f"{args.clients}; errors: {len(errors)}")
    for e in errors[:10]:
        print("   ", e)
    print(load.report())


if __name__ == "__main__":
    main()
