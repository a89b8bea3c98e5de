"""One trial of a search: train a model with one configuration and score it on a
validation split, `run_trial(config, budget) -> {"val_accuracy", "val_loss", "seconds", ...}`.

A trial is the training command's run (the model's RECIPE, with the configuration's
values in its place), shortened to `budget`: a subset of the training images, a few
epochs. It is scored on images held out of the *training* set: choosing
hyper-parameters by test accuracy would tune them to the test set, which then no longer
measures how the model does on new data.
"""
import functools
import math
import random
import time
from dataclasses import dataclass

from .. import backend as _backend
from ..creation import manual_seed
from ..nn import functional as F
from ..train import DivergedError, fit, make_optimizer, make_scheduler
from ..validation import validate


@dataclass(frozen=True)
class Budget:
    """What every trial of a search shares: the data, its size, the training length."""
    model: str = "mlp"
    dataset: str = "mnist"
    examples: int = 6000     # training images per trial
    validation: int = 2000   # images held out of the training set to score the trial
    epochs: int = 1
    seed: int = 0            # the split, the weights' initialisation and the batch order
    device: str = "auto"

    def check(self):
        for name in ("examples", "validation", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        from ..models import MODELS
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of "
                             f"{', '.join(sorted(MODELS))}")
        return self


@functools.lru_cache(maxsize=2)
def split_training_set(dataset, examples, validation, seed):
    """(train, validation): disjoint random Subsets of the dataset's training split. Cached,
    so the trials of a search in one process read the files once."""
    from ..data import DATASETS, MNIST, Subset
    full = MNIST(dataset, train=True, download=dataset in DATASETS)
    if examples + validation > len(full):
        raise ValueError(f"{examples:,} training + {validation:,} validation images asked for, "
                         f"but the training set of {dataset!r} holds {len(full):,}")
    order = list(range(len(full)))
    random.Random(seed).shuffle(order)
    return Subset(full, order[validation:validation + examples]), Subset(full, order[:validation])


def build_model(name, in_shape, width=None):
    """The zoo's model; `width` sets the MLP's hidden layers (both of them)."""
    from ..models import build
    if width is None:
        return build(name, in_shape=in_shape)
    if name != "mlp":
        raise ValueError(f"width is the MLP's hidden-layer size; model {name!r} has none")
    return build(name, in_shape=in_shape, hidden=(width, width))


def mean_loss(model, loader):
    """The average cross-entropy over `loader` (no label smoothing: the plain loss)."""
    return validate(model, loader)[0]


def run_trial(config, budget=Budget()):
    """Train with `config` (a dict of hyper-parameters) and score it on the validation split.
    A run whose loss becomes NaN or infinite is reported, not raised: status 'diverged'."""
    from ..data import DataLoader
    from ..models import recipe
    _backend.set_device(budget.device, quiet=True)
    train_set, val_set = split_training_set(budget.dataset, budget.examples, budget.validation,
                                            budget.seed)
    settings = recipe(budget.model)
    settings.update((k, v) for k, v in config.items() if k != "width")
    settings.setdefault("label_smoothing", 0.0)

    start = time.perf_counter()
    manual_seed(budget.seed)  # every trial starts from the same weights' distribution
    model = build_model(budget.model, train_set.dataset.image_shape, config.get("width"))
    train_loader = DataLoader(train_set, settings["batch_size"], shuffle=True, seed=budget.seed)
    val_loader = DataLoader(val_set, 1000)
    optimizer = make_optimizer(model.parameters(), **settings)
    scheduler = make_scheduler(optimizer, settings["schedule"], budget.epochs * len(train_loader))
    loss_fn = functools.partial(F.cross_entropy, label_smoothing=settings["label_smoothing"])
    try:
        fit(model, train_loader, optimizer, budget.epochs, loss_fn=loss_fn, progress=False,
            scheduler=scheduler)
        loss, accuracy = validate(model, val_loader)   # plain cross-entropy, one pass
        status = "ok"
        if not math.isfinite(loss):
            status = "diverged"
    except DivergedError:
        accuracy, loss, status = math.nan, math.nan, "diverged"
    return {"config": dict(config), "val_accuracy": accuracy, "val_loss": loss,
            "seconds": time.perf_counter() - start, "status": status}
