"""server.py: what it serves, with which types, and what it refuses.

A real uvicorn on a free port, spoken to with http.client so that paths go out
exactly as written (no client-side normalisation of `..` or `%2f`).
"""
import http.client
import io
import json
import os
import re
import socket
import threading
import time
import zipfile

import pytest
import uvicorn

import server

ROOT = server.ROOT
SECRET = b'"""The webgrad playground server'  # the opening bytes of server.py


@pytest.fixture(scope="module")
def base():
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(server.create_app(), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield sock.getsockname()
    srv.should_exit = True
    thread.join(10)
    sock.close()


def get(base, path):
    conn = http.client.HTTPConnection(*base, timeout=30)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, r.getheader("content-type", ""), body


def test_page(base):
    status, ctype, body = get(base, "/")
    assert status == 200 and ctype.startswith("text/html")
    for needed in (b"/static/app.js", b"/vendor/chart.js", b'id="start"', b"WebGPU", b'id="run"',
                   b'id="layers"', b'id="draw"', b'id="dataset"', b'<script type="importmap">'):
        assert needed in body


def import_map(base):
    body = get(base, "/")[2].decode()
    start = body.index('<script type="importmap">') + len('<script type="importmap">')
    return json.loads(body[start:body.index("</script>", start)])["imports"]


def test_import_map_serves_the_editor_and_everything_it_imports(base):
    """Every module the map names is served as JavaScript, and every bare import inside
    them (import ... from "@codemirror/state") is a key of the map: the editor loads."""
    imports = import_map(base)
    for root in ("codemirror", "@codemirror/lang-python", "@codemirror/lint", "@codemirror/view",
                 "@codemirror/state"):
        assert root in imports, root
    bare = re.compile(r"""^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"./][^'"]*)['"]""", re.M)
    for name, url in imports.items():
        status, ctype, body = get(base, url)
        assert status == 200 and ctype.startswith("text/javascript"), (name, url, status, ctype)
        found = bare.findall(body.decode("utf-8"))
        for spec in found:
            assert spec in imports, f"{url} imports {spec!r}, which the import map lacks"
        if name == "codemirror":
            assert "@codemirror/view" in found, found   # the pattern does find imports


@pytest.mark.parametrize("path", [
    "/vendor/npm/pyodide/pyodide.mjs",                 # not one of the editor's packages
    "/vendor/npm/codemirror/package.json",             # not a module
    "/vendor/npm/codemirror/../chart.js/dist/chart.umd.min.js",
    "/vendor/npm/codemirror/..%2f..%2f..%2fserver.py",
    "/vendor/npm/@codemirror/view/../../../../server.py",
    "/vendor/npm/codemirror/dist/no-such-file.js",
])
def test_npm_route_serves_only_the_editor_modules(base, path):
    status, _, body = get(base, path)
    assert status in (400, 404), (path, status)
    assert SECRET not in body


def test_datasets_json_lists_what_the_server_has(base):
    from engine.data import available_datasets
    status, ctype, body = get(base, "/datasets.json")
    assert status == 200 and ctype.startswith("application/json")
    listed = json.loads(body)
    present = available_datasets()
    assert [d["name"] for d in listed] == list(present)
    assert "mnist" in present, "data/mnist is missing: run `bash scripts/setup.sh`"
    for entry in listed:
        info = present[entry["name"]]
        assert entry["title"] == info["title"] and entry["classes"] == info["classes"]
        assert sorted(entry["files"]) == sorted(info["files"].values())
        for name in entry["files"]:     # each listed file is served, byte for byte
            status, _, data = get(base, f"/data/{entry['name']}/{name}")
            assert status == 200, (entry["name"], name)
            with open(os.path.join(info["folder"], name), "rb") as f:
                assert data == f.read()


@pytest.mark.parametrize("path,ctype", [
    ("/static/app.js", "text/javascript"),
    ("/static/worker.js", "text/javascript"),
    ("/static/style.css", "text/css"),
    ("/static/layerview.js", "text/javascript"),
    ("/static/drawpad.js", "text/javascript"),
    ("/static/editor.js", "text/javascript"),
    ("/vendor/chart.js", "text/javascript"),
    ("/pyodide/pyodide.mjs", "text/javascript"),
    ("/pyodide/pyodide.asm.mjs", "text/javascript"),
    ("/pyodide/pyodide.asm.wasm", "application/wasm"),
    ("/pyodide/python_stdlib.zip", "application/zip"),
    ("/pyodide/pyodide-lock.json", "application/json"),
])
def test_assets(base, path, ctype):
    status, got, body = get(base, path)
    assert status == 200, path
    assert got.split(";")[0] == ctype or not ctype, (path, got)
    assert body


def test_wasm_is_the_package_file(base):
    _, _, body = get(base, "/pyodide/pyodide.asm.wasm")
    assert body[:4] == b"\0asm"
    with open(os.path.join(server.PYODIDE_DIR, "pyodide.asm.wasm"), "rb") as f:
        assert body == f.read()


def test_engine_zip_is_the_checkout(base):
    status, ctype, body = get(base, "/engine.zip")
    assert status == 200 and ctype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(body))
    names = set(zf.namelist())
    assert "engine/__init__.py" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    expected = {}   # name in the zip -> file in the checkout
    for top, suffix, target in (("engine", ".py", "engine"), ("shaders", ".wgsl", "shaders"),
                                (os.path.join("web", "playground"), ".py", "playground")):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for f in filenames:
                if f.endswith(suffix):
                    path = os.path.join(dirpath, f)
                    inside = os.path.relpath(path, os.path.join(ROOT, top)).replace(os.sep, "/")
                    expected[f"{target}/{inside}"] = path
    assert any(n.startswith("shaders/") and n.endswith(".wgsl") for n in expected)
    assert "playground/__init__.py" in expected and "playground/layer_view.py" in expected
    assert names == set(expected)
    for name, path in expected.items():  # byte for byte the checkout's files: the same engine runs in the page
        with open(path, "rb") as f:
            assert zf.read(name) == f.read(), name


