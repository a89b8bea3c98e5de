"""The GPU runtime: buffers, caches and lazy submission, under every launcher.

The launchers (kernels/*.py) describe a dispatch: a kernel, its arrays, its
uniform fields by name and its workgroup count. This file runs it:

- **Buffers** come from a pool by size class (powers of two up to 1 MiB, then
  whole MiB) and go back to it when their GPUArray dies; one is destroyed only
  after the submit that last used it.
- **Caches**: pipelines by kernel, entry point and constants; uniform blocks by
  content; bind groups by the buffers they bind. A training step that repeats
  the previous one creates no GPU objects at all.
- **Lazy submit**: dispatches are recorded into one open compute pass and only
  submitted when the CPU needs a result (a download), when data is uploaded, or
  when MAX_PENDING have piled up.
- **Slots**: a uniform whose values change every step (an optimizer's learning
  rate and bias corrections) is rewritten in place, so its bind group stays cached.

It does not know the GPU API: wgpu_native.py and webgpu_js.py supply the plumbing.
"""
import math
from collections import OrderedDict

from .base import Backend, FLOAT32, ITEMSIZE
from .recording import Replaying
from .uniforms import layout_of
from ..shaders import load_shader

WG = 256            # threads per workgroup in the 1-D kernels
MAX_GROUPS = 65535  # WebGPU's default limit per dispatch dimension
MAX_PENDING = 1024  # submit after this many recorded dispatches
# WebGPU's default limits (maxStorageBufferBindingSize, maxBufferSize); the
# subclasses raise them to what the adapter grants
DEFAULT_BUFFER_LIMIT = 128 << 20


def grid(groups):
    """Spread a 1-D workgroup count over x and y to stay under 65,535 per dimension."""
    if groups <= MAX_GROUPS:
        return (groups, 1, 1)
    return (MAX_GROUPS, math.ceil(groups / MAX_GROUPS), 1)


class DeviceLimitError(MemoryError):
    """A tensor larger than the device can hold in one buffer."""


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


