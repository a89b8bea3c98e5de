"""A search space: which values each hyper-parameter may take.

    space = {"lr": LogUniform(1e-4, 1e-1), "batch_size": Choice([32, 64, 128]),
             "optimizer": Choice(["sgd", "adam"]), "width": Choice([64, 128, 256])}

Each kind of range knows how to be sampled at random (random search), laid out as
grid points (grid search), and described to Optuna and to Ray Tune, so that every
strategy searches the same space. `parse_space` reads the same thing from JSON:

    {"lr": {"log": [1e-4, 1e-1]}, "momentum": {"uniform": [0.8, 0.99]}, "width": [64, 128]}
"""
import itertools
import math

from ..train import OPTIMIZERS

# The hyper-parameters a trial understands: the keys of a model's RECIPE, plus the MLP's width.
SEARCHABLE = ("lr", "batch_size", "optimizer", "width", "momentum", "weight_decay",
              "label_smoothing", "schedule")


class Choice:
    """One of a fixed list of values (categorical)."""

    def __init__(self, values):
        self.values = list(values)
        if not self.values:
            raise ValueError("Choice needs at least one value")

    def sample(self, rng):
        return rng.choice(self.values)

    def grid(self, points):
        return list(self.values)  # every value: a list is already a grid

    def suggest(self, trial, name):
        return trial.suggest_categorical(name, self.values)

    def to_ray(self, tune):
        return tune.choice(self.values)

    def __repr__(self):
        return f"Choice({self.values!r})"


class Uniform:
    """A float drawn evenly from [low, high]."""

    def __init__(self, low, high):
        self.low, self.high = _check_bounds(type(self).__name__, low, high)

    def sample(self, rng):
        return rng.uniform(self.low, self.high)

    def grid(self, points):
        if points == 1:
            return [(self.low + self.high) / 2]
        return [self.low + (self.high - self.low) * i / (points - 1) for i in range(points)]

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high)

    def to_ray(self, tune):
        return tune.uniform(self.low, self.high)

    def __repr__(self):
        return f"{type(self).__name__}({self.low:g}, {self.high:g})"


class LogUniform(Uniform):
    """A positive float whose logarithm is uniform: 1e-4..1e-3 is as likely as 1e-2..1e-1,
    the right prior for a learning rate, whose useful values span orders of magnitude."""

    def __init__(self, low, high):
        super().__init__(low, high)
        if self.low <= 0:
            raise ValueError(f"LogUniform needs positive bounds, got low={low}")

    def sample(self, rng):
        return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))

    def grid(self, points):
        if points == 1:
            return [math.sqrt(self.low * self.high)]
        ratio = self.high / self.low
        return [self.low * ratio ** (i / (points - 1)) for i in range(points)]

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, log=True)

    def to_ray(self, tune):
        return tune.loguniform(self.low, self.high)


def _check_bounds(kind, low, high):
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (low, high)):
        raise ValueError(f"{kind} needs two finite numbers, got {low!r} and {high!r}")
    if not low < high:
        raise ValueError(f"{kind} needs low < high, got {low!r} and {high!r}")
    return float(low), float(high)


def check_space(space):
    """Raise ValueError naming the problem when `space` cannot be searched."""
    if not space:
        raise ValueError("the search space is empty: give at least one hyper-parameter, e.g. "
                         '{"lr": {"log": [1e-4, 1e-1]}}')
    for name, values in space.items():
        if name not in SEARCHABLE:
            raise ValueError(f"cannot search {name!r}: the searchable hyper-parameters are "
                             f"{', '.join(SEARCHABLE)}")
        if not isinstance(values, (Choice, Uniform)):
            raise ValueError(f"{name}: expected Choice, Uniform or LogUniform, got {values!r}")
    if "optimizer" in space and isinstance(space["optimizer"], Choice):
        unknown = [v for v in space["optimizer"].values if v not in OPTIMIZERS]
        if unknown:
            raise ValueError(f"optimizer: unknown {', '.join(map(repr, unknown))}; choose from "
                             f"{', '.join(OPTIMIZERS)}")
    for name in ("batch_size", "width"):
        values = space.get(name)
        if values is not None and not (isinstance(values, Choice) and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values.values)):
            raise ValueError(f"{name}: expected a list of whole numbers >= 1, got {values!r}")
    return space


def parse_space(description):
    """A space from plain data (parsed JSON): a list is a Choice, {"log": [low, high]} a
    LogUniform, {"uniform": [low, high]} a Uniform."""
    if not isinstance(description, dict):
        raise ValueError(f"a search space is a JSON object (name -> values), got {description!r}")
    space = {}
    for name, values in description.items():
        if isinstance(values, list):
            space[name] = Choice(values)
        elif isinstance(values, dict) and len(values) == 1 and \
                next(iter(values)) in ("log", "uniform"):
            kind, bounds = next(iter(values.items()))
            if not (isinstance(bounds, list) and len(bounds) == 2):
                raise ValueError(f"{name}: {kind!r} needs [low, high], got {bounds!r}")
            space[name] = (LogUniform if kind == "log" else Uniform)(*bounds)
        else:
            raise ValueError(f'{name}: expected a list of values, {{"log": [low, high]}} or '
                             f'{{"uniform": [low, high]}}, got {values!r}')
    return check_space(space)


def grid_configs(space, points=3):
    """Every combination of the space's values; a continuous range contributes `points`
    evenly spaced values (log-spaced for LogUniform)."""
    check_space(space)
    names = list(space)
    axes = [space[name].grid(points) for name in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*axes)]


def random_configs(space, trials, rng):
    """`trials` configurations, each value drawn independently from `rng` (random.Random)."""
    check_space(space)
    return [{name: values.sample(rng) for name, values in space.items()} for _ in range(trials)]


def default_space(model="mlp"):
    """The space the command searches unless --space says otherwise: the learning rate over
    three orders of magnitude, three batch sizes, SGD (Nesterov) or Adam, and for the MLP
    the width of its two hidden layers."""
    space = {"lr": LogUniform(1e-4, 1e-1), "batch_size": Choice([32, 64, 128]),
             "optimizer": Choice(["sgd", "adam"])}
    if model == "mlp":
        space["width"] = Choice([64, 128, 256])
    return space
