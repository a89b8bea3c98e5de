"""GPU plumbing natively: wgpu-py (Vulkan, Metal or DX12; Mesa's lavapipe on a
machine without a GPU). Only buffers, pipelines and submits live here; what
each primitive computes is in kernels/ and shaders/, the rest in runtime.py."""
import os

from . import NoGPUError
from .gpu import GPUBackend


class _CReplay:
    """wgpu-native's C functions that a replay calls, straight from wgpu-py's cffi library
    (not its Python classes): a replay makes no Python objects and skips wgpu-py's
    per-call checks and descriptor building, about 1 us a call and 30 us a step. That is
    safe here: every replayed dispatch was validated when it was recorded, the recording
    keeps its pipelines and bind groups alive, and an error would still be reported."""

    def __init__(self, ffi, lib, device):
        self.lib, self.null = lib, ffi.NULL
        self.device, self.queue = device._internal, device.queue._internal
        # zeroed descriptors: no label, no timestamps; made once, reused by every replay
        self.encoder_desc = ffi.new("WGPUCommandEncoderDescriptor *")
        self.pass_desc = ffi.new("WGPUComputePassDescriptor *")
        self.buffer_desc = ffi.new("WGPUCommandBufferDescriptor *")
        self.submitted = ffi.new("WGPUCommandBuffer[1]")
        self.set_pipeline = lib.wgpuComputePassEncoderSetPipeline
        self.set_bind_group = lib.wgpuComputePassEncoderSetBindGroup
        self.dispatch = lib.wgpuComputePassEncoderDispatchWorkgroups

    def run(self, copies, prepared):
        lib, null = self.lib, self.null
        encoder = lib.wgpuDeviceCreateCommandEncoder(self.device, self.encoder_desc)
        for source, target, nbytes in copies:
            lib.wgpuCommandEncoderCopyBufferToBuffer(encoder, source, 0, target, 0, nbytes)
        compute = lib.wgpuCommandEncoderBeginComputePass(encoder, self.pass_desc)
        set_pipeline, set_bind_group, dispatch = (self.set_pipeline, self.set_bind_group,
                                                  self.dispatch)
        for pipeline, bind_group, x, y, z in prepared:
            if pipeline is not None:
                set_pipeline(compute, pipeline)
            set_bind_group(compute, 0, bind_group, 0, null)
            dispatch(compute, x, y, z)
        lib.wgpuComputePassEncoderEnd(compute)
        lib.wgpuComputePassEncoderRelease(compute)
        self.submitted[0] = lib.wgpuCommandEncoderFinish(encoder, self.buffer_desc)
        lib.wgpuCommandEncoderRelease(encoder)
        lib.wgpuQueueSubmit(self.queue, 1, self.submitted)
        lib.wgpuCommandBufferRelease(self.submitted[0])   # the queue holds it until done


def _c_replay(device):
    """A _CReplay for this device, or None where wgpu-py's internals are not as expected
    (then a replay goes through wgpu-py's public calls)."""
    try:
        from wgpu.backends.wgpu_native._api import ffi, lib
        return _CReplay(ffi, lib, device)
    except (ImportError, AttributeError, TypeError):
        return None


