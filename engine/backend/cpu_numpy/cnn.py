"""The numpy backend's convolution and pooling primitives (see __init__.py).

Speed here comes from these habits (figures in BENCHMARKS.md, sections 5 and 6):

- **Let BLAS do the arithmetic.** A convolution is rewritten as one matrix product
  on contiguous matrices ("im2col"), which OpenBLAS runs at 100+ GFLOP/s on two
  cores, instead of an einsum over sliding windows.
- **Move whole arrays, never single windows.** Gathering windows (im2col), adding
  them back (col2im) and pooling loop over the kh*kw *taps* of the kernel, not over
  windows: tap (i, j) of every window, of every image and channel, is one strided
  slice of the padded input, so each step of the loop is one vectorised copy or add.
  And no `np.where` on data-dependent masks: it branches per element, which is slow
  when the mask looks random (a ReLU's, a max-pool's); arithmetic with the mask is not.
- **Transpose in blocks.** Moving the batch axis in and out (see below) is a
  transposition, and numpy copies a transposed array in the order it writes, reading
  the source down its columns: a cache miss per float once the array outgrows the
  cache. `_transposed` copies 128 source rows at a time instead, which stay in cache.
- **Stay batch-innermost through a block.** A Conv2d, its ReLU and a MaxPool2d run as
  one primitive (`conv2d_relu_max_pool2d`): the pool reads the product's output in
  its own layout, and only the 4-9x smaller pooled map is transposed.
"""
import weakref

import numpy as np

from ..elementwise_table import where_mask


