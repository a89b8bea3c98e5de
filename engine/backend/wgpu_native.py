"""GPU plumbing natively: wgpu-py (Vulkan, Metal or DX12; Mesa's lavapipe on a
machine without a GPU). Only buffers, pipelines and submits live here; what
each primitive computes is in kernels/ and shaders/, the rest in runtime.py."""
import os

from . import NoGPUError
from .gpu import GPUBackend

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