def test_data_files(base):
    path = os.path.join(ROOT, "data", "mnist", "t10k-labels-idx1-ubyte.gz")
    if not os.path.isfile(path):
        pytest.fail("data/mnist is missing: run `bash scripts/setup.sh` (it fetches MNIST)")
    status, ctype, body = get(base, "/data/mnist/t10k-labels-idx1-ubyte.gz")
    assert status == 200 and ctype == "application/octet-stream"
    with open(path, "rb") as f:
        assert body == f.read()
    assert get(base, "/data/mnist/no-such-file-ubyte.gz")[0] == 404


@pytest.mark.parametrize("path", [
    "/data/../server.py",
    "/data/mnist/../../server.py",
    "/data/mnist/..%2f..%2fserver.py",
    "/data/mnist/%2e%2e%2f%2e%2e%2fserver.py",
    "/data/..%2f/server.py",
    "/data/%2e%2e/server.py",
    "/data/mnist/%2fetc%2fpasswd",
    "/data/mnist//etc/passwd",
    "/data/mnist/.hidden-ubyte",
    "/static/../../server.py",
    "/static/..%2f..%2fserver.py",
    "/static/%2e%2e/%2e%2e/server.py",
    "/static/../templates/index.html",
    "/pyodide/../../../server.py",
    "/pyodide/..%2f..%2f..%2fserver.py",
    "/pyodide/%2e%2e/%2e%2e/%2e%2e/server.py",
    "/server.py",
    "/engine/__init__.py",
])
def test_no_path_escapes(base, path):
    status, _, body = get(base, path)
    assert status in (400, 404), (path, status)
    assert SECRET not in body and b"root:" not in body


def test_symlink_out_of_data_is_refused(base, tmp_path):
    link_dir = os.path.join(ROOT, "data", "zz-test-escape")
    os.makedirs(link_dir, exist_ok=True)
    outside = tmp_path / "secret-ubyte"
    outside.write_bytes(b"not for the web")
    link = os.path.join(link_dir, "secret-ubyte")
    try:
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(outside, link)
        status, _, body = get(base, "/data/zz-test-escape/secret-ubyte")
        assert status == 404 and b"not for the web" not in body
    finally:
        os.remove(link)
        os.rmdir(link_dir)


def test_missing_pyodide_says_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setattr(server, "PYODIDE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(server.SetupError, match="scripts/setup.sh"):
        server.create_app()
