"""ConvNetJS's MNIST demo network (Karpathy), layer for layer (5,994 parameters).

conv 5x5 x8 pad 2 + ReLU -> max-pool 2 -> conv 5x5 x16 pad 2 + ReLU -> max-pool 3
-> dense 10 (softmax in the loss). Feature maps: 28 -> 14 -> 4 (the second pool
of 3 with stride 3 drops the last 2 rows and columns of 14, as ConvNetJS did).
"""
from engine import nn

RECIPE = dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.0,
              batch_size=32, schedule="onecycle", label_smoothing=0.1)


def build(in_shape=(1, 28, 28), num_classes=10):
    channels, height, width = in_shape
    side_h, side_w = (height // 2) // 3, (width // 2) // 3
    return nn.Sequential(
        nn.Conv2d(channels, 8, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(3),
        nn.Flatten(),
        nn.Linear(16 * side_h * side_w, num_classes),
    )
