"""The Python side of the playground page: plain webgrad code, run by the page's Web Worker.

The worker (web/static/worker.js) unpacks this package beside engine/ in
Pyodide's file system and calls the functions below, one at a time; each
returns a dict of plain values (and bytes) that the worker posts to the page.
The page never sees the engine. The same functions run natively in the tests
(tests/test_playground.py), on the numpy backend.

    boot(device)                        choose the GPU; the presets (the zoo's own files)
    open_dataset(name, root)            read a dataset's four IDX files
    build(source, settings, preset)     the editor's code -> a model that trains next
    configure(changes)                  optimizer, learning rate, ... while it trains
    train_steps(n, snapshot, grads)     n steps; one read-back (and the layer view's data)
    show_example(kind, value)           the layer view's example: a test image or the drawing
    evaluate(n_test), confusion()       test accuracy and predictions, the confusion matrix
    new_run()                           after a finished run: its schedule again
    read_archive(path, name)            your own zip (own_data.py): its layout, images to decode
    add_archive_images(pixels)          ... decoded by the browser: the dataset "own"
    linear_regression(...)              the y = wx + b panel (linreg.py)

An error in the editor's code comes back as {"ok": False, "error": {...}} and
leaves the model that was training as it was.
"""
import array
import inspect
import math
import sys
import time

import engine as eg
import engine.nn.functional as F
from engine import models as zoo
from engine.data import MNIST, DataLoader, FashionMNIST, Subset

from . import linreg, own_data
from .layer_view import LayerView, pack
from .model_code import ModelCodeError, build_model
from .race import Race, RaceError
from .weights import load_safetensors, to_safetensors
from .trainer import OPTIMIZERS, SCHEDULES, SettingsError, Trainer, augment_strip, \
    check_settings, settings_from_recipe

SHOWN = list(range(24))        # the test images the page shows with their top-3 predictions
EVAL_BATCH = 500
DATASETS = {"mnist": ("MNIST", MNIST), "fashion-mnist": ("Fashion-MNIST", FashionMNIST)}


