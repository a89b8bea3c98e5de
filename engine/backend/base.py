"""The backend interface: everything the engine asks of a device.

The autograd layer above never talks to a GPU API. It calls the small set of
*primitives* below on whatever backend is current. Each primitive takes flat
device arrays plus the sizes it needs, and returns a new device array (the
optimizer updates work in place). Three backends implement them:

- ``gpu.GPUBackend`` turns each primitive into one or two WGSL dispatches from
  ``shaders/`` (the launchers in ``kernels/``, one module per op family, on the
  runtime of ``runtime.py``); its subclasses ``wgpu_native`` (wgpu-py) and
  ``webgpu_js`` (Pyodide + ``navigator.gpu``) only supply buffers, pipelines and
  submits.
- ``cpu_numpy.NumpyBackend`` implements the same primitives with numpy: the
  reference the GPU kernels are tested against, and the fallback natively.

Keeping the interface at this level (rather than "run kernel X") is what lets
numpy stand in for the GPU without emulating WGSL bindings and uniforms.
"""
from . import elementwise_table

FLOAT32, INT32, UINT8 = "float32", "int32", "uint8"
ITEMSIZE = {FLOAT32: 4, INT32: 4, UINT8: 1}

# Element-wise operations understood by `unary` and `binary`: one row each in
# elementwise_table.py, whose codes are the OP constants of shaders/unary.wgsl and binary.wgsl.
UNARY_OPS, BINARY_OPS = elementwise_table.UNARY_OPS, elementwise_table.BINARY_OPS
REDUCE_OPS = ("sum", "max", "min")


