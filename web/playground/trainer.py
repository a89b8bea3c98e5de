"""Training one model in the page: optimizer, schedule and batches, changeable while it runs.

The page's settings, and the recipe of a zoo model, are a dict:

    optimizer       "sgd" | "momentum" | "nesterov" | "adagrad" | "rmsprop" | "adam" | "adamw"
    lr              the (peak) learning rate
    momentum        SGD's (with "momentum" and "nesterov") and RMSprop's
    weight_decay    L2 penalty (AdamW: decoupled)
    batch_size      examples per step
    schedule        "onecycle" | "cosine" | "none", spread over `epochs`
    epochs          how long one run lasts; then training pauses
    label_smoothing from the recipe: a little uniform target mixed into the one-hot one
    augment         True: each batch is augmented on the device (engine.data.Augment,
                    the "handwriting" policy, "fashion" for Fashion-MNIST) before the step

The page's three kinds of SGD are the course's: plain, with momentum, with
Nesterov momentum; engine.train.make_optimizer builds them all, as for the CLI.
Changing any of them keeps the model's weights; only a new optimizer kind starts
its state (momentum buffers, Adam's moments) afresh.
"""
import math
import time

import engine as eg
import engine.nn.functional as F
from engine.data import Augment, DataLoader, Subset
from engine.data.augment import pixel_range
from engine.train import make_optimizer, make_scheduler

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
SCHEDULES = ("onecycle", "cosine", "none")
DEFAULTS = dict(optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0, batch_size=64,
                schedule="none", epochs=1, label_smoothing=0.0, augment=False)
MAX_BATCH = 1024


class SettingsError(ValueError):
    """A setting the page sent that cannot be used; the message names it."""


def settings_from_recipe(recipe):
    """A zoo RECIPE (engine/models/*.py, optimizer "sgd" + momentum + nesterov flags)
    in the page's terms (one of the three SGD kinds)."""
    settings = dict(DEFAULTS)
    recipe = dict(recipe or {})
    kind = recipe.pop("optimizer", settings["optimizer"])
    nesterov = recipe.pop("nesterov", False)
    settings.update(recipe)
    if kind == "sgd":
        kind = "nesterov" if nesterov else ("momentum" if settings["momentum"] else "sgd")
    settings["optimizer"] = kind
    return check_settings(settings)


