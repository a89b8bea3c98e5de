"""What the page's layer view shows, gathered on the device and read back in one go.

One row per layer, in the order the forward pass reaches them (the rows of
engine.summary). For each refresh the page gets:

- activations: each row's output for the current example (a test image or the
  drawing), from a forward pass in eval mode;
- weights (and, on request, their gradients) of the layers that have images to
  show: nn.Linear and nn.Conv2d;
- statistics of the last training batch before the refresh, per row: the activations'
  mean and standard deviation, the fraction of a ReLU's units that are dead (zero for
  every example of the batch), and the gradient norm of the layer's parameters. Only
  that step is watched (`watching`): the others run without hooks, so nn.Sequential
  fuses a Linear or Conv2d with its ReLU there.

Everything is a tensor on the device until the end, where `pack` reads all of them
back with one `engine.download` (one staging buffer, one wait for the GPU), however
many layers there are. The page receives the raw float32 bytes and a layout that
says where each piece lies.
"""
import array
import contextlib
import math

import engine as eg
from engine import nn

MAX_PIECE = 1 << 20     # values; a bigger weight matrix is not sent (it could not be drawn)


class LayerView:
    def __init__(self, built):
        self.model = built.model
        self.rows = built.summary.rows
        # While `watching`, forward hooks on every row keep its output of the forward pass:
        # of the watched training step (a replayed step runs no Python, but the tensors its
        # recording made are the ones the hooks kept, and each replay writes its outputs
        # into them), or of the example while example_outputs runs.
        self._train = {}          # row index -> its output in the last watched training step
        self._sink = self._train
        self._sizes = {}

    @contextlib.contextmanager
    def watching(self):
        """Hooks on every row for the forward passes inside the block, and none after it.
        A hook needs its layer's own output, so a Linear or Conv2d and the ReLU after it
        then run apart (nn.Sequential fuses them only when no hook watches): the page
        watches only the training step whose statistics it shows, and the others run
        fused."""
        handles = [row.module.register_forward_hook(self._keeper(i))
                   for i, row in enumerate(self.rows)]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _keeper(self, i):
        def hook(module, args, output):
            if isinstance(output, eg.Tensor):
                self._sink[i] = output.detach()
        return hook

    def example_outputs(self, x):
        """Each row's output for one example x (1, C, H, W), in eval mode."""
        model = self.model
        was_training = model.training
        model.eval()
        self._sink = outputs = {}
        try:
            with eg.no_grad(), self.watching():
                logits = model(x)
        finally:
            self._sink = self._train
            model.train(was_training)
        return outputs, logits

    # -- what a refresh sends -------------------------------------------------------
    def batch_statistics(self):
        """Device scalars from the last training step: per row the sum and the sum
        of squares of its outputs, for a ReLU the number of units alive (non-zero for some
        example of the batch), for a layer with parameters the gradients' squared sums.
        A few reductions each; finish_statistics turns them into the page's numbers on the
        host, so the device runs no kernel for a division or a square root."""
        captured = self._train
        self._sizes = {}
        quantities = []
        with eg.no_grad():
            for i, out in sorted((captured or {}).items()):
                flat = out.reshape(out.shape[0], -1)
                self._sizes[i] = (flat.numel(), flat.shape[1])
                quantities.append(((i, "sum"), flat.sum()))
                quantities.append(((i, "sum_sq"), (flat * flat).sum()))
                if isinstance(self.rows[i].module, nn.ReLU):   # outputs >= 0: dead = sum 0
                    quantities.append(((i, "alive"), (flat.sum(0) > 0.0).sum()))
            if captured:
                for i, row in enumerate(self.rows):
                    grads = [p.grad for p in row.module._parameters.values()
                             if p is not None and p.grad is not None]
                    for k, g in enumerate(grads):
                        quantities.append(((i, "grad_sq", k), (g * g).sum()))
        return quantities

    def finish_statistics(self, values):
        """The read-back quantities ({key: float}) -> [{row, name, value}]: mean, std,
        dead (a share of the units) and grad_norm per row."""
        stats, grad_sq = [], {}
        for key, value in values.items():
            if isinstance(key, tuple) and key[1] == "grad_sq":
                grad_sq[key[0]] = grad_sq.get(key[0], 0.0) + value
        for i, (count, units) in sorted(self._sizes.items()):
            mean = values[(i, "sum")] / count
            variance = max(0.0, values[(i, "sum_sq")] / count - mean * mean)
            stats.append({"row": i, "name": "mean", "value": mean})
            stats.append({"row": i, "name": "std", "value": math.sqrt(variance)})
            if (i, "alive") in values:
                stats.append({"row": i, "name": "dead", "value": 1.0 - values[(i, "alive")] / units})
        for i, total in sorted(grad_sq.items()):
            stats.append({"row": i, "name": "grad_norm", "value": math.sqrt(total)})
        return stats

    def weight_pieces(self, gradients):
        """("weight" | "gradient", row, tensor) for the rows whose weights are drawn."""
        pieces = []
        for i, row in enumerate(self.rows):
            if not isinstance(row.module, (nn.Linear, nn.Conv2d)):
                continue
            weight = row.module.weight
            pieces.append(("weight", i, weight))
            if gradients and weight.grad is not None:
                pieces.append(("gradient", i, weight.grad))
        return pieces


def pack(scalars, pieces):
    """Read scalars and pieces back with one download (engine.download: one staging
    buffer, one wait for the GPU).

    scalars: [(key, 1-element float32 tensor)], returned as {key: float}.
    pieces: [(kind, row, float32 tensor)], returned as a layout list of {kind, row, shape,
    offset, count} (offset and count in float32 values) and the bytes of all of them.
    """
    tensors, layout, offset = [value for _, value in scalars], [], 0
    for kind, row, tensor in pieces:
        count = tensor.numel()
        entry = {"kind": kind, "row": row, "shape": list(tensor.shape)}
        if count > MAX_PIECE:
            entry["skipped"] = f"{count:,} values: too many to draw"
        else:
            entry.update(offset=offset, count=count)
            tensors.append(tensor)
            offset += count
        layout.append(entry)
    raw = eg.download(tensors)   # the one wait for the GPU: raw float32 bytes
    values = array.array("f", raw[:4 * len(scalars)])
    return ({key: values[k] for k, (key, _) in enumerate(scalars)}, layout,
            raw[4 * len(scalars):])
