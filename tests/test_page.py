"""The playground page, driven as a person drives it: Debian's Chromium, headless, WebGPU
on SwiftShader, Pyodide running engine/ in a Web Worker. Nothing is mocked.

One server, one browser and one page serve the whole module (booting Pyodide takes a
while), so the tests run in order and each starts by putting the page in the state it
needs (a preset, a dataset, paused). Every feature leaves a screenshot in artifacts/
(page-*.png). These tests FAIL, never skip, when Chromium or WebGPU is missing.

    pytest tests/test_page.py -s          # -s prints progress
"""
import json
import os
import re
import time

import pytest

from browser_harness import ROOT, chromium, page_state, running_server, wait_for

pytestmark = pytest.mark.browser

ARTIFACTS = os.path.join(ROOT, "artifacts")
BOOT_TIMEOUT = 240       # Pyodide + engine + MNIST + the first model
BUILD_TIMEOUT = 120
ZOO = ["mlp", "lenet5", "convnetjs", "resnet_mini"]


# ---- the shared page ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def page():
    console = []
    with running_server() as url, chromium(webgpu=True) as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.console = console
        page.goto(url + "/")
        wait_for(page, lambda s: s["state"] == "ready" and s["evaluations"] >= 1
                 and s["snapshots"] >= 1, BOOT_TIMEOUT, "the page to boot (Pyodide, engine, MNIST)")
        yield page


@pytest.fixture(autouse=True)
def screenshot_on_failure(request, page):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot(page, f"failed-{request.node.name}")
        print("--- browser console ---\n" + "\n".join(page.console[-40:]))


def shot(page, name, selector=None):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"page-{name}.png")
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    return path


def js(page, expression, arg=None):
    return page.evaluate(expression, arg)


def pause(page):
    if page_state(page)["state"] == "running":
        page.click("#pause")
    return wait_for(page, lambda s: s["state"] in ("paused", "ready"), 120, "training to pause")


def use(page, preset="mlp", dataset="mnist"):
    """Put the page on `dataset` with a freshly built `preset`, not training."""
    pause(page)
    s = page_state(page)
    if s["dataset"] != dataset:
        builds = s["builds"]
        page.select_option("#dataset", dataset)
        wait_for(page, lambda s: s["dataset"] == dataset and s["builds"] > builds
                 and s["modelSnapshots"] >= 1, BUILD_TIMEOUT, f"the page to switch to {dataset}")
    builds = page_state(page)["builds"]
    page.select_option("#model", preset)
    return wait_for(page, lambda s: s["builds"] > builds and s["model"] == preset
                    and s["modelSnapshots"] >= 1 and s["state"] == "ready", BUILD_TIMEOUT,
                    f"the page to build {preset}")


