"""The WGSL sources: includes (engine/shaders.py), every kernel compiling, and what ships.

Shared code lives once in shaders/common/ and is pulled in by `//!include` lines;
these tests check that the includes resolve (recursively, each file once, cycles
reported with their chain), that every kernel and entry point compiles on the GPU
adapter and in Chromium (where every matmul variant's values are checked too), and
that the browser's zip carries shaders/common/ but no bench-only kernel.
"""
import os
import re

import pytest

import engine as eg
from engine import shaders
from engine.shaders import ShaderIncludeError, load_shader

SHADER_DIR = shaders._DIR
KERNELS = sorted(f[:-5] for f in os.listdir(SHADER_DIR) if f.endswith(".wgsl"))
COMMON = sorted("common/" + f[:-5] for f in os.listdir(os.path.join(SHADER_DIR, "common"))
                if f.endswith(".wgsl"))
ENTRY = re.compile(r"@compute[^\n]*\n\s*fn (\w+)\(")


@pytest.fixture
def shader_dir(tmp_path, monkeypatch):
    """A scratch shaders folder, with the caches emptied before and after."""
    monkeypatch.setattr(shaders, "_files", {})
    monkeypatch.setattr(shaders, "_kernels", {})
    monkeypatch.setattr(shaders, "_DIR", str(tmp_path))
    (tmp_path / "common").mkdir()

    def write(name, text):
        (tmp_path / (name + ".wgsl")).write_text(text)
    return write


def test_includes_resolve_recursively_and_once(shader_dir):
    shader_dir("common/a", "//!include common/c.wgsl\nfn a() {}\n")
    shader_dir("common/b", "//!include common/c.wgsl\nfn b() {}\n")
    shader_dir("common/c", "fn c() {}\n")
    shader_dir("k", "// k\n//!include common/a.wgsl\n//!include common/b.wgsl\nfn main() {}\n")
    assert load_shader("k") == "// k\nfn c() {}\nfn a() {}\nfn b() {}\nfn main() {}\n"


def test_include_cycle_names_the_chain(shader_dir):
    shader_dir("common/a", "//!include common/b.wgsl\n")
    shader_dir("common/b", "fn b() {}\n//!include common/a.wgsl\n")
    shader_dir("k", "//!include common/a.wgsl\n")
    with pytest.raises(ShaderIncludeError,
                       match=r"include cycle: k\.wgsl -> common/a\.wgsl -> common/b\.wgsl -> "
                             r"common/a\.wgsl \(line 2 of common/b\.wgsl\)"):
        load_shader("k")
    shader_dir("self", "//!include self.wgsl\n")
    with pytest.raises(ShaderIncludeError, match=r"self\.wgsl -> self\.wgsl"):
        load_shader("self")


def test_missing_include_names_the_includer(shader_dir):
    shader_dir("k", "//!include common/nowhere.wgsl\n")
    with pytest.raises(FileNotFoundError, match=r"'common/nowhere' \(included by k\) not found"):
        load_shader("k")


def test_sources_are_cached(shader_dir):
    shader_dir("common/c", "fn c() {}\n")
    shader_dir("k", "//!include common/c.wgsl\n")
    first = load_shader("k")
    shader_dir("common/c", "fn changed() {}\n")   # not read again
    assert load_shader("k") is first


@pytest.mark.parametrize("name", KERNELS)
def test_every_kernel_is_assembled(name):
    source = load_shader(name)
    assert "//!include" not in source
    # each shared function is defined once, however many headers include its file
    defined = re.findall(r"^fn (\w+)\(", source, re.M)
    assert len(defined) == len(set(defined)), f"{name}: a function defined twice"


@pytest.mark.gpu
def test_every_kernel_compiles():
    """Every entry point of every kernel (shaders/ and bench/shaders/) makes a pipeline
    with its default constants on the GPU adapter (naga here; the browser tests use Tint)."""
    eg.set_device("gpu")
    backend = eg.tensor([0.0]).backend
    bench = os.path.join(os.path.dirname(SHADER_DIR), "bench", "shaders")
    names = KERNELS + [os.path.join(bench, f) for f in os.listdir(bench) if f.endswith(".wgsl")]
    for name in names:
        entries = ENTRY.findall(load_shader(name))
        assert entries, name
        for entry in entries:
            backend._create_pipeline(load_shader(name), entry, {}, f"{name}:{entry}")


