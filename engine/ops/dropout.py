"""Dropout: in training, zero each element with probability p and scale the rest
by 1 / (1 - p) ("inverted" dropout: every element keeps its expected value, so
evaluation simply skips the layer).

Kernel: shaders/dropout.wgsl. The mask is never stored: element i is kept when the
counter-based random number of (seed, offset + i) is >= p (the stream of
`eg.rand`, see engine/creation.py), so the backward pass redraws the same mask
from the saved seed and offset. That costs a hash per element, cheap next to
reading the element, and saves keeping a mask the size of x alive in every
dropout layer until the backward pass. It also makes a seed give the same mask
on the GPU and numpy backends.
"""
from ..autograd import Function
from ..creation import default_generator
from ..replay import on_replay
from ..tensor import Tensor


class Dropout(Function):
    def forward(self, x, p):
        self.backend, self.numel, self.p = x.backend, x.numel(), p
        # The mask's uniform is a slot that forward and backward share, so that a recorded
        # step (engine.jit) can draw the next mask before each replay by rewriting it.
        self.slot = ("dropout", id(self))
        self.args = self._next_numbers()
        on_replay(self._redraw)
        return Tensor(x.backend.dropout(x.data, *self.args, slot=self.slot), x.shape,
                      "float32", x.backend)

    def _next_numbers(self):
        seed, offset = default_generator.take(self.numel)   # the stream's next numbers
        return (self.numel, self.p, seed, offset)

    def _redraw(self):
        """Before a replay: the next mask, as an eager call would draw it, written into the
        slot (the backend is in "uniforms only" mode then: nothing is dispatched)."""
        self.args = self._next_numbers()
        self.backend.dropout(None, *self.args, slot=self.slot)

    def backward(self, g):
        # y = x * keep / (1 - p), so dy/dx = keep / (1 - p): the same kernel on g, same mask
        return Tensor(g.backend.dropout(g.data, *self.args, slot=self.slot), g.shape,
                      "float32", g.backend)


def dropout(x, p=0.5, training=True):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, p=float(p))
