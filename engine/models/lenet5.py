"""LeNet-5 (LeCun et al. 1998) adapted to 28x28 MNIST (61,706 parameters).

The classic shape: conv 5x5 x6 -> pool 2 -> conv 5x5 x16 -> pool 2 -> dense 120
-> dense 84 -> dense 10. The original reads 32x32 images; padding the first
convolution by 2 gives 28x28 digits the same feature-map sizes (28 -> 14 -> 10
-> 5). Modernised the usual way: ReLU instead of scaled tanh, max pooling
instead of trainable sub-sampling.
"""
from engine import nn

RECIPE = dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.0,
              batch_size=32, schedule="onecycle", label_smoothing=0.1)


def build(in_shape=(1, 28, 28), num_classes=10):
    channels, height, width = in_shape
    # 28 -> conv pad 2 -> 28 -> pool -> 14 -> conv 5 -> 10 -> pool -> 5
    side_h, side_w = (height // 2 - 4) // 2, (width // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(channels, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * side_h * side_w, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )
