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
import sys
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


def shot(page, name, selector=None, full_page=True):
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"page-{name}.png")
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=full_page)
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
    # at 1280x800 the tall controls column leaves no empty band in the panels beside it
    # (the numbers end below their last tile, the curves' panel below the curves), and the
    # curves are big yet whole on the first screen (and stay that size)
    boxes = """() => Object.fromEntries(['.numbers', '.numbers .stat:last-child .label', '.charts',
        '#loss-chart'].map(q => { const r = document.querySelector(q).getBoundingClientRect();
                                  return [q, [r.top, r.bottom]]; }))"""
    js(page, "() => window.scrollTo(0, 0)")   # the first screen, as a visitor sees it
    first = js(page, boxes)
    time.sleep(1.0)
    again = js(page, boxes)
    assert again == first, f"the panels keep changing size: {first} then {again}"
    numbers_gap = first[".numbers"][1] - first[".numbers .stat:last-child .label"][1]
    charts_gap = first[".charts"][1] - first["#loss-chart"][1]
    assert numbers_gap < 40 and charts_gap < 40, (
        f"empty bands at 1280x800: {numbers_gap:.0f} px below the numbers' last tile, "
        f"{charts_gap:.0f} px below the curves")
    top, bottom = first["#loss-chart"]
    assert bottom <= 800 and bottom - top >= 300, f"the loss curve spans y = {top}..{bottom}"
    shot(page, "laptop", full_page=False)   # what a laptop shows first
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


# ---- your own data: a zip of class folders (owndata.js, playground/own_data.py) ------------

OWN_NAMES = {0: "zero", 1: "one", 7: "seven"}


def choose_zip(page, tmp_path, name, files):
    from png_files import zip_bytes
    path = tmp_path / name
    path.write_bytes(zip_bytes(files))
    page.set_input_files("#owndata-file", str(path))


def test_your_own_zip_of_class_folders_trains_with_its_class_names(page, tmp_path):
    from png_files import digit_folders, mnist_digits
    use(page, "mlp")
    builds = page_state(page)["builds"]
    # 50 MNIST digits per class, drawn dark on white, RGB, 56x56: the page makes them 28x28 grey
    choose_zip(page, tmp_path, "my-digits.zip", digit_folders(mnist_digits(tuple(OWN_NAMES), 50), OWN_NAMES))
    s = wait_for(page, lambda s: s["dataset"] == "own" and s["builds"] > builds and s["state"] == "ready"
                 and s["modelSnapshots"] >= 1, BUILD_TIMEOUT, "the zip to become the dataset")
    own = js(page, "window.webgrad.ownData")
    assert own["classes"] == ["one", "seven", "zero"] and (own["train_size"], own["test_size"]) == (120, 30)
    assert js(page, "window.webgrad.classes") == ["one", "seven", "zero"]
    assert page.locator("#dataset option:checked").inner_text() == "Your data: my-digits.zip"
    assert "3 classes (one, seven, zero)" in page.inner_text("#owndata-message")
    assert js(page, "window.webgrad.summary")["layers"][-1]["output_shape"] == [3]   # 3 outputs, not 10
    page.fill("#epochs", "20")
    page.locator("#epochs").blur()
    wait_for(page, lambda s: s["settings"]["epochs"] == 20, 60, "20 epochs")
    page.click("#start")
    s = wait_for(page, lambda s: s["state"] == "paused" and s["examplesSeen"] >= 20 * 120
                 and s["testAtExamples"] == s["examplesSeen"], 300, "20 epochs of your data", poll=2)
    assert s["testCount"] == 30 and s["testAcc"] >= 0.8, s           # chance is 1/3
    predictions = page.inner_text("#predictions")
    assert "seven" in predictions and "zero" in predictions and "one" in predictions
    assert "seven" in page.inner_text("#layers .layer-row:last-child .prob-bars")
    shot(page, "owndata")
    page.fill("#epochs", "1")
    page.locator("#epochs").blur()


