"""Shared test setup: markers and the `device` fixture.

Every op test takes the `device` fixture, so it runs twice: on "gpu" (the
WGSL kernels through wgpu; Mesa's lavapipe on a machine without a GPU) and on
"cpu" (the numpy backend). Select one with `-k gpu` / `-k cpu`, or leave the
GPU half out explicitly with `-m "not gpu"`.

The GPU half never skips itself: with no wgpu adapter it FAILS, saying why,
so a machine without Vulkan cannot turn the suite green by running only numpy.
"""
import os
import sys

import pytest

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # quiets a Vulkan loader warning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run from a checkout without an editable install
    sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # tests/helpers.py

import engine as eg  # noqa: E402
from engine.backend import NoGPUError  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running (big tensors); deselect with -m 'not slow'")
    config.addinivalue_line("markers", "gpu: runs the WGSL kernels through wgpu (lavapipe here)")
    config.addinivalue_line("markers", "browser: drives Chromium + Pyodide + WebGPU")


_gpu_error = None


def _select_gpu():
    """set_device('gpu'), or a pytest failure that says what is missing."""
    global _gpu_error
    if _gpu_error is not None:
        pytest.fail(_gpu_error, pytrace=False)
    try:
        description = eg.set_device("gpu")
    except NoGPUError as err:
        _gpu_error = (f"no wgpu adapter: {err}. The GPU half of the suite FAILS rather than "
                      "skips; install mesa-vulkan-drivers (lavapipe) or run -m 'not gpu' "
                      "knowingly.")
        pytest.fail(_gpu_error, pytrace=False)
    backend = eg.tensor([0.0]).backend
    adapter = getattr(backend, "adapter_name", "")
    if not description.startswith("gpu:") or not adapter or adapter == "?" \
            or adapter not in eg.get_device():
        pytest.fail(f"set_device('gpu') gave {description!r}, which names no wgpu adapter",
                    pytrace=False)
    return description


def _select(name):
    if name == "gpu":
        _select_gpu()
    else:
        description = eg.set_device("cpu")
        assert description.startswith("cpu: numpy"), description
    eg.manual_seed(0)
    return name


@pytest.fixture(params=[pytest.param("gpu", marks=pytest.mark.gpu, id="gpu"),
                        pytest.param("cpu", id="cpu")])
def device(request):
    """The backend under test ("gpu" or "cpu"), selected and seeded with 0."""
    return _select(request.param)


def pytest_report_header(config):
    try:
        import wgpu
        adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
        info = adapter.info if adapter is not None else {}
        return (f"webgrad gpu adapter: {info.get('device', 'NONE')} "
                f"({info.get('backend_type', '?')}, {info.get('adapter_type', '?')})")
    except Exception as err:  # the gpu-marked tests will fail and say why
        return f"webgrad gpu adapter: NONE ({err})"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (item.rep_call), so that a fixture can
    save a screenshot when a browser test fails."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