class GPURuntime(Replaying, Backend):
    name = "gpu"
    adapter_name = "?"
    is_software = False
    pool_limit = 1 << 30            # free bytes the pool keeps at most
    buffer_limit = DEFAULT_BUFFER_LIMIT   # largest buffer one binding may cover

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
        self._layouts = {}              # kernel -> UniformLayout of its struct Params
        self._uniforms = OrderedDict()  # packed bytes -> (handle, serial)
        # slot -> [handle, serial, bytes, submit count when last bound]
        self._slots = OrderedDict()
        self._submit_count = 0
        self._bind_groups = OrderedDict()
        self._pending = 0
        self._graveyard = []            # destroyed only after the next submit
        self._dummies = {}              # which -> a 4-byte stand-in for an absent input
        self.stats = {"dispatches": 0, "submits": 0, "buffers_created": 0}
        self._init_replaying()          # record and replay: recording.py

    # ---- plumbing, provided by each GPU API ------------------------------------
    def _create_buffer(self, nbytes): raise NotImplementedError
    def _create_uniform(self, data): raise NotImplementedError
    def _destroy(self, handle): raise NotImplementedError
    def _write_buffer(self, handle, data): raise NotImplementedError
    def _read_buffers(self, parts): raise NotImplementedError  # [(handle, nbytes)] -> bytes, joined
    def _create_pipeline(self, source, entry, constants, label): raise NotImplementedError
    def _create_bind_group(self, pipeline, handles): raise NotImplementedError
    def _dispatch(self, pipeline, bind_group, groups): raise NotImplementedError
    def _submit(self): raise NotImplementedError
    def _prepare_replay(self, dispatches): raise NotImplementedError  # -> what _replay takes
    def _replay(self, copies, prepared): raise NotImplementedError    # encode, submit: one step

    def describe(self):
        return f"gpu: {self.adapter_name}"

    def _set_buffer_limit(self, max_buffer_size, max_binding_size):
        """Every buffer is a storage binding as a whole: the smaller limit counts (a
        whole number of 16-byte words, as the pool's sizes are)."""
        self.buffer_limit = min(max_buffer_size, max_binding_size) // 16 * 16

    # ---- memory -------------------------------------------------------------------
    def _next_serial(self):
        self._serial += 1
        return self._serial

    def _capacity(self, nbytes):
        """Size classes: powers of two up to 1 MiB, then whole MiB (never past the limit).
        Always a multiple of 16 bytes: kernels may read and write whole vec4 runs."""
        nbytes = max(nbytes, 16)
        if nbytes <= 1 << 20:
            return 1 << (nbytes - 1).bit_length()
        return min(-(-nbytes // (1 << 20)) * (1 << 20), self.buffer_limit)

    def _alloc(self, numel, dtype):
        nbytes = numel * ITEMSIZE[dtype]
        if nbytes > self.buffer_limit:
            raise DeviceLimitError(
                f"a tensor of {numel:,} {dtype} elements needs {nbytes:,} bytes "
                f"({nbytes / 2**20:,.1f} MiB), more than this GPU binds in one buffer: "
                f"{self.buffer_limit:,} bytes ({self.buffer_limit / 2**20:,.1f} MiB, its "
                f"maxStorageBufferBindingSize / maxBufferSize; {self.adapter_name}). "
                f"Use a smaller batch or split the tensor")
        capacity = self._capacity(nbytes)
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

    def empty(self, numel, dtype=FLOAT32):
        return self._alloc(numel, dtype)

    def upload(self, data, dtype=FLOAT32):
        if self._capture is not None:
            self._capture.refuse("a tensor made from host data (an upload)")
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
        return self.download_many([arr])

    def download_many(self, arrays):
        """Every array is copied into one staging buffer, which is mapped once: one wait
        for the GPU however many arrays. Copies go in whole 4-byte words (WebGPU's rule),
        so a uint8 array's padding is cut off again here."""
        if self._capture is not None:
            self._capture.refuse("a read-back (.item(), .tolist(), a tensor's value in Python)")
        self.flush()
        arrays = [a for a in arrays if a.nbytes]
        if not arrays:
            return b""
        words = [-(-a.nbytes // 4) * 4 for a in arrays]
        raw = memoryview(self._read_buffers([(a.handle, n) for a, n in zip(arrays, words)]))
        parts, start = [], 0
        for a, n in zip(arrays, words):
            parts.append(raw[start:start + a.nbytes])
            start += n
        return b"".join(parts)

    def flush(self):
        if self._pending:
            self._submit()
            self._count_submit()
        for handle in self._graveyard:
            self._destroy(handle)
        self._graveyard.clear()

    synchronize = flush

    def _count_submit(self):
        self.stats["submits"] += 1
        self._submit_count += 1
        self._pending = 0

    # ---- dispatching --------------------------------------------------------------
    def _pipeline(self, kernel, entry, constants):
        key = (kernel, entry, tuple(sorted(constants.items())))
        pipeline = self._pipelines.get(key)
        if pipeline is None:
            label = kernel + "".join(f" {k}={v}" for k, v in key[2])
            pipeline = self._create_pipeline(load_shader(kernel), entry, constants, label)
            self._pipelines[key] = pipeline
        return key, pipeline

    def _layout(self, kernel):
        layout = self._layouts.get(kernel)
        if layout is None:
            layout = self._layouts[kernel] = layout_of(kernel, load_shader(kernel))
        return layout

    def _uniform(self, data):
        entry = self._uniforms.get(data)
        if entry is None:
            entry = (self._create_uniform(data), self._next_serial())
            self._uniforms[data] = entry
            if len(self._uniforms) > 4096:
                _, (old, old_serial) = self._uniforms.popitem(last=False)
                self._evict(old, old_serial)
        else:
            self._uniforms.move_to_end(data)
        return entry

    def _slot_uniform(self, slot, data):
        entry = self._slots.get(slot)
        if entry is None:
            entry = [self._create_uniform(data), self._next_serial(), data, -1]
            self._slots[slot] = entry
            if len(self._slots) > 4096:   # slots of parameters long gone
                _, (old, old_serial, *_rest) = self._slots.popitem(last=False)
                self._evict(old, old_serial)
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
        """Record one dispatch of shaders/KERNEL.wgsl. `arrays` bind to 0..n-1 and the
        uniform block, `params` (a dict in the order of the kernel's struct Params), to
        n. `threads`: one per element, in workgroups of WG; or `groups` explicitly.
        `slot` names a uniform that is rewritten in place when params change."""
        data = self._layout(kernel).pack(params)
        if self._uniforms_only:        # a replay's host work: the recording has the dispatch
            if slot is not None:
                self._slot_uniform(slot, data)
            return
        groups = groups or grid(-(-threads // WG))
        if 0 in groups:
            return
        key, pipeline = self._pipeline(kernel, entry, constants or {})
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
        if self._capture is not None:
            self._capture.add(pipeline, bind_group, groups, arrays, userial)
        self.stats["dispatches"] += 1
        self._pending += 1
        if self._pending >= MAX_PENDING:
            self.flush()

    def _or_dummy(self, a, which=0):
        """Bound where a kernel's optional input is absent (its constants say it is never
        read). `which` picks one of several: Chrome refuses (and voids the command buffer
        of) a dispatch that binds one buffer to two writable bindings."""
        if a is not None:
            return a
        if which not in self._dummies:
            self._dummies[which] = self._alloc(4, FLOAT32)
        return self._dummies[which]
