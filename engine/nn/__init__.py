"""Layers, with PyTorch's names: `from engine import nn`."""
from .module import Module, Parameter
from .linear import Linear
from .activation import ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Identity, Softmax, LogSoftmax
from .container import Sequential, Flatten
from . import functional, init

__all__ = ["Module", "Parameter", "Linear", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh",
           "Identity", "Softmax", "LogSoftmax", "Sequential", "Flatten", "functional", "init"]
