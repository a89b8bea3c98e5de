"""web/playground/, the Python the page runs in Pyodide, run natively here.

The page tests (test_page.py) run it for real on WebGPU in Chromium; these check the
same functions and the dicts the worker relies on in seconds, on the numpy backend
(and the layer view's read-back on lavapipe too).
"""
import array
import math
import os
import re
import sys

import numpy as np
import pytest

import engine as eg
from engine import models as zoo
from engine.data import available_datasets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "web"))

import playground as pg  # noqa: E402
from playground.trainer import SettingsError, Trainer, check_settings, settings_from_recipe  # noqa: E402

SHAPE_ERROR = """from engine import nn


def build(in_shape, num_classes):
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 100),
        nn.ReLU(),
        nn.Linear(90, 10),
    )
"""


def mnist_folder():
    present = available_datasets()
    if "mnist" not in present:
        pytest.fail("MNIST is missing: run `bash scripts/setup.sh` (it fetches MNIST)")
    return present["mnist"]["folder"]


@pytest.fixture
def playground(request):
    device = getattr(request, "param", "cpu")
    info = pg.boot(device)
    pg.open_dataset("mnist", mnist_folder())
    yield info
    eg.set_device("auto", quiet=True)


def preset_source(name):
    with open(os.path.join(ROOT, "engine", "models", f"{name}.py"), encoding="utf-8") as f:
        return f.read()


# ---- building models from the editor's code ------------------------------------------------

def test_presets_are_the_zoo_files_and_build_with_their_recipes(playground):
    assert [p["name"] for p in playground["presets"]] == list(zoo.MODELS)
    assert playground["device"].startswith("cpu")
    for preset in playground["presets"]:
        assert preset["source"] == preset_source(preset["name"])
        result = pg.build(preset["source"], None, preset["name"])
        assert result["ok"], result
        expected = eg.summary(zoo.build(preset["name"]), (1, 28, 28))
        assert [l["name"] for l in result["summary"]["layers"]] == [r.name for r in expected.rows]
        assert result["summary"]["total_params"] == expected.total_params
        assert result["settings"] == {**settings_from_recipe(zoo.recipe(preset["name"])), "epochs": 1}
        assert result["recipe_applied"]


def test_preset_labels_state_no_figure_that_depends_on_the_data(playground):
    """The Model menu stays the same when the dataset changes (your own zip of 3 classes,
    Fashion-MNIST, ...): no label may say 784 inputs or 10 classes."""
    labels = {p["name"]: p["label"] for p in playground["presets"]}
    for label in labels.values():
        assert not set(re.findall(r"\d+", label)) & {"784", "10"}, label
    assert "256" in labels["mlp"]                     # its hidden widths are the model's own


@pytest.mark.parametrize("source,kind,line,words", [
    ("", "empty", None, "empty"),
    ("   \n\n", "empty", None, "empty"),
    ("from engine import nn\ndef build(:\n    pass\n", "syntax", 2, "SyntaxError"),
    (SHAPE_ERROR, "runtime", 9, "90 features"),
    ("from engine import nn\nmodel = nn.Sequential(nn.Flatten(),\n    nn.Linear(784, 5))\n",
     "output", 3, "10 classes"),
    ("from engine import nn\nmodel = nn.Sequential(nn.Flatten(), Linear(784, 10))\n",
     "runtime", 2, "NameError"),
    ("from engine import nn\n\ndef build(in_shape, num_classes):\n    x = 1 / 0\n", "runtime", 4,
     "ZeroDivisionError"),
    ("from engine import nn\n\ndef build(in_shape, num_classes):\n    return 3\n", "error", 3,
     "not an nn.Module"),
    ("x = 1\n", "no-model", None, "No model found"),
    ("from engine import nn\nmodel = nn.Sequential(nn.Flatten(), nn.ReLU())\n", "error", 2,
     "no parameters"),
    ("from engine import nn\nRECIPE = dict(lr=0.1, colour='red')\nmodel = nn.Sequential(nn.Flatten(), "
     "nn.Linear(784, 10))\n", "error", 2, "unknown keys"),
])
def test_bad_code_is_reported_with_its_line_and_loses_nothing(playground, source, kind, line, words):
    first = pg.build(preset_source("mlp"), None, "mlp")
    stats = pg.train_steps(3)
    model = pg._playground.built.model
    weights = model.state_dict()["1.weight"].numpy().copy()

    result = pg.build(source, None, None)
    assert result["ok"] is False
    error = result["error"]
    assert error["kind"] == kind and error["line"] == line, error
    assert words in error["message"], error

    # the model that was training is untouched and trains on from where it was
    assert pg._playground.built.model is model
    assert np.array_equal(model.state_dict()["1.weight"].numpy(), weights)
    assert pg.train_steps(2)["examples_seen"] == stats["examples_seen"] + 2 * 32
    assert first["ok"]


