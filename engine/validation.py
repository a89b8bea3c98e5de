"""Validation: measure held-out samples after each epoch (fit's val_loader).

The training loss says how well the model fits the samples it learns from; the
loss on samples it never trains on (engine.data.random_split) says how well it
generalizes, and is what early stopping (engine/early_stopping.py) watches.
"""
import functools
import sys

from .autograd import no_grad
from .nn import functional as F


class History(list):
    """What fit returns: a list of (step, loss) read every `log_every` steps, plus
    `validation`, one {"epoch", "loss", "accuracy"} per validated epoch, and, with
    early stopping, `best_epoch` (whose weights the model ends with) and
    `stopped_epoch` (None when every epoch ran). `examples_trained` counts the samples
    trained in this process: a resumed run's History starts it again at 0."""
    def __init__(self, pairs=(), validation=()):
        super().__init__(tuple(p) for p in pairs)
        self.validation = [dict(v) for v in validation]
        self.best_epoch = self.stopped_epoch = None
        self.examples_trained = 0


def validate_epoch(model, val_loader, loss_fn, epoch, history, stopper, progress):
    """Measure the held-out samples after an epoch; True when early stopping says stop.
    progress: print the numbers on stderr (beside fit's progress bar)."""
    measure = val_loader if callable(val_loader) else \
        functools.partial(validate, loader=val_loader, loss_fn=loss_fn)
    val_loss, accuracy = measure(model)
    history.validation.append({"epoch": epoch, "loss": val_loss, "accuracy": accuracy})
    if progress:
        shown = f", accuracy {accuracy * 100:.2f}%" if accuracy is not None else ""
        print(f"epoch {epoch}: validation loss {val_loss:.4f}{shown}", file=sys.stderr)
    return stopper is not None and stopper.step(epoch, val_loss, model)


def validate(model, loader, loss_fn=F.cross_entropy):
    """(mean loss, accuracy) over `loader`, in eval mode and without gradients; two
    read-backs at the end. accuracy is None when the labels are not class indices."""
    was_training = model.training
    model.eval()
    total_loss, hits, count = None, None, 0
    with no_grad():
        for x, y in loader:
            out = model(x)
            batch_loss = loss_fn(out, y) * y.shape[0]
            total_loss = batch_loss if total_loss is None else total_loss + batch_loss
            if y.dtype == "int32":
                correct = (out.argmax(1) == y).sum()
                hits = correct if hits is None else hits + correct
            count += y.shape[0]
    model.train(was_training)
    if not count:
        raise ValueError("validate: the validation loader gave no samples")
    return total_loss.item() / count, (hits.item() / count if hits is not None else None)
