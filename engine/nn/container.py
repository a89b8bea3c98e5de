"""Sequential and Flatten: composing layers."""
from .activation import ReLU
from .conv import Conv2d
from .linear import Linear
from .module import Module
from .pooling import MaxPool2d


class Sequential(Module):
    """Layers applied in order; indexable like a list."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
            setattr(self, str(i), layer)

    def forward(self, x):
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            if _fusable_block(layers[i:i + 3]):   # Conv2d, ReLU, MaxPool2d: one op
                x = layers[i].forward_relu_max_pool(x, layers[i + 2])
                i += 3
            elif _fusable(layers[i:i + 2]):   # Linear or Conv2d, then ReLU: one kernel
                x = layers[i].forward_relu(x)
                i += 2
            else:
                x = layers[i](x)
                i += 1
        return x

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, layer):
        setattr(self, str(len(self)), layer)
        return self


def _fusable(pair):
    """A Linear or Conv2d followed by a ReLU runs as one kernel, the ReLU in the
    product's epilogue (one dispatch and one buffer fewer, the same values); not where a
    forward hook watches either, since it must see the layer's own output."""
    return (len(pair) == 2 and type(pair[0]) in (Linear, Conv2d) and type(pair[1]) is ReLU
            and not pair[0]._forward_hooks and not pair[1]._forward_hooks)


def _fusable_block(layers):
    """A Conv2d, a ReLU and a MaxPool2d run as one op (engine/ops/conv_block.py), no
    forward hook watching any of them."""
    return (len(layers) == 3 and _fusable(layers[:2]) and type(layers[0]) is Conv2d
            and type(layers[2]) is MaxPool2d and not layers[2]._forward_hooks)


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)