def test_a_bad_zip_gets_a_message_naming_the_problem(page, tmp_path):
    import numpy as np
    from png_files import png_bytes
    dot = png_bytes(np.full((8, 8), 200, np.uint8))
    cases = [
        ("flat.zip", {"a.png": dot, "b.png": dot}, "flat.zip: no class folders: a.png, b.png"),
        ("cats.zip", {"cats/1.png": dot, "cats/2.png": dot}, "cats.zip: one class only (cats)"),
        ("broken.zip", {"a/1.png": dot, "b/1.png": b"\x89PNG but cut short", "b/2.png": dot},
         "broken.zip: cannot read the image b/1.png"),
    ]
    for name, files, expected in cases:
        before = page_state(page)
        errors = js(page, "window.webgrad.ownDataErrors || 0")
        choose_zip(page, tmp_path, name, files)
        wait_for(page, lambda s: js(page, "window.webgrad.ownDataErrors || 0") > errors, 60, f"{name}'s message")
        message = page.inner_text("#owndata-message")
        assert expected in message, message
        after = page_state(page)       # nothing else changed
        assert after["dataset"] == before["dataset"] and after["builds"] == before["builds"]
        assert not after["fatal"] and after["state"] in ("ready", "paused")
    shot(page, "owndata-error", ".controls")
    use(page, "mlp", dataset="mnist")


def test_a_zip_of_idx_files_dropped_on_the_box_becomes_the_dataset(page, tmp_path):
    import numpy as np
    from engine.data import write_idx
    from png_files import zip_bytes
    use(page, "mlp")
    rng, files = np.random.default_rng(0), {}
    for prefix, n in (("train", 60), ("t10k", 12)):
        for kind, array in (("images-idx3", rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)),
                            ("labels-idx1", (np.arange(n) % 4).astype(np.uint8))):
            path = tmp_path / f"{prefix}-{kind}-ubyte.gz"
            write_idx(path, array.shape, array.tobytes())
            files[path.name] = path.read_bytes()
    builds = page_state(page)["builds"]
    dropped = page.evaluate_handle("""(bytes) => { const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "letters-idx.zip")); return data; }""",
                                   list(zip_bytes(files)))
    page.dispatch_event("#owndata", "drop", {"dataTransfer": dropped})
    wait_for(page, lambda s: s["dataset"] == "own" and s["builds"] > builds and s["modelSnapshots"] >= 1,
             BUILD_TIMEOUT, "the dropped zip to become the dataset")
    own = js(page, "window.webgrad.ownData")
    assert own["title"] == "Your data: letters-idx.zip" and own["classes"] == ["0", "1", "2", "3"]
    assert (own["train_size"], own["test_size"]) == (60, 12)
    assert js(page, "window.webgrad.summary")["layers"][-1]["output_shape"] == [4]
    use(page, "mlp", dataset="mnist")


def test_own_images_keep_their_aspect_ratio_in_the_browser_as_natively(page):
    """The browser's decoder (owndata.js) fits a non-square image into 28x28 as png.py
    does natively: the same band, centred, padded with the image's background."""
    import numpy as np
    from engine.data.png import fit_grey
    from png_files import png_bytes, rectangle_on_paper
    wide = rectangle_on_paper(28, 56, 6, 14, 16, 28)
    dark = 255 - rectangle_on_paper(56, 20, 8, 4, 40, 12)       # tall, bright ink on black
    images = {"wide.png": wide, "dark.png": dark}
    decoded = js(page, """async (files) => {
        const own = await import(new URL("static/owndata.js", document.baseURI).href);
        const bytes = files.map(([member, data]) => ({member, bytes: new Uint8Array(data)}));
        return Array.from(await own.decodeGray(bytes, "shapes.zip", 28, 28));
    }""", [[name, list(png_bytes(image))] for name, image in images.items()])
    for k, image in enumerate(images.values()):
        browser = np.array(decoded[k * 784:(k + 1) * 784], np.uint8).reshape(28, 28)
        native = np.frombuffer(fit_grey(image.tobytes(), *image.shape, (28, 28)),
                               np.uint8).reshape(28, 28)
        np.testing.assert_array_equal(browser > 127, native > 127)
        assert np.abs(browser.astype(int) - native).max() <= 64     # smoothing differs a little
    assert (np.array(decoded[:784]).reshape(28, 28)[[*range(7), *range(21, 28)]] == 255).all()


