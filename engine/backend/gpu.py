"""The GPU backend: every primitive of `base.Backend` as WGSL dispatches.

This file knows which kernel each primitive runs, how its uniform parameters
are packed and how many workgroups it needs. It does not know the GPU API:
the subclasses `wgpu_native.WgpuBackend` (wgpu-py) and
`webgpu_js.WebGPUBackend` (Pyodide + navigator.gpu) supply the plumbing
methods marked "plumbing" below.

Speed comes from never waiting: dispatches are recorded into one open compute
pass and only submitted when the CPU needs a result (a download), when data
is uploaded, or when many have piled up. Buffers, pipelines, uniform blocks and
bind groups are all cached, so a training step that repeats the previous one
creates no GPU objects at all.
"""
import math
import struct
from collections import OrderedDict

from .base import Backend, FLOAT32, INT32, UINT8, ITEMSIZE, UNARY_OPS, BINARY_OPS
from ..shaders import load_shader

WG = 256            # threads per workgroup in the 1-D kernels
MAX_GROUPS = 65535  # WebGPU's default limit per dispatch dimension
MAX_DIMS = 8        # broadcast/permute kernels index up to 8 dims (two vec4<u32>)
MAX_PENDING = 1024  # submit after this many recorded dispatches
REDUCE_CHUNK = 256 * 64  # row elements per workgroup in reductions: 64 loads per thread
MATMUL_K_SLICE = 32768   # longest K one matmul dispatch walks
WIDE_ROW = 256           # softmax / cross-entropy rows wider than this get a workgroup each


def _pack(*fields):
    """Uniform block: 4-byte fields ('u', 'i' or 'f', value), padded to 16 bytes."""
    data = b"".join(struct.pack("<" + kind, value) for kind, value in fields)
    return data + b"\0" * (-len(data) % 16)


def _dims(values):
    """Up to 8 u32 as two vec4<u32> for a uniform block."""
    values = list(values) + [0] * (MAX_DIMS - len(values))
    return [("I", v) for v in values]


def _grid(groups):
    """Spread a 1-D workgroup count over x and y to stay under 65,535 per dimension."""
    if groups <= MAX_GROUPS:
        return (groups, 1, 1)
    return (MAX_GROUPS, math.ceil(groups / MAX_GROUPS), 1)


def _contiguous_strides(shape):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return strides[::-1]


def _broadcast_strides(shape, out_shape):
    shape = (1,) * (len(out_shape) - len(shape)) + tuple(shape)
    return [0 if s == 1 and o != 1 else st
            for s, o, st in zip(shape, out_shape, _contiguous_strides(shape))]


def _collapse(out_shape, *stride_lists):
    """Merge neighbouring dims that every operand walks contiguously, drop size-1
    dims: (64, 256) + bias (256,) stays 2-D, same-shape operands become 1-D."""
    dims = [(s, [st[i] for st in stride_lists]) for i, s in enumerate(out_shape) if s != 1]
    merged = []
    for size, strides in dims:
        if merged:
            psize, pstrides = merged[-1]
            if all(ps == st * size for ps, st in zip(pstrides, strides)):
                merged[-1] = (psize * size, strides)
                continue
        merged.append((size, strides))
    shape = [s for s, _ in merged]
    return shape, [[st[k] for _, st in merged] for k in range(len(stride_lists))]


class GPUArray:
    """A device buffer holding `numel` elements; returns to the pool when dropped."""
    __slots__ = ("handle", "serial", "capacity", "numel", "dtype", "backend", "__weakref__")

    def __init__(self, backend, handle, serial, capacity, numel, dtype):
        self.handle, self.serial, self.capacity = handle, serial, capacity
        self.numel, self.dtype, self.backend = numel, dtype, backend

    @property
    def nbytes(self):
        return self.numel * ITEMSIZE[self.dtype]

    def __del__(self):
        try:
            self.backend._release(self)
        except Exception:  # interpreter shutdown: nothing left to return it to
            pass


