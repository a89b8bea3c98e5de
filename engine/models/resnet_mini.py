"""A miniature ResNet (He et al. 2015) for 28x28 digits: skip connections with
batch norm (19,706 parameters).

stem: conv 3x3 x16 + BN + ReLU, max-pool 2 (28 -> 14)
stage 1: a residual block at 16 channels (14x14)
stage 2: a residual block at 32 channels, stride 2 (14 -> 7), 1x1 projection shortcut
head: global average pool, dense 10

A block computes relu(F(x) + x): the addition gives the gradient a path that
skips F, which is what lets much deeper networks of these blocks train.
"""
import math

from engine import nn
import engine.nn.functional as F

RECIPE = dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4,
              batch_size=32, schedule="onecycle", label_smoothing=0.1)


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN, plus the input (projected when the shape changes), then ReLU."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + skip)

    def flops(self, in_shape, out_shape):
        """What forward adds to its layers' work, for engine.summary: the sum and the ReLU."""
        return 2 * math.prod(out_shape)


def build(in_shape=(1, 28, 28), num_classes=10, width=16):
    channels, height, _ = in_shape
    final_side = -(-(height // 2) // 2)   # 28 -> 14 -> 7
    return nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.MaxPool2d(2),
        ResidualBlock(width, width),
        ResidualBlock(width, 2 * width, stride=2),
        nn.AvgPool2d(final_side),
        nn.Flatten(),
        nn.Linear(2 * width, num_classes),
    )
