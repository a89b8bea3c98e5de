"""A CNN's usual block, max_pool2d(relu(conv2d(x))), as one op where the backend has
it as one primitive (numpy: cpu_numpy/cnn.py says why that is faster there), else as
the ops apart: conv2d_relu, then max_pool2d. The same values either way (tested).
nn.Sequential sends every Conv2d, ReLU, MaxPool2d sequence of its layers through it."""
from ..autograd import Function
from ..tensor import Tensor
from .conv import Conv2d, _geometry, _pair
from .pool import max_pool2d


class Conv2dReluMaxPool2d(Function):
    def forward(self, x, w, b, geometry, pool):
        self.geometry, self.pool = geometry, pool
        self.bias_grad = b is not None and b.requires_grad
        be = x.backend
        out, winners = be.conv2d_relu_max_pool2d(x.data, w.data, None if b is None else b.data,
                                                 *geometry, pool)
        N, _, C_out, _, out_hw = geometry[:5]
        pooled_hw = (out_hw[0] // pool[0], out_hw[1] // pool[1])
        # which pixel won each window (and whether the ReLU let its gradient through):
        # all the backward pass needs besides x and w
        self.save_for_backward(x, w, Tensor(winners, (C_out, *pooled_hw, N), "uint8", be))
        return Tensor(out, (N, C_out, *pooled_hw), "float32", be)

    def backward(self, g):
        x, w, winners = self.saved
        be = g.backend
        needs = (x.requires_grad, w.requires_grad, self.bias_grad)
        grads = be.conv2d_relu_max_pool2d_backward(g.data, winners.data, x.data, w.data,
                                                   *self.geometry, self.pool, needs)
        shapes = (x.shape, w.shape, (self.geometry[2],))
        return tuple(None if d is None else Tensor(d, shape, "float32", be)
                     for d, shape in zip(grads, shapes))


def conv2d_relu_max_pool2d(x, weight, bias=None, stride=1, padding=0, pool_size=2,
                           pool_stride=None, pool_padding=0):
    """max_pool2d(relu(conv2d(x, weight, bias, stride, padding)), pool_size, pool_stride,
    pool_padding), with conv2d's and max_pool2d's arguments and errors."""
    geometry = _geometry(x, weight, bias, stride, padding)
    pool = _pair(pool_size, "kernel_size", "max_pool2d")
    pool_stride = pool if pool_stride is None else _pair(pool_stride, "stride", "max_pool2d")
    out_hw = geometry[4]
    tiles = (pool == pool_stride and _pair(pool_padding, "padding", "max_pool2d") == (0, 0)
             and min(pool) >= 1 and pool[0] * pool[1] < 255   # taps fit the uint8 winners
             and all(o >= p for o, p in zip(out_hw, pool)))
    if x.backend.conv2d_relu_max_pool2d is None or not tiles:   # conv2d_relu, checked above
        y = Conv2d.apply(x, weight, bias, geometry=geometry, relu=True)
        return max_pool2d(y, pool_size, pool_stride, pool_padding)
    return Conv2dReluMaxPool2d.apply(x, weight, bias, geometry=geometry, pool=pool)