def test_common_files_are_all_used():
    used = set()
    for name in KERNELS:
        with open(shaders.shader_path(name), encoding="utf-8") as f:
            used.update(re.findall(r"^//!include (\S+)\.wgsl", f.read(), re.M))
    for name in COMMON:
        with open(shaders.shader_path(name), encoding="utf-8") as f:
            used.update(re.findall(r"^//!include (\S+)\.wgsl", f.read(), re.M))
    assert set(COMMON) <= used, f"never included: {set(COMMON) - used}"


def test_the_browser_gets_common_and_no_bench_kernels():
    """server.py zips shaders/ with its subfolders; bench-only kernels live in bench/shaders/."""
    import io
    import zipfile

    import server
    names = set(zipfile.ZipFile(io.BytesIO(server.build_engine_zip())).namelist())
    assert {f"shaders/{n}.wgsl" for n in COMMON} <= names
    assert not any("im2col" in n for n in names)


# (M, N, K, trans_a, trans_b, bias, K-slices or 0 for the plan's own): sizes that
# divide no tile, each operand transposed, a bias, and split-K
MATMUL_CASES = [(13, 37, 29, False, False, True, 0), (13, 37, 29, True, True, False, 3),
                (64, 10, 70, False, True, True, 0), (7, 9, 70, True, False, False, 2)]

BROWSER_CHECK = r'''
import array, json, os, random, re
import engine as eg
import engine.nn.functional as F
from engine.backend import kernel_choice
from engine.shaders import _DIR, load_shader


def matmul_variants(backend, cases):
    """Every matmul variant forced in turn on every case: (inputs, {variant: outputs})."""
    rng = random.Random(1)
    inputs, outputs = [], {}
    for M, N, K, ta, tb, bias, slices in cases:
        inputs.append([[rng.uniform(-1, 1) for _ in range(n)] for n in (M * K, K * N, N)])
    for variant in sorted(kernel_choice.MATMUL_VARIANTS):
        outputs[variant] = []
        for (M, N, K, ta, tb, bias, slices), (a, b, c) in zip(cases, inputs):
            up = lambda v: backend.upload(array.array("f", v))
            force = {"matmul": variant} if not slices else {"matmul": variant,
                                                                 "matmul_slices": slices}
            with kernel_choice.forced(**force):
                out = backend.matmul(up(a), up(b), 1, M, N, K, trans_a=ta, trans_b=tb,
                                     bias=up(c) if bias else None)
            outputs[variant].append(array.array("f", backend.download(out)).tolist())
    return inputs, outputs

def check(inputs, cases):
    eg.set_device("gpu")
    backend = eg.tensor([0.0]).backend
    compiled = []
    for f in sorted(os.listdir(_DIR)):
        if f.endswith(".wgsl"):
            source = load_shader(f[:-5])
            for entry in re.findall(r"@compute[^\n]*\n\s*fn (\w+)\(", source):
                backend._create_pipeline(source, entry, {}, f"{f}:{entry}")   # raises if rejected
                compiled.append(f"{f[:-5]}:{entry}")
    x = eg.tensor(inputs)
    results = {"gelu": F.gelu(x), "gelu_tanh": F.gelu(x, approximate="tanh"), "silu": F.silu(x),
               "softplus": F.softplus(x, 2.0, 5.0), "hardtanh": F.hardtanh(x),
               "softmax": x.reshape(2, 3).softmax(-1), "sum": x.sum(),
               # runs of four ending part-way (5, 1 elements), a scalar on either side,
               # and a broadcast that takes binary.wgsl's general walk
               "runs_5": eg.tensor(inputs[:5]).relu() * eg.tensor(inputs[1:6]) - eg.tensor(2.0),
               "runs_1": eg.tensor(3.0) / eg.tensor(inputs[4:5]),
               "bias": x.reshape(2, 3) + eg.tensor(inputs[:3])}
    matmul_inputs, matmul_outputs = matmul_variants(backend, cases)
    # a dispatch WebGPU refuses (one buffer bound to two writable bindings) must not pass
    # silently: the next read-back raises with the browser's message, and only once
    p = eg.tensor([1.0, 2.0, 3.0, 4.0])
    backend.sgd_step([(p.data, p.data, p.data, 4, False)], 0.1, 0.9, 0.0, 0.0, False)
    try:
        p.tolist()
        refused = None
    except RuntimeError as err:
        refused = str(err)
    after = eg.tensor([5.0]).tolist()
    return json.dumps({"device": eg.get_device(), "compiled": compiled,
                       "values": {k: v.tolist() for k, v in results.items()},
                       "matmul_inputs": matmul_inputs, "matmul": matmul_outputs,
                       "refused": refused, "after": after})
'''

