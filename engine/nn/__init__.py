"""Layers, with PyTorch's names: `from engine import nn`."""
from .module import Module, Parameter
from .linear import Linear
from .conv import Conv2d
from .activation import (ReLU, LeakyReLU, ELU, Sigmoid, Tanh, GELU, SiLU, Softplus, Hardtanh,
                         Identity, Softmax, LogSoftmax)
from .container import Sequential, Flatten
from .pooling import MaxPool2d, AvgPool2d
from .normalization import BatchNorm1d, BatchNorm2d
from .dropout import Dropout
from . import functional, init

__all__ = ["Module", "Parameter", "Linear", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh",
           "Identity", "Softmax", "LogSoftmax", "Sequential", "Flatten", "functional", "init"]
__all__ += ["MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Dropout"]
__all__ += ["Conv2d"]
__all__ += ["GELU", "SiLU", "Softplus", "Hardtanh"]
from . import utils  # noqa: E402  (nn.utils.clip_grad_norm_, clip_grad_value_)
__all__ += ["utils"]