class WgpuBackend(GPUBackend):
    def __init__(self):
        super().__init__()
        os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # quiets a Vulkan loader warning
        try:
            import wgpu
        except ImportError as err:
            raise NoGPUError(f"wgpu is not installed ({err})") from None
        self.wgpu = wgpu
        try:
            adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
        except Exception as err:  # no Vulkan driver at all
            raise NoGPUError(f"no GPU adapter found ({err}); on Debian install "
                             "mesa-vulkan-drivers for a software one") from None
        if adapter is None:
            raise NoGPUError("no GPU adapter found")
        info = adapter.info
        self.is_software = info.get("adapter_type") == "CPU"
        kind = info.get("adapter_type", "?")
        self.adapter_name = f"{info.get('device', '?')} ({info.get('backend_type', '?')}, {kind})"
        # Ask for what the adapter has beyond the defaults the kernels assume, no more.
        limits = adapter.limits
        wanted = {k: limits[k] for k in ("max-storage-buffer-binding-size", "max-buffer-size")
                  if k in limits}
        self.device = adapter.request_device_sync(required_limits=wanted)
        self._set_buffer_limit(self.device.limits["max-buffer-size"],
                               self.device.limits["max-storage-buffer-binding-size"])
        self._storage_usage = (wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC
                               | wgpu.BufferUsage.COPY_DST)
        self._encoder = self._pass = None
        self._c_replay = _c_replay(self.device)
        self._modules = {}  # WGSL source -> compiled shader module

    def _create_buffer(self, nbytes):
        return self.device.create_buffer(size=nbytes, usage=self._storage_usage)

    def _create_uniform(self, data):
        usage = self.wgpu.BufferUsage.UNIFORM | self.wgpu.BufferUsage.COPY_DST  # slots are rewritten
        return self.device.create_buffer_with_data(data=data, usage=usage)

    def _destroy(self, handle):
        handle.destroy()

    def _write_buffer(self, handle, data):
        self.device.queue.write_buffer(handle, 0, data)

    def _read_buffers(self, parts):
        total = sum(nbytes for _, nbytes in parts)
        usage = self.wgpu.BufferUsage.MAP_READ | self.wgpu.BufferUsage.COPY_DST
        staging = self.device.create_buffer(size=total, usage=usage)
        encoder = self.device.create_command_encoder()
        offset = 0
        for handle, nbytes in parts:
            encoder.copy_buffer_to_buffer(handle, 0, staging, offset, nbytes)
            offset += nbytes
        self.device.queue.submit([encoder.finish()])
        staging.map_sync(self.wgpu.MapMode.READ)
        data = bytes(staging.read_mapped())
        staging.unmap()
        staging.destroy()
        return data

    def _create_pipeline(self, source, entry, constants, label):
        module = self._modules.get(source)
        if module is None:
            module = self.device.create_shader_module(code=source, label=label.split()[0])
            self._modules[source] = module
        compute = {"module": module, "entry_point": entry}
        if constants:
            compute["constants"] = {k: float(v) for k, v in constants.items()}
        return self.device.create_compute_pipeline(layout="auto", compute=compute, label=label)

    def _create_bind_group(self, pipeline, handles):
        entries = [{"binding": i, "resource": {"buffer": h, "offset": 0, "size": h.size}}
                   for i, h in enumerate(handles)]
        return self.device.create_bind_group(layout=pipeline.get_bind_group_layout(0),
                                             entries=entries)

    def _dispatch(self, pipeline, bind_group, groups):
        if self._pass is None:
            self._encoder = self.device.create_command_encoder()
            self._pass = self._encoder.begin_compute_pass()
        self._pass.set_pipeline(pipeline)
        self._pass.set_bind_group(0, bind_group)
        self._pass.dispatch_workgroups(*groups)

    def _submit(self):
        self._pass.end()
        self.device.queue.submit([self._encoder.finish()])
        self._encoder = self._pass = None

    # A replay is a tight loop over a recorded step's dispatches, in one command buffer.
    # wgpu-py's public calls cost microseconds each (argument checks, descriptors, Python
    # wrappers); _CReplay makes the same calls in C on objects the recording has already
    # validated and keeps alive. Without those internals it uses the public calls.
    def _prepare_replay(self, dispatches):
        """(pipeline or None when it is the previous one's, bind group, x, y, z)."""
        prepared, previous = [], None
        for pipeline, bind_group, (x, y, z) in dispatches:
            prepared.append((None if pipeline is previous else pipeline, bind_group, x, y, z))
            previous = pipeline
        if self._c_replay is None:
            return prepared
        return [(p and p._internal, b._internal, x, y, z) for p, b, x, y, z in prepared]

    def _replay(self, copies, prepared):
        """A recorded step: its input copies, then its dispatches, in one command buffer."""
        if self._c_replay is not None:
            self._c_replay.run([(s._internal, t._internal, n) for s, t, n in copies], prepared)
            return
        encoder = self.device.create_command_encoder()
        for source, target, nbytes in copies:
            encoder.copy_buffer_to_buffer(source, 0, target, 0, nbytes)
        compute = encoder.begin_compute_pass()
        for pipeline, bind_group, x, y, z in prepared:
            if pipeline is not None:
                compute.set_pipeline(pipeline)
            compute.set_bind_group(0, bind_group)
            compute.dispatch_workgroups(x, y, z)
        compute.end()
        self.device.queue.submit([encoder.finish()])