def _taps(padded, kernel, stride, out_hw):
    """For each kernel tap (i, j): the view of `padded` (planes, Hp, Wp, ...) whose element
    [:, oh, ow] is the pixel that tap (i, j) of output pixel (oh, ow)'s window reads,
    padded[:, oh * sh + i, ow * sw + j]. A view: writing to it writes `padded`."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, padded[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]


BLOCK_ROWS = 128   # _transposed's block: 2.5-2.7x numpy's own copy at 64-128 (measured)


def _transposed(a, add=None):
    """a (R, C) -> a new contiguous (C, R) array, with add[r] added to column r on the way
    if given; copied BLOCK_ROWS rows of `a` at a time (see the module's docstring)."""
    R, C = a.shape
    out = np.empty((C, R), a.dtype)
    for start in range(0, R, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        if add is None:
            out[:, rows] = a[rows].T
        else:
            np.add(a[rows].T, add[rows], out=out[:, rows])
    return out


def _batch_last(a, N, C):
    """(N, C, H, W) -> a contiguous (C, H * W * N) matrix: one row per channel."""
    return _transposed(a.reshape(N, -1)).reshape(C, -1)


class CNNPrimitives:
    """Mixed into NumpyBackend: `self.float` is its float dtype."""

    # ---- convolution: im2col + one BLAS matrix product per pass ----
    #
    # With K = C_in*kh*kw and P = OH*OW*N (every output pixel of the batch):
    #   cols (K, P)     im2col: column p holds the K input values output pixel p's window sees
    #   y  = w (C_out, K) @ cols                                    forward
    #   dw = g (C_out, P) @ cols^T                                  grad weight
    #   dx = col2im(w^T @ g): each window's K values added back     grad input
    #        onto the pixels they came from
    # Inside these functions images are stored (C, H, W, N), the batch innermost: then a
    # tap's window of one row of one channel is OW * N consecutive floats for every image
    # at once, so the tap loop moves long contiguous runs whatever the stride (with NCHW
    # each run would be one image row, 7-28 floats). That layout change is paid once per
    # array, by the transposing copies in and out (measured 1.3-2x faster overall).

    def _im2col(self, x, N, C_in, in_hw, out_hw, kernel, stride, padding):
        """x (N, C_in, H, W) -> cols (C_in*kh*kw, OH*OW*N), row (ci, i, j) = what tap
        (i, j) of each window reads in channel ci. kh*kw copies, one per tap."""
        (H, W), (ph, pw) = in_hw, padding
        xp = np.zeros((C_in, H + 2 * ph, W + 2 * pw, N), self.float)   # zero padding
        xp[:, ph:ph + H, pw:pw + W] = x.reshape(N, C_in, H, W).transpose(1, 2, 3, 0)
        cols = np.empty((C_in, *kernel, *out_hw, N), self.float)
        for i, j, window in _taps(xp, kernel, stride, out_hw):
            cols[:, i, j] = window
        return cols.reshape(C_in * kernel[0] * kernel[1], -1)

    def _keep_columns(self, x, geometry, cols):
        """Keep the forward pass's im2col of x, while x lives, for the weight gradient:
        then a training step builds them once per layer, not twice. Memory for time:
        a layer's columns are kh*kw times its input."""
        key = (id(x), geometry)
        forget = lambda _, table=self._kept_columns: table.pop(key, None)  # noqa: E731
        self._kept_columns[key] = (weakref.ref(x, forget), cols)

    def _kept_columns_of(self, x, geometry):
        """The columns the forward pass kept for x (their last use: forgotten), or None."""
        kept = self._kept_columns.pop((id(x), geometry), None)
        return kept[1] if kept is not None and kept[0]() is x else None

    def conv2d(self, x, w, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding,
               relu=False):
        geometry = (N, C_in, in_hw, out_hw, kernel, stride, padding)
        cols = self._im2col(x, *geometry)   # always anew: x may have changed in place since
        self._keep_columns(x, geometry, cols)
        y = w.reshape(C_out, -1) @ cols                        # (C_out, OH*OW*N)
        # into NCHW order: (C_out * OH*OW, N) -> (N, C_out * OH*OW); the bias is added
        # by that copy, no extra pass
        pixels = out_hw[0] * out_hw[1]
        add = None if bias is None else np.repeat(bias, pixels)
        out = _transposed(y.reshape(-1, N), add)
        if relu:
            np.maximum(out, 0, out=out)
        return out.ravel()

    def conv2d_grad_weight(self, g, x, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        geometry = (N, C_in, in_hw, out_hw, kernel, stride, padding)
        return self._grad_weight(_batch_last(g, N, C_out), x, geometry)

    def _grad_weight(self, g_rows, x, geometry):
        """g_rows: the output's gradient batch-last, (C_out, OH*OW*N)."""
        # autograd's version check has made sure x did not change since the forward pass
        cols = self._kept_columns_of(x, geometry)
        if cols is None:
            cols = self._im2col(x, *geometry)
        # dw^T = cols @ g^T rather than g @ cols^T: the same sums, but OpenBLAS runs this
        # shape (a long inner dimension, few outputs) about 1.5x faster (measured)
        return (cols @ g_rows.T).T.ravel()

    def conv2d_grad_input(self, g, w, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        geometry = (N, C_in, in_hw, out_hw, kernel, stride, padding)
        return self._grad_input(_batch_last(g, N, C_out), w, geometry)

    def _grad_input(self, g_rows, w, geometry):
        """g_rows: the output's gradient batch-last, (C_out, OH*OW*N)."""
        N, C_in, (H, W), out_hw, kernel, stride, (ph, pw) = geometry
        # what each tap of each window sends back to the pixel it read: sum over co of w * g
        sent = w.reshape(len(g_rows), -1).T @ g_rows
        sent = sent.reshape(C_in, *kernel, *out_hw, N)
        dxp = np.zeros((C_in, H + 2 * ph, W + 2 * pw, N), self.float)
        for i, j, window in _taps(dxp, kernel, stride, out_hw):   # col2im, tap by tap:
            window += sent[:, i, j]   # windows overlap, so their shares add up
        # drop the padding's share (a copy of long runs), then back into NCHW order
        inside = np.ascontiguousarray(dxp[:, ph:ph + H, pw:pw + W]) if ph or pw else dxp
        return _transposed(inside.reshape(-1, N)).ravel()

    # ---- a Conv2d, its ReLU and a MaxPool2d as one primitive ----
    #
    # A CNN's usual block (LeNet-5's and ConvNetJS's layers). Run apart, the product's
    # batch-last output is transposed into NCHW for the pool, whose taps then read runs
    # of 4-14 floats at a stride, and the backward pass transposes the pool's gradient
    # back to batch-last for the products. Here the product's output is pooled where it
    # lies (a tap reads runs of N floats), only the pooled map (1/4 or 1/9 of it) is
    # transposed, and the backward pass stays batch-last from the pooled gradient on.
    # Only for windows that tile the map (stride = kernel, no padding): each pixel is
    # then in one window at most, so the backward pass writes, never adds.
    NO_GRADIENT = 255   # a window's winner where its maximum, after the ReLU, was 0

    def conv2d_relu_max_pool2d(self, x, w, bias, N, C_in, C_out, in_hw, out_hw, kernel,
                               stride, padding, pool):
        """-> (max_pool2d(relu(conv2d(...)), pool) in NCHW, winners): winners (C_out, PH,
        PW, N) uint8, the tap (i * pool_w + j) that won each window, or NO_GRADIENT."""
        geometry = (N, C_in, in_hw, out_hw, kernel, stride, padding)
        cols = self._im2col(x, *geometry)
        self._keep_columns(x, geometry, cols)
        y = w.reshape(C_out, -1) @ cols                        # (C_out, OH*OW*N)
        if bias is not None:
            y += bias[:, None]
        np.maximum(y, 0, out=y)
        pooled_hw = (out_hw[0] // pool[0], out_hw[1] // pool[1])
        best = np.full((C_out, *pooled_hw, N), -np.inf, self.float)
        winners = np.zeros(best.shape, np.uint8)
        # the same comparisons, in the same order, as max_pool2d's
        for tap, (_, _, v) in enumerate(_taps(y.reshape(C_out, *out_hw, N), pool, pool,
                                              pooled_hw)):
            if tap:
                better = v > best
                # winners = where(better, tap, winners), as uint8 arithmetic (mod 256: exact)
                step = np.subtract(tap, winners, dtype=np.uint8)
                step *= better
                winners += step
            np.fmax(best, v, out=best)
        # the ReLU passes no gradient where its output, the window's maximum, was 0
        # (best is never NaN: fmax skips NaNs, and it starts at -inf)
        winners |= np.multiply(best <= 0, self.NO_GRADIENT, dtype=np.uint8)
        return _transposed(best.reshape(-1, N)).ravel(), winners

    def conv2d_relu_max_pool2d_backward(self, g, winners, x, w, N, C_in, C_out, in_hw,
                                        out_hw, kernel, stride, padding, pool, needs):
        """-> (grad x, grad w, grad bias), None where `needs` (three bools) says so."""
        geometry = (N, C_in, in_hw, out_hw, kernel, stride, padding)
        pooled_hw = winners.shape[1:3]
        g = _batch_last(g, N, C_out).reshape(winners.shape)
        # each window's gradient to the pixel that won it (a write: windows don't overlap)
        dy = np.zeros((C_out, *out_hw, N), self.float)
        for tap, (_, _, window) in enumerate(_taps(dy, pool, pool, pooled_hw)):
            where_mask(np, winners == tap, g, out=window)
        dy = dy.reshape(C_out, -1)
        return (self._grad_input(dy, w, geometry) if needs[0] else None,
                self._grad_weight(dy, x, geometry) if needs[1] else None,
                dy.sum(axis=1) if needs[2] else None)

    # ---- pooling ----
    @staticmethod
    def _pad(x, planes, in_hw, padding, value):
        (ph, pw) = padding
        x = x.reshape(planes, *in_hw)
        if ph == pw == 0:
            return x
        return np.pad(x, ((0, 0), (ph, ph), (pw, pw)), constant_values=value)

    def max_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        W = in_hw[1]
        # each window's origin (top, left), and the pixel each of its taps reads
        top = np.arange(out_hw[0], dtype=np.int32)[:, None] * stride[0] - padding[0]
        left = np.arange(out_hw[1], dtype=np.int32)[None, :] * stride[1] - padding[1]
        best = np.full((planes, *out_hw), -np.inf, x.dtype)
        # if every value is -inf: the window's first pixel inside the image, as on the GPU
        index = np.empty(best.shape, np.int32)
        index[...] = np.maximum(top, 0) * W + np.maximum(left, 0)
        xp = self._pad(x, planes, in_hw, padding, -np.inf)
        taps = _taps(xp, kernel, stride, out_hw)
        if tuple(padding) == (0, 0):   # the first tap is inside the image, and `index` already
            np.fmax(best, next(taps)[2], out=best)   # points there: only its values
        for i, j, v in taps:
            better = v > best   # strict: ties keep the first, like PyTorch; NaN never wins
            # index = where(better, this tap's pixel, index), written as arithmetic
            index += better * ((top + i) * W + left + j - index)
            np.fmax(best, v, out=best)   # = where(better, v, best): fmax skips a NaN v
        return best.ravel(), index.ravel()

    def max_pool2d_backward(self, g, indices, planes, in_hw, out_hw, kernel, stride, padding):
        plane_size = in_hw[0] * in_hw[1]
        dx = np.zeros(planes * plane_size, self.float)
        # each window's gradient goes to the pixel that won it; add.at, not +=, because
        # overlapping windows can send several gradients to one pixel (flat indices:
        # np.add.at is several times faster with one index array than with a tuple)
        where = indices.reshape(planes, -1) + np.arange(planes)[:, None] * plane_size
        np.add.at(dx, where.ravel(), g)
        return dx

    def avg_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        xp = self._pad(x, planes, in_hw, padding, 0.0)
        total = np.zeros((planes, *out_hw), self.float)
        for _, _, v in _taps(xp, kernel, stride, out_hw):
            total += v
        total /= kernel[0] * kernel[1]
        return total.ravel()

    def avg_pool2d_backward(self, g, planes, in_hw, out_hw, kernel, stride, padding):
        (H, W), (ph, pw) = in_hw, padding
        gp = np.zeros((planes, H + 2 * ph, W + 2 * pw), self.float)
        share = g.reshape(planes, *out_hw) / (kernel[0] * kernel[1])
        for _, _, v in _taps(gp, kernel, stride, out_hw):
            v += share   # every pixel of each window gets its share
        return np.ascontiguousarray(gp[:, ph:ph + H, pw:pw + W]).ravel()
