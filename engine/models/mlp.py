"""MLP with two hidden layers of 256 and ReLU (784-256-256-10 on MNIST, 269,322 parameters):
the course's multi-layer perceptron.

Recipe: SGD with Nesterov momentum, a one-cycle learning rate (a short warm-up,
then a linear decay to almost zero) and label smoothing 0.1. In one epoch this
reaches about 97.9% on MNIST where a constant-rate Adam(1e-3) stops near 96.8%:
see docs/TRAINING.md.
"""
from engine import nn

RECIPE = dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.0,
              batch_size=32, schedule="onecycle", label_smoothing=0.1)


def build(in_shape=(1, 28, 28), num_classes=10, hidden=(256, 256), activation=nn.ReLU):
    layers = [nn.Flatten()]
    width = 1
    for s in in_shape:
        width *= s
    for h in hidden:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)