def set_code(page, source):
    """Replace the editor's text the way a person pastes: click, select all, insert."""
    page.click("#editor .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    if source:
        page.keyboard.insert_text(source)


def editor_text(page):
    return js(page, "window.webgrad.code()")


def canvas_pixels(page, selector):
    """The RGBA bytes of a canvas, as a list (small canvases only)."""
    return js(page, """(sel) => { const c = document.querySelector(sel);
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""",
              selector)


def differing_pixels(a, b):
    assert len(a) == len(b), (len(a), len(b))
    return sum(1 for i in range(0, len(a), 4) if a[i:i + 3] != b[i:i + 3])


def layer_rows(page):
    return js(page, "() => [...document.querySelectorAll('#layers .layer-row')].map(r => r.dataset.name)")


def native_summary(name, in_shape=(1, 28, 28), num_classes=10):
    import engine as eg
    from engine import models as zoo
    eg.set_device("cpu")
    return eg.summary(zoo.build(name, in_shape=in_shape, num_classes=num_classes), in_shape)


# ---- the tests -----------------------------------------------------------------------------

def test_boots_into_the_mlp_on_webgpu(page):
    s = wait_for(page, lambda s: s["state"] == "ready", 60, "ready")
    assert "WebGPU" in s["device"], s["device"]
    assert s["numpyImported"] is False, "numpy was imported inside Pyodide"
    assert s["model"] == "mlp" and s["dataset"] == "mnist"
    assert js(page, "window.webgrad.editor") == "codemirror"
    assert "def build(" in editor_text(page)
    # the MLP preset is the zoo's own file, and trains with its recipe, as the CLI does
    with open(os.path.join(ROOT, "engine", "models", "mlp.py")) as f:
        assert f.read().splitlines()[0] in editor_text(page)
    from engine import models as zoo
    recipe = zoo.recipe("mlp")
    assert s["settings"]["lr"] == recipe["lr"] and s["settings"]["batch_size"] == recipe["batch_size"]
    assert s["settings"]["optimizer"] == "nesterov" and s["settings"]["schedule"] == "onecycle"
    shot(page, "boot")


def test_layer_view_has_one_row_per_layer_of_every_zoo_model(page):
    for name in ZOO[1:] + ZOO[:1]:
        s = use(page, name)
        expected = native_summary(name)
        assert layer_rows(page) == [r.name for r in expected.rows], name
        summary = js(page, "window.webgrad.summary")
        assert summary["total_params"] == expected.total_params, name
        assert summary["flops"] == expected.flops, name
        assert [l["name"] for l in js(page, "window.webgrad.layers")] == [r.name for r in expected.rows]
        text = page.inner_text("#summary")
        assert f"Total params: {expected.total_params:,}" in text, text
        if name == "convnetjs":
            shot(page, "layers-convnetjs", ".layers-panel")
        assert s["model"] == name


def test_weights_change_while_training_and_activations_follow_the_example(page):
    use(page, "mlp")
    first_weights = "#layers .layer-row[data-name='1'] figure.tiles:nth-of-type(2) canvas"
    page.click("#start")
    s1 = wait_for(page, lambda s: s["state"] == "running" and s["examplesSeen"] > 0
                  and s["snapshots"] > 0, 120, "training to start")
    snaps = s1["snapshots"]
    before = wait_for(page, lambda s: s["snapshots"] > snaps, 60, "a layer-view refresh")
    pixels_a = canvas_pixels(page, first_weights)
    after = wait_for(page, lambda s: s["snapshots"] > before["snapshots"] + 1
                     and s["examplesSeen"] > before["examplesSeen"], 60, "two more refreshes")
    pixels_b = canvas_pixels(page, first_weights)
    changed = differing_pixels(pixels_a, pixels_b)
    assert changed > 100, f"only {changed} pixels of the first layer's weights changed while training"
    layers = js(page, "window.webgrad.layers")
    assert layers[1]["type"] == "Linear" and layers[1]["output_shape"] == [256]
    assert layers[1]["parameters"] == 200_960
    for key in ("mean", "std", "min", "max"):
        assert isinstance(layers[1]["activation"][key], (int, float)), layers[1]
    assert layers[1]["examples_seen"] >= before["examplesSeen"]
    assert 0 <= layers[2]["stats"]["dead"] <= 1 and layers[1]["stats"]["grad_norm"] > 0
    shot(page, "training")

    # a person clicks another test image: the activation tiles follow it
    pause(page)
    activations = "#layers .layer-row[data-name='1'] figure.tiles:nth-of-type(1) canvas"
    snaps = page_state(page)["snapshots"]
    page.locator("#predictions .prediction").nth(0).click()
    wait_for(page, lambda s: s["snapshots"] > snaps and s["example"]["index"] == 0, 60, "image 0")
    on_first = canvas_pixels(page, activations)
    snaps = page_state(page)["snapshots"]
    page.locator("#predictions .prediction").nth(1).click()
    wait_for(page, lambda s: s["snapshots"] > snaps and s["example"]["index"] == 1, 60, "image 1")
    on_second = canvas_pixels(page, activations)
    assert differing_pixels(on_first, on_second) > 20
    assert "test image 1" in page.inner_text("#example-info")

    # the weight gradients, on a switch, drawn the same way as the weights
    gradients = "#layers .layer-row[data-name='1'] figure.tiles:nth-of-type(3)"
    assert page.is_hidden(gradients)
    snaps = page_state(page)["snapshots"]
    page.check("#show-grads")
    wait_for(page, lambda s: s["snapshots"] > snaps, 60, "a refresh with gradients")
    assert page.is_visible(gradients) and "weight gradients" in page.inner_text(gradients)
    assert canvas_pixels(page, gradients + " canvas") != canvas_pixels(page, first_weights)
    shot(page, "gradients", ".layers-panel")
    page.uncheck("#show-grads")


def test_editor_adds_a_layer(page):
    use(page, "mlp")
    source = editor_text(page)
    assert "hidden=(256, 256)" in source
    set_code(page, source.replace("hidden=(256, 256)", "hidden=(256, 128, 64)"))
    s = page_state(page)
    page.click("#run")
    s = wait_for(page, lambda t: t["builds"] > s["builds"] and t["model"] == "custom"
                 and t["state"] == "running" and t["examplesSeen"] > 0, BUILD_TIMEOUT,
                 "the edited model to build and train")
    rows = layer_rows(page)
    assert rows == [str(i) for i in range(8)], rows      # two more: a Linear and its ReLU
    summary = js(page, "window.webgrad.summary")
    assert [l["output_shape"] for l in summary["layers"]][3:6] == [[128], [128], [64]]
    total = (784 * 256 + 256) + (256 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10)
    assert summary["total_params"] == total
    assert f"Total params: {total:,}" in page.inner_text("#summary")
    shot(page, "editor")


def test_editor_errors_name_their_line_and_the_model_trains_on(page):
    s = wait_for(page, lambda s: s["model"] == "custom", 10, "the edited model from the last test")
    if s["state"] != "running":
        page.click("#start")
    good = editor_text(page)
    layers_before = layer_rows(page)
    cases = [
        ("syntax", "from engine import nn\n\ndef build(in_shape, num_classes):\n"
                   "    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10)\n\nx = (\n", None),
        ("runtime", "from engine import nn\n\n\ndef build(in_shape, num_classes):\n"
                    "    return nn.Sequential(\n        nn.Flatten(),\n        nn.Linear(784, 100),\n"
                    "        nn.ReLU(),\n        nn.Linear(90, 10),\n    )\n", 9),
        ("output", "from engine import nn\nmodel = nn.Sequential(nn.Flatten(),\n"
                   "    nn.Linear(784, 5))\n", 3),
        ("runtime", "from engine import nn\nmodel = nn.Sequential(nn.Flatten(), Linear(784, 10))\n", 2),
        ("empty", "", None),
    ]
    for kind, source, line in cases:
        s = wait_for(page, lambda s: s["state"] == "running", 60, "training to run")
        set_code(page, source)
        page.click("#run")
        s2 = wait_for(page, lambda t: t["errors"] > s["errors"], BUILD_TIMEOUT, f"the {kind} error")
        error = s2["error"]
        assert error["kind"] == kind, error
        if kind == "syntax":
            assert error["line"] in (4, 6) and "SyntaxError" in error["message"], error
        elif line is not None:
            assert error["line"] == line, error
        shown = page.inner_text("#editor-error")
        assert error["message"].splitlines()[0][:40] in shown
        if error["line"]:
            assert f"line {error['line']}" in shown
            assert page.locator("#editor .cm-lintRange-error, #editor .cm-lint-marker-error").count() >= 1
        if kind == "runtime" and line == 9:
            assert "90" in error["message"]
            shot(page, "editor-error")
        if kind == "empty":
            assert "empty" in shown
        # the previous model goes on training, unchanged
        t = wait_for(page, lambda t: t["examplesSeen"] > s2["examplesSeen"], 60, "training to go on")
        assert t["model"] == "custom" and t["state"] == "running"
        assert layer_rows(page) == layers_before
    # ... and after Pause, Start resumes it where it was
    paused = pause(page)
    page.click("#start")
    resumed = wait_for(page, lambda t: t["examplesSeen"] > paused["examplesSeen"], 60, "resuming")
    assert resumed["model"] == "custom" and layer_rows(page) == layers_before
    set_code(page, good)
    pause(page)


def test_draw_a_vertical_stroke(page):
    use(page, "mlp")
    page.locator("#draw").scroll_into_view_if_needed()
    box = page.locator("#draw").bounding_box()
    x = box["x"] + box["width"] * 0.5
    page.mouse.move(x, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(x + k * 0.2, box["y"] + box["height"] * (0.15 + 0.035 * k))
    page.mouse.up()
    s = wait_for(page, lambda s: s["example"] and s["example"]["kind"] == "drawing", 60,
                 "the drawing's prediction")
    drawing = js(page, "window.webgrad.drawing")
    assert len(drawing) == 784
    rows = [r for r in range(28) if any(drawing[r * 28:(r + 1) * 28])]
    cols = [c for c in range(28) if any(drawing[c::28])]
    assert rows[-1] - rows[0] + 1 == 20, rows                # the longer side scaled to 20
    assert cols[-1] - cols[0] + 1 <= 8, cols                 # a thin stroke stays thin
    mass = sum(drawing)
    cy = sum((i // 28 + 0.5) * v for i, v in enumerate(drawing)) / mass
    cx = sum((i % 28 + 0.5) * v for i, v in enumerate(drawing)) / mass
    assert abs(cx - 14) <= 1 and abs(cy - 14) <= 1, (cx, cy)  # centred by its centre of mass
    prediction = js(page, "window.webgrad.prediction")
    assert prediction["example"] == "drawing" and abs(sum(prediction["probabilities"]) - 1) < 1e-3
    assert page.locator("#draw-probs .bar").count() == 10
    assert "reads a" in page.inner_text("#draw-message")
    assert "your drawing" in page.inner_text("#example-info")
    shot(page, "draw", ".draw-panel")
    shot(page, "draw-layers", ".layers-panel")

    # a blank drawing gets a message and changes nothing
    snaps = page_state(page)["snapshots"]
    page.click("#clear-drawing")
    page.click("#show-drawing")
    time.sleep(1)
    assert "blank" in page.inner_text("#draw-message")
    after = page_state(page)
    assert after["snapshots"] == snaps and after["example"]["kind"] == "drawing"
    assert after["state"] == "ready" and not after["fatal"]


def test_confusion_matrix_counts_every_test_image(page):
    s = page_state(page)
    page.click("#confusion-button")
    wait_for(page, lambda s: js(page, "window.webgrad.confusion !== null"), 300, "the confusion matrix")
    confusion = js(page, "window.webgrad.confusion")
    assert confusion["count"] == 10_000
    assert sum(map(sum, confusion["matrix"])) == confusion["count"]
    assert len(confusion["matrix"]) == 10 and all(len(r) == 10 for r in confusion["matrix"])
    assert page.locator("#confusion table tbody tr").count() == 10
    assert "10,000 test images" in page.inner_text("#confusion-info")
    shot(page, "confusion", ".predictions-panel")


def test_choosing_a_model_and_pressing_start_at_once_trains_that_model(page):
    use(page, "mlp")
    page.select_option("#model", "lenet5")
    page.click("#start")                          # straight away: no waiting for the build
    s = wait_for(page, lambda s: s["model"] == "lenet5" and s["examplesSeen"] >= 200, 180,
                 "LeNet-5 to train")
    assert s["state"] == "running"
    time.sleep(5)
    later = page_state(page)
    assert later["state"] == "running" and later["model"] == "lenet5"
    assert later["examplesSeen"] > s["examplesSeen"]
    assert layer_rows(page) == [r.name for r in native_summary("lenet5").rows]
    pause(page)


def test_settings_change_while_training_keeps_the_model(page):
    use(page, "mlp")
    page.click("#start")
    s = wait_for(page, lambda s: s["state"] == "running" and s["examplesSeen"] >= 320, 120, "training")
    page.select_option("#optimizer", "adam")
    page.fill("#lr", "0.001")
    page.press("#lr", "Enter")
    page.locator("#lr").blur()
    page.select_option("#batch", "64")
    t = wait_for(page, lambda t: t["settings"]["optimizer"] == "adam" and t["settings"]["lr"] == 0.001
                 and t["settings"]["batch_size"] == 64, 60, "the new settings")
    u = wait_for(page, lambda u: u["examplesSeen"] > t["examplesSeen"] + 640, 120, "training to go on")
    assert u["model"] == "mlp" and u["examplesSeen"] > s["examplesSeen"]   # not reset
    assert js(page, "window.webgrad.batchSize") == 64
    # a setting that cannot work gets a message; nothing else changes
    errors = u["errors"]
    page.fill("#lr", "-1")
    page.locator("#lr").blur()
    v = wait_for(page, lambda v: v["errors"] > errors, 60, "the settings error")
    assert "learning rate" in v["error"]["message"] and v["settings"]["lr"] == 0.001
    assert not page.is_hidden("#settings-error")
    assert page.input_value("#lr") == "0.001"            # the input shows the rate in force again
    w = wait_for(page, lambda w: w["examplesSeen"] > v["examplesSeen"], 60, "training to go on")
    assert w["state"] == "running"
    shot(page, "settings", ".controls")
    pause(page)
    page.fill("#lr", "0.001")
    page.locator("#lr").blur()


def test_the_augment_switch_shows_augmented_samples_and_trains_on_them(page):
    use(page, "mlp")
    assert page.is_hidden("#augment-strip") and not page.is_checked("#augment")
    strips = js(page, "window.webgrad.augmentStrips || 0")
    page.check("#augment")
    wait_for(page, lambda s: s["settings"]["augment"] is True, 60, "augmentation to be on")
    wait_for(page, lambda s: js(page, "window.webgrad.augmentStrips || 0") > strips, 60, "the strip")
    assert page.is_visible("#augment-strip")
    width, height = js(page, "() => { const c = document.querySelector('#augment-strip');"
                             " return [c.width, c.height]; }")
    assert (width, height) == (8 * 30 - 2, 2 * 28 + 2)
    rgba = canvas_pixels(page, "#augment-strip")
    rows = [rgba[4 * width * r:4 * width * (r + 28)] for r in (0, 30)]   # originals, augmented
    assert differing_pixels(*rows) > 100      # the bottom row is not a copy of the top one
    assert min(rows[0][0::4]) < 60            # dark strokes on white: digits are drawn
    shot(page, "augment-strip", "#augment-strip")
    shot(page, "augment", ".controls")
    page.click("#start")
    s = wait_for(page, lambda s: s["state"] == "running" and s["examplesSeen"] >= 640, 120,
                 "training on augmented batches")
    assert s["lossHistory"] and all(v == v for v in s["lossHistory"])   # no NaN
    pause(page)
    page.uncheck("#augment")
    wait_for(page, lambda s: s["settings"]["augment"] is False, 60, "augmentation to be off")
    assert page.is_hidden("#augment-strip")


def test_layout_fits_a_phone_and_a_laptop_and_works_by_keyboard(page):
    use(page, "mlp")
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        time.sleep(0.5)
        overflow = js(page, "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scrolling at {width}x{height}"
        if width == 390:
            shot(page, "phone")
    # every control is reachable with Tab
    controls = ["start", "reset", "dataset", "model", "optimizer", "lr", "momentum",
                "weight-decay", "batch", "schedule", "epochs", "run", "live-view", "show-grads",
                "draw", "clear-drawing", "show-drawing", "confusion-button"]
    page.click("header h1")
    reached = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        focused = js(page, """() => { const e = document.activeElement;
            return e.id || (e.classList.contains('prediction') ? 'prediction' : '')
                   || (e.closest('#editor') ? 'editor' : e.tagName); }""")
        reached.add(focused)
    missing = [c for c in controls + ["editor", "prediction"] if c not in reached]
    assert not missing, f"not reachable by Tab: {missing}"
    # and a key press works them: Enter on a test image shows it inside the network
    snaps = page_state(page)["snapshots"]
    page.locator("#predictions .prediction").nth(2).focus()
    page.keyboard.press("Enter")
    wait_for(page, lambda s: s["snapshots"] > snaps and s["example"]["index"] == 2, 60, "image 2")


@pytest.mark.slow
def test_fashion_mnist_mlp_reaches_75_percent_after_6000_examples(page):
    use(page, "mlp", dataset="fashion-mnist")
    assert "Trouser" in page.inner_text("#predictions") or "Sneaker" in page.inner_text("#predictions")
    assert "Ankle boot" in page.inner_text("#layers .layer-row:last-child .prob-bars")
    page.click("#start")
    s = wait_for(page, lambda s: (s["testAtExamples"] or 0) >= 6000 and s["testCount"] >= 1000,
                 600, "an evaluation after 6,000 examples", poll=2)
    pause(page)
    shot(page, "fashion-mnist")
    record("fashion-mnist-mlp", s)
    assert s["testAcc"] >= 0.75, s
    use(page, "mlp", dataset="mnist")


@pytest.mark.slow
def test_convnetjs_net_reaches_95_percent_after_12000_examples(page):
    use(page, "convnetjs")
    assert page_state(page)["settings"]["optimizer"] == "nesterov"   # its own recipe
    page.click("#start")
    t0 = time.monotonic()
    s = wait_for(page, lambda s: (s["testAtExamples"] or 0) >= 12_000, 900,
                 "an evaluation after 12,000 examples", poll=2)
    seconds = time.monotonic() - t0
    pause(page)
    shot(page, "convnetjs")
    shot(page, "convnetjs-layers", ".layers-panel")
    record("convnetjs", s, seconds=round(seconds, 1))
    assert s["testCount"] >= 1000 and s["testAcc"] >= 0.95, s


def record(name, state, **extra):
    """artifacts/page_run-NAME.json: what a training test reached, for BENCHMARKS.md."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    summary = {k: v for k, v in state.items() if k not in ("lossHistory", "settings", "example")}
    summary.update(extra, settings=state["settings"])
    with open(os.path.join(ARTIFACTS, f"page_run-{name}.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary, indent=2))
