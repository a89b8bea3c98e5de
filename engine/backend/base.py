"""The backend interface: everything the engine asks of a device.

The autograd layer above never talks to a GPU API. It calls the small set of
*primitives* below on whatever backend is current. Each primitive takes flat
device arrays plus the sizes it needs, and returns a new device array (the
optimizer updates work in place). Three backends implement them:

- ``gpu.GPUBackend`` turns each primitive into one or two WGSL dispatches from
  ``shaders/``; its subclasses ``wgpu_native`` (wgpu-py) and ``webgpu_js``
  (Pyodide + ``navigator.gpu``) only supply buffers, pipelines and submits.
- ``cpu_numpy.NumpyBackend`` implements the same primitives with numpy: the
  reference the GPU kernels are tested against, and the fallback natively.

Keeping the interface at this level (rather than "run kernel X") is what lets
numpy stand in for the GPU without emulating WGSL bindings and uniforms.
"""

FLOAT32, INT32, UINT8 = "float32", "int32", "uint8"
ITEMSIZE = {FLOAT32: 4, INT32: 4, UINT8: 1}

# Element-wise operations understood by `unary` and `binary`. Their numeric
# codes are the `OP` override constants of shaders/unary.wgsl and binary.wgsl.
UNARY_OPS = ("copy", "neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh",
             "leaky_relu", "elu", "scale", "add_scalar", "pow_scalar", "rsub_scalar",
             "rdiv_scalar", "sign", "square")
BINARY_OPS = ("add", "sub", "mul", "div", "pow", "maximum", "minimum",
              "eq", "ne", "lt", "le", "gt", "ge",
              # backward helpers: (grad, saved) -> grad of the input
              "relu_grad", "leaky_relu_grad", "elu_grad", "sigmoid_grad", "tanh_grad",
              "lhs")  # "lhs" returns `a` broadcast to the output shape
REDUCE_OPS = ("sum", "max", "min")


class Backend:
    """What every backend provides. Arrays are flat; shapes travel beside them."""

    name = "abstract"

    def describe(self) -> str:
        """Backend and adapter, e.g. 'gpu: llvmpipe (Vulkan, CPU adapter)'."""
        raise NotImplementedError

    # -- memory ------------------------------------------------------------
    def empty(self, numel, dtype=FLOAT32): raise NotImplementedError
    def full(self, numel, value, dtype=FLOAT32): raise NotImplementedError
    def upload(self, data, dtype=FLOAT32):
        """bytes-like (little-endian elements of `dtype`) -> device array."""
        raise NotImplementedError
    def download(self, arr) -> bytes:
        """Waits for pending work, returns the raw little-endian bytes."""
        raise NotImplementedError
    def synchronize(self): pass

    # -- element-wise ------------------------------------------------------
    def unary(self, op, x, alpha=0.0): raise NotImplementedError
    def binary(self, op, a, a_shape, b, b_shape, out_shape, alpha=0.0): raise NotImplementedError
    def cast(self, x, dtype): raise NotImplementedError

    # -- reductions and layout -------------------------------------------
    def reduce(self, op, x, outer, size, inner):
        """View x as (outer, size, inner); reduce the middle axis -> (outer, inner)."""
        raise NotImplementedError
    def argmax(self, x, outer, size, inner): raise NotImplementedError
    def permute(self, x, shape, perm): raise NotImplementedError

    # -- linear algebra ----------------------------------------------------
    def matmul(self, a, b, batch, M, N, K, trans_a=False, trans_b=False,
               a_batched=True, b_batched=True, bias=None):
        """C[z] = op(A[z]) @ op(B[z]) (+ bias[N]); op = transpose when the flag is set.
        A[z] is M x K (stored K x M when trans_a), B[z] is K x N (stored N x K when
        trans_b). An operand that is not batched is shared by every z."""
        raise NotImplementedError

    # -- fused row-wise ops -------------------------------------------------
    def softmax(self, x, rows, cols, log=False): raise NotImplementedError
    def softmax_backward(self, y, g, rows, cols, log=False): raise NotImplementedError
    def cross_entropy(self, logits, targets, rows, cols):
        """-> (loss per row, log-sum-exp per row)."""
        raise NotImplementedError
    def cross_entropy_backward(self, logits, targets, lse, grad_out, rows, cols, scale):
        """d loss / d logits = (softmax - onehot) * grad_out[0] * scale."""
        raise NotImplementedError

    # -- optimizers (in place) ----------------------------------------------
    def sgd_step(self, p, g, velocity, numel, lr, momentum, dampening, weight_decay,
                 nesterov, first_step): raise NotImplementedError
    def adam_step(self, p, g, m, v, numel, lr, beta1, beta2, eps, weight_decay,
                  step, decoupled): raise NotImplementedError

    # -- random numbers and data ---------------------------------------------
    def random(self, numel, seed, offset, normal=False):
        """Counter-based: element i is a pure function of (seed, offset + i), so
        every backend draws the same numbers."""
        raise NotImplementedError
    def gather_images(self, images, indices, count, row_len, scale, shift):
        """out[r, j] = images[indices[r], j] * scale + shift, images stored as uint8."""
        raise NotImplementedError
