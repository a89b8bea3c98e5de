"""nn.BatchNorm1d and nn.BatchNorm2d over F.batch_norm (engine/ops/norm.py).

The running statistics are buffers, not parameters: saved in the state_dict under
PyTorch's names (running_mean, running_var, num_batches_tracked) but never trained.
"""
from ..autograd import no_grad
from ..creation import ones, zeros
from . import functional as F
from .module import Module, Parameter


class _BatchNorm(Module):
    dims = ()   # the input ranks the subclass accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        if momentum is None:
            raise ValueError(f"{type(self).__name__}: momentum=None (a cumulative average) is "
                             f"not supported; give a number such as 0.1")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        # weight = 1, bias = 0: the layer starts as a pure normalisation
        self.weight = Parameter(ones(num_features)) if affine else None
        self.bias = Parameter(zeros(num_features)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
            self.register_buffer("num_batches_tracked", zeros((), dtype="int32"))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in self.dims:
            raise ValueError(f"{name}: expected a {' or '.join(f'{d}-D' for d in self.dims)} "
                             f"input, got a {x.ndim}-D input of shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected {self.num_features} channels (num_features) in "
                             f"dim 1, got input of shape {x.shape}")
        if self.training and self.track_running_stats:
            with no_grad():   # a counter on the device, in place: no round trip to read it
                self.num_batches_tracked.copy_((self.num_batches_tracked.float() + 1.0).int())
        # batch statistics while training, or always when there are no running ones
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch, self.momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Over (N, C) features or (N, C, L) sequences: statistics per channel C."""
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) images: statistics per channel C, over N, H and W."""
    dims = (4,)
