"""random_split: hold out part of a dataset for validation, as torch.utils.data does.

    train, val = random_split(MNIST("mnist", train=True), [55_000, 5_000], seed=0)
    train_loader = DataLoader(train, 64, shuffle=True)
    val_loader = DataLoader(val, 1000)

The validation samples steer choices (when to stop, which weights to keep), so
they must not be the test samples, which measure the final model only once.
"""
import math
import random

from .loader import Subset


def random_split(dataset, lengths, seed=0):
    """Split `dataset` into non-overlapping Subsets of the given lengths, in a random order
    reproducible from `seed`. Lengths are counts that add up to len(dataset), or fractions
    that add up to 1 (then, as PyTorch, the remainder is dealt one by one from the first)."""
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, float) and 0 <= x <= 1 for x in lengths) and \
            math.isclose(sum(lengths), 1.0, abs_tol=1e-9):
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, int) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be counts >= 0 that add up to "
                         f"the dataset's {n} samples, or fractions that add up to 1")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    if isinstance(dataset, Subset):   # a split of a split indexes the underlying dataset
        order = [dataset.indices[i] for i in order]
        dataset = dataset.dataset
    parts, start = [], 0
    for length in lengths:
        parts.append(Subset(dataset, order[start:start + length]))
        start += length
    return parts