class Playground:
    """Everything the page's tab holds: device, datasets, the model and its trainer."""

    def __init__(self, device):
        eg.set_device(device)
        eg.manual_seed(0)
        self.device = eg.get_device()
        self.datasets = {}          # name -> {"train", "test", "title"}
        self.dataset = None
        self.built = self.trainer = self.view = None
        self.preset = None          # the zoo name the code came from, or None
        self.example = ("test", 0)  # what the layer view shows
        self._example_cache = None  # ((dataset, example), its input tensor)
        self.settings = check_settings(settings_from_recipe(zoo.recipe("mlp")))
        self.strips = 0             # augmentation strips drawn: each one's seed
        self.race = None            # the optimizer race, while one runs (race.py)

    # -- data ---------------------------------------------------------------------
    def open_dataset(self, name, root):
        if name not in self.datasets:
            title, cls = DATASETS.get(name, (name, MNIST))
            self.datasets[name] = {"title": title, "train": cls(root, train=True),
                                   "test": cls(root, train=False)}
        self.dataset = name
        self.example = ("test", 0)
        data = self.datasets[name]
        return {"name": name, "title": data["title"], "classes": list(data["train"].classes),
                "train_size": len(data["train"]), "test_size": len(data["test"]),
                "image_shape": list(data["train"].image_shape)}

    @property
    def train_set(self):
        return self.datasets[self.dataset]["train"]

    @property
    def test_set(self):
        return self.datasets[self.dataset]["test"]

    # -- the model ------------------------------------------------------------------
    def build(self, source, settings=None, preset=None, keep_settings=False):
        """Build the editor's code for the current dataset; on success it replaces the
        model (and its trainer) and returns its summary and layers. The code's RECIPE
        sets the training settings when a preset is chosen or the RECIPE changed, unless
        keep_settings (Reset, a new dataset: new weights, the same settings)."""
        try:
            current = check_settings({**self.settings, **(settings or {})})
        except SettingsError as err:
            return _failure(str(err), kind="settings")
        eg.manual_seed(0)   # the same code builds the same initial weights
        try:
            built = build_model(source, self.train_set.image_shape, len(self.train_set.classes))
        except ModelCodeError as err:
            return {"ok": False, "error": err.as_dict()}
        recipe_applied = False
        if built.recipe is not None and not keep_settings and (
                preset is not None or self.built is None or built.recipe != self.built.recipe):
            try:
                recipe = settings_from_recipe(built.recipe)
            except SettingsError as err:
                return _failure(f"RECIPE: {err}", kind="settings")
            current = {**recipe, "epochs": current["epochs"]}
            recipe_applied = True
        self.built, self.preset, self.settings = built, preset, current
        self.trainer = Trainer(built.model, self.train_set, current)
        self.view = LayerView(built)
        return {"ok": True, "model": preset or "custom", "summary": built.summary.as_dict(),
                "settings": current, "recipe_applied": recipe_applied,
                "dataset": self.dataset}

    def configure(self, changes):
        try:
            if self.trainer is None:
                self.settings = check_settings({**self.settings, **changes})
            else:
                self.settings = self.trainer.configure(changes)
        except (SettingsError, ValueError) as err:
            return _failure(str(err), kind="settings")
        strip = None
        if self.settings["augment"] and "augment" in changes:   # new samples at each switch-on
            self.strips += 1
            strip = augment_strip(self.train_set, seed=self.strips)
        return {"ok": True, "settings": self.settings, "augment_strip": strip}

    # -- training -------------------------------------------------------------------
    def train_steps(self, n, snapshot=False, gradients=False):
        trainer = self.trainer
        t0 = time.perf_counter()
        # the layer view watches the last step, whose statistics a snapshot shows
        loss, hits, count, _ = trainer.train_steps(n, self.view.watching if snapshot else None)
        scalars = [("loss", loss), ("hits", hits)]
        pieces = []
        if snapshot:
            scalars += self.view.batch_statistics()
            pieces = self._example_pieces(gradients)
        t1 = time.perf_counter()     # the steps are encoded and submitted ...
        values, layout, raw = pack(scalars, pieces)   # ... and this waits for the GPU
        t2 = time.perf_counter()
        stats = {
            "loss": values["loss"],
            "train_acc": trainer.record(int(values["hits"]), count),
            "examples_seen": trainer.examples_seen,
            "steps": trainer.steps,
            "batch_size": count,
            "lr": trainer.current_lr(),
            "run_examples": trainer.run_examples,
            "run_length": trainer.run_length(),
            "run_finished": trainer.run_finished(),
            "examples_per_s": n * count / (t2 - t0),
            "python_ms_per_step": 1000 * (t1 - t0) / n,   # encoding: Python + FFI
            "gpu_wait_ms_per_step": 1000 * (t2 - t1) / n,  # waiting for the GPU at the read-back
            "numpy_imported": "numpy" in sys.modules,
        }
        if snapshot:
            stats["snapshot"] = self._snapshot(self.view.finish_statistics(values), layout, raw)
        return stats

    def new_run(self):
        self.trainer.new_run()
        return {"ok": True}

    # -- the layer view -------------------------------------------------------------
    def _example_input(self):
        """The example as a (1, C, H, W) tensor, made once per example: a refresh then
        uploads nothing (an upload would make the GPU backend submit its queued work)."""
        if self._example_cache is not None and self._example_cache[0] == (self.dataset, self.example):
            return self._example_cache[1]
        kind, value = self.example
        if kind == "test":
            x, _ = next(iter(DataLoader(Subset(self.test_set, [value]), batch_size=1)))
        else:
            test = self.test_set  # normalised as the DataLoader normalises the dataset's images
            mean, std = getattr(test, "mean", 0.0), getattr(test, "std", 1.0)
            floats = [(p / 255.0 - mean) / std for p in value]
            x = eg.tensor(floats).reshape((1,) + tuple(test.image_shape))
        self._example_cache = ((self.dataset, self.example), x)
        return x

    def _example_pieces(self, gradients):
        outputs, logits = self.view.example_outputs(self._example_input())
        pieces = [("activation", i, out) for i, out in sorted(outputs.items())]
        with eg.no_grad():
            pieces.append(("probabilities", len(self.view.rows) - 1, F.softmax(logits, dim=1)))
        return pieces + self.view.weight_pieces(gradients)

    def _snapshot(self, stats, layout, raw):
        kind, value = self.example
        example = {"kind": kind}
        if kind == "test":
            image, label = self.test_set[value]
            example.update(index=value, label=label, pixels=bytes(image))
        else:
            example.update(pixels=bytes(value))
        return {"layout": layout, "buffer": raw, "stats": stats, "example": example,
                "examples_seen": self.trainer.examples_seen}

    def show_example(self, kind, value=None, gradients=False):
        """Make a test image (kind "test", value its index) or a drawing (kind "drawing",
        value its H*W uint8 pixels) the layer view's example; returns a snapshot and the
        class probabilities. Kind "current" keeps the example and refreshes the view."""
        if kind == "current":
            pass
        elif kind == "test":
            index = int(value)
            if not 0 <= index < len(self.test_set):
                return _failure(f"test image {index} does not exist: the test set has "
                                f"{len(self.test_set)} images", kind="example")
            self.example = ("test", index)
        elif kind == "drawing":
            pixels = bytes(value.to_bytes() if hasattr(value, "to_bytes") else value)
            shape = self.test_set.image_shape
            if len(pixels) != math.prod(shape):
                return _failure(f"the drawing has {len(pixels)} pixels; the model reads "
                                f"{shape[1]}x{shape[2]} = {math.prod(shape)}", kind="example")
            if not any(pixels):
                return _failure("The drawing is blank: draw a digit in the box first.",
                                kind="blank")
            self.example = ("drawing", pixels)
        else:
            return _failure(f"unknown example kind {kind!r}: 'test' or 'drawing'", kind="example")
        _, layout, raw = pack([], self._example_pieces(gradients))
        snapshot = self._snapshot([], layout, raw)
        probs = next(e for e in layout if e["kind"] == "probabilities")
        chances = array.array("f", raw[4 * probs["offset"]:4 * (probs["offset"] + probs["count"])])
        return {"ok": True, "snapshot": snapshot, "probabilities": list(chances)}

    # -- evaluation -------------------------------------------------------------------
    def _predictions(self, indices):
        """Arg-max predictions (a device int32 tensor) for test images at `indices`."""
        parts = []
        for x, _ in DataLoader(Subset(self.test_set, indices), batch_size=EVAL_BATCH):
            parts.append(self.built.model(x).argmax(1))
        return eg.cat(parts) if len(parts) > 1 else parts[0]

    def evaluate(self, n_test):
        """Accuracy on the first n_test test images, and the shown images' top-3 classes."""
        test, model = self.test_set, self.built.model
        n_test = max(1, min(int(n_test), len(test)))
        t0 = time.perf_counter()
        model.eval()
        try:
            with eg.no_grad():
                hits = None
                for x, y in DataLoader(Subset(test, range(n_test)), batch_size=EVAL_BATCH):
                    h = (model(x).argmax(1) == y).sum()
                    hits = h if hits is None else hits + h
                correct = int(hits.item())
                shown = SHOWN[:len(test)]          # your own data may have fewer test images
                x, _ = next(iter(DataLoader(Subset(test, shown), batch_size=len(shown))))
                probs = F.softmax(model(x), dim=1).tolist()
        finally:
            model.train()
        top3 = [sorted(range(len(p)), key=p.__getitem__, reverse=True)[:3] for p in probs]
        return {
            "test_acc": correct / n_test,
            "test_count": n_test,
            "indices": shown,
            "top3": top3,
            "top3_probs": [[p[k] for k in t] for p, t in zip(probs, top3)],
            "labels": [test.labels[i] for i in shown],
            "pixels": b"".join(test[i][0] for i in shown),
            "eval_ms": 1000 * (time.perf_counter() - t0),
            "examples_seen": self.trainer.examples_seen,
        }

    def confusion(self):
        """matrix[true][predicted] over the whole test set."""
        test, model = self.test_set, self.built.model
        classes = len(test.classes)
        model.eval()
        try:
            with eg.no_grad():
                predicted = self._predictions(range(len(test))).tolist()
        finally:
            model.train()
        matrix = [[0] * classes for _ in range(classes)]
        for truth, guess in zip(test.labels, predicted):
            matrix[truth][guess] += 1
        correct = sum(matrix[k][k] for k in range(classes))
        return {"matrix": matrix, "count": len(test), "accuracy": correct / len(test),
                "classes": list(test.classes), "examples_seen": self.trainer.examples_seen}

    # -- the optimizer race (race.py) and the weights as a file (weights.py) -----------
    def race_start(self, steps):
        """Six copies of the current code's network, one per optimizer, from the same
        initial weights; the page's own model and training are left as they are."""
        try:
            self.race = Race(self.built, self.train_set, self.test_set, steps)
        except RaceError as err:
            return _failure(str(err), kind="race")
        return {"ok": True, "optimizers": [r["optimizer"] for r in self._race_rows()],
                "settings": self._race_rows(), "steps": self.race.total}

    def _race_rows(self):
        return [{"optimizer": r.label, "kind": r.kind, **r.options} for r in self.race.racers]

    def race_run(self, n):
        losses = self.race.run(n)
        return {"losses": losses, "steps": self.race.steps, "finished": self.race.finished()}

    def race_results(self):
        results = self.race.results()
        self.race = None              # six models' GPU memory back
        return results

    def weights_file(self):
        name = f"{self.preset or 'custom'}-{self.dataset}-{self.trainer.examples_seen}"
        file_name, data = to_safetensors(self.built.model, name)
        return {"name": file_name, "bytes": data}

    def load_weights(self, data, file_name):
        try:
            load_safetensors(self.built.model, data, file_name)
        except (ValueError, KeyError, TypeError) as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
            return _failure(str(message), kind="weights")
        self.trainer.weights_replaced()
        return {"ok": True, "name": file_name}


