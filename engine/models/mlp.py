"""The course MLP: 784 -> 256 -> 256 -> 10 with ReLU (269,322 parameters)."""
from .. import nn


def mlp(in_shape=(1, 28, 28), num_classes=10, hidden=(256, 256), activation=nn.ReLU):
    layers = [nn.Flatten()]
    width = 1
    for s in in_shape:
        width *= s
    for h in hidden:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
