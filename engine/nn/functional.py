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
