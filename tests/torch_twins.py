"""PyTorch twins of the zoo's models (engine/models/*.py): the same layers, the same
state_dict names and shapes, so counts, weights files and logits can be compared."""
import torch

T = torch.nn


class TorchBlock(T.Module):
    """engine/models/resnet_mini.py's ResidualBlock in PyTorch."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = T.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = T.BatchNorm2d(cout)
        self.conv2 = T.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = T.BatchNorm2d(cout)
        self.shortcut = None if stride == 1 and cin == cout else T.Sequential(
            T.Conv2d(cin, cout, 1, stride, bias=False), T.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.shortcut is None else self.shortcut(x)))


def torch_twin(name):
    """The zoo model `name` in PyTorch, with the engine's state_dict names."""
    if name == "mlp":
        return T.Sequential(T.Flatten(), T.Linear(784, 256), T.ReLU(), T.Linear(256, 256), T.ReLU(),
                            T.Linear(256, 10))
    if name == "lenet5":
        return T.Sequential(T.Conv2d(1, 6, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
                            T.Conv2d(6, 16, 5), T.ReLU(), T.MaxPool2d(2), T.Flatten(),
                            T.Linear(400, 120), T.ReLU(), T.Linear(120, 84), T.ReLU(), T.Linear(84, 10))
    if name == "convnetjs":
        return T.Sequential(T.Conv2d(1, 8, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
                            T.Conv2d(8, 16, 5, padding=2), T.ReLU(), T.MaxPool2d(3), T.Flatten(),
                            T.Linear(256, 10))
    assert name == "resnet_mini", name
    return T.Sequential(T.Conv2d(1, 16, 3, padding=1, bias=False), T.BatchNorm2d(16), T.ReLU(),
                        T.MaxPool2d(2), TorchBlock(16, 16), TorchBlock(16, 32, 2), T.AvgPool2d(7),
                        T.Flatten(), T.Linear(32, 10))
