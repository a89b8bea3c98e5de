"""Hosting the playground for a class, and sharing an experiment by link (docs/HOSTING.md).

WebGPU exists only in a secure context (https, or http from localhost), so students on
other machines need https. Checked here, in Debian's headless Chromium, nothing mocked:

- the static build (`server.py --build-static`), served by `python -m http.server` from a
  sub-folder (as GitHub Pages serves a project), boots and trains the MLP;
- `server.py --certfile/--keyfile` serves https; Chromium, told that `classroom.test` is
  127.0.0.1 (so the origin is not localhost), opens it as a secure context and boots;
- a link made with the page's Share button, opened in another browser on that https
  origin, restores the code, the dataset and the settings; a downloaded experiment file
  opened with "Open experiment…" does too;
- over plain http from a non-localhost name the page says what is wrong and what fixes it.

Three page loads in all (two boot Pyodide). Screenshots: artifacts/hosting-*.png.
"""
import base64
import contextlib
import http.client
import json
import math
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
import zipfile
import zlib

import pytest

import server
from browser_harness import ROOT, chromium, free_port, page_state, running_server, wait_for

ARTIFACTS = os.path.join(ROOT, "artifacts")
BOOT_TIMEOUT = 240
HOST = "classroom.test"          # a name that is not localhost: mapped to 127.0.0.1 in Chromium
RESOLVE = [f"--host-resolver-rules=MAP {HOST} 127.0.0.1"]

# What the share test changes on the page (and expects back from the link).
SHARED_SETTINGS = {"optimizer": "rmsprop", "lr": 0.002, "momentum": 0.5, "weight_decay": 0.0001,
                   "batch_size": 16, "schedule": "cosine", "epochs": 3}
SHARED_CODE_MARK = "# exercise 3: a narrower MLP"


def shot(page, name, top=None):
    """A screenshot in artifacts/: the whole page, or its first `top` pixels."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    clip = {"x": 0, "y": 0, "width": 1280, "height": top} if top else None
    page.screenshot(path=os.path.join(ARTIFACTS, f"hosting-{name}.png"), full_page=True, clip=clip)


# ---- a certificate -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for classroom.test and 127.0.0.1: (certfile, keyfile)."""
    openssl = shutil.which("openssl")
    assert openssl, "no openssl: `apt-get install openssl` (Debian's ca-certificates brings it)"
    folder = tmp_path_factory.mktemp("tls")
    certfile, keyfile = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                    "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
                    "-keyout", keyfile, "-out", certfile],
                   check=True, capture_output=True)
    return certfile, keyfile


