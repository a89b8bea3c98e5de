"""server.py: what it serves, with which types, and what it refuses.

A real uvicorn on a free port, spoken to with http.client so that paths go out
exactly as written (no client-side normalisation of `..` or `%2f`).
"""
import http.client
import io
import os
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
    for needed in (b"/static/app.js", b"/vendor/chart.js", b'id="start"', b"WebGPU"):
        assert needed in body


@pytest.mark.parametrize("path,ctype", [
    ("/static/app.js", "text/javascript"),
    ("/static/worker.js", "text/javascript"),
    ("/static/style.css", "text/css"),
    ("/static/playground.py", ""),
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
    expected = set()
    for top, suffix in (("engine", ".py"), ("shaders", ".wgsl")):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            expected |= {os.path.relpath(os.path.join(dirpath, f), ROOT).replace(os.sep, "/")
                         for f in filenames if f.endswith(suffix)}
    assert any(n.startswith("shaders/") and n.endswith(".wgsl") for n in expected)
    assert names == expected
    for name in expected:  # byte for byte the repository's files: the same engine runs in the page
        with open(os.path.join(ROOT, name), "rb") as f:
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
