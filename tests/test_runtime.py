"""The GPU runtime (engine/backend/runtime.py): what it refuses, and saying why.

An allocation over the device's limits (maxBufferSize, maxStorageBufferBindingSize)
raises DeviceLimitError naming the tensor's size and the limit, before wgpu sees it,
instead of a validation error from deep inside wgpu.
"""
import pytest

import engine as eg
from engine.backend.runtime import DeviceLimitError

pytestmark = pytest.mark.gpu


@pytest.fixture
def gpu():
    eg.set_device("gpu")
    return eg.tensor([0.0]).backend


def test_the_limit_is_the_devices(gpu):
    limits = gpu.device.limits
    expected = min(limits["max-buffer-size"], limits["max-storage-buffer-binding-size"])
    assert expected - 16 < gpu.buffer_limit <= expected


def test_a_tensor_over_the_device_limit_says_so(gpu):
    numel = gpu.buffer_limit // 4 + 1
    created = gpu.stats["buffers_created"]
    with pytest.raises(DeviceLimitError) as info:
        eg.zeros(numel)
    message = str(info.value)
    assert f"{numel:,} float32 elements" in message and f"{numel * 4:,} bytes" in message
    assert f"{gpu.buffer_limit:,} bytes" in message and "maxStorageBufferBindingSize" in message
    assert gpu.stats["buffers_created"] == created   # nothing was asked of wgpu
    assert eg.zeros(3).tolist() == [0.0, 0.0, 0.0]   # and the device is fine


def test_any_op_whose_result_is_too_large_says_so(gpu, monkeypatch):
    monkeypatch.setattr(gpu, "buffer_limit", 1 << 20)   # 1 MiB
    x = eg.ones(512, 1)
    with pytest.raises(DeviceLimitError, match=r"262,656 float32 elements needs 1,050,624 bytes"
                                               r" \(1\.0 MiB\), more than .*: 1,048,576 bytes"):
        x @ eg.ones(1, 513)                               # 512 x 513 floats > 1 MiB
    assert (x @ eg.ones(1, 512)).shape == (512, 512)     # exactly 1 MiB fits
