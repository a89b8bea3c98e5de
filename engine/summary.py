"""summary(model, input_shape): Keras's model.summary() for engine models.

    >>> print(eg.summary(model, (1, 28, 28)))
    Layer (type)          Output shape     Param #    FLOPs
    ...

One dry forward pass of a zero batch (in eval mode, without a graph) runs the
model; a forward hook on every module records what each layer produced. So
the table lists the layers in the order the forward pass reaches them, with
the shapes they really produce, not what their arguments suggest.

Which modules are rows: every module the pass runs through, except pure
containers (nn.Sequential), whose output is their last layer's. A block with a
forward of its own (a residual block) is a row after its sub-layers: its output
is what its own code made of theirs.

Counting conventions (the ones the course uses):
- parameters: every element of every nn.Parameter, as PyTorch's
  sum(p.numel() for p in model.parameters()); buffers (running means) are not
  parameters. Trainable: requires_grad is set.
- FLOPs per example, forward only: a multiply-add is 2 FLOPs, so Linear(i, o) is
  2*i*o (+ o for the bias); Conv2d is 2 * C_in * kh * kw per output value (+ 1 for
  the bias); an activation, or a batch norm's normalise-scale-shift, is 1 or 2 per
  value; pooling reads kh * kw values per output; Flatten, Dropout and Identity are
  free. A block counts what its own forward adds (ResidualBlock: the sum and the
  ReLU) when it defines `flops(in_shape, out_shape)`; otherwise "-".
"""
import math

from .autograd import no_grad


class LayerRow:
    """One row of the summary: a layer and what it produced for one example."""

    def __init__(self, name, module, output_shape, input_shape):
        self.name = name                          # e.g. "3" or "4.conv1" (named_modules' names)
        self.module = module
        self.type = type(module).__name__
        self.arguments = module.extra_repr()
        self.output_shape = tuple(output_shape)   # per example: no batch dim
        self.input_shape = tuple(input_shape)
        own = [p for p in module._parameters.values() if p is not None]
        self.parameters = sum(p.numel() for p in own)
        self.trainable = sum(p.numel() for p in own if p.requires_grad)
        self.flops = layer_flops(module, self.input_shape, self.output_shape)

    def as_dict(self):
        return {"name": self.name, "type": self.type, "arguments": self.arguments,
                "output_shape": list(self.output_shape), "parameters": self.parameters,
                "trainable": self.trainable, "flops": self.flops}


class ModelSummary:
    """What summary() returns; str() gives the table, the attributes give the numbers."""

    def __init__(self, rows, input_shape, total, trainable):
        self.rows, self.input_shape = rows, tuple(input_shape)
        self.total_params, self.trainable_params = total, trainable
        self.non_trainable_params = total - trainable
        known = [r.flops for r in self.rows if r.flops is not None]
        self.flops = sum(known)                    # per example, forward
        self.flops_complete = len(known) == len(self.rows)

    def as_dict(self):
        return {"input_shape": list(self.input_shape), "layers": [r.as_dict() for r in self.rows],
                "total_params": self.total_params, "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params, "flops": self.flops,
                "flops_complete": self.flops_complete, "text": str(self)}

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #", "FLOPs")
        body = [(f"{r.name} ({r.type})", _shape_text(r.output_shape), f"{r.parameters:,}",
                 "-" if r.flops is None else f"{r.flops:,}") for r in self.rows]
        widths = [max(len(line[i]) for line in [header] + body) for i in range(4)]

        def line(cells):
            return (f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  "
                    f"{cells[2]:>{widths[2]}}  {cells[3]:>{widths[3]}}")
        rule = "=" * len(line(header))
        flops = f"{self.flops:,}" + ("" if self.flops_complete else " (rows marked - not counted)")
        return "\n".join([
            f"Input shape (per example): {_shape_text(self.input_shape)}",
            line(header), rule, *(line(b) for b in body), rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"FLOPs per example (forward): {flops}",
        ])

    __repr__ = __str__


def summary(model, input_shape, file=None):
    """Run `model` once on a zero batch of `input_shape` (per example, e.g. (1, 28, 28))
    and return a ModelSummary; print it too when `file` is given (e.g. sys.stdout).

    A model that cannot take such an input raises the layer's own error (which names
    the layer and the shapes), exactly as training would."""
    from .creation import zeros
    input_shape = tuple(int(s) for s in input_shape)
    rows, handles = [], []
    for name, module in model.named_modules():
        if _is_pure_container(module):
            continue
        handles.append(module.register_forward_hook(_recorder(name, rows)))
    was_training = model.training
    model.eval()   # batch norm uses its running statistics, dropout is off: nothing changes
    try:
        with no_grad():
            model(zeros((1,) + input_shape))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    params = model.parameters()
    result = ModelSummary(rows, input_shape, sum(p.numel() for p in params),
                          sum(p.numel() for p in params if p.requires_grad))
    if file is not None:
        print(result, file=file)
    return result


def _recorder(name, rows):
    def hook(module, args, output):
        first = args[0] if args else None
        in_shape = tuple(getattr(first, "shape", ()))[1:]
        out_shape = tuple(getattr(output, "shape", ()))[1:]
        rows.append(LayerRow(name or type(module).__name__, module, out_shape, in_shape))
    return hook


def _is_pure_container(module):
    """nn.Sequential (and subclasses that keep its forward) only passes values along."""
    from .nn.container import Sequential
    return isinstance(module, Sequential) and type(module).forward is Sequential.forward


def _shape_text(shape):
    return str(tuple(shape))


def layer_flops(module, in_shape, out_shape):
    """Forward FLOPs of one example through `module` (see the module docstring), or None."""
    from . import nn
    out = math.prod(out_shape)
    own = getattr(module, "flops", None)
    if callable(own):
        return int(own(in_shape, out_shape))
    if isinstance(module, nn.Linear):
        rows = out // module.out_features          # 1 for (N, features) inputs
        per_row = 2 * module.in_features * module.out_features
        return rows * (per_row + (module.out_features if module.bias is not None else 0))
    if isinstance(module, nn.Conv2d):
        taps = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        return out * (2 * taps + (1 if module.bias is not None else 0))
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k = module.kernel_size
        kh, kw = (k, k) if isinstance(k, int) else k
        return out * kh * kw
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return 2 * out                              # x * scale + shift, folded per channel
    if isinstance(module, (nn.Flatten, nn.Dropout, nn.Identity)):
        return 0
    if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
        return 3 * out                              # exp, sum, divide
    if module.__module__ == nn.ReLU.__module__:     # the activations: one function per value
        return out
    return None