def _failure(message, line=None, kind="error"):
    return {"ok": False, "error": {"message": message, "line": line, "kind": kind}}


def presets():
    """The zoo's own files, as the editor's presets: name, label, source."""
    result = []
    for name, module in zoo.MODELS.items():
        label = zoo.describe(name).split(":")[0].split(" (")[0].rstrip(".")
        result.append({"name": name, "label": label, "source": inspect.getsource(module)})
    return result


# -- the functions the worker calls -----------------------------------------------------
_playground = None


def boot(device="gpu"):
    global _playground
    _playground = Playground(device)
    return {"device": _playground.device, "presets": presets(), "optimizers": list(OPTIMIZERS),
            "schedules": list(SCHEDULES), "numpy_imported": "numpy" in sys.modules}


def open_dataset(name, root):
    return _playground.open_dataset(name, root)


def build(source, settings=None, preset=None, keep_settings=False):
    return _playground.build(source, _plain(settings), preset, bool(keep_settings))


def configure(changes):
    return _playground.configure(_plain(changes))


def train_steps(n=10, snapshot=False, gradients=False):
    return _playground.train_steps(int(n), bool(snapshot), bool(gradients))


def show_example(kind, value=None, gradients=False):
    return _playground.show_example(kind, value, bool(gradients))