class GPUBackend(Backend):
    name = "gpu"
    adapter_name = "?"
    is_software = False

    def __init__(self):
        self._pool = {}                 # capacity -> [(handle, serial)]
        # Every buffer handle we own, by serial. Holding them here keeps a handle out of
        # Python's cyclic garbage: when a GPUArray dies inside a reference cycle (a
        # traceback, a closure), its handle would otherwise be finalised (released by
        # the GPU API) in the same sweep in which GPUArray.__del__ returns it to the
        # pool, and the next allocation would bind a dead buffer.
        self._owned = {}
        self._pooled_bytes = 0
        self._serial = 0
        self._pipelines = {}
        self._uniforms = OrderedDict()  # packed bytes -> (handle, serial)
        # Uniforms whose values change every step (an optimizer's learning rate and
        # bias corrections): one buffer per slot, rewritten in place, so its bind
        # group stays cached. slot -> [handle, serial, bytes, submit count when last bound]
        self._slots = OrderedDict()
        self._submit_count = 0
        self._bind_groups = OrderedDict()
        self._pending = 0
        self._graveyard = []            # destroyed only after the next submit
        self._dummy = None
        self.stats = {"dispatches": 0, "submits": 0, "buffers_created": 0}

    # ---- plumbing, provided by each GPU API ------------------------------------
    def _create_buffer(self, nbytes): raise NotImplementedError
    def _create_uniform(self, data): raise NotImplementedError
    def _destroy(self, handle): raise NotImplementedError
    def _write_buffer(self, handle, data): raise NotImplementedError
    def _read_buffer(self, handle, nbytes): raise NotImplementedError
    def _create_pipeline(self, source, entry, constants, label): raise NotImplementedError
    def _create_bind_group(self, pipeline, handles): raise NotImplementedError
    def _dispatch(self, pipeline, bind_group, groups): raise NotImplementedError
    def _submit(self): raise NotImplementedError

    def describe(self):
        return f"gpu: {self.adapter_name}"

    # ---- memory -------------------------------------------------------------------
    def _next_serial(self):
        self._serial += 1
        return self._serial

    @staticmethod
    def _capacity(nbytes):
        """Size classes: powers of two up to 1 MiB, then whole MiB."""
        nbytes = max(nbytes, 16)
        if nbytes <= 1 << 20:
            return 1 << (nbytes - 1).bit_length()
        return -(-nbytes // (1 << 20)) * (1 << 20)

    def _alloc(self, numel, dtype):
        capacity = self._capacity(numel * ITEMSIZE[dtype])
        free = self._pool.get(capacity)
        if free:
            handle, serial = free.pop()
            self._pooled_bytes -= capacity
        else:
            handle, serial = self._create_buffer(capacity), self._next_serial()
            self._owned[serial] = handle
            self.stats["buffers_created"] += 1
        return GPUArray(self, handle, serial, capacity, numel, dtype)

    def _release(self, arr):
        if self._pooled_bytes + arr.capacity > self.pool_limit:
            self._graveyard.append(self._owned.pop(arr.serial, arr.handle))
            return
        self._pool.setdefault(arr.capacity, []).append((arr.handle, arr.serial))
        self._pooled_bytes += arr.capacity

    pool_limit = 1 << 30

    def empty(self, numel, dtype=FLOAT32):
        return self._alloc(numel, dtype)

    def full(self, numel, value, dtype=FLOAT32):
        out = self._alloc(numel, dtype)
        value = float(value) if dtype == FLOAT32 else int(value)  # zeros(dtype=int32) passes 0.0
        bits = struct.unpack("<I", struct.pack("<f" if dtype == FLOAT32 else "<i", value))[0]
        words = -(-out.nbytes // 4)
        self._run("fill", [out], [("I", words), ("I", bits)], words)
        return out

    def upload(self, data, dtype=FLOAT32):
        data = memoryview(data).cast("B")
        numel = len(data) // ITEMSIZE[dtype]
        out = self._alloc(numel, dtype)
        if len(data) % 4:  # WebGPU writes whole 4-byte words
            data = bytes(data) + b"\0" * (-len(data) % 4)
        # A pooled buffer may still be read by recorded work; a queue write would
        # land before that work runs, so submit the work first.
        self.flush()
        if len(data):
            self._write_buffer(out.handle, data)
        return out

    def download(self, arr):
        self.flush()
        if arr.nbytes == 0:
            return b""
        return bytes(self._read_buffer(arr.handle, -(-arr.nbytes // 4) * 4))[:arr.nbytes]

    def flush(self):
        if self._pending:
            self._submit()
            self.stats["submits"] += 1
            self._submit_count += 1
            self._pending = 0
        for handle in self._graveyard:
            self._destroy(handle)
        self._graveyard.clear()

    synchronize = flush

    # ---- dispatching --------------------------------------------------------------
    def _pipeline(self, kernel, entry, constants):
        key = (kernel, entry, tuple(sorted(constants.items())))
        pipeline = self._pipelines.get(key)
        if pipeline is None:
            label = kernel + "".join(f" {k}={v}" for k, v in key[2])
            pipeline = self._create_pipeline(load_shader(kernel), entry, constants, label)
            self._pipelines[key] = pipeline
        return key, pipeline

    def _uniform(self, data):
        entry = self._uniforms.get(data)
        if entry is None:
            entry = (self._create_uniform(data), self._next_serial())
            self._uniforms[data] = entry
            if len(self._uniforms) > 4096:
                _, (old, _) = self._uniforms.popitem(last=False)
                self._graveyard.append(old)
        else:
            self._uniforms.move_to_end(data)
        return entry

    def _slot_uniform(self, slot, data):
        entry = self._slots.get(slot)
        if entry is None:
            entry = [self._create_uniform(data), self._next_serial(), data, -1]
            self._slots[slot] = entry
            if len(self._slots) > 4096:   # slots of parameters long gone
                _, (old, *_rest) = self._slots.popitem(last=False)
                self._graveyard.append(old)
        elif entry[2] != data:
            # A queue write lands before any work not yet submitted: if recorded work
            # still reads the old values, submit it first (training steps seldom
            # need this: each batch's upload has already submitted the last step).
            if entry[3] == self._submit_count and self._pending:
                self.flush()
            self._write_buffer(entry[0], data)
            entry[2] = data
        entry[3] = self._submit_count
        self._slots.move_to_end(slot)
        return entry[0], entry[1]

    def _run(self, kernel, arrays, params, threads=None, groups=None, entry="main",
             constants=None, slot=None):
        """Record one dispatch. `arrays` bind to 0..n-1 and the uniform block to n.
        `slot` names a uniform that is rewritten in place when params change."""
        groups = groups or _grid(-(-threads // WG))
        if 0 in groups:
            return
        key, pipeline = self._pipeline(kernel, entry, constants or {})
        data = _pack(*params)
        uniform, userial = self._slot_uniform(slot, data) if slot else self._uniform(data)
        bg_key = (key, tuple(a.serial for a in arrays), userial)
        bind_group = self._bind_groups.get(bg_key)
        if bind_group is not None:
            self._bind_groups.move_to_end(bg_key)
        else:
            bind_group = self._create_bind_group(pipeline, [a.handle for a in arrays] + [uniform])
            self._bind_groups[bg_key] = bind_group
            if len(self._bind_groups) > 8192:
                self._bind_groups.popitem(last=False)
        self._dispatch(pipeline, bind_group, groups)
        self.stats["dispatches"] += 1
        self._pending += 1
        if self._pending >= MAX_PENDING:
            self.flush()

    def _dummy_array(self):
        """Bound where a kernel's optional input is absent."""
        if self._dummy is None:
            self._dummy = self._alloc(4, FLOAT32)
        return self._dummy

    # ---- element-wise ---------------------------------------------------------------
    def unary(self, op, x, alpha=0.0):
        out = self._alloc(x.numel, x.dtype)
        self._run("unary", [x, out], [("I", x.numel), ("f", alpha)], x.numel,
                  constants={"OP": UNARY_OPS.index(op)})
        return out

    def binary(self, op, a, a_shape, b, b_shape, out_shape, alpha=0.0):
        n = math.prod(out_shape)
        out = self._alloc(n, FLOAT32)
        shape, (sa, sb) = _collapse(out_shape, _broadcast_strides(a_shape, out_shape),
                                    _broadcast_strides(b_shape, out_shape))
        if len(shape) > MAX_DIMS:
            raise ValueError(f"broadcasting {a_shape} with {b_shape} needs more than "
                             f"{MAX_DIMS} dims after merging")
        params = [("I", n), ("I", len(shape)), ("f", alpha), ("I", 0)]
        params += _dims(shape) + _dims(sa) + _dims(sb)
        self._run("binary", [a, b, out], params, n, constants={"OP": BINARY_OPS.index(op)})
        return out

    def cast(self, x, dtype):
        out = self._alloc(x.numel, dtype)
        self._run("cast", [x, out], [("I", x.numel)], x.numel,
                  constants={"TO_FLOAT": dtype == FLOAT32})
        return out

    # ---- reductions and layout ------------------------------------------------------
    def _reduce(self, kernel, x, outer, size, inner, out_dtype, constants):
        """One pass: (outer, size, inner) -> (outer, nchunks, inner); returns (out, nchunks)."""
        if size <= 64:   # short rows: one thread per output
            out = self._alloc(outer * inner, out_dtype)
            self._run(kernel, [x, out], [("I", outer), ("I", size), ("I", inner), ("I", size)],
                      outer * inner, entry="per_thread", constants=constants)
            return out, 1
        # long rows: a workgroup per chunk of a row, tree reduction in shared memory
        chunks = -(-size // REDUCE_CHUNK)
        out = self._alloc(outer * chunks * inner, out_dtype)
        self._run(kernel, [x, out], [("I", outer), ("I", size), ("I", inner),
                                     ("I", min(size, REDUCE_CHUNK))],
                  groups=_grid(outer * chunks * inner), entry="per_workgroup", constants=constants)
        return out, chunks

    def reduce(self, op, x, outer, size, inner):
        constants = {"OP": ("sum", "max", "min").index(op)}
        out, chunks = self._reduce("reduce", x, outer, size, inner, FLOAT32, constants)
        while chunks > 1:  # reduce the chunks' partial results in turn
            out, chunks = self._reduce("reduce", out, outer, chunks, inner, FLOAT32, constants)
        return out

    def argmax(self, x, outer, size, inner):
        cand, chunks = self._reduce("argmax", x, outer, size, inner, INT32, {})
        if chunks == 1:
            return cand
        out = self._alloc(outer * inner, INT32)
        self._run("argmax_pick", [x, cand, out],
                  [("I", outer), ("I", size), ("I", inner), ("I", chunks)], outer * inner)
        return out

    def permute(self, x, shape, perm):
        n = math.prod(shape)
        out = self._alloc(n, x.dtype)
        strides = _contiguous_strides(shape)
        out_shape = [shape[p] for p in perm]
        params = [("I", n), ("I", len(shape)), ("I", 0), ("I", 0)]
        params += _dims(out_shape) + _dims([strides[p] for p in perm])
        self._run("permute", [x, out], params, n)
        return out

    # ---- linear algebra -----------------------------------------------------------------
    def matmul(self, a, b, batch, M, N, K, trans_a=False, trans_b=False,
               a_batched=True, b_batched=True, bias=None):
        total = None
        # K in slices (rarely more than one): each slice's product, then their sum
        for k_begin in range(0, max(K, 1), MATMUL_K_SLICE):
            first = k_begin == 0
            out = self._alloc(batch * M * N, FLOAT32)
            params = [("I", M), ("I", N), ("I", K), ("I", M * K if a_batched else 0),
                      ("I", K * N if b_batched else 0), ("I", k_begin),
                      ("I", min(K, k_begin + MATMUL_K_SLICE))]
            constants = {"TRANS_A": bool(trans_a), "TRANS_B": bool(trans_b),
                         "HAS_BIAS": first and bias is not None}
            groups = (-(-N // 64), -(-M // 64), batch)
            self._run("matmul", [a, b, bias if first and bias is not None else a, out],
                      params, groups=groups, constants=constants)
            total = out if first else self.binary("add", total, (batch * M * N,), out,
                                                  (batch * M * N,), (batch * M * N,))
        return total

    # ---- fused row-wise ops ---------------------------------------------------------------
    def _run_rows(self, kernel, arrays, rows, cols, constants=None, extra=()):
        """A row-wise kernel: one thread per row for narrow rows, a workgroup per row
        for wide ones (bounded loops per thread; lavapipe stops after 65,535)."""
        params = [("I", rows), ("I", cols), *extra]
        if cols <= WIDE_ROW:
            self._run(kernel, arrays, params, rows, constants=constants)
        else:
            self._run(kernel, arrays, params, groups=_grid(rows), entry="per_workgroup",
                      constants=constants)

    def softmax(self, x, rows, cols, log=False):
        out = self._alloc(rows * cols, FLOAT32)
        self._run_rows("softmax", [x, out], rows, cols, {"LOG": bool(log)})
        return out

    def softmax_backward(self, y, g, rows, cols, log=False):
        out = self._alloc(rows * cols, FLOAT32)
        self._run_rows("softmax_backward", [y, g, out], rows, cols, {"LOG": bool(log)})
        return out

    def cross_entropy(self, logits, targets, rows, cols, smoothing=0.0):
        losses, lse = self._alloc(rows, FLOAT32), self._alloc(rows, FLOAT32)
        self._run_rows("cross_entropy", [logits, targets, losses, lse], rows, cols,
                       extra=[("f", smoothing)])
        return losses, lse

    def cross_entropy_backward(self, logits, targets, lse, grad_out, rows, cols, scale,
                               smoothing=0.0):
        out = self._alloc(rows * cols, FLOAT32)
        self._run("cross_entropy_backward", [logits, targets, lse, grad_out, out],
                  [("I", rows), ("I", cols), ("f", scale), ("f", smoothing)], rows * cols)
        return out

    # ---- optimizers ---------------------------------------------------------------------------
    def sgd_step(self, p, g, velocity, numel, lr, momentum, dampening, weight_decay,
                 nesterov, first_step):
        params = [("I", numel), ("f", lr), ("f", momentum), ("f", dampening),
                  ("f", weight_decay), ("I", int(nesterov)), ("I", int(first_step))]
        self._run("sgd", [p, g, velocity if velocity is not None else self._dummy_array()],
                  params, numel, constants={"MOMENTUM": velocity is not None},
                  slot=("sgd", p.serial))

    def adam_step(self, p, g, m, v, numel, lr, beta1, beta2, eps, weight_decay,
                  step, decoupled):
        params = [("I", numel), ("f", lr), ("f", beta1), ("f", beta2), ("f", eps),
                  ("f", weight_decay), ("f", 1 - beta1 ** step), ("f", 1 - beta2 ** step),
                  ("I", int(decoupled))]
        self._run("adam", [p, g, m, v], params, numel, slot=("adam", p.serial))

    def adagrad_step(self, p, g, sum_sq, numel, clr, eps, weight_decay):
        self._run("adagrad", [p, g, sum_sq], [("I", numel), ("f", clr), ("f", eps),
                                             ("f", weight_decay)], numel,
                  slot=("adagrad", p.serial))

    def rmsprop_step(self, p, g, square_avg, grad_avg, buf, numel, lr, alpha, eps, weight_decay,
                     momentum):
        def bound(a):   # absent optional state: the kernel never reads it (see CENTERED/MOMENTUM)
            return a if a is not None else self._dummy_array()
        params = [("I", numel), ("f", lr), ("f", alpha), ("f", eps), ("f", weight_decay),
                  ("f", momentum)]
        self._run("rmsprop", [p, g, square_avg, bound(grad_avg), bound(buf)], params, numel,
                  constants={"CENTERED": grad_avg is not None, "MOMENTUM": buf is not None},
                  slot=("rmsprop", p.serial))

    # ---- convolution ----
    CONV_K_SLICE = 16384      # longest sum a conv2d workgroup walks: <= 26k loop iterations
    CONV_WEIGHT_CHUNK = 1024  # grad weight sums N*OH*OW products: this many per workgroup,
                              # so that its few output tiles still make many workgroups

    def _conv2d(self, mode, x, w, g, bias, N, C_in, C_out, in_hw, out_hw, kernel, stride,
                padding):
        """One implicit GEMM of shaders/conv2d.wgsl, C (M x cols) = A (M x K) @ B, for
        mode 0 (y), 1 (dx) or 2 (dw); the kernel explains the three."""
        (H, W), (OH, OW), (KH, KW) = in_hw, out_hw, kernel
        M, cols, K = [(C_out, N * OH * OW, C_in * KH * KW),
                      (C_in, N * H * W, C_out * KH * KW),
                      (C_out, C_in * KH * KW, N * OH * OW)][mode]
        # the sum over K in slices, one layer of workgroups each; then the slices' sum
        k_chunk = self.CONV_K_SLICE if mode < 2 else self.CONV_WEIGHT_CHUNK
        slices = max(1, -(-K // k_chunk))
        rows = min(64, max(8, 1 << (M - 1).bit_length()))   # the tile's height TM: 8 .. 64
        col_tiles = -(-cols // 64)
        out = self._alloc(slices * M * cols, FLOAT32)
        params = [("I", v) for v in (C_in, H, W, C_out, KH, KW, OH, OW, *stride, *padding,
                                     M, cols, K, k_chunk, col_tiles)]
        inputs = [a if a is not None else self._dummy_array() for a in (x, w, g, bias)]
        self._run("conv2d", inputs + [out], params,
                  groups=_grid(col_tiles * -(-M // rows))[:2] + (slices,),
                  constants={"MODE": mode, "TM": rows, "HAS_BIAS": bias is not None})
        return out if slices == 1 else self.reduce("sum", out, 1, slices, M * cols)

    def conv2d(self, x, w, bias, *geometry):
        return self._conv2d(0, x, w, None, bias, *geometry)

    def conv2d_grad_input(self, g, w, *geometry):
        return self._conv2d(1, None, w, g, None, *geometry)

    def conv2d_grad_weight(self, g, x, *geometry):
        return self._conv2d(2, x, None, g, None, *geometry)

    # ---- random numbers and data --------------------------------------------------------------
    def random(self, numel, seed, offset, normal=False):
        out = self._alloc(numel, FLOAT32)
        self._run("random", [out], [("I", numel), ("I", seed & 0xFFFFFFFF),
                                    ("I", offset & 0xFFFFFFFF), ("I", int(normal))], numel)
        return out

    def gather_images(self, images, indices, count, row_len, scale, shift):
        out = self._alloc(count * row_len, FLOAT32)
        self._run("gather_images", [images, indices, out],
                  [("I", count), ("I", row_len), ("f", scale), ("f", shift)], count * row_len)
        return out

    # ---- pooling, normalisation, dropout, concatenation ----
    POOL_SLICE = 16384   # most window pixels (or windows, backward) one pool dispatch walks

    def _run_pool(self, kernel, arrays, threads, steps, planes, in_hw, out_hw, ksize, stride,
              padding):
        """A pooling kernel whose threads each walk `steps` positions: in slices of at
        most POOL_SLICE, one dispatch each, every one going on from the last (lavapipe
        stops a thread after 65,535 loop iterations; a global pool can have more)."""
        geometry = [("I", v) for v in (planes, *in_hw, *out_hw, *ksize, *stride, *padding)]
        for k0 in range(0, steps, self.POOL_SLICE):
            k1 = min(steps, k0 + self.POOL_SLICE)
            self._run(kernel, arrays, geometry + [("I", k0), ("I", k1)], threads)

    @staticmethod
    def _windows_per_pixel(kernel, stride, out_hw):
        """The most pooling windows one pixel can lie in: ceil(k / s) along each axis,
        at most all of them (the backward kernels' `down` and `across`)."""
        return math.prod(min(-(-k // s), o) for k, s, o in zip(kernel, stride, out_hw))

    def max_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * out_hw[0] * out_hw[1]
        out, indices = self._alloc(n, FLOAT32), self._alloc(n, INT32)
        steps = kernel[0] * kernel[1]   # a thread per output walks its window
        self._run_pool("max_pool2d", [x, out, indices], n, steps,
                       planes, in_hw, out_hw, kernel, stride, padding)
        return out, indices

    def max_pool2d_backward(self, g, indices, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * in_hw[0] * in_hw[1]   # a thread per input pixel: a gather, no atomics
        dx = self._alloc(n, FLOAT32)
        steps = self._windows_per_pixel(kernel, stride, out_hw)
        self._run_pool("max_pool2d_backward", [g, indices, dx], n, steps,
                       planes, in_hw, out_hw, kernel, stride, padding)
        return dx

    def avg_pool2d(self, x, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * out_hw[0] * out_hw[1]
        out = self._alloc(n, FLOAT32)
        self._run_pool("avg_pool2d", [x, out], n, kernel[0] * kernel[1],
                       planes, in_hw, out_hw, kernel, stride, padding)
        return out

    def avg_pool2d_backward(self, g, planes, in_hw, out_hw, kernel, stride, padding):
        n = planes * in_hw[0] * in_hw[1]
        dx = self._alloc(n, FLOAT32)
        self._run_pool("avg_pool2d_backward", [g, dx], n, self._windows_per_pixel(kernel, stride, out_hw),
                       planes, in_hw, out_hw, kernel, stride, padding)
        return dx

    def _or_dummy(self, a):
        """An absent optional input: bound, never read (the kernel's constants say so)."""
        return a if a is not None else self._dummy_array()

    def _channel_sums(self, what, x, N, C, L, g=None, mean=None, var=None, eps=0.0):
        """Per-channel sums of shaders/batch_norm_stats.wgsl's summand `what`: a
        workgroup per chunk of a channel, then reduce.wgsl over the chunks."""
        chunks = -(-(N * L) // REDUCE_CHUNK)
        out = self._alloc(C * chunks, FLOAT32)
        self._run("batch_norm_stats", [x, *map(self._or_dummy, (g, mean, var)), out],
                  [("I", N), ("I", C), ("I", L), ("I", REDUCE_CHUNK), ("f", eps)],
                  groups=_grid(C * chunks), constants={"WHAT": what})
        return out if chunks == 1 else self.reduce("sum", out, C, chunks, 1)

    def batch_norm_stats(self, x, N, C, L):
        # two passes: the mean, then the mean squared distance from it
        mean = self.unary("scale", self._channel_sums(0, x, N, C, L), 1.0 / (N * L))
        var = self.unary("scale", self._channel_sums(1, x, N, C, L, mean=mean), 1.0 / (N * L))
        return mean, var

    def batch_norm(self, x, mean, var, weight, bias, N, C, L, eps):
        y = self._alloc(x.numel, FLOAT32)
        constants = {"HAS_WEIGHT": weight is not None, "HAS_BIAS": bias is not None}
        self._run("batch_norm", [x, mean, var, self._or_dummy(weight), self._or_dummy(bias), y],
                  [("I", x.numel), ("I", C), ("I", L), ("f", eps)], x.numel, constants=constants)
        return y

    def batch_norm_backward(self, g, x, mean, var, weight, N, C, L, eps, training):
        dbias = self._channel_sums(0, g, N, C, L)
        dweight = self._channel_sums(2, x, N, C, L, g=g, mean=mean, var=var, eps=eps)
        sums = self.cat([dbias, dweight], 1, [C, C], 1) if training else self._dummy_array()
        dx = self._alloc(x.numel, FLOAT32)
        self._run("batch_norm_backward", [g, x, mean, var, self._or_dummy(weight), sums, dx],
                  [("I", x.numel), ("I", C), ("I", L), ("f", eps), ("f", N * L)], x.numel,
                  constants={"TRAINING": bool(training), "HAS_WEIGHT": weight is not None})
        return dx, dweight, dbias

    def batch_norm_update(self, running_mean, running_var, mean, var, C, momentum, count):
        self._run("batch_norm_update", [running_mean, running_var, mean, var],
                  [("I", C), ("f", momentum), ("f", count / (count - 1))], C)

    def dropout(self, x, numel, p, seed, offset):
        # kept when the 24-bit random integer >= p * 2^24: decided on integers, so the
        # numpy backend (comparing exact float64s) keeps exactly the same elements
        out = self._alloc(numel, FLOAT32)
        params = [("I", numel), ("I", seed & 0xFFFFFFFF), ("I", offset & 0xFFFFFFFF),
                  ("I", math.ceil(p * (1 << 24))), ("f", 0.0 if p == 1 else 1.0 / (1.0 - p))]
        self._run("dropout", [x, out], params, numel)
        return out

    def cat(self, arrays, outer, sizes, inner):
        total = sum(sizes)
        out = self._alloc(outer * total * inner, arrays[0].dtype)
        start = 0
        for a, size in zip(arrays, sizes):   # one copy per piece, into its columns
            self._run("cat", [a, out], [("I", outer), ("I", size * inner),
                                        ("I", total * inner), ("I", start * inner)],
                      outer * size * inner, entry="place")
            start += size
        return out

    def narrow(self, x, outer, size, start, length, inner):
        out = self._alloc(outer * length * inner, x.dtype)
        self._run("cat", [x, out], [("I", outer), ("I", length * inner), ("I", size * inner),
                                    ("I", start * inner)], outer * length * inner, entry="take")
        return out