def test_edited_code_keeps_the_settings_unless_its_recipe_changes(playground):
    mlp = preset_source("mlp")
    pg.build(mlp, None, "mlp")
    assert pg.configure({"optimizer": "adam", "lr": 0.002})["ok"]
    edited = mlp.replace("hidden=(256, 256)", "hidden=(128,)")
    result = pg.build(edited, None, None)
    assert result["ok"] and result["model"] == "custom" and not result["recipe_applied"]
    assert result["settings"]["optimizer"] == "adam" and result["settings"]["lr"] == 0.002
    assert [l["output_shape"] for l in result["summary"]["layers"]] == [[784], [128], [128], [10]]
    changed = edited.replace("lr=0.05", "lr=0.02")
    result = pg.build(changed, None, None)
    assert result["recipe_applied"] and result["settings"]["lr"] == 0.02
    assert result["settings"]["optimizer"] == "nesterov"


def test_reset_builds_the_same_first_weights_and_keeps_the_settings(playground):
    mlp = preset_source("mlp")
    pg.build(mlp, None, "mlp")
    first = pg._playground.built.model.state_dict()["1.weight"].numpy().copy()
    assert pg.configure({"lr": 0.01, "optimizer": "adam"})["ok"]
    pg.train_steps(3)
    result = pg.build(mlp, None, "mlp", True)       # what Reset and a new dataset do
    assert result["ok"] and result["model"] == "mlp" and not result["recipe_applied"]
    assert result["settings"]["lr"] == 0.01 and result["settings"]["optimizer"] == "adam"
    again = pg._playground.built.model.state_dict()["1.weight"].numpy()
    assert np.array_equal(first, again)             # seeded: a reset run repeats the first one
    assert pg.train_steps(1)["examples_seen"] == 32


# ---- settings ---------------------------------------------------------------------------------

def test_settings_change_while_training_without_losing_the_model(playground):
    pg.build(preset_source("mlp"), None, "mlp")
    pg.train_steps(5)
    model = pg._playground.built.model
    trainer = pg._playground.trainer
    for changes in ({"optimizer": "adam"}, {"optimizer": "adamw", "weight_decay": 0.01},
                    {"optimizer": "adagrad", "lr": 0.01}, {"optimizer": "rmsprop", "momentum": 0.5},
                    {"optimizer": "sgd"}, {"optimizer": "momentum", "momentum": 0.8},
                    {"optimizer": "nesterov"}, {"batch_size": 64}, {"schedule": "cosine"},
                    {"schedule": "none", "lr": 0.01}, {"epochs": 3}):
        before = model.state_dict()["1.weight"].numpy().copy()
        result = pg.configure(changes)
        assert result["ok"], (changes, result)
        assert np.array_equal(model.state_dict()["1.weight"].numpy(), before), changes
        stats = pg.train_steps(2)
        assert math.isfinite(stats["loss"]), changes
        assert pg._playground.built.model is model and pg._playground.trainer is trainer
    s = pg._playground.settings
    assert stats["batch_size"] == 64 and s["schedule"] == "none" and stats["lr"] == 0.01
    assert type(trainer.optimizer).__name__ == "SGD"
    group = trainer.optimizer.param_groups[0]
    assert group["nesterov"] and group["momentum"] == 0.8


@pytest.mark.parametrize("changes,words", [
    ({"lr": -1}, "learning rate"), ({"lr": float("nan")}, "finite"), ({"lr": "fast"}, "finite"),
    ({"momentum": 1.5}, "momentum"), ({"optimizer": "lbfgs"}, "optimizer"),
    ({"batch_size": 0}, "batch size"), ({"batch_size": 2.5}, "batch size"),
    ({"optimizer": "nesterov", "momentum": 0}, "momentum above 0"),
    ({"schedule": "warp"}, "schedule"), ({"weight_decay": -0.1}, "weight decay"),
])
def test_bad_settings_get_a_message_and_change_nothing(playground, changes, words):
    pg.build(preset_source("mlp"), None, "mlp")
    before = dict(pg._playground.settings)
    result = pg.configure(changes)
    assert result["ok"] is False and words in result["error"]["message"], result
    assert pg._playground.settings == before