def check_settings(settings):
    s = dict(settings)
    if s["optimizer"] not in OPTIMIZERS:
        raise SettingsError(f"optimizer {s['optimizer']!r} is not one of {', '.join(OPTIMIZERS)}")
    if s["schedule"] not in SCHEDULES:
        raise SettingsError(f"schedule {s['schedule']!r} is not one of {', '.join(SCHEDULES)}")
    for key in ("lr", "momentum", "weight_decay", "label_smoothing"):
        value = s[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SettingsError(f"{key} must be a finite number, got {value!r}")
        s[key] = float(value)
    if s["lr"] <= 0:
        raise SettingsError(f"the learning rate must be positive, got {s['lr']:g}")
    if not 0 <= s["momentum"] < 1:
        raise SettingsError(f"momentum must be in [0, 1), got {s['momentum']:g}")
    if s["optimizer"] in ("momentum", "nesterov") and s["momentum"] == 0:
        raise SettingsError(f"{s['optimizer']} needs a momentum above 0 (0.9 is usual); "
                            "plain SGD is the 'sgd' optimizer")
    if s["weight_decay"] < 0:
        raise SettingsError(f"weight decay must be >= 0, got {s['weight_decay']:g}")
    if not isinstance(s["augment"], bool):
        raise SettingsError(f"augment must be true or false, got {s['augment']!r}")
    for key, top in (("batch_size", MAX_BATCH), ("epochs", 1000)):
        value = s[key]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise SettingsError(f"{key.replace('_', ' ')} must be a whole number from 1 to {top}, "
                                f"got {s[key]!r}")
        s[key] = value
    return s


class Trainer:
    """Steps one model through a training set; settings may change between steps."""

    def __init__(self, model, train_set, settings, seed=0):
        self.model, self.train_set, self.seed = model, train_set, seed
        self.settings = check_settings(settings)
        self.steps = 0               # optimizer steps since the model was built
        self.examples_seen = 0
        self.run_examples = 0        # examples in the current run (its schedule's clock)
        self.recent = []             # (hits, count) of the last few read-back batches
        self.optimizer = self.scheduler = None
        # The step is recorded once and replayed (engine.jit): the Python graph runs only
        # on the first two calls of each batch shape, and again after a settings change.
        self.step = eg.jit(self._step, verbose=False)
        self.augment = Augment(augment_policy(train_set), seed=seed)
        self._make_optimizer()
        self._make_loader()

    # -- settings -------------------------------------------------------------------
    def configure(self, changes):
        """Apply changed settings; returns the settings in force."""
        new = check_settings({**self.settings, **changes})
        old, self.settings = self.settings, new
        if new["optimizer"] != old["optimizer"]:
            self._make_optimizer()          # a new kind: fresh state, same weights
        else:
            for group in self.optimizer.param_groups:
                if "momentum" in group:
                    group["momentum"] = new["momentum"] if new["optimizer"] != "sgd" else 0.0
                group["weight_decay"] = new["weight_decay"]
        if new["batch_size"] != old["batch_size"]:
            self._make_loader()
        if (new["lr"], new["schedule"], new["epochs"], new["batch_size"]) != \
                (old["lr"], old["schedule"], old["epochs"], old["batch_size"]):
            self._make_scheduler()
        self.step.reset()   # record anew: the recording would not see every change
        return self.settings

    def _make_optimizer(self):
        s = self.settings
        kind = {"momentum": "sgd", "nesterov": "sgd"}.get(s["optimizer"], s["optimizer"])
        momentum = 0.0 if s["optimizer"] == "sgd" else s["momentum"]
        self.optimizer = make_optimizer(self.model.parameters(), kind, lr=s["lr"],
                                        momentum=momentum, nesterov=s["optimizer"] == "nesterov",
                                        weight_decay=s["weight_decay"])
        self._make_scheduler()

    def _make_scheduler(self):
        """The schedule over the whole run, positioned where the run is now."""
        s = self.settings
        for group in self.optimizer.param_groups:
            group["lr"] = s["lr"]
        total = max(2, self.run_length() // s["batch_size"])
        self.scheduler = make_scheduler(self.optimizer, s["schedule"], total)
        if self.scheduler is not None:
            self.scheduler.last_step = min(total, self.run_examples // s["batch_size"])
            self.scheduler._apply()

    def _make_loader(self):
        batch = self.settings["batch_size"]   # a small set of your own keeps its one short batch
        self.loader = DataLoader(self.train_set, batch_size=batch, shuffle=True, seed=self.seed,
                                 drop_last=len(self.train_set) >= batch)
        self.batches = iter(self.loader)

    def run_length(self):
        return self.settings["epochs"] * len(self.train_set)

    def run_finished(self):
        return self.run_examples >= self.run_length()

    def new_run(self):
        """Start the schedule again from the current weights (a warm restart)."""
        self.run_examples = 0
        self._make_scheduler()

    # -- steps ----------------------------------------------------------------------
    def next_batch(self):
        try:
            x, y = next(self.batches)
        except StopIteration:        # end of an epoch: the loader reshuffles
            self.batches = iter(self.loader)
            x, y = next(self.batches)
        if self.settings["augment"]:   # outside the recorded step: its input changes anyway
            x = self.augment(x, pixel_range(self.loader))
        return x, y

    def _step(self, x, y, watched=False):
        """One optimizer step on a batch -> (loss, hits), both still on the device.
        `watched` only tells the recordings apart: a watched step runs with the layer
        view's hooks, and so with other dispatches (engine.jit keys on its value)."""
        logits = self.model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.settings["label_smoothing"])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        with eg.no_grad():
            hits = (logits.detach().argmax(1) == y).sum()
        return loss, hits

    def train_steps(self, n, watch=None):
        """n optimizer steps. Returns the last batch's (loss, hits) as device tensors, its
        batch size and the seconds the host spent (encoding and launching; the GPU runs
        behind). `watch`, a context manager such as the layer view's `watching`, is
        entered for the last step only."""
        t0 = time.perf_counter()
        for k in range(n):
            x, y = self.next_batch()
            if watch is not None and k == n - 1:
                with watch():
                    loss, hits = self.step(x, y, watched=True)
            else:
                loss, hits = self.step(x, y)
            if self.scheduler is not None:
                self.scheduler.step()
        count = y.shape[0]
        self.steps += n
        self.examples_seen += n * count
        self.run_examples += n * count
        return loss, hits, count, time.perf_counter() - t0

    def record(self, hits, count):
        self.recent = (self.recent + [(hits, count)])[-10:]
        return sum(h for h, _ in self.recent) / sum(c for _, c in self.recent)

    def current_lr(self):
        return self.optimizer.param_groups[0]["lr"]

    def weights_replaced(self):
        """After load_state_dict: the optimizer's state (momentum, Adam's moments) belonged
        to the old weights, so it starts afresh, and the recorded step, which updates the
        old optimizer's state, records anew."""
        self._make_optimizer()
        self.step.reset()


def augment_policy(train_set):
    """The page's augmentation: mirrored clothes are still clothes, mirrored digits are not;
    digits also turn and zoom a little, as the drawing pad's own digits do."""
    return "fashion" if getattr(train_set, "dataset", "") == "fashion-mnist" else "handwriting"


def augment_strip(train_set, seed, count=8):
    """The first `count` training images (top row) and an augmented copy of each (bottom
    row) as one grey image, bytes 0..255 row by row, for the page to draw."""
    loader = DataLoader(Subset(train_set, range(count)), batch_size=count)
    x, _ = next(iter(loader))
    black, white = pixel_range(loader)
    augmented = Augment(augment_policy(train_set), seed=seed)(x, (black, white))
    _, h, w = train_set.image_shape
    gap = 2
    width, height = count * (w + gap) - gap, 2 * h + gap
    pixels = bytearray([40] * (width * height))   # light grey gaps (the page shows 255 - byte)
    for row, batch in enumerate((x, augmented)):
        for i, image in enumerate(batch.tolist()):
            for r, line in enumerate(image[0]):      # the first channel
                start = (row * (h + gap) + r) * width + i * (w + gap)
                pixels[start:start + w] = bytes(
                    min(255, max(0, round(255 * (v - black) / (white - black)))) for v in line)
    return {"width": width, "height": height, "pixels": list(pixels), "policy": augment_policy(train_set)}
