"""nn.Linear: y = x W^T + b, initialised like PyTorch (U(-1/sqrt(in), 1/sqrt(in)))."""
import math

from ..creation import zeros
from ..ops.matmul import linear_relu
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear({in_features}, {out_features}): sizes must be positive")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features))
        self.bias = Parameter(zeros(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        self._check_input(x)
        return F.linear(x, self.weight, self.bias)

    def forward_relu(self, x):
        """relu(self(x)) in one kernel: nn.Sequential's way through a Linear and its ReLU."""
        self._check_input(x)
        return linear_relu(x, self.weight, self.bias)

    def _check_input(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: expects inputs with {self.in_features} features in the "
                             f"last dim, got shape {x.shape}")

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
