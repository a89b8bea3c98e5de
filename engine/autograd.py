"""Reverse-mode automatic differentiation: the graph and its walk.

Every differentiable op is a `Function` subclass with a `forward` and a
`backward` side by side (see engine/ops/). Calling `Op.apply(...)` runs the
forward and, when gradients are wanted, records the Function as the output's
`_ctx`. `backward` sorts that graph topologically and walks it in reverse,
asking each Function for its inputs' gradients ("PyTorch records what you did").
"""
import contextlib

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded (evaluation, optimizer steps)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Function:
    """One differentiable operation. Subclasses define forward and backward."""

    # Positions of inputs that may be int32 (class targets); every other tensor
    # input must be float32.
    int_inputs = ()

    # In the graph a Function stands for the tensor it made: later Functions keep it
    # as their parent (its `_ctx` is itself, `shape` that tensor's shape), not the
    # tensor. So the graph holds no intermediate tensor's buffer: it goes back to the
    # pool once nothing else needs it, and backward keeps only what was saved.
    requires_grad = True

    @property
    def _ctx(self):
        return self

    def __init__(self):
        self.parents = ()
        self.saved = ()
        self.saved_versions = ()

    def save_for_backward(self, *tensors):
        self.saved = tensors
        # An in-place change to a saved tensor would make backward read the new values.
        self.saved_versions = [getattr(t, "_version", None) for t in tensors]

    def check_saved_versions(self):
        for t, version in zip(self.saved, self.saved_versions):
            if getattr(t, "_version", None) != version:
                raise RuntimeError(f"{type(self).__name__}.backward: a tensor of shape "
                                   f"{t.shape} that it saved was modified by an in-place "
                                   f"operation after the forward pass (version {t._version}, "
                                   f"expected {version}); make that change out of place")

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, grad):
        """Gradient of the output -> tuple with one gradient (or None) per input."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from .tensor import Tensor
        fn = cls()
        check_same_device(cls.__name__.lower(), *args, *kwargs.values())
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor) and arg.dtype != "float32" and i not in cls.int_inputs:
                raise TypeError(f"{cls.__name__.lower()}: input {i} must be float32, got "
                                f"{arg.dtype} of shape {arg.shape}; convert it with .float()")
        out = fn.forward(*args, **kwargs)
        if _grad_enabled and any(isinstance(a, Tensor) and a.requires_grad for a in args):
            fn.parents = tuple(arg._ctx if isinstance(arg, Tensor) and arg._ctx is not None
                               and arg.requires_grad else arg for arg in args)
            fn.shape = out.shape
            out.requires_grad = True
            out._ctx = fn
        return out


def check_same_device(name, *args):
    """Every tensor among args (or inside a list or tuple among them) must be on one
    device. The one place this is checked: Function.apply calls it for every op."""
    from .tensor import Tensor
    first = None
    for arg in args:
        for t in (arg if isinstance(arg, (list, tuple)) else (arg,)):
            if not isinstance(t, Tensor):
                continue
            if first is None:
                first = t
            elif t.backend is not first.backend:
                raise RuntimeError(f"{name}: tensors on two devices: one of shape {first.shape} "
                                   f"on {first.device}, one of shape {t.shape} on {t.device}. "
                                   f"Make them on one device (eg.set_device before creating "
                                   f"them)")


def backward(root, grad):
    """Accumulate d(root)/d(leaf) into every leaf's .grad."""
    with no_grad():  # the backward pass itself is not recorded
        _walk(root, grad)


def _walk(root, grad):
    order = _topological_order(root)
    grads = {id(root): grad}
    # Buffers a new leaf .grad must not share: the caller's gradient, other leaves' .grad.
    taken = {id(grad.data)}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        fn = node._ctx
        if fn is None:  # a leaf: keep its gradient
            _accumulate_grad(node, g, taken)
            continue
        if fn.saved is None:
            raise RuntimeError("backward through the same graph a second time: its saved "
                               "tensors were freed; recompute the forward pass")
        fn.check_saved_versions()
        input_grads = fn.backward(g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, pg in zip(fn.parents, input_grads):
            if pg is None or not getattr(parent, "requires_grad", False):
                continue
            if pg.shape != parent.shape:
                raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient of shape "
                                   f"{pg.shape} for an input of shape {parent.shape}")
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        # Like PyTorch, saved tensors are freed once walked: their buffers go back to the pool.
        fn.saved = None


def _accumulate_grad(leaf, g, taken):
    """leaf.grad += g. Like PyTorch, an existing .grad is updated in place, so the
    tensor that zero_grad(set_to_none=False) kept stays the one the optimizer reads.
    A new .grad gets a buffer of its own when g's is shared (add's backward hands the
    same gradient to both inputs), so that in-place update cannot leak into another."""
    if leaf.grad is not None:
        leaf.grad += g
        return
    leaf.grad = g.clone() if id(g.data) in taken else g
    taken.add(id(leaf.grad.data))


def _topological_order(root):
    """Iterative depth-first search, so deep graphs don't hit the recursion limit."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        if node._ctx is not None:
            for parent in node._ctx.parents:
                if getattr(parent, "requires_grad", False) and id(parent) not in visited:
                    stack.append((parent, False))
    return order
