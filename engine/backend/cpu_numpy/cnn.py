"""The numpy backend's convolution, pooling and batch-norm primitives (see __init__.py)."""
import numpy as np


class CNNPrimitives:
    """Mixed into NumpyBackend: `self.float` is its float dtype."""

    # ---- convolution ----
    @staticmethod
    def _conv_windows(x, N, C_in, in_hw, out_hw, kernel, stride, padding):
        """x (N, C_in, H, W) -> a view (N, C_in, OH, OW, kh, kw) of the zero-padded input:
        [n, ci, oh, ow] is the kh x kw window that output pixel (oh, ow) sees."""
        (ph, pw), (sh, sw), (oh, ow) = padding, stride, out_hw
        xp = np.pad(x.reshape(N, C_in, *in_hw), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        windows = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(2, 3))
        return windows[:, :, :sh * (oh - 1) + 1:sh, :sw * (ow - 1) + 1:sw]

    def conv2d(self, x, w, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        windows = self._conv_windows(x, N, C_in, in_hw, out_hw, kernel, stride, padding)
        # optimize=True: einsum copies the windows into one matrix and makes one BLAS call
        y = np.einsum("ncpqij,ocij->nopq", windows, w.reshape(C_out, C_in, *kernel),
                      optimize=True)
        if bias is not None:
            y = y + bias[:, None, None]
        return y.astype(self.float).ravel()

    def conv2d_grad_input(self, g, w, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        (H, W), (ph, pw), (sh, sw), (oh, ow) = in_hw, padding, stride, out_hw
        # what each tap (i, j) of each window sends back: sum over co of g * w
        sent = np.einsum("nopq,ocij->ncpqij", g.reshape(N, C_out, oh, ow),
                         w.reshape(C_out, C_in, *kernel), optimize=True)
        dxp = np.zeros((N, C_in, H + 2 * ph, W + 2 * pw), self.float)
        for i in range(kernel[0]):
            for j in range(kernel[1]):   # tap (i, j) of window (p, q) is pixel (p*sh + i, q*sw + j)
                dxp[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += sent[..., i, j]
        return dxp[:, :, ph:ph + H, pw:pw + W].ravel()   # the padding's share is dropped

    def conv2d_grad_weight(self, g, x, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        windows = self._conv_windows(x, N, C_in, in_hw, out_hw, kernel, stride, padding)
        dw = np.einsum("ncpqij,nopq->ocij", windows, g.reshape(N, C_out, *out_hw),
                       optimize=True)
        return dw.astype(self.float).ravel()

    # ---- pooling and normalisation ----
    @staticmethod
    def _windows(xp, kernel, stride, out_hw):
        """For each kernel offset (i, j): the value at that offset of every window, as a
        (planes, OH, OW) view into the padded images xp (so `+=` writes through)."""
        (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
        for i in range(kh):
            for j in range(kw):
                yield i, j, xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]

    @staticmethod
    def _pad(x, planes, in_hw, padding, value):
        (ph, pw) = padding
        return np.pad(x.reshape(planes, *in_hw), ((0, 0), (ph, ph), (pw, pw)),
                      constant_values=value)

    def max_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        W = in_hw[1]
        top = np.arange(out_hw[0])[:, None] * stride[0] - padding[0]   # each window's origin
        left = np.arange(out_hw[1])[None, :] * stride[1] - padding[1]
        best = np.full((planes, *out_hw), -np.inf, x.dtype)
        # if every value is -inf: the window's first pixel inside the image, as on the GPU
        index = np.maximum(top, 0) * W + np.maximum(left, 0)
        xp = self._pad(x, planes, in_hw, padding, -np.inf)
        for i, j, v in self._windows(xp, kernel, stride, out_hw):
            better = v > best   # strict: ties keep the first, like PyTorch
            best = np.where(better, v, best)
            index = np.where(better, (top + i) * W + left + j, index)
        return best.ravel(), np.broadcast_to(index, best.shape).astype(np.int32).ravel()

    def max_pool2d_backward(self, g, indices, planes, in_hw, out_hw, kernel, stride, padding):
        dx = np.zeros((planes, in_hw[0] * in_hw[1]), self.float)
        # add.at, not +=: overlapping windows can send several gradients to one pixel
        np.add.at(dx, (np.arange(planes)[:, None], indices.reshape(planes, -1)),
                  g.reshape(planes, -1))
        return dx.ravel()

    def avg_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        xp = self._pad(x, planes, in_hw, padding, 0.0)
        total = sum(v for _, _, v in self._windows(xp, kernel, stride, out_hw))
        return (total / (kernel[0] * kernel[1])).astype(self.float).ravel()

    def avg_pool2d_backward(self, g, planes, in_hw, out_hw, kernel, stride, padding):
        (H, W), (ph, pw) = in_hw, padding
        gp = np.zeros((planes, H + 2 * ph, W + 2 * pw), self.float)
        share = g.reshape(planes, *out_hw) / (kernel[0] * kernel[1])
        for _, _, v in self._windows(gp, kernel, stride, out_hw):
            v += share   # every pixel of each window gets its share
        return gp[:, ph:ph + H, pw:pw + W].ravel()

    def batch_norm_stats(self, x, N, C, L):
        x = x.reshape(N, C, L).astype(np.float64)   # sums of millions: accumulate in float64
        mean = x.mean(axis=(0, 2))
        var = ((x - mean[:, None]) ** 2).mean(axis=(0, 2))
        return mean.astype(self.float), var.astype(self.float)

    def batch_norm(self, x, mean, var, weight, bias, N, C, L, eps):
        y = (x.reshape(N, C, L) - mean[:, None]) / np.sqrt(var[:, None] + eps)
        if weight is not None:
            y = y * weight[:, None]
        if bias is not None:
            y = y + bias[:, None]
        return y.astype(self.float).ravel()

    def batch_norm_backward(self, g, x, mean, var, weight, N, C, L, eps, training):
        g = g.reshape(N, C, L)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x.reshape(N, C, L) - mean[:, None]) * inv_std[:, None]
        dbias = g.sum(axis=(0, 2), dtype=np.float64).astype(self.float)
        dweight = (g * xhat).sum(axis=(0, 2), dtype=np.float64).astype(self.float)
        if training:  # through the batch's mean and var too (shaders/batch_norm_backward.wgsl)
            g = g - (dbias[:, None] + xhat * dweight[:, None]) / (N * L)
        scale = inv_std if weight is None else inv_std * weight
        return (g * scale[:, None]).astype(self.float).ravel(), dweight, dbias

    def batch_norm_update(self, running_mean, running_var, mean, var, C, momentum, count):
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (count / (count - 1))
