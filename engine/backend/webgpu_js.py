"""GPU plumbing in the browser: WebGPU through Pyodide's JavaScript bridge.

The same kernels, launchers and runtime (gpu.py) run here as natively; only
these calls differ. WebGPU is asynchronous; `pyodide.ffi.run_sync` (JSPI, on in
Chromium) waits for a promise from synchronous Python, so the engine keeps one
synchronous API in both worlds. Every call into JavaScript costs a few
microseconds, which is why runtime.py caches bind groups and keeps one compute
pass open for a whole training step.
"""
import js
from pyodide.code import run_js
from pyodide.ffi import create_proxy, jsnull, run_sync, to_js

from . import NoGPUError
from .gpu import GPUBackend


def _obj(value):
    """A Python dict (nested lists/dicts too) as a plain JavaScript object."""
    return to_js(value, dict_converter=js.Object.fromEntries)


# A recorded step, replayed in one call into JavaScript: the loop over its dispatches
# runs there, so the cost of crossing the bridge is paid once a step, not three times
# a dispatch (engine/backend/recording.py).
REPLAY_JS = """(device, copies, pipelines, bindGroups, groups) => {
  const encoder = device.createCommandEncoder();
  for (const [source, target, size] of copies) encoder.copyBufferToBuffer(source, 0, target, 0, size);
  const pass = encoder.beginComputePass();
  for (let i = 0; i < pipelines.length; i++) {
    pass.setPipeline(pipelines[i]);
    pass.setBindGroup(0, bindGroups[i]);
    pass.dispatchWorkgroups(groups[3 * i], groups[3 * i + 1], groups[3 * i + 2]);
  }
  pass.end();
  device.queue.submit([encoder.finish()]);
}"""