# ---- the linear-regression panel (linreg.js, playground/linreg.py) ---------------------------

def test_linear_regression_panel_reaches_the_closed_form(page):
    import numpy as np
    sys.path.insert(0, os.path.join(ROOT, "web"))
    from playground.linreg import make_data
    pause(page)
    page.locator(".linreg-panel").scroll_into_view_if_needed()
    page.click("#linreg-fit")                               # 100 points, noise 0.5, lr 0.1, 100 steps
    wait_for(page, lambda s: js(page, "window.webgrad.linreg") is not None, 60, "the fit")
    fit = js(page, "window.webgrad.linreg")
    x, y = (np.array(v) for v in make_data(100, 0.5, 0))   # the same points, here
    (w_star, b_star), *_ = np.linalg.lstsq(np.stack([x, np.ones_like(x)], 1), y, rcond=None)
    assert fit["closedForm"]["w"] == pytest.approx(w_star, abs=1e-9)
    assert fit["closedForm"]["b"] == pytest.approx(b_star, abs=1e-9)
    assert abs(fit["w"] - w_star) < 1e-3 and abs(fit["b"] - b_star) < 1e-3, fit
    assert fit["steps"] == 100 and fit["loss"] == pytest.approx(fit["closedForm"]["loss"], rel=1e-3)
    assert "closed form: w* = " in page.inner_text("#linreg-result")
    drawn = js(page, "() => Chart.getChart('linreg-data').data.datasets.map(d => d.data.length)")
    assert drawn == [100, 2, 2]                             # the points, the fit, the closed form
    shot(page, "linreg", ".linreg-panel")
    # a learning rate that cannot work gets a message naming it
    page.fill("#linreg-lr", "-1")
    page.click("#linreg-fit")
    wait_for(page, lambda s: "error" in (js(page, "window.webgrad.linreg") or {}), 60, "the message")
    assert "learning rate" in page.inner_text("#linreg-result")
    page.fill("#linreg-lr", "0.1")


# ---- the optimizer race and the weights as a file (race.js, weights.js) -------------------

RACE_STEPS = 40
RACE_JS = "() => window.webgrad.race"
RACE_CURVES_JS = """() => Chart.getChart(document.getElementById('race-chart')).data.datasets
                     .map(d => ({label: d.label, points: d.data.length}))"""


def race_state(page):
    return js(page, RACE_JS)


