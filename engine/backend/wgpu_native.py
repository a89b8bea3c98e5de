"""GPU plumbing natively: wgpu-py (Vulkan, Metal or DX12; Mesa's lavapipe on a
machine without a GPU). Only buffers, pipelines and submits live here; what
each primitive computes is in kernels/ and shaders/, the rest in runtime.py."""
import os

from . import NoGPUError
from .gpu import GPUBackend


def _c_functions():
    """wgpu-native's compute-pass functions, straight from wgpu-py's cffi library (or
    None). Not wgpu-py's error-checking wrappers (`libf`, ~1 us a call): a replayed
    dispatch was validated when it was recorded, and an error would still be logged."""
    try:
        from wgpu.backends.wgpu_native._api import ffi, lib
        return (lib.wgpuComputePassEncoderSetPipeline, lib.wgpuComputePassEncoderSetBindGroup,
                lib.wgpuComputePassEncoderDispatchWorkgroups, ffi.NULL)
    except (ImportError, AttributeError):
        return None


_C = _c_functions()

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

    # A replay is a tight loop over a recorded step's dispatches. wgpu-py's public calls
    # cost microseconds each (argument checks, keep-alive bookkeeping); the loop calls
    # the three C functions they wrap instead, on objects the recording has already
    # validated and keeps alive. Without those internals it uses the public calls.
    def _prepare_replay(self, dispatches):
        """(pipeline or None when it is the previous one's, bind group, x, y, z)."""
        prepared, previous = [], None
        for pipeline, bind_group, (x, y, z) in dispatches:
            prepared.append((None if pipeline is previous else pipeline, bind_group, x, y, z))
            previous = pipeline
        if _C is None:
            return prepared
        return [(p and p._internal, b._internal, x, y, z) for p, b, x, y, z in prepared]

    def _replay(self, copies, prepared):
        """A recorded step: its input copies, then its dispatches, in one command buffer."""
        encoder = self.device.create_command_encoder()
        for source, target, nbytes in copies:
            encoder.copy_buffer_to_buffer(source, 0, target, 0, nbytes)
        compute = encoder.begin_compute_pass()
        if _C is None:
            for pipeline, bind_group, x, y, z in prepared:
                if pipeline is not None:
                    compute.set_pipeline(pipeline)
                compute.set_bind_group(0, bind_group)
                compute.dispatch_workgroups(x, y, z)
        else:
            set_pipeline, set_bind_group, dispatch, null = _C
            handle = compute._internal
            for pipeline, bind_group, x, y, z in prepared:
                if pipeline is not None:
                    set_pipeline(handle, pipeline)
                set_bind_group(handle, 0, bind_group, 0, null)
                dispatch(handle, x, y, z)
        compute.end()
        self.device.queue.submit([encoder.finish()])
