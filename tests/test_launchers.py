"""Every launcher (engine/backend/kernels/) against its shader's `struct Params`.

A launcher passes its uniform fields as a dict; the runtime packs it by the
struct it parses from the kernel's WGSL (engine/backend/uniforms.py). Here every
primitive of the GPU backend runs on a recording backend with no GPU behind it,
through each of its branches, and every dispatch's fields are checked against
the struct: the same names in the same order, an int for each u32 / i32 and a
float for each f32. Every kernel in shaders/ must be launched by some primitive.
"""
import math
import os
import struct

import pytest

from engine.backend import kernel_choice
from engine.backend.base import FLOAT32, INT32, UINT8
from engine.backend.gpu import GPUBackend
from engine.backend.uniforms import layout_of
from engine.data.augment import policy_settings
from engine.shaders import _DIR as SHADER_DIR, load_shader


class RecordingBackend(GPUBackend):
    """The real launchers and runtime; the GPU API calls do nothing."""
    adapter_name = "recording"

    def __init__(self):
        super().__init__()
        self.calls = []

    def _run(self, kernel, arrays, params, *args, **kwargs):
        self.calls.append((kernel, kwargs.get("entry", "main"), dict(params)))
        super()._run(kernel, arrays, params, *args, **kwargs)

    def _create_buffer(self, nbytes): return object()
    def _create_uniform(self, data): return object()
    def _destroy(self, handle): pass
    def _write_buffer(self, handle, data): pass
    def _read_buffers(self, parts): return bytes(sum(n for _, n in parts))
    def _create_pipeline(self, source, entry, constants, label): return object()
    def _create_bind_group(self, pipeline, handles): return object()
    def _dispatch(self, pipeline, bind_group, groups): pass
    def _submit(self): pass


