"""The model zoo: each model is a short function in its own file returning an nn.Module.
`python -m engine.train --model NAME` and the playground page pick them by name."""
from .mlp import mlp

MODELS = {"mlp": mlp}


def build(name, **kwargs):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)
