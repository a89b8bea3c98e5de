"""Serving the playground and driving Debian's Chromium, for tests/test_browser.py and bench/.

Chromium is /usr/bin/chromium (apt package `chromium`), driven by Playwright for
Python through `executable_path`: never `playwright install` (no downloads here).
Headless Chromium exposes WebGPU through SwiftShader (a CPU Vulkan) only with
--enable-unsafe-webgpu; without that flag navigator.gpu exists but
requestAdapter() resolves to null.
"""
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = os.environ.get("WEBGRAD_CHROMIUM", "/usr/bin/chromium")

QUIET_FLAGS = [  # the network is closed here: no background traffic, no first-run UI
    "--no-sandbox",  # we run as root
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--no-first-run",
]
WEBGPU_FLAGS = ["--enable-unsafe-webgpu"]  # headless: WebGPU on SwiftShader


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(timeout=60):
    """`python server.py` on a free port, as a person starts it; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "server.py"), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server.py exited with {proc.returncode}:\n{proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server.py did not answer on {url} within {timeout} s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def chromium(webgpu=True, extra_args=()):
    """A headless Debian Chromium (Playwright Browser); raises, never skips, if it is missing."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: `apt-get install chromium` "
                           "(scripts/setup.sh does); browser tests FAIL rather than skip")
    from playwright.sync_api import sync_playwright
    args = QUIET_FLAGS + (WEBGPU_FLAGS if webgpu else []) + list(extra_args)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


STATE_JS = """() => { const w = window.webgrad || {};
  return {state: w.state, status: w.status, fatal: w.fatal, error: w.error, errors: w.errors,
          device: w.device, model: w.model, dataset: w.dataset, builds: w.builds,
          examplesSeen: w.examplesSeen, testAcc: w.testAcc, testCount: w.testCount,
          testAtExamples: w.testAtExamples, evaluations: w.evaluations, snapshots: w.snapshots,
          modelSnapshots: w.modelSnapshots,
          examplesPerSecond: w.examplesPerSecond, pythonMsPerStep: w.pythonMsPerStep,
          gpuWaitMsPerStep: w.gpuWaitMsPerStep, numpyImported: w.numpyImported,
          settings: w.settings, example: w.example, lossHistory: w.lossHistory}; }"""


def page_state(page):
    return page.evaluate(STATE_JS)


def wait_for(page, predicate, timeout, what, poll=1.0, log=None):
    """Poll window.webgrad until predicate(state) holds; raise if the page broke (a fatal
    error, no WebGPU) or on the timeout. Python errors that the page shows and survives
    (a typo in the editor) are in state["error"] and do not stop the wait."""
    deadline = time.monotonic() + timeout
    while True:
        state = page_state(page)
        if state.get("fatal"):
            raise AssertionError(f"the page failed while waiting for {what}:\n{state['fatal']}")
        if state.get("state") == "nogpu":
            raise AssertionError(f"the page says WebGPU is missing ({state.get('status')}) "
                                 f"while waiting for {what}: was Chromium started with --enable-unsafe-webgpu?")
        if predicate(state):
            return state
        if log:
            log(state)
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; "
                                 f"last state: { {k: v for k, v in state.items() if k != 'lossHistory'} }")
        time.sleep(poll)


# Pyodide and the page's engine (/engine.zip) in a page of running_server()'s origin,
# without the app: `code` runs first, then the Python function it defined named `function`
# is awaited with `args` (converted to Python) and its result returned. For the tests and
# benches that run the engine itself in the browser.
RUN_IN_PYODIDE_JS = """async ([code, name, args]) => {
  const {loadPyodide} = await import("/pyodide/pyodide.mjs");
  const pyodide = await loadPyodide({indexURL: "/pyodide/"});
  const zip = new Uint8Array(await (await fetch("/engine.zip")).arrayBuffer());
  pyodide.unpackArchive(zip, "zip", {extractDir: "/home/pyodide/webgrad"});
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide/webgrad')");
  pyodide.runPython(code);
  return await pyodide.globals.get(name).callPromising(...args.map(a => pyodide.toPy(a)));
}"""


def run_in_pyodide(page, code, function, *args):
    """Await `function(*args)` from the Python `code` in Pyodide in `page` (opened on the
    server's origin, e.g. url + "/datasets.json"); returns what the function returned."""
    return page.evaluate(RUN_IN_PYODIDE_JS, [code, function, list(args)])