class WebGPUBackend(GPUBackend):
    def __init__(self):
        super().__init__()
        gpu = getattr(js.navigator, "gpu", None)
        if gpu is None:
            raise NoGPUError("this browser has no WebGPU (navigator.gpu is missing)")
        adapter = run_sync(gpu.requestAdapter(_obj({"powerPreference": "high-performance"})))
        if adapter is None or adapter is jsnull:
            raise NoGPUError("WebGPU is present but no adapter is available")
        info = adapter.info
        name = info.description or info.device or info.architecture or info.vendor or "unknown"
        self.adapter_name = f"{name} (WebGPU, {info.vendor or 'unknown vendor'})"
        self.is_software = "swiftshader" in (str(info.vendor) + str(info.architecture)
                                             + str(info.description)).lower()
        limits = {k: getattr(adapter.limits, k)
                  for k in ("maxStorageBufferBindingSize", "maxBufferSize")}
        self.device = run_sync(adapter.requestDevice(_obj({"requiredLimits": limits})))
        self._set_buffer_limit(int(self.device.limits.maxBufferSize),
                               int(self.device.limits.maxStorageBufferBindingSize))
        self.lost_reason = None
        self.device.lost.then(self._on_lost)
        # A command WebGPU refuses (a validation error in a dispatch or a submit) raises
        # nothing where it was made: the browser reports it later, as an event, and the
        # refused work is simply not done. Kept here, it is raised at the next read-back.
        self.refused = None
        self._on_refused_proxy = create_proxy(self._on_refused)
        self.device.addEventListener("uncapturederror", self._on_refused_proxy)
        usage = js.GPUBufferUsage
        self._storage_usage = usage.STORAGE | usage.COPY_SRC | usage.COPY_DST
        self._uniform_usage = usage.UNIFORM | usage.COPY_DST
        self._read_usage = usage.MAP_READ | usage.COPY_DST
        self._modules = {}
        self._encoder = self._pass = None
        self._replay_js = None   # REPLAY_JS, compiled on the first replay

    def _on_lost(self, info):
        self.lost_reason = f"{info.reason}: {info.message}"

    def _on_refused(self, event):
        if self.refused is None:   # the first error says the most; later ones follow from it
            self.refused = str(event.error.message)

    def _check_device(self):
        if self.lost_reason is not None:
            raise RuntimeError(f"the GPU device was lost ({self.lost_reason}); its tensors are "
                               "gone: reload the page to start again")

    def _check_refused(self):
        if self.refused is not None:
            message, self.refused = self.refused, None
            raise RuntimeError(f"WebGPU refused work the engine sent it, so values computed "
                               f"since the last read-back may be wrong: {message}")

    def describe(self):
        return f"gpu: {self.adapter_name}"

    def _create_buffer(self, nbytes):
        self._check_device()
        return self.device.createBuffer(_obj({"size": nbytes, "usage": self._storage_usage}))

    def _create_uniform(self, data):
        buf = self.device.createBuffer(_obj({"size": len(data), "usage": self._uniform_usage}))
        self._write_buffer(buf, data)
        return buf

    def _destroy(self, handle):
        handle.destroy()

    def _write_buffer(self, handle, data):
        staging = js.Uint8Array.new(len(data))
        staging.assign(data)
        self.device.queue.writeBuffer(handle, 0, staging)

    def _read_buffers(self, parts):
        self._check_device()
        total = sum(nbytes for _, nbytes in parts)
        staging = self.device.createBuffer(_obj({"size": total, "usage": self._read_usage}))
        encoder = self.device.createCommandEncoder()
        offset = 0
        for handle, nbytes in parts:
            encoder.copyBufferToBuffer(handle, 0, staging, offset, nbytes)
            offset += nbytes
        self.device.queue.submit(to_js([encoder.finish()]))
        run_sync(staging.mapAsync(js.GPUMapMode.READ))
        data = js.Uint8Array.new(staging.getMappedRange()).to_bytes()
        staging.unmap()
        staging.destroy()
        self._check_device()
        self._check_refused()   # what was read may come from work WebGPU refused
        return data

    def _create_pipeline(self, source, entry, constants, label):
        module = self._modules.get(source)
        self.device.pushErrorScope("validation")
        if module is None:
            module = self.device.createShaderModule(_obj({"code": source, "label": label.split()[0]}))
            self._modules[source] = module
        compute = {"module": module, "entryPoint": entry}
        if constants:
            compute["constants"] = {k: float(v) for k, v in constants.items()}
        pipeline = self.device.createComputePipeline(
            _obj({"layout": "auto", "compute": compute, "label": label}))
        error = run_sync(self.device.popErrorScope())
        if error is not None and error is not jsnull:   # popErrorScope resolves to null when all is well
            raise RuntimeError(f"WebGPU rejected kernel {label!r}: {error.message}")
        return pipeline

    def _create_bind_group(self, pipeline, handles):
        entries = [{"binding": i, "resource": {"buffer": h}} for i, h in enumerate(handles)]
        return self.device.createBindGroup(
            _obj({"layout": pipeline.getBindGroupLayout(0), "entries": entries}))

    def _dispatch(self, pipeline, bind_group, groups):
        if self._pass is None:
            self._encoder = self.device.createCommandEncoder()
            self._pass = self._encoder.beginComputePass()
        self._pass.setPipeline(pipeline)
        self._pass.setBindGroup(0, bind_group)
        self._pass.dispatchWorkgroups(*groups)

    def _submit(self):
        self._check_device()
        self._pass.end()
        self.device.queue.submit(to_js([self._encoder.finish()]))
        self._encoder = self._pass = None

    def _prepare_replay(self, dispatches):
        """The dispatch list as JavaScript arrays, made once per recording."""
        pipelines, bind_groups, groups = zip(*dispatches) if dispatches else ((), (), ())
        return (to_js(list(pipelines)), to_js(list(bind_groups)),
                js.Uint32Array.new(to_js([n for g in groups for n in g])))

    def _replay(self, copies, prepared):
        self._check_device()
        if self._replay_js is None:
            self._replay_js = run_js(REPLAY_JS)
        self._replay_js(self.device, to_js([list(c) for c in copies]), *prepared)
