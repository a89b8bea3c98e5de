"""The model editor's code, turned into a model, or into an error that names its line.

The editor holds a Python module like the zoo's own files (engine/models/*.py):

    from engine import nn

    RECIPE = dict(optimizer="sgd", lr=0.05, ...)     # optional: how it trains best

    def build(in_shape=(1, 28, 28), num_classes=10):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

(`model = nn.Sequential(...)` at the top level works too.) The code runs as a
file called model.py, so a traceback's lines are the editor's lines. Before a
model replaces the one training, it must survive a dry forward pass: a layer
that does not fit the one before it fails here, not in the middle of training.
"""
import inspect
import math
import traceback

import engine as eg
from engine import nn

FILENAME = "model.py"
RECIPE_KEYS = {"optimizer", "lr", "momentum", "nesterov", "weight_decay", "batch_size",
               "schedule", "label_smoothing"}


class ModelCodeError(Exception):
    """What is wrong with the editor's code, and where (1-based line, or None)."""

    def __init__(self, message, line=None, kind="error"):
        super().__init__(message)
        self.message, self.line, self.kind = message, line, kind

    def as_dict(self):
        return {"message": self.message, "line": self.line, "kind": self.kind}


class BuiltModel:
    """A model that passed the dry run, with its summary and its code's RECIPE (or None)."""

    def __init__(self, model, summary, recipe, source):
        self.model, self.summary, self.recipe, self.source = model, summary, recipe, source


def build_model(source, in_shape, num_classes):
    """Run the editor's code and build its model for inputs of `in_shape` (C, H, W) and
    `num_classes` outputs. Raises ModelCodeError, never anything else."""
    if not source.strip():
        raise ModelCodeError("The editor is empty. Write a function build(in_shape, num_classes) "
                             "that returns an nn.Module, or pick a model from the presets.",
                             kind="empty")
    try:
        code = compile(source, FILENAME, "exec")
    except SyntaxError as err:
        raise ModelCodeError(f"SyntaxError: {err.msg}", err.lineno, "syntax") from None
    namespace = {"__name__": "model", "__file__": FILENAME}
    _run(lambda: exec(code, namespace))
    model = _run(lambda: _make(namespace, in_shape, num_classes))
    recipe = _recipe(namespace, source)
    summary = _run(lambda: eg.summary(model, in_shape), model)
    _check_output(model, summary, num_classes)
    return BuiltModel(model, summary, recipe, source)


def _make(namespace, in_shape, num_classes):
    build = namespace.get("build")
    if callable(build):
        accepted = inspect.signature(build).parameters
        kwargs = {k: v for k, v in (("in_shape", tuple(in_shape)), ("num_classes", num_classes))
                  if k in accepted}
        model = build(**kwargs)
        where = _line_of_definition(build)
        if not isinstance(model, nn.Module):
            raise ModelCodeError(f"build() returned {type(model).__name__}, not an nn.Module: "
                                 f"end it with `return nn.Sequential(...)`", where)
    elif isinstance(namespace.get("model"), nn.Module):
        model = namespace["model"]
        where = _site(model)
    else:
        raise ModelCodeError("No model found: define build(in_shape, num_classes) returning an "
                             "nn.Module, or set model = nn.Sequential(...).", kind="no-model")
    if not model.parameters():
        raise ModelCodeError("The model has no parameters to train: add a layer such as "
                             "nn.Linear or nn.Conv2d.", where)
    return model


def _check_output(model, summary, num_classes):
    out = summary.rows[-1].output_shape if summary.rows else ()
    if out != (num_classes,):
        last = summary.rows[-1].module if summary.rows else model
        raise ModelCodeError(
            f"The model's output has shape {out} per example, but this dataset has "
            f"{num_classes} classes: the last layer must give {num_classes} scores "
            f"(for example nn.Linear(..., {num_classes}), or use num_classes).",
            _site(last) or _site(model), "output")


def _recipe(namespace, source):
    recipe = namespace.get("RECIPE")
    if recipe is None:
        return None
    line = _line_of_name(source, "RECIPE")
    if not isinstance(recipe, dict):
        raise ModelCodeError(f"RECIPE must be a dict, got {type(recipe).__name__}", line)
    unknown = sorted(set(recipe) - RECIPE_KEYS)
    if unknown:
        raise ModelCodeError(f"RECIPE has unknown keys {unknown}; known: "
                             f"{', '.join(sorted(RECIPE_KEYS))}", line)
    return dict(recipe)


def _run(fn, model=None):
    """fn(), with any exception turned into a ModelCodeError that names a line of model.py."""
    try:
        return fn()
    except ModelCodeError:
        raise
    except Exception as err:   # the student's code can raise anything; report it, lose nothing
        raise ModelCodeError(f"{type(err).__name__}: {err}", _error_line(err), "runtime") from None


def _error_line(err):
    """The innermost line of model.py in the traceback; failing that, the line that
    constructed the innermost layer the traceback passes through (a shape error in an
    nn.Sequential happens in engine code, but the layer to fix was made in model.py)."""
    frames = traceback.extract_tb(err.__traceback__)
    lines = [f.lineno for f in frames if f.filename == FILENAME]
    if lines:
        return lines[-1]
    if isinstance(err, SyntaxError) and err.filename == FILENAME:
        return err.lineno
    tb, layer = err.__traceback__, None
    while tb is not None:   # walk inwards; remember the last frame that runs a Module's method
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, nn.Module):
            layer = candidate
        tb = tb.tb_next
    return _site(layer) if layer is not None else None


def _site(module):
    created = getattr(module, "_created_at", None)
    return created[1] if created and created[0] == FILENAME else None


def _line_of_definition(fn):
    code = getattr(fn, "__code__", None)
    return code.co_firstlineno if code is not None and code.co_filename == FILENAME else None


def _line_of_name(source, name):
    for number, text in enumerate(source.splitlines(), 1):
        if text.lstrip().startswith(name):
            return number
    return None


def flops_text(flops):
    """1,600,522 -> '1.6 M'."""
    if flops < 1e3:
        return str(flops)
    exponent = min(int(math.log10(flops)) // 3, 3)
    return f"{flops / 10 ** (3 * exponent):.3g} {' kMG'[exponent]}"