def test_optimizer_race_draws_six_curves_and_a_table_and_pauses_training(page):
    use(page, "mlp")
    page.click("#start")
    wait_for(page, lambda s: s["state"] == "running" and s["examplesSeen"] > 0, 120, "training")
    page.fill("#race-steps", str(RACE_STEPS))
    page.click("#race-start")
    s = wait_for(page, lambda s: s["state"] == "racing", 120, "the race to start")
    assert page.is_disabled("#start") and page.is_enabled("#race-stop")
    wait_for(page, lambda s: race_state(page)["state"] == "done", 300, "the race to finish", poll=2)
    after = wait_for(page, lambda s: s["state"] == "paused", 30, "the page's training to stay paused")
    assert after["examplesSeen"] == s["examplesSeen"]       # the page's model did not train meanwhile
    race = race_state(page)
    assert race["steps"] == RACE_STEPS and race["error"] is None
    names = ["SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam"]
    assert race["optimizers"] == names
    curves = js(page, RACE_CURVES_JS)
    assert [c["label"].split(" (")[0] for c in curves] == names, curves
    assert all(c["points"] == RACE_STEPS for c in curves), curves
    # the same initial weights on the same first batch: six equal first losses, then six paths
    first = [losses[0] for losses in race["losses"]]
    assert max(first) - min(first) < 1e-4 and 2.0 < first[0] < 2.7, first   # about ln 10
    assert len({round(losses[-1], 4) for losses in race["losses"]}) == 6
    rows = page.locator("#race-table tbody tr")
    assert rows.count() == 6
    table = [rows.nth(i).inner_text() for i in range(6)]
    results = race["results"]
    assert results["test_count"] == 1000 and len(results["rows"]) == 6
    for name, text, row in zip(names, table, results["rows"]):
        assert text.startswith(name) and f"lr {row['lr']}" in text, text
        assert f"{100 * row['test_acc']:.1f}%" in text, (text, row)
    # 2,560 images in, every optimizer has learnt something (RMSprop once broke on WebGPU
    # alone: two dummy buffers on writable bindings), the best of them a lot
    assert min(row["test_acc"] for row in results["rows"]) > 0.5, results
    assert max(row["test_acc"] for row in results["rows"]) > 0.8, results
    assert "Race over after 40 steps" in page.inner_text("#race-message")
    page.locator(".race-panel").scroll_into_view_if_needed()
    shot(page, "race", ".race-panel")


def test_stopping_a_race_gives_the_table_for_the_steps_run(page):
    page.fill("#race-steps", "0")                          # a length that cannot work: a message
    page.click("#race-start")
    wait_for(page, lambda s: race_state(page)["error"], 60, "the race's refusal")
    assert "steps must be a whole number from 1 to 5000, got 0" in page.inner_text("#race-message")
    assert page.is_enabled("#race-start") and page_state(page)["state"] == "paused"
    page.fill("#race-steps", "5000")
    page.click("#race-start")
    wait_for(page, lambda s: race_state(page)["state"] == "running" and race_state(page)["steps"] >= 3,
             120, "a few race steps")
    page.click("#race-stop")
    wait_for(page, lambda s: race_state(page)["state"] == "done", 120, "the stopped race's table")
    race = race_state(page)
    assert 3 <= race["results"]["steps"] < 5000 and page.locator("#race-table tbody tr").count() == 6
    s = wait_for(page, lambda s: s["state"] == "paused", 30, "the page to be paused")
    page.click("#start")                                   # the page's own training goes on
    wait_for(page, lambda t: t["examplesSeen"] > s["examplesSeen"], 60, "training to resume")
    pause(page)
    page.fill("#race-steps", "200")


def native_test_accuracy(path, preset, count):
    """The accuracy of the zoo model `preset` with the weights in `path`, evaluated natively
    (numpy backend) on the first `count` MNIST test images, as the page evaluates."""
    import engine as eg
    from engine import models as zoo
    from engine import serialize
    from engine.data import MNIST, DataLoader, Subset, available_datasets
    eg.set_device("cpu")
    model = zoo.build(preset)
    model.load_state_dict(serialize.load(path))
    model.eval()
    test = MNIST(available_datasets()["mnist"]["folder"], train=False)
    hits = 0
    with eg.no_grad():
        for x, y in DataLoader(Subset(test, range(count)), batch_size=500):
            hits += int((model(x).argmax(1) == y).sum().item())
    return hits / count


