"""DataLoader: mini-batches of an image dataset, built on the GPU.

The whole dataset is uploaded once as bytes (MNIST: 47 MB). A batch is then
one small upload of indices and labels plus one kernel (shaders/gather_images.wgsl)
that gathers the rows and turns pixels into normalised floats. No numpy, so it
runs unchanged in the browser.
"""
import array
import math
import random

from ..backend import current_backend
from ..tensor import Tensor


class Subset:
    """The samples of `dataset` at `indices` (e.g. the first 1,000 test digits)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)
        if self.indices and not (0 <= min(self.indices) and max(self.indices) < len(dataset)):
            raise IndexError(f"Subset: indices must lie in [0, {len(dataset)})")

    def __len__(self):
        return len(self.indices)


class DataLoader:
    """Iterate over (images, labels): float32 (B, C, H, W) and int32 (B,).

    shuffle: a new order each epoch, reproducible from `seed`.
    drop_last: skip a final batch smaller than batch_size.
    Pixels become pixel/255, then (x - dataset.mean) / dataset.std when the
    dataset gives its statistics.
    """

    def __init__(self, dataset, batch_size=64, shuffle=False, seed=0, drop_last=False):
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.shuffle, self.seed, self.drop_last = batch_size, shuffle, seed, drop_last
        if isinstance(dataset, Subset):
            self.dataset, self.indices = dataset.dataset, dataset.indices
        else:
            self.dataset, self.indices = dataset, list(range(len(dataset)))
        self.epoch = 0            # epochs begun: the shuffle of epoch e is seeded with e
        self.batches_done = 0     # batches given so far in the current epoch
        self._skip = 0            # batches the next epoch leaves out (a resumed run)
        shape = tuple(self.dataset.image_shape)
        self.image_shape, self.row_len = shape, math.prod(shape)
        mean = getattr(self.dataset, "mean", 0.0)
        std = getattr(self.dataset, "std", 1.0)
        self.scale, self.shift = 1.0 / (255.0 * std), -mean / std

    def __len__(self):
        n = len(self.indices)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def state_dict(self):
        """Where the loader stands, to continue a run mid-epoch (engine/checkpoint.py):
        the shuffle of each epoch follows from (seed, epoch), so this is all it takes."""
        return {"epoch": self.epoch, "batches_done": self.batches_done, "seed": self.seed,
                "batch_size": self.batch_size, "samples": len(self.indices)}

    def load_state_dict(self, state):
        """Continue from `state`: the next iteration gives the rest of the epoch it was
        taken in (the same order, the batches not yet given), or the next epoch."""
        mine = {"seed": self.seed, "batch_size": self.batch_size, "samples": len(self.indices)}
        for key, value in mine.items():
            if state[key] != value:
                raise ValueError(f"DataLoader.load_state_dict: the state was taken with "
                                 f"{key} {state[key]}, this loader has {key} {value}")
        finished = state["batches_done"] >= len(self)
        self.epoch = state["epoch"] if finished or state["epoch"] == 0 else state["epoch"] - 1
        self._skip = 0 if finished else state["batches_done"]
        self.batches_done = state["batches_done"]

    def _device_images(self, backend):
        """The dataset's pixels on `backend`, uploaded on first use and kept."""
        cache = self.dataset.__dict__.setdefault("_device_images", {})
        if id(backend) not in cache:
            cache[id(backend)] = backend.upload(self.dataset.images, "uint8")
        return cache[id(backend)]

    def __iter__(self):
        backend = current_backend()
        images = self._device_images(backend)
        order = list(self.indices)
        if self.shuffle:
            random.Random(self.seed * 1_000_003 + self.epoch).shuffle(order)
        self.epoch += 1
        labels = self.dataset.labels
        skip, self._skip = self._skip, 0
        self.batches_done = skip
        for start in range(skip * self.batch_size, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            if self.drop_last and len(batch) < self.batch_size:
                break
            self.batches_done += 1
            idx = backend.upload(array.array("i", batch).tobytes(), "int32")
            x = backend.gather_images(images, idx, len(batch), self.row_len, self.scale, self.shift)
            batch_labels = array.array("i", [labels[i] for i in batch])
            y = Tensor(backend.upload(batch_labels.tobytes(), "int32"), (len(batch),), "int32",
                       backend)
            # known on the host for free: cross_entropy checks the labels without a read-back
            y.value_range = (min(batch_labels), max(batch_labels))
            yield Tensor(x, (len(batch),) + self.image_shape, "float32", backend), y
