"""engine.nn.functional: the stateless ops, with PyTorch's names and arguments."""
from ..ops.elementwise import unary
from ..ops.loss import (softmax, log_softmax, cross_entropy, mse_loss, nll_loss,
                        binary_cross_entropy_with_logits)
from ..ops.matmul import linear
from ..ops.conv import conv2d
from ..ops.pool import max_pool2d, avg_pool2d
from ..ops.norm import batch_norm
from ..ops.dropout import dropout

__all__ = ["linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax",
           "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits"]
__all__ += ["max_pool2d", "avg_pool2d", "batch_norm", "dropout"]
__all__ += ["conv2d"]
__all__ += ["gelu", "silu", "softplus", "hardtanh"]


def relu(x):
    return unary("relu", x)


def leaky_relu(x, negative_slope=0.01):
    return unary("leaky_relu", x, negative_slope)


def elu(x, alpha=1.0):
    return unary("elu", x, alpha)


def sigmoid(x):
    return unary("sigmoid", x)


def tanh(x):
    return unary("tanh", x)


def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; approximate="tanh": PyTorch's tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return unary("gelu" if approximate == "none" else "gelu_tanh", x)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return unary("silu", x)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    return unary("softplus", x, beta, threshold)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return unary("hardtanh", x, min_val, max_val)
