"""nn.Module: the base of every layer, with PyTorch's bookkeeping.

Assigning a Parameter or a Module as an attribute registers it, so
`parameters()`, `state_dict()` and `train()/eval()` find it without any list
kept by hand.
"""
import sys
from collections import OrderedDict

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module owns and an optimizer updates."""
    __slots__ = ()

    def __init__(self, t, requires_grad=True):
        super().__init__(t.data, t.shape, t.dtype, t.backend, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _construction_site(module):
    """(file name, line) of the code that constructed `module`: the first caller outside
    the __init__ methods of the module itself. Error messages (and the playground's
    editor) use it to point at the line that made a layer that does not fit."""
    frame = sys._getframe(2)   # skip _construction_site and Module.__init__
    while frame is not None and frame.f_locals.get("self") is module:
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else None


class RemovableHandle:
    """What register_forward_hook returns: remove() takes the hook out again."""
    _next_id = 0

    def __init__(self, hooks):
        self.hooks, self.id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_created_at", _construction_site(self))

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        for table in (self._parameters, self._modules, self._buffers):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, tensor):
        """State that is saved with the model but not trained (e.g. running means)."""
        object.__setattr__(self, name, tensor)
        self._buffers[name] = tensor

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    def register_forward_hook(self, hook):
        """Call hook(module, inputs, output) after every forward pass, as PyTorch does; a
        hook that returns a value replaces the output. Returns a handle: handle.remove().
        The playground uses hooks to see each layer's activations without changing it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # -- walking the tree ----------------------------------------------------------
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def children(self):
        return list(self._modules.values())

    def named_parameters(self):
        for prefix, module in self.named_modules():
            for name, p in module._parameters.items():
                yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        for prefix, module in self.named_modules():
            for name in module._buffers:
                yield (f"{prefix}.{name}" if prefix else name), getattr(module, name)

    # -- modes -------------------------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """As Optimizer.zero_grad: drop the gradients, or zero them in place (False)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter of this module and its children, as
        PyTorch does. Frozen parameters get no .grad, so optimizers skip them: transfer
        learning freezes a trained body and trains a new head (examples/transfer.py)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- saving and loading ------------------------------------------------------------
    def state_dict(self):
        """name -> Tensor (parameters and buffers), like PyTorch."""
        state = OrderedDict(self.named_parameters())
        state.update(self.named_buffers())
        return state

    def load_state_dict(self, state, strict=True):
        """Copy `state` ({name: Tensor or array}) into this model's tensors. Every key,
        shape and dtype is checked before anything is copied, so a file that does not
        fit leaves the model as it was, never half-loaded."""
        own = self.state_dict()
        source = f"; loading {state.path}" if getattr(state, "path", None) else ""
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected}{source}")
        for name, value in state.items():
            if name in own:
                _check_loadable(name, value, own[name], source)
        for name, value in state.items():
            if name not in own:
                continue
            target = own[name]
            if not isinstance(value, Tensor):
                from ..creation import tensor
                value = tensor(value, dtype=target.dtype)
            # A copy, like PyTorch: sharing the buffer would let an optimizer step on
            # this model (in place) change the tensors it was loaded from. Into the
            # tensor's own buffer, as PyTorch's copy_: a recorded step (engine.jit) and
            # an optimizer's state keep pointing at it.
            fresh = target.backend.upload(value.backend.download(value.data), target.dtype)
            target.backend.copy_(target.data, fresh)
            target._version += 1
            target.value_range = None
        return self

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"

    def extra_repr(self):
        return ""


def _check_loadable(name, value, target, source):
    """load_state_dict's test of one entry: the model's shape and dtype."""
    shape = tuple(getattr(value, "shape", ()))
    if shape != target.shape:
        raise ValueError(f"load_state_dict: {name} has shape {shape} in the file but "
                         f"{target.shape} in the model{source}")
    dtype = getattr(value, "dtype", None)   # None for a list, which tensor() converts
    if dtype is None:
        return
    is_float = str(dtype).replace("torch.", "").startswith("float")   # ours, numpy's, torch's
    if is_float != (target.dtype == "float32"):
        raise TypeError(f"load_state_dict: {name} has dtype {dtype} in the file but the "
                        f"model's tensor is {target.dtype}{source}")
