"""The playground in a browser without WebGPU: the page must say so, and why.

Debian's Chromium, headless: without --enable-unsafe-webgpu navigator.gpu exists but
has no adapter; on an insecure origin (plain http, not localhost) there is no
navigator.gpu at all. The page with WebGPU is tested in tests/test_page.py.
"""
import pytest

from browser_harness import chromium, running_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def url():
    with running_server() as base:
        yield base


def open_page(browser, url, console):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.goto(url + "/")
    return page


def check_no_webgpu_message(page):
    page.wait_for_selector("#nogpu", state="visible", timeout=30_000)
    text = page.inner_text("#nogpu")
    for needed in ("WebGPU is not available", "Chrome", "Edge 113", "Safari 26", "Firefox 141",
                   "--enable-unsafe-webgpu"):
        assert needed in text, (needed, text)
    assert page.evaluate("window.webgrad.state") == "nogpu"
    assert page.is_hidden("main")  # no half-built controls


def test_no_adapter_message(url):
    """Chromium without --enable-unsafe-webgpu: navigator.gpu exists, requestAdapter() gives null."""
    with chromium(webgpu=False) as browser:
        page = open_page(browser, url, [])
        assert page.evaluate("!!navigator.gpu")
        check_no_webgpu_message(page)
        assert "no GPU adapter" in page.inner_text("#nogpu-reason")


def test_no_navigator_gpu_message(url):
    """An insecure origin (plain http, not localhost) has no navigator.gpu at all: the page
    says that https is the fix, not that the browser lacks WebGPU (tests/test_hosting.py
    checks the message's wording)."""
    host = url.replace("127.0.0.1", "webgrad.test")
    port = url.rsplit(":", 1)[1]
    with chromium(webgpu=True, extra_args=[f"--host-resolver-rules=MAP webgrad.test:{port} 127.0.0.1:{port}"]) as browser:
        page = open_page(browser, host, [])
        assert page.evaluate("navigator.gpu === undefined")
        page.wait_for_selector("#insecure", state="visible", timeout=30_000)
        assert "https" in page.inner_text("#insecure").lower()
        assert page.is_hidden("#nogpu")
        assert page.evaluate("window.webgrad.state") == "nogpu"