def test_downloaded_weights_have_the_pages_accuracy_natively_and_load_back(page, tmp_path):
    use(page, "mlp")
    page.click("#start")
    wait_for(page, lambda s: s["examplesSeen"] >= 3000, 180, "3,000 training examples")
    page.click("#pause")
    s = wait_for(page, lambda s: s["state"] == "paused" and s["testAtExamples"] == s["examplesSeen"],
                 120, "the evaluation of the paused model")
    with page.expect_download() as download:
        page.click("#download-weights")
    name = download.value.suggested_filename
    assert name == f"mlp-mnist-{s['examplesSeen']}.safetensors", name
    path = tmp_path / name
    download.value.save_as(path)
    assert "Saved " + name in page.inner_text("#weights-message")
    native = native_test_accuracy(path, "mlp", s["testCount"])
    print(f"page {s['testAcc']:.4f} vs native {native:.4f} on {s['testCount']} test images")
    assert s["testCount"] == 2000 and abs(native - s["testAcc"]) <= 0.001, (native, s["testAcc"])
    assert s["testAcc"] > 0.8

    # fresh weights (Reset), then the file: the page's accuracy jumps back to the file's
    builds = s["builds"]
    page.click("#reset")
    fresh = wait_for(page, lambda t: t["builds"] > builds and t["evaluations"] > s["evaluations"]
                     and t["testAtExamples"] == 0, BUILD_TIMEOUT, "fresh weights")
    assert fresh["testAcc"] < 0.5, fresh["testAcc"]
    page.set_input_files("#weights-file", str(path))
    loaded = wait_for(page, lambda t: t["evaluations"] > fresh["evaluations"], 120,
                      "the accuracy of the loaded weights")
    assert abs(loaded["testAcc"] - s["testAcc"]) <= 0.001, (loaded["testAcc"], s["testAcc"])
    assert js(page, "window.webgrad.weights.loaded") == name
    assert f"Loaded {name}" in page.inner_text("#weights-message")
    shot(page, "weights", ".controls")
    page.click("#start")                          # and it trains on from them
    t = wait_for(page, lambda t: t["examplesSeen"] >= 320 and t["lossHistory"], 120, "training on")
    assert t["lossHistory"][0] < 1.6, t["lossHistory"][:3]     # a fresh network starts near 2.3
    pause(page)


def test_weights_that_do_not_fit_the_model_are_refused_with_the_reason(page, tmp_path):
    import engine as eg
    from engine import models as zoo
    from engine import serialize
    eg.set_device("cpu")
    path = tmp_path / "narrow.safetensors"
    serialize.save(zoo.build("mlp", hidden=(128, 256)).state_dict(), path)
    s = wait_for(page, lambda s: s["state"] in ("paused", "ready")
                 and s["testAtExamples"] == s["examplesSeen"], 60, "the paused model's evaluation")
    errors = js(page, "window.webgrad.weights.errors")
    page.set_input_files("#weights-file", str(path))
    wait_for(page, lambda t: js(page, "window.webgrad.weights.errors") > errors, 60, "the refusal")
    message = page.inner_text("#weights-message")
    assert "the model is unchanged" in message
    assert "1.weight has shape (128, 784) in the file but (256, 784) in the model" in message
    assert "narrow.safetensors" in message
    time.sleep(2)                                  # an evaluation, if one came, would show now
    later = page_state(page)
    assert later["evaluations"] == s["evaluations"] and later["testAcc"] == s["testAcc"]
    assert later["state"] == s["state"]
    shot(page, "weights-error", ".controls")


@pytest.mark.slow
def test_fashion_mnist_mlp_reaches_75_percent_after_9000_examples(page):
    # Not after 6,000: the one-cycle schedule's learning rate peaks near 9,000 examples
    # and the test accuracy swings there (74-81% between 6,000 and 8,200 natively, the
    # same run), and the page evaluates by the clock, at whatever count it has reached.
    use(page, "mlp", dataset="fashion-mnist")
    assert "Trouser" in page.inner_text("#predictions") or "Sneaker" in page.inner_text("#predictions")
    assert "Ankle boot" in page.inner_text("#layers .layer-row:last-child .prob-bars")
    page.click("#start")
    s = wait_for(page, lambda s: (s["testAtExamples"] or 0) >= 9000 and s["testCount"] >= 1000,
                 600, "an evaluation after 9,000 examples", poll=2)
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
