"""nn.Conv2d: a 2-D convolution layer over (N, C, H, W) inputs, initialised like PyTorch."""
import math

from ..creation import zeros
from ..ops.conv import _pair, conv2d_relu
from ..ops.conv_block import conv2d_relu_max_pool2d
from . import functional as F
from . import init
from .module import Module, Parameter


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"Conv2d({in_channels}, {out_channels}, ...): channel counts must "
                             f"be positive")
        # stored as (h, w) pairs, like PyTorch (so the repr shows what is used)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.padding = _pair(padding, "padding", "Conv2d")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d: kernel_size {self.kernel_size} and stride {self.stride} "
                             f"must be positive, padding {self.padding} non-negative")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = Parameter(zeros(out_channels, in_channels, *self.kernel_size))
        self.bias = Parameter(zeros(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's default. kaiming_uniform_ with a = sqrt(5) is U(-b, b) with
        # b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5)): b = 1 / sqrt(fan_in),
        # where fan_in = in_channels * kh * kw, the inputs of one output pixel.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        self._check_input(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def forward_relu(self, x):
        """relu(self(x)) in one kernel: nn.Sequential's way through a Conv2d and its ReLU."""
        self._check_input(x)
        return conv2d_relu(x, self.weight, self.bias, self.stride, self.padding)

    def forward_relu_max_pool(self, x, pool):
        """pool(relu(self(x))) for a MaxPool2d `pool`: nn.Sequential's way through a Conv2d,
        its ReLU and a max-pool (one primitive on the numpy backend)."""
        self._check_input(x)
        return conv2d_relu_max_pool2d(x, self.weight, self.bias, self.stride, self.padding,
                                      pool.kernel_size, pool.stride, pool.padding)

    def _check_input(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r}: expects inputs (N, {self.in_channels}, H, W) with "
                             f"in_channels={self.in_channels}, got shape {x.shape}")

    def extra_repr(self):
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"bias={self.bias is not None}")