def every_primitive(be):
    """Each primitive once per branch its launcher has (short and long rows, slices...)."""
    a = lambda n, dtype=FLOAT32: be.empty(n, dtype)   # noqa: E731
    x = a(64 * 70 * 3)
    be.full(10, 1.5), be.full(10, 2, INT32), be.fill_(a(5), 0.0), be.copy_(a(5), a(5))
    be.random(10, 1, 2), be.random(10, 1, 2, normal=True)
    be.unary("relu", x), be.unary("softplus", x, 1.0, 20.0), be.cast(a(4, INT32), FLOAT32)
    be.binary("add", a(6), (2, 3), a(3), (3,), (2, 3)), be.binary("leaky_relu_grad", x, (4,), x,
                                                                 (4,), (4,), 0.1)
    be.permute(a(24), (2, 3, 4), (2, 0, 1))
    be.reduce("sum", x, 3, 10, 2), be.reduce("max", a(3 * 40000), 3, 40000, 1)
    be.argmax(x, 3, 10, 2), be.argmax(a(40000), 1, 40000, 1)
    be.matmul(x, x, 1, 8, 8, 8), be.matmul(a(40000), a(40000), 1, 1, 1, 40000, bias=a(1))
    for variant in kernel_choice.MATMUL_VARIANTS:   # each adapter kind's variant
        with kernel_choice.forced(matmul=variant, reduce="per_thread"):
            be.matmul(x, x, 2, 9, 70, 300, bias=a(70)), be.reduce("sum", x, 3, 10, 2)
    be.relu_bias_backward(x, x, 4, 10), be.relu_bias_backward(x, x, 5000, 2)  # one pass; two
    be.relu_bias_backward(x, None, 4, 10), be.relu_bias_backward(x, x, 4, 10, 7)  # no ReLU; conv
    be.softmax(x, 4, 10), be.softmax(x, 2, 300, log=True), be.softmax_backward(x, x, 4, 10)
    be.softmax_backward(x, x, 2, 300)
    be.cross_entropy(x, a(4, INT32), 4, 10, 0.1), be.cross_entropy(x, a(2, INT32), 2, 300)
    be.cross_entropy_total(x, a(4, INT32), 4, 10, 0.1, 0.25)             # one workgroup
    be.cross_entropy_total(x, a(2, INT32), 2, 40000, 0.0, 0.5)           # rows, sum, scale
    be.cross_entropy_total(x, a(4, INT32), 4, 10, 0.0, 0.25, with_grad=True)
    be.cross_entropy_total(x, a(2, INT32), 2, 40000, 0.0, 0.5, with_grad=True)
    be.cross_entropy_backward(x, a(4, INT32), a(4), a(1), 4, 10, 0.25, 0.1)
    be.sgd_step([(a(4), a(4), None, 4, True)], 0.1, 0.0, 0.0, 0.0, False)     # one: a lone
    be.sgd_step([(a(4), a(4), a(4), 4, False), (a(5), a(5), a(5), 5, True)],   # two: a pair
                0.1, 0.9, 0.0, 1e-4, True)
    be.sgd_step([(a(4), a(4), None, 4, True), (a(5), a(5), None, 5, True)], 0.1, 0.0, 0.0,
                0.0, False)
    be.adam_step([(a(4), a(4), a(4), a(4), 4, 3)], 1e-3, 0.9, 0.999, 1e-8, 0.0, True)
    be.adam_step([(a(4), a(4), a(4), a(4), 4, 3), (a(5), a(5), a(5), a(5), 5, 1)], 1e-3, 0.9,
                 0.999, 1e-8, 0.0, True)
    be.adagrad_step([(a(4), a(4), a(4), 4, 0.01)], 1e-10, 0.0)
    be.rmsprop_step([(a(4), a(4), a(4), a(4), a(4), 4)], 0.01, 0.99, 1e-8, 0.0, 0.9)
    geometry = (2, 3, 4, (9, 9), (5, 5), (3, 3), (2, 2), (1, 1))
    be.conv2d(x, x, a(4), *geometry), be.conv2d(x, x, None, 1, 1100, 4, (4, 4), (2, 2), (3, 3),
                                                (1, 1), (0, 0))
    be.conv2d_grad_input(x, x, *geometry), be.conv2d_grad_weight(x, x, *geometry)
    for variant in kernel_choice.CONV_VARIANTS:   # each adapter kind's variant, split-K or not
        for slices in (1, 3):
            with kernel_choice.forced(conv=variant, conv_slices=slices):
                be.conv2d(x, x, a(20), 2, 3, 20, (9, 9), (5, 5), (3, 3), (2, 2), (1, 1))
                be.conv2d(x, x, a(20), 2, 3, 20, (9, 9), (5, 5), (3, 3), (2, 2), (1, 1),
                          relu=True)
                be.conv2d_grad_input(x, x, *geometry), be.conv2d_grad_weight(x, x, *geometry)
                # stride 1: the blocked variant's grad input as a forward pass (FLIPPED)
                be.conv2d_grad_input(x, x, 2, 3, 4, (9, 9), (9, 9), (3, 3), (1, 1), (1, 1))
    be.gather_images(a(100, UINT8), a(2, INT32), 2, 25, 1 / 255, 0.0)
    be.augment(x, 2, 3, (5, 7), 1, policy_settings("all"), -0.4, 2.8)
    pool = (6, (9, 9), (4, 4), (3, 3), (2, 2), (1, 1))
    be.max_pool2d(x, *pool), be.max_pool2d_backward(x, a(96, INT32), *pool)
    be.max_pool2d_backward(x, a(96, INT32), 6, (9, 9), (3, 3), (3, 3), (3, 3), (0, 0))  # tiles
    be.avg_pool2d(x, *pool), be.avg_pool2d_backward(x, *pool)
    be.avg_pool2d(x, 1, (200, 200), (1, 1), (200, 200), (1, 1), (0, 0))   # sliced walk
    mean, var = be.batch_norm_stats(x, 4, 3, 5)
    be.batch_norm_stats(a(3 * 40000), 2, 3, 20000)
    be.batch_norm(x, mean, var, a(3), None, 4, 3, 5, 1e-5)
    be.batch_norm_backward(x, x, mean, var, a(3), 4, 3, 5, 1e-5, True)
    be.batch_norm_backward(x, x, mean, var, None, 4, 3, 5, 1e-5, False)
    be.batch_norm_update(a(3), a(3), mean, var, 3, 0.1, 20)
    be.dropout(x, 100, 0.3, 1, 2)
    be.cat([a(6), a(9)], 3, [2, 3], 1), be.narrow(a(15), 3, 5, 1, 2, 1)