@contextlib.contextmanager
def https_server(certfile, keyfile, timeout=60):
    """`python server.py --certfile --keyfile` on a free port; yields (port, its first line)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "server.py"), "--port", str(port),
                             "--certfile", certfile, "--keyfile", keyfile],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    context = ssl.create_default_context(cafile=certfile)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"server.py exited with {proc.returncode}:\n{proc.stdout.read()}"
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=5, context=context) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"server.py did not answer https on {port} in {timeout} s"
            time.sleep(0.2)
        yield port, proc.stdout.readline().strip()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---- TLS options (no browser) ----------------------------------------------------------------

def test_server_serves_https_with_certfile_and_keyfile(cert):
    certfile, keyfile = cert
    context = ssl.create_default_context(cafile=certfile)   # verified: the right cert, the right name
    with https_server(certfile, keyfile) as (port, first_line):
        assert first_line == f"webgrad playground: https://127.0.0.1:{port}/", first_line
        for path, kind in (("/", "text/html"), ("/engine.zip", "application/zip"),
                           ("/static/share.js", "text/javascript"), ("/datasets.json", "application/json")):
            with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", timeout=30, context=context) as r:
                assert r.status == 200 and r.headers["content-type"].startswith(kind), (path, r.headers)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)   # plain http: refused
        with pytest.raises((OSError, http.client.HTTPException)):
            conn.request("GET", "/")
            response = conn.getresponse()
            assert response.status != 200
            raise OSError(f"plain http answered {response.status}")
        conn.close()


def test_tls_options_say_what_is_wrong(cert, tmp_path):
    certfile, keyfile = cert
    assert server.check_tls(None, None) is False
    assert server.check_tls(certfile, keyfile) is True
    with pytest.raises(server.SetupError, match="needs both --certfile and --keyfile"):
        server.check_tls(certfile, None)
    with pytest.raises(server.SetupError, match=r"--keyfile .*nope\.pem: no such file"):
        server.check_tls(certfile, str(tmp_path / "nope.pem"))
    other_key = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-out", str(other_key)], check=True, capture_output=True)
    with pytest.raises(server.SetupError, match="do not load as a certificate"):
        server.check_tls(certfile, str(other_key))          # a key that is not the certificate's
    result = subprocess.run([sys.executable, "server.py", "--keyfile", keyfile], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "needs both --certfile and --keyfile" in result.stderr


# ---- the static build (no browser) -----------------------------------------------------------

def test_static_build_holds_every_file_the_page_loads(tmp_path):
    from web.build_static import build_static
    out = build_static(str(tmp_path / "site"))
    with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
        html = f.read()
    # relative URLs only, so the folder works anywhere on a host, not only at its root
    for absolute in ('"/static/', '"/vendor/', '"/pyodide/'):
        assert absolute not in html, absolute
    start = html.index('<script type="importmap">') + len('<script type="importmap">')
    imports = json.loads(html[start:html.index("</script>", start)])["imports"]
    assert "codemirror" in imports and "@codemirror/view" in imports
    needed = [url for url in imports.values()] + [
        "./static/app.js", "./static/worker.js", "./static/share.js", "./static/style.css",
        "./vendor/chart.js", "./pyodide/pyodide.mjs", "./pyodide/pyodide.asm.mjs",
        "./pyodide/pyodide.asm.wasm", "./pyodide/python_stdlib.zip", "./pyodide/pyodide-lock.json"]
    for url in needed:
        assert os.path.isfile(os.path.join(out, url)), f"the build lacks {url}"
    for name in os.listdir(os.path.join(out, "static")):        # the JS asks for nothing by absolute path
        with open(os.path.join(out, "static", name), encoding="utf-8") as f:
            text = f.read()
        found = re.findall(r"""(?:fetch\w*\(|import\(|from |indexURL: |Worker\()\s*["'`]/[^"'`]*""", text)
        assert not found, f"static/{name} loads {found} by absolute path: breaks in a sub-folder"
    # what server.py generates: the dataset list, the data files, the engine's zip
    from engine.data import available_datasets
    with open(os.path.join(out, "datasets.json"), encoding="utf-8") as f:
        listed = json.load(f)
    present = available_datasets()
    assert listed == server.dataset_listing(present) and any(d["name"] == "mnist" for d in listed)
    for entry in listed:
        for file in entry["files"]:
            built = os.path.join(out, "data", entry["name"], file)
            assert os.path.getsize(built) == os.path.getsize(os.path.join(present[entry["name"]]["folder"], file))
    with zipfile.ZipFile(os.path.join(out, "engine.zip")) as zf:
        names = set(zf.namelist())
    assert {"engine/__init__.py", "playground/__init__.py", "playground/trainer.py"} <= names
    assert any(n.startswith("shaders/") and n.endswith(".wgsl") for n in names)
    # a second build into the same folder replaces it; a folder of other files is refused
    build_static(out)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(server.SetupError, match="holds other files"):
        build_static(str(tmp_path / "mine"))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


# ---- in Chromium -----------------------------------------------------------------------------

@contextlib.contextmanager
def static_http_server(folder, timeout=30):
    """`python -m http.server` in `folder` on a free port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "http.server did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def console_of(page):
    lines = []
    page.on("console", lambda m: lines.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: lines.append(f"pageerror: {e}"))
    return lines


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (Playwright runs one at a time); each page gets a fresh
    context of its own: no cache, storage or cookies shared between them."""
    with chromium(webgpu=True, extra_args=RESOLVE) as browser:
        yield browser


@pytest.fixture(scope="module")
def static_page(browser, tmp_path_factory):
    """The static build in www/class/, served by http.server from www/ (a sub-folder, as a
    project's GitHub Pages site is), opened in Chromium and booted."""
    from web.build_static import build_static
    www = tmp_path_factory.mktemp("www")
    build_static(str(www / "class"))
    with static_http_server(str(www)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.console = console_of(page)
        page.goto(url + "/class/")
        wait_for(page, lambda s: s["state"] == "ready" and s["snapshots"] >= 1, BOOT_TIMEOUT,
                 "the static build to boot (Pyodide, engine, MNIST)")
        yield page


@pytest.mark.browser
@pytest.mark.slow
def test_static_build_trains_in_chromium(static_page):
    page = static_page
    assert page.evaluate("window.webgrad.editor") == "codemirror", page.console[-20:]
    page.click("#start")
    s = wait_for(page, lambda s: s["examplesSeen"] >= 1000 and len(s["lossHistory"]) >= 2, 180,
                 "the MLP to train on the static build")
    assert s["model"] == "mlp" and s["dataset"] == "mnist" and "WebGPU" in s["device"]
    assert all(math.isfinite(x) for x in s["lossHistory"]), s["lossHistory"]
    page.click("#pause")
    wait_for(page, lambda s: s["state"] == "paused", 120, "training to pause")
    shot(page, "static-build")


def set_code(page, source):
    page.click("#editor .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)


def change_settings(page):
    """Dataset, code and every setting changed by hand, as a teacher preparing an exercise."""
    builds = page_state(page)["builds"]
    page.select_option("#dataset", "fashion-mnist")
    wait_for(page, lambda s: s["dataset"] == "fashion-mnist" and s["builds"] > builds
             and s["state"] == "ready", 180, "the switch to Fashion-MNIST")
    page.select_option("#optimizer", SHARED_SETTINGS["optimizer"])
    page.select_option("#schedule", SHARED_SETTINGS["schedule"])
    page.select_option("#batch", str(SHARED_SETTINGS["batch_size"]))
    for key, selector in (("lr", "#lr"), ("momentum", "#momentum"), ("weight_decay", "#weight-decay"),
                          ("epochs", "#epochs")):
        page.fill(selector, str(SHARED_SETTINGS[key]))
        page.press(selector, "Tab")                   # commits the input (a change event)
    wait_for(page, lambda s: all(s["settings"][k] == v for k, v in SHARED_SETTINGS.items()), 60,
             "the changed settings to be in force")
    with open(os.path.join(ROOT, "engine", "models", "mlp.py"), encoding="utf-8") as f:
        code = f.read().replace("hidden=(256, 256)", "hidden=(64,)")
    set_code(page, f"{SHARED_CODE_MARK}\n{code}")
    return page.evaluate("window.webgrad.code()")


@pytest.fixture(scope="module")
def shared(static_page, tmp_path_factory):
    """The teacher's side: change everything, then Share (by keyboard) and Download."""
    page = static_page
    code = change_settings(page)
    page.focus("#share")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.webgrad.shareLink")
    link = page.input_value("#share-link")
    assert link == page.evaluate("window.webgrad.shareLink") and "#x=" in link
    assert "Link copied" in page.evaluate("window.webgrad.shareMessage") or \
        "Copy the selected link" in page.evaluate("window.webgrad.shareMessage")
    shot(page, "share-link", top=1300)
    with page.expect_download() as download:
        page.click("#download-experiment")
    path = str(tmp_path_factory.mktemp("experiment") / "experiment.json")
    download.value.save_as(path)
    return {"link": link, "code": code, "file": path, "settings": page_state(page)["settings"]}


@pytest.mark.browser
@pytest.mark.slow
def test_share_link_is_compact_and_the_file_is_readable(shared):
    fragment = shared["link"].split("#x=", 1)[1]
    assert set(fragment) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    packed = base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4))
    in_link = json.loads(zlib.decompress(packed, wbits=-15))      # raw deflate, as documented
    assert len(packed) < 0.6 * len(json.dumps(in_link)), "the link is not compressed"
    with open(shared["file"], encoding="utf-8") as f:
        experiment = json.load(f)
    assert in_link == experiment, "the link and the file hold different experiments"
    assert experiment["format"] == "webgrad-experiment" and experiment["version"] == 1
    assert experiment["code"] == shared["code"] and experiment["dataset"] == "fashion-mnist"
    assert experiment["settings"] == shared["settings"]


@pytest.fixture(scope="module")
def https_page(browser, cert):
    """A fresh context on https://classroom.test (a secure origin that is not localhost)."""
    certfile, keyfile = cert
    with https_server(certfile, keyfile) as (port, _):
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.console = console_of(page)
        page.base = f"https://{HOST}:{port}/"
        yield page


@pytest.mark.browser
@pytest.mark.slow
def test_shared_link_restores_the_experiment_over_https(https_page, shared):
    page = https_page
    fragment = shared["link"].split("#", 1)[1]
    page.goto(page.base + "#" + fragment)
    assert page.evaluate("window.isSecureContext") is True, "https://classroom.test is not a secure context"
    assert page.evaluate("location.protocol") == "https:"
    s = wait_for(page, lambda s: page.evaluate("Boolean(window.webgrad.restored)") and s["state"] == "ready",
                 BOOT_TIMEOUT, "the page to boot over https and restore the shared link")
    assert "WebGPU" in s["device"]
    assert page.evaluate("window.webgrad.code()") == shared["code"]
    assert s["dataset"] == "fashion-mnist" and page.input_value("#dataset") == "fashion-mnist"
    assert s["settings"] == shared["settings"]
    for key, selector in (("optimizer", "#optimizer"), ("schedule", "#schedule"), ("batch_size", "#batch")):
        assert page.input_value(selector) == str(SHARED_SETTINGS[key]), key
    for key, selector in (("lr", "#lr"), ("momentum", "#momentum"), ("weight_decay", "#weight-decay"),
                          ("epochs", "#epochs")):
        assert float(page.input_value(selector)) == SHARED_SETTINGS[key], key
    assert s["model"] == "custom" and s["state"] == "ready", "a shared exercise waits for Start"
    summary = page.evaluate("window.webgrad.summary")
    assert summary["total_params"] == 784 * 64 + 64 + 64 * 10 + 10, "the built model is not the shared code"
    assert "press Start" in page.evaluate("window.webgrad.shareMessage")
    shot(page, "restored-link", top=1300)


@pytest.mark.browser
@pytest.mark.slow
def test_open_experiment_file_restores_it(https_page, shared, tmp_path):
    page = https_page
    wait_for(page, lambda s: s["state"] == "ready", 60, "the restored page")
    with open(shared["file"], encoding="utf-8") as f:
        experiment = json.load(f)
    experiment["dataset"] = "mnist"
    experiment["settings"]["lr"] = 0.0005
    experiment["code"] = experiment["code"].replace("hidden=(64,)", "hidden=(32,)")
    path = tmp_path / "student.json"
    path.write_text(json.dumps(experiment))
    before = page.evaluate("window.webgrad.restored.builds")
    page.focus("#download-experiment")                     # the buttons are in the Tab order
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "open-experiment"
    with page.expect_file_chooser() as chooser:
        page.click("#open-experiment")
    chooser.value.set_files(str(path))
    s = wait_for(page, lambda s: page.evaluate("window.webgrad.restored.builds") > before
                 and s["state"] == "ready", 180, "the experiment file to be restored")
    assert page.evaluate("window.webgrad.restored.from") == "file"
    assert s["dataset"] == "mnist" and s["settings"]["lr"] == 0.0005
    assert page.evaluate("window.webgrad.code()") == experiment["code"]
    assert page.evaluate("window.webgrad.summary.total_params") == 784 * 32 + 32 + 32 * 10 + 10
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with page.expect_file_chooser() as chooser:
        page.click("#open-experiment")
    chooser.value.set_files(str(bad))
    page.wait_for_function("() => /format/.test(window.webgrad.shareMessage)")
    assert "bad.json" in page.evaluate("window.webgrad.shareMessage")
    # a link cut short when it was copied, pasted into the same tab: said, and nothing changes
    builds = page_state(page)["builds"]
    page.evaluate("location.hash = '#x=ZVRrT9sw'")
    page.wait_for_function("() => /cannot be unpacked/.test(window.webgrad.shareMessage)")
    assert page_state(page)["builds"] == builds
    assert page.evaluate("window.webgrad.code()") == experiment["code"]


@pytest.mark.browser
def test_plain_http_from_another_machine_says_what_to_do(browser):
    """http://classroom.test is what a student gets from `--host 0.0.0.0` without TLS."""
    with running_server() as url:
        port = url.rsplit(":", 1)[1]
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"http://{HOST}:{port}/")
        assert page.evaluate("window.isSecureContext") is False
        page.wait_for_selector("#insecure", state="visible", timeout=30000)
        text = page.inner_text("#insecure")
        assert "HTTPS" in text and "secure context" in text and HOST in text
        assert "--certfile" in text and "--keyfile" in text and "--build-static" in text
        assert page.evaluate("window.webgrad.state") == "nogpu" and page.is_disabled("#start")
        assert page.is_hidden("#nogpu"), "the generic no-WebGPU message would mislead here"
        shot(page, "insecure-origin")