def evaluate(n_test=2000):
    return _playground.evaluate(n_test)


def confusion():
    return _playground.confusion()


def new_run():
    return _playground.new_run()


def race_start(steps):
    return _playground.race_start(steps)


def race_run(n):
    return _playground.race_run(int(n))


def race_results():
    return _playground.race_results()


def weights_file():
    return _playground.weights_file()


def load_weights(data, file_name="weights.safetensors"):
    """data: the file's bytes (a Uint8Array from the worker, or bytes)."""
    return _playground.load_weights(bytes(data.to_bytes() if hasattr(data, "to_bytes") else data),
                                    file_name)


def read_archive(path, name):
    """Your own data (own_data.py): a zip's layout, and its images' bytes for the browser to decode."""
    return own_data.read_archive(_playground, path, name)


def add_archive_images(pixels):
    """... and the decoded grey pixels (a Uint8Array from the worker): the dataset "own"."""
    return own_data.add_images(_playground, bytes(pixels.to_bytes() if hasattr(pixels, "to_bytes")
                                                  else pixels))


def linear_regression(points=100, noise=0.5, lr=0.1, steps=100, seed=0):
    """The linear-regression panel (linreg.py): y = w*x + b by gradient descent, and the
    closed form beside it. The page's model and its training are not touched."""
    try:
        return {"ok": True, **linreg.fit(points, noise, lr, steps, seed)}
    except linreg.LinRegError as err:
        return _failure(str(err), kind="linreg")


def _plain(value):
    """A JavaScript object from the worker (a JsProxy) as a Python dict; null as None."""
    if value is None or isinstance(value, dict):
        return value
    return value.to_py() if hasattr(value, "to_py") else None   # JavaScript's null has no to_py
