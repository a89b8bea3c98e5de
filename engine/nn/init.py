"""Weight initialisation with PyTorch's names (in place, under no_grad).

fan_in = inputs per unit, fan_out = outputs per unit. Xavier/Glorot keeps the
variance of activations and gradients equal across layers for tanh/sigmoid;
He/Kaiming doubles it for ReLU, which zeroes half of its inputs.
"""
import math

from ..autograd import no_grad
from ..creation import rand, randn


def calculate_gain(nonlinearity, param=None):
    gains = {"linear": 1.0, "conv2d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3,
             "relu": math.sqrt(2.0), "selu": 0.75}
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity not in gains:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")
    return gains[nonlinearity]


def _fans(t):
    if t.ndim < 2:
        raise ValueError(f"fan in/out need at least 2 dims, got shape {t.shape}")
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def _assign(t, new):
    with no_grad():   # in place, so every alias of t sees the new values
        return t.copy_(new)


def uniform_(t, a=0.0, b=1.0):
    return _assign(t, rand(t.shape) * (b - a) + a)


def normal_(t, mean=0.0, std=1.0):
    return _assign(t, randn(t.shape) * std + mean)


def constant_(t, value):
    with no_grad():
        return t.fill_(value)


def zeros_(t):
    return constant_(t, 0.0)


def ones_(t):
    return constant_(t, 1.0)


def xavier_uniform_(t, gain=1.0):
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t, gain=1.0):
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan = _fans(t)[0 if mode == "fan_in" else 1]
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan = _fans(t)[0 if mode == "fan_in" else 1]
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan))