def test_a_run_ends_after_its_epochs_and_restarts_its_schedule():
    eg.set_device("cpu")

    class Tiny:                          # 96 images: an epoch is 3 batches of 32
        image_shape, classes = (1, 28, 28), [str(i) for i in range(10)]
        images = bytes(range(256)) * (96 * 784 // 256)
        labels = bytes(i % 10 for i in range(96))

        def __len__(self):
            return 96

    model = zoo.build("mlp")
    trainer = Trainer(model, Tiny(), settings_from_recipe(zoo.recipe("mlp")))
    assert trainer.scheduler is not None and trainer.run_length() == 96
    trainer.train_steps(2)
    assert not trainer.run_finished()
    trainer.train_steps(1)
    assert trainer.run_finished() and trainer.current_lr() < 0.05 / 100   # one-cycle's end
    trainer.new_run()
    assert not trainer.run_finished() and trainer.current_lr() == pytest.approx(0.05 / 25)


def test_check_settings_accepts_whole_floats_from_javascript():
    s = check_settings({**settings_from_recipe(zoo.recipe("mlp")), "batch_size": 64.0, "epochs": 2.0})
    assert s["batch_size"] == 64 and isinstance(s["batch_size"], int) and s["epochs"] == 2
    with pytest.raises(SettingsError):
        check_settings({**s, "epochs": True})


# ---- the layer view ----------------------------------------------------------------------------

@pytest.mark.parametrize("playground", ["cpu", pytest.param("gpu", marks=pytest.mark.gpu)],
                         indirect=True)
def test_a_refresh_is_one_read_back_with_every_piece(playground, monkeypatch):
    pg.build(preset_source("convnetjs"), None, "convnetjs")
    pg.train_steps(2)
    backend = eg.tensor([0.0]).backend
    reads = []
    for name in ("download", "download_many"):
        real = getattr(type(backend), name)
        monkeypatch.setattr(type(backend), name, lambda self, arg, real=real, name=name:
                            reads.append(name) or real(self, arg))
    stats = pg.train_steps(3, True, True)
    assert reads == ["download_many"], f"a refresh must read back from the device once: {reads}"
    snap = stats["snapshot"]
    rows = pg._playground.view.rows
    layout = snap["layout"]
    assert len(snap["buffer"]) == 4 * sum(p["count"] for p in layout)
    assert [p["row"] for p in layout if p["kind"] == "activation"] == list(range(len(rows)))
    weighted = [i for i, r in enumerate(rows) if r.type in ("Conv2d", "Linear")]
    assert [p["row"] for p in layout if p["kind"] == "weight"] == weighted
    assert [p["row"] for p in layout if p["kind"] == "gradient"] == weighted
    names = {(s["row"], s["name"]) for s in snap["stats"]}
    for i, row in enumerate(rows):
        assert (i, "mean") in names and (i, "std") in names
        assert ((i, "dead") in names) == (row.type == "ReLU")
        assert ((i, "grad_norm") in names) == (row.parameters > 0)

    # the pieces are what they claim to be: check them against the model itself
    values = array.array("f", snap["buffer"])
    def piece(kind, row):
        p = next(p for p in layout if p["kind"] == kind and p["row"] == row)
        return np.array(values[p["offset"]:p["offset"] + p["count"]]).reshape(p["shape"])
    model = pg._playground.built.model
    conv = model[0]
    np.testing.assert_allclose(piece("weight", 0), conv.weight.numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(piece("gradient", 0), conv.weight.grad.numpy(), rtol=0, atol=0)
    x, _ = pg._playground._example_input(), None
    model.eval()
    with eg.no_grad():
        expected_conv = conv(x).numpy()
        expected_probs = eg.nn.functional.softmax(model(x), dim=1).numpy()
    model.train()
    np.testing.assert_allclose(piece("activation", 0), expected_conv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(piece("probabilities", len(rows) - 1), expected_probs, rtol=1e-5,
                               atol=1e-6)
    grad_norm = next(s["value"] for s in snap["stats"] if s["row"] == 0 and s["name"] == "grad_norm")
    expected_norm = math.sqrt((conv.weight.grad.numpy().astype(np.float64) ** 2).sum()
                              + (conv.bias.grad.numpy().astype(np.float64) ** 2).sum())
    assert grad_norm == pytest.approx(expected_norm, rel=1e-4)
    dead = [s["value"] for s in snap["stats"] if s["name"] == "dead"]
    assert dead and all(0 <= d <= 1 for d in dead)
    assert snap["example"]["kind"] == "test" and snap["example"]["index"] == 0
    assert len(snap["example"]["pixels"]) == 784


def test_the_example_follows_a_test_image_or_a_drawing(playground):
    pg.build(preset_source("mlp"), None, "mlp")
    first = pg.show_example("test", 0)
    second = pg.show_example("test", 1)
    assert first["ok"] and second["ok"]
    assert second["snapshot"]["example"]["index"] == 1 and second["snapshot"]["example"]["label"] == 2
    assert first["snapshot"]["buffer"] != second["snapshot"]["buffer"]
    assert abs(sum(first["probabilities"]) - 1) < 1e-5

    stroke = bytearray(784)
    for row in range(4, 24):
        stroke[row * 28 + 13] = stroke[row * 28 + 14] = 255
    drawn = pg.show_example("drawing", bytes(stroke))
    assert drawn["ok"] and drawn["snapshot"]["example"]["kind"] == "drawing"
    assert abs(sum(drawn["probabilities"]) - 1) < 1e-5
    kept = pg.show_example("current")
    assert kept["snapshot"]["example"]["kind"] == "drawing"

    for value, kind, words in ((bytes(784), "blank", "blank"), (bytes(100), "example", "784"),
                               (b"\x01" * 785, "example", "785")):
        result = pg.show_example("drawing", value)
        assert result["ok"] is False and result["error"]["kind"] == kind
        assert words in result["error"]["message"]
    assert pg.show_example("test", 10_000)["error"]["kind"] == "example"
    assert pg._playground.example[0] == "drawing"     # a bad request changes nothing


# ---- evaluation -------------------------------------------------------------------------------

def test_evaluate_and_the_confusion_matrix(playground):
    pg.build(preset_source("mlp"), None, "mlp")
    stats = pg.train_steps(20)
    assert stats["steps"] == 20 and stats["examples_seen"] == 640 and math.isfinite(stats["loss"])
    assert 0 <= stats["train_acc"] <= 1 and stats["run_length"] == 60_000
    result = pg.evaluate(1000)
    assert result["test_count"] == 1000 and result["test_acc"] > 0.25   # chance: 0.1
    n = len(pg.SHOWN)
    assert len(result["top3"]) == len(result["labels"]) == n and len(result["pixels"]) == n * 784
    assert result["labels"][:4] == [7, 2, 1, 0]        # the first MNIST test digits
    for top, probs in zip(result["top3"], result["top3_probs"]):
        assert len(set(top)) == 3 and probs == sorted(probs, reverse=True)
    confusion = pg.confusion()
    assert confusion["count"] == 10_000 and sum(map(sum, confusion["matrix"])) == 10_000
    assert [sum(row) for row in confusion["matrix"]] == [
        list(pg._playground.test_set.labels).count(k) for k in range(10)]
    assert confusion["accuracy"] == pytest.approx(
        sum(confusion["matrix"][k][k] for k in range(10)) / 10_000)


def test_fashion_mnist_has_its_class_names(playground):
    present = available_datasets()
    assert "fashion-mnist" in present, "Fashion-MNIST is missing: run `bash scripts/setup.sh`"
    info = pg.open_dataset("fashion-mnist", present["fashion-mnist"]["folder"])
    assert info["classes"][1] == "Trouser" and info["title"] == "Fashion-MNIST"
    result = pg.build(preset_source("mlp"), None, "mlp")
    assert result["ok"] and result["dataset"] == "fashion-mnist"
    assert pg.confusion()["classes"][9] == "Ankle boot"


@pytest.mark.parametrize("playground", [pytest.param("gpu", marks=pytest.mark.gpu)],
                         indirect=True)
def test_training_is_replayed_and_the_layer_view_follows_the_replays(playground):
    pg.build(preset_source("mlp"), None, "mlp")
    trainer, model = pg._playground.trainer, pg._playground.built.model
    # each slice: two steps without hooks, then the one the layer view watches; each kind
    # is run eagerly, then recorded, then replayed
    slices = [pg.train_steps(3, True) for _ in range(3)]
    assert trainer.step.replays == 4 + 1 and trainer.step.reason is None
    fused, watched = sorted(len(r.dispatches) for r in trainer.step.recordings.values())
    assert fused < watched    # unwatched, each Linear and its ReLU ran as one kernel
    assert all(not m._forward_hooks for m in model.modules())   # the hooks left with the step

    def mean(snapshot, row):
        return next(s["value"] for s in snapshot["stats"] if s["row"] == row and s["name"] == "mean")
    # the statistics come from each slice's last step: the last one a replayed one, with a
    # new batch
    assert mean(slices[1]["snapshot"], 1) != mean(slices[2]["snapshot"], 1)
    assert slices[1]["loss"] != slices[2]["loss"]
    assert pg.configure({"optimizer": "adam"})["ok"]   # a new optimizer: record anew
    assert not trainer.step.recordings
    third = pg.train_steps(3)                          # no snapshot: nothing watched
    assert len(trainer.step.recordings) == 1
    assert trainer.step.replays == 5 + 1 and math.isfinite(third["loss"])