@pytest.fixture(scope="module")
def calls():
    be = RecordingBackend()
    every_primitive(be)
    return be.calls


WGSL_TYPES = {"u32": int, "i32": int, "f32": float}


def test_every_launch_matches_its_struct(calls):
    for kernel, entry, params in calls:
        layout = layout_of(kernel, load_shader(kernel))
        assert tuple(params) == layout.names, \
            f"{kernel} ({entry}): fields {list(params)}, struct Params {list(layout.names)}"
        for (name, wgsl, count), value in zip(layout.fields, params.values()):
            values = value if count > 1 else [value]
            assert len(values) <= count, f"{kernel}.{name}: {len(values)} values for {wgsl}"
            scalar = wgsl.replace("array<", "").replace("vec4<", "").split(">")[0]
            kind = WGSL_TYPES[scalar.split(",")[0]]
            for v in values:
                assert type(v) is kind, f"{kernel}.{name} ({wgsl}) given {type(v).__name__} {v!r}"


def test_every_kernel_is_launched(calls):
    kernels = {f[:-5] for f in os.listdir(SHADER_DIR) if f.endswith(".wgsl")}
    assert {kernel for kernel, _, _ in calls} == kernels, \
        "a kernel in shaders/ that no launcher runs belongs in bench/shaders/ or nowhere"


def test_binary_takes_runs_of_four_when_no_operand_is_walked_by_index():
    """binary.wgsl's `runs` entry point: same shapes, or a single value on either side;
    `main` (the general walk) for every other broadcast."""
    be = RecordingBackend()
    a = be.empty
    cases = {"runs": [((2, 5), (2, 5), (2, 5)), ((2, 5), (), (2, 5)), ((), (2, 5), (2, 5)),
                      ((1,), (7,), (7,)), ((), (), ())],
             "main": [((2, 5), (5,), (2, 5)), ((2, 5), (2, 1), (2, 5)),
                      ((2, 1), (1, 5), (2, 5))]}
    for entry, shapes in cases.items():
        for a_shape, b_shape, out_shape in shapes:
            be.calls.clear()
            be.binary("add", a(math.prod(a_shape)), a_shape, a(math.prod(b_shape)), b_shape,
                      out_shape)
            assert be.calls[0][1] == entry, f"{a_shape} with {b_shape}"


def test_layout_follows_wgsl_alignment():
    layout = layout_of("binary", load_shader("binary"))
    data = layout.pack(dict(n=7, ndim=2, arg0=0.5, arg1=-1.0, shape=[2, 3],
                            a_strides=[3, 1], b_strides=[0, 1]))
    assert len(data) == 16 + 3 * 32
    assert struct.unpack_from("<2I2f", data) == (7, 2, 0.5, -1.0)
    assert struct.unpack_from("<8I", data, 16) == (2, 3, 0, 0, 0, 0, 0, 0)   # vec4 aligned
    assert struct.unpack_from("<8I", data, 80) == (0, 1, 0, 0, 0, 0, 0, 0)
    permute = layout_of("permute", load_shader("permute"))
    assert permute.size == 80   # n, ndim, 8 bytes of padding, then two array<vec4<u32>, 2>


def test_a_wrong_field_is_an_error_on_the_first_call():
    layout = layout_of("fill", load_shader("fill"))
    with pytest.raises(ValueError, match=r"kernel 'fill': the launcher gives the uniform fields "
                                         r"\['bits', 'n'\] but its struct Params declares "
                                         r"\['n', 'bits'\]"):
        layout.pack(dict(bits=1, n=2))


def test_no_backend_module_is_over_300_lines():
    """The backend is read by students: one job per module, each short enough to read
    in one sitting (issue 8 split runtime.py from the launchers for that)."""
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "engine", "backend")
    long = {}
    for where, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(where, name), encoding="utf-8") as f:
                    count = sum(1 for _ in f)
                if count > 300:
                    long[os.path.relpath(os.path.join(where, name), folder)] = count
    assert not long, f"backend modules over 300 lines: {long}"
