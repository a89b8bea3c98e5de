"""The model zoo: one short file per model, each with a `build()` returning an
nn.Module and a `RECIPE`: the optimizer, learning rate, schedule and batch size
it trains well with. `python -m engine.train --model NAME` and the playground
page pick them by name; command-line flags override the recipe."""
from . import convnetjs, lenet5, mlp, resnet_mini

MODELS = {"mlp": mlp, "lenet5": lenet5, "convnetjs": convnetjs, "resnet_mini": resnet_mini}


def _module(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}")
    return MODELS[name]


def build(name, **kwargs):
    return _module(name).build(**kwargs)


def recipe(name):
    return dict(_module(name).RECIPE)


def describe(name):
    """The model's one-line description (the first line of its docstring)."""
    return (_module(name).__doc__ or name).strip().splitlines()[0]