class Backend:
    """What every backend provides. Arrays are flat; shapes travel beside them."""

    name = "abstract"
    # True where device arrays live in host memory (numpy): reading one back costs no
    # GPU round trip, so checks of device data (class targets) can run at once.
    reads_are_free = False

    def describe(self) -> str:
        """Backend and adapter, e.g. 'gpu: llvmpipe (Vulkan, CPU adapter)'."""
        raise NotImplementedError

    # -- memory ------------------------------------------------------------
    def empty(self, numel, dtype=FLOAT32): raise NotImplementedError
    def full(self, numel, value, dtype=FLOAT32): raise NotImplementedError

    _one = None
    def one(self):
        """A float32 1.0 kept for the backend's life, which nothing writes (autograd never
        updates a gradient it was handed in place): loss.backward()'s seed, without a
        fill dispatch every step."""
        if self._one is None:
            self._one = self.full(1, 1.0)
        return self._one
    def upload(self, data, dtype=FLOAT32):
        """bytes-like (little-endian elements of `dtype`) -> device array."""
        raise NotImplementedError
    def download(self, arr) -> bytes:
        """Waits for pending work, returns the raw little-endian bytes."""
        raise NotImplementedError
    def download_many(self, arrays) -> bytes:
        """The raw bytes of several arrays, joined in order, with one wait for the device
        (the playground's layer view reads a whole refresh this way)."""
        return b"".join(self.download(a) for a in arrays)
    def fill_(self, arr, value):
        """In place: every element of `arr` becomes `value` (Tensor.zero_, zero_grad)."""
        raise NotImplementedError
    def copy_(self, dst, src):
        """In place: `dst` takes `src`'s elements (same numel and dtype), so every
        tensor that shares `dst` sees them (in-place arithmetic, +=)."""
        raise NotImplementedError
    def synchronize(self): pass

    # -- element-wise ------------------------------------------------------
    def unary(self, op, x, *args):
        """op(x, *args): `args` are the op's scalar arguments (its row's `args`)."""
        raise NotImplementedError
    def binary(self, op, a, a_shape, b, b_shape, out_shape, *args):
        """op(a, b, *args), a and b broadcast to out_shape."""
        raise NotImplementedError
    def cast(self, x, dtype): raise NotImplementedError

    # -- reductions and layout -------------------------------------------
    def reduce(self, op, x, outer, size, inner):
        """View x as (outer, size, inner); reduce the middle axis -> (outer, inner)."""
        raise NotImplementedError
    def argmax(self, x, outer, size, inner): raise NotImplementedError
    def permute(self, x, shape, perm): raise NotImplementedError

    # -- linear algebra ----------------------------------------------------
    def matmul(self, a, b, batch, M, N, K, trans_a=False, trans_b=False,
               a_batched=True, b_batched=True, bias=None, relu=False):
        """C[z] = op(A[z]) @ op(B[z]) (+ bias[N]), clamped at 0 when relu; op = transpose
        when the flag is set.
        A[z] is M x K (stored K x M when trans_a), B[z] is K x N (stored N x K when
        trans_b). An operand that is not batched is shared by every z."""
        raise NotImplementedError

    def relu_bias_backward(self, g, y, rows, cols, plane=1):
        """-> (gz, gb) for g and y viewed as (rows, cols, plane): gz = g where y > 0 else 0,
        the gradient through a fused layer's ReLU (g itself when y is None: no ReLU), and
        gb = gz summed over the rows and the plane, the bias's gradient (a Linear's (batch,
        features, 1), a Conv2d's (batch, channels, pixels))."""
        raise NotImplementedError

    # -- fused row-wise ops -------------------------------------------------
    def softmax(self, x, rows, cols, log=False): raise NotImplementedError
    def softmax_backward(self, y, g, rows, cols, log=False): raise NotImplementedError
    def cross_entropy(self, logits, targets, rows, cols, smoothing=0.0):
        """-> (loss per row, log-sum-exp per row)."""
        raise NotImplementedError
    def cross_entropy_total(self, logits, targets, rows, cols, smoothing, scale, with_grad=False):
        """-> (scale * the sum of the rows' losses, one value; log-sum-exp per row; with_grad
        its gradient d total / d logits, what cross_entropy_backward gives for grad_out 1,
        else None)."""
        raise NotImplementedError
    def cross_entropy_backward(self, logits, targets, lse, grad_out, rows, cols, scale,
                               smoothing=0.0):
        """d loss / d logits = (softmax - target) * grad_out[0] * scale, where
        target = (1 - smoothing) * onehot + smoothing / cols."""
        raise NotImplementedError

    # -- optimizers (in place) ----------------------------------------------
    # Each call updates one parameter group: `updates` holds a tuple per parameter, the
    # group's settings follow (a GPU backend may update several parameters per dispatch).
    def sgd_step(self, updates, lr, momentum, dampening, weight_decay, nesterov):
        """updates: [(p, g, velocity or None, numel, first_step)]."""
        raise NotImplementedError
    def adam_step(self, updates, lr, beta1, beta2, eps, weight_decay, decoupled):
        """updates: [(p, g, m, v, numel, step)], step counting this one (bias corrections)."""
        raise NotImplementedError
    def adagrad_step(self, updates, eps, weight_decay):
        """updates: [(p, g, sum_sq, numel, clr)], clr the decayed learning rate."""
        raise NotImplementedError
    def rmsprop_step(self, updates, lr, alpha, eps, weight_decay, momentum):
        """updates: [(p, g, square_avg, grad_avg or None, momentum buffer or None, numel)]."""
        raise NotImplementedError

    # ---- convolution ----
    # x is (N, C_in, H, W) with in_hw = (H, W); w is (C_out, C_in, kh, kw) with kernel =
    # (kh, kw); stride and padding (zeros) are (h, w) pairs; y and its gradient g are
    # (N, C_out, out_h, out_w) with out_hw = (in + 2 * padding - kernel) // stride + 1.
    def conv2d(self, x, w, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding,
               relu=False):
        """y[n, co] = sum over ci of x[n, ci] cross-correlated with w[co, ci], + bias[co]
        (bias may be None), clamped at 0 when relu."""
        raise NotImplementedError
    def conv2d_grad_input(self, g, w, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        """dx (N, C_in, H, W): each input pixel sums g * w over the windows that cover it."""
        raise NotImplementedError
    def conv2d_grad_weight(self, g, x, N, C_in, C_out, in_hw, out_hw, kernel, stride, padding):
        """dw (C_out, C_in, kh, kw): g times the input under each tap, summed over the
        batch and the output pixels."""
        raise NotImplementedError
    # Optional: max_pool2d(relu(conv2d(...))) as one primitive, for pool windows that tile
    # the map (stride = kernel, no padding); None where the backend runs the ops apart.
    # conv2d_relu_max_pool2d(x, w, bias, <conv2d's geometry>, pool) -> (out, winners);
    # conv2d_relu_max_pool2d_backward(g, winners, x, w, <geometry>, pool, needs)
    #   -> (dx, dw, dbias), needs: which three to compute. See cpu_numpy/cnn.py.
    conv2d_relu_max_pool2d = None

    # -- random numbers and data ---------------------------------------------
    def random(self, numel, seed, offset, normal=False):
        """Counter-based: element i is a pure function of (seed, offset + i), so
        every backend draws the same numbers."""
        raise NotImplementedError
    def gather_images(self, images, indices, count, row_len, scale, shift):
        """out[r, j] = images[indices[r], j] * scale + shift, images stored as uint8."""
        raise NotImplementedError

    def augment(self, x, count, channels, hw, seed, policy, black, white):
        """A randomly transformed copy of `count` images (channels x hw) for data
        augmentation: each image's flip, shift, rotation, scale, cut-out, brightness,
        contrast and noise drawn from (seed, image index), the same on every backend.
        `policy`: engine/backend/augment_fields.IDENTITY's keys; `black`/`white`: the
        values of a black and a white pixel in x. See shaders/augment.wgsl."""
        raise NotImplementedError

    # ---- pooling, normalisation, dropout, concatenation ----
    # Pooling sees x as `planes` = N * C images of in_hw = (H, W); kernel, stride and
    # padding are (h, w) pairs and out_hw = (in + 2 * padding - kernel) // stride + 1.
    def max_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        """-> (window maxima, int32 index h * W + w of each maximum within its plane;
        the first one on ties). Padding counts as -inf."""
        raise NotImplementedError
    def max_pool2d_backward(self, g, indices, planes, in_hw, out_hw, kernel, stride, padding):
        """dx: each input pixel gets the sum of the gradients of the windows it won."""
        raise NotImplementedError
    def avg_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        """Window means; padding counts as zeros inside the window (divisor kh * kw)."""
        raise NotImplementedError
    def avg_pool2d_backward(self, g, planes, in_hw, out_hw, kernel, stride, padding):
        raise NotImplementedError

    # Batch norm sees x as (N, C, L), L = H * W (or 1): statistics are per channel C.
    def batch_norm_stats(self, x, N, C, L):
        """-> (mean, biased variance) of each channel, over N * L values."""
        raise NotImplementedError
    def batch_norm(self, x, mean, var, weight, bias, N, C, L, eps):
        """(x - mean) / sqrt(var + eps) * weight + bias; weight and bias may be None."""
        raise NotImplementedError
    def batch_norm_backward(self, g, x, mean, var, weight, N, C, L, eps, training):
        """-> (dx, dweight, dbias). training: mean and var are x's own batch statistics,
        and dx includes the path through them."""
        raise NotImplementedError
    def batch_norm_update(self, running_mean, running_var, mean, var, C, momentum, count):
        """In place: running = (1 - momentum) * running + momentum * batch statistic, the
        variance made unbiased (times count / (count - 1))."""
        raise NotImplementedError

    def dropout(self, x, numel, p, seed, offset, slot=None):
        """x * keep / (1 - p): element i is kept when the uniform number random(seed,
        offset + i) is >= p, so backends agree and a second call redraws the same mask.
        slot: a name for the GPU uniform holding seed and offset, rewritten in place."""
        raise NotImplementedError

    def cat(self, arrays, outer, sizes, inner):
        """Join pieces viewed as (outer, sizes[k], inner) along the middle axis."""
        raise NotImplementedError
    def narrow(self, x, outer, size, start, length, inner):
        """x viewed as (outer, size, inner) -> x[:, start:start + length, :]."""
        raise NotImplementedError