@pytest.mark.browser
def test_every_kernel_compiles_in_chromium_and_includes_resolve_in_pyodide():
    """Chrome's WGSL compiler (Tint) is stricter than wgpu's (uniformity, literals): every
    entry point of every kernel must compile there too, from the zip the page loads. In
    the same page: element-wise values, every matmul variant's values, and a dispatch
    Chrome refuses raising at the next read-back (one browser for all of it)."""
    import json

    import numpy as np

    from browser_harness import chromium, run_in_pyodide, running_server
    inputs = [-3.0, -0.5, 0.0, 0.25, 1.5, 7.0]
    with running_server() as url, chromium(webgpu=True) as browser:
        page = browser.new_page()
        page.goto(url + "/datasets.json")
        result = json.loads(run_in_pyodide(page, BROWSER_CHECK, "check", inputs, MATMUL_CASES))
    print(f"  {result['device']}: {len(result['compiled'])} entry points compiled")
    expected = {f"{k}:{e}" for k in KERNELS for e in ENTRY.findall(load_shader(k))}
    assert set(result["compiled"]) == expected
    eg.set_device("cpu")
    F = eg.nn.functional
    x = eg.tensor(inputs)
    reference = {"gelu": F.gelu(x), "gelu_tanh": F.gelu(x, approximate="tanh"),
                 "silu": F.silu(x), "softplus": F.softplus(x, 2.0, 5.0),
                 "hardtanh": F.hardtanh(x), "softmax": x.reshape(2, 3).softmax(-1),
                 "sum": x.sum(),
                 "runs_5": eg.tensor(inputs[:5]).relu() * eg.tensor(inputs[1:6]) - eg.tensor(2.0),
                 "runs_1": eg.tensor(3.0) / eg.tensor(inputs[4:5]),
                 "bias": x.reshape(2, 3) + eg.tensor(inputs[:3])}
    for name, ref in reference.items():
        np.testing.assert_allclose(result["values"][name], ref.tolist(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    assert result["refused"] and "WebGPU refused" in result["refused"], result["refused"]
    assert result["after"] == [5.0]
    # every matmul variant, not only the one SwiftShader is given (a dispatch Chrome
    # refuses leaves its output unwritten, which only a value check sees)
    for variant, outputs in result["matmul"].items():
        for (M, N, K, ta, tb, bias, _), (a, b, c), got in zip(MATMUL_CASES,
                                                             result["matmul_inputs"], outputs):
            a = np.array(a, np.float32).reshape((K, M) if ta else (M, K)).astype(np.float64)
            b = np.array(b, np.float32).reshape((N, K) if tb else (K, N)).astype(np.float64)
            ref = (a.T if ta else a) @ (b.T if tb else b) + (np.float32(c) if bias else 0)
            np.testing.assert_allclose(np.array(got).reshape(M, N), ref, rtol=1e-4, atol=1e-4,
                                       err_msg=f"{variant} {M}x{N}x{K} trans {ta} {tb}")
