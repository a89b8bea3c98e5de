"""The optimizer race: one network trained by six optimizers side by side.

The six models start from the same initial weights (the first one's state_dict is
copied into the others) and see the same batches in the same order: each batch is
fetched once and every optimizer takes one step on it. So the only difference
between the curves is the optimizer, which is what the race is meant to show.

    race = Race(built, train_set, test_set, steps=300)
    while not race.finished():
        losses = race.run(20)          # [[6 losses] per step], one read-back
    table = race.results()             # per optimizer: lr, final loss, test accuracy

Each optimizer uses a learning rate that suits it on these small networks (the
table shows it); they differ by 50x, which is part of the lesson.
"""
import engine as eg
import engine.nn.functional as F
from engine.data import DataLoader, Subset
from engine.train import make_optimizer

from .model_code import build_model

# (label, make_optimizer's kind, its arguments)
RACERS = (
    ("SGD", "sgd", dict(lr=0.05, momentum=0.0)),
    ("Momentum", "sgd", dict(lr=0.05, momentum=0.9)),
    ("Nesterov", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adagrad", "adagrad", dict(lr=0.01)),
    ("RMSprop", "rmsprop", dict(lr=1e-3)),
    ("Adam", "adam", dict(lr=1e-3)),
)
DEFAULT_STEPS = 200      # 1-2 minutes for the MLP on SwiftShader (the page's default too)
MAX_STEPS = 5000
BATCH_SIZE = 64
TEST_IMAGES = 1000
FINAL_WINDOW = 20        # the table's loss: the mean over the last this many steps
EVAL_BATCH = 500


class RaceError(ValueError):
    """A race that cannot start; the message says why."""


class Racer:
    """One optimizer's copy of the network, with its own recorded training step."""

    def __init__(self, label, kind, options, model):
        self.label, self.kind, self.options, self.model = label, kind, options, model
        self.optimizer = make_optimizer(model.parameters(), kind, **options)
        # Recorded and replayed (engine.jit) like the page's own step: six models per
        # batch would otherwise spend most of their time in Python.
        self.step = eg.jit(self._step, verbose=False)

    def _step(self, x, y):
        loss = F.cross_entropy(self.model(x), y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss


class Race:
    def __init__(self, built, train_set, test_set, steps=DEFAULT_STEPS, seed=0):
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            raise RaceError(f"the race's steps must be a whole number from 1 to {MAX_STEPS}, "
                            f"got {steps!r}")
        self.train_set, self.test_set, self.total = train_set, test_set, steps
        shape, classes = train_set.image_shape, len(train_set.classes)
        eg.manual_seed(seed)
        models = [build_model(built.source, shape, classes).model for _ in RACERS]
        start = models[0].state_dict()
        for model in models[1:]:       # the same initial weights for everyone
            model.load_state_dict(start)
        self.racers = [Racer(label, kind, options, model)
                       for (label, kind, options), model in zip(RACERS, models)]
        self.loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, seed=seed,
                                 drop_last=True)
        self.batches = iter(self.loader)
        self.steps = 0
        self.history = [[] for _ in self.racers]    # each optimizer's loss per step

    def finished(self):
        return self.steps >= self.total

    def _next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:        # an epoch is over: the loader reshuffles
            self.batches = iter(self.loader)
            return next(self.batches)

    def run(self, n):
        """Up to n more steps of every optimizer on the same batches; returns their losses,
        [[loss of each optimizer] per step], read back from the GPU at once."""
        n = max(0, min(int(n), self.total - self.steps))
        per_step = []
        for _ in range(n):
            x, y = self._next_batch()
            # a replay overwrites the loss tensor it returns: copy the six out (stack)
            # before the next batch's steps
            per_step.append(eg.stack([racer.step(x, y) for racer in self.racers]))
        if not per_step:
            return []
        losses = eg.stack(per_step).tolist() if len(per_step) > 1 else [per_step[0].tolist()]
        for row in losses:
            for history, loss in zip(self.history, row):
                history.append(loss)
        self.steps += n
        return losses

    def results(self, test_images=TEST_IMAGES):
        """Per optimizer: its settings, its mean loss over the last steps and its accuracy
        on the first `test_images` test images."""
        n = max(1, min(int(test_images), len(self.test_set)))
        rows = []
        for racer, history in zip(self.racers, self.history):
            recent = history[-FINAL_WINDOW:]
            rows.append({"optimizer": racer.label, "kind": racer.kind, **racer.options,
                         "final_loss": sum(recent) / len(recent) if recent else None,
                         "test_acc": accuracy(racer.model, self.test_set, n)})
        return {"rows": rows, "steps": self.steps, "batch_size": BATCH_SIZE, "test_count": n}


def accuracy(model, test_set, n):
    """The share of the first n test images that `model` classifies right (eval mode)."""
    model.eval()
    try:
        with eg.no_grad():
            hits = None
            for x, y in DataLoader(Subset(test_set, range(n)), batch_size=EVAL_BATCH):
                h = (model(x).argmax(1) == y).sum()
                hits = h if hits is None else hits + h
            return int(hits.item()) / n
    finally:
        model.train()
