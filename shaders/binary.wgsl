// out = a <op> b with broadcasting. The host merges dims that both operands walk
// contiguously, then passes the output shape and each operand's strides (0 along a
// broadcast dim). OP is the op's code in engine/backend/elementwise_table.py, named
// by the constants below (tests/test_elementwise_table.py checks that they agree);
// arg0 and arg1 are its scalar arguments.
//
// Two entry points share the op switch below: `main`, the general walk, and `runs`,
// the common case the launcher picks when it can (engine/backend/kernels/elementwise.py).
//!include common/index.wgsl
//!include common/math.wgsl
//!include common/vec4_runs.wgsl

const ADD: u32 = 0u;
const SUB: u32 = 1u;
const MUL: u32 = 2u;
const DIV: u32 = 3u;
const POW: u32 = 4u;
const MAXIMUM: u32 = 5u;
const MINIMUM: u32 = 6u;
const EQ: u32 = 7u;
const NE: u32 = 8u;
const LT: u32 = 9u;
const LE: u32 = 10u;
const GT: u32 = 11u;
const GE: u32 = 12u;
const RELU_GRAD: u32 = 13u;
const LEAKY_RELU_GRAD: u32 = 14u;
const ELU_GRAD: u32 = 15u;
const SIGMOID_GRAD: u32 = 16u;
const TANH_GRAD: u32 = 17u;
const LHS: u32 = 18u;
const ABS_GRAD: u32 = 19u;
const ERF_GRAD: u32 = 20u;
const GELU_GRAD: u32 = 21u;
const GELU_TANH_GRAD: u32 = 22u;
const SILU_GRAD: u32 = 23u;
const SOFTPLUS_GRAD: u32 = 24u;
const HARDTANH_GRAD: u32 = 25u;

override OP: u32 = 0u;
struct Params {
    n: u32, ndim: u32, arg0: f32, arg1: f32,
    shape: array<vec4<u32>, 2>,      // output shape, up to 8 dims
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn f(x: f32, y: f32, s: f32, t: f32) -> f32 {
    switch OP {
        case ADD: { return x + y; }
        case SUB: { return x - y; }
        case MUL: { return x * y; }
        case DIV: { return x / y; }
        case POW: { return signed_pow(x, y); }
        case MAXIMUM: { return max(x, y); }
        case MINIMUM: { return min(x, y); }
        case EQ: { return select(0.0, 1.0, x == y); }
        case NE: { return select(0.0, 1.0, x != y); }
        case LT: { return select(0.0, 1.0, x < y); }
        case LE: { return select(0.0, 1.0, x <= y); }
        case GT: { return select(0.0, 1.0, x > y); }
        case GE: { return select(0.0, 1.0, x >= y); }
        case LHS: { return x; }                                      // a broadcast to out
        // gradients of unary ops: x is the incoming gradient, y what the forward saved
        // (the row's `saves`), s and t the op's scalar arguments
        case RELU_GRAD: { return select(0.0, x, y > 0.0); }          // y: relu's output
        case LEAKY_RELU_GRAD: { return select(s * x, x, y > 0.0); }
        case ELU_GRAD: { return select(x * s * exp(y), x, y > 0.0); }
        case SIGMOID_GRAD: { return x * y * (1.0 - y); }             // y: the output
        case TANH_GRAD: { return x * (1.0 - y * y); }                // y: the output
        case ABS_GRAD: { return x * sign(y); }
        case ERF_GRAD: { return x * 1.1283791670955126 * exp(-y * y); }
        case GELU_GRAD: { return x * gelu_slope(y); }
        case GELU_TANH_GRAD: { return x * gelu_tanh_slope(y); }
        case SILU_GRAD: { let sg = sigmoid(y); return x * sg * (1.0 + y * (1.0 - sg)); }
        case SOFTPLUS_GRAD: { return select(x * sigmoid(s * y), x, s * y > t); }
        case HARDTANH_GRAD: { return select(0.0, x, y > s && y < t); }  // y: the output
        default: { return x; }
    }
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);
    if (i >= p.n) { return; }
    // Walk the output index from the last dim to the first, accumulating offsets.
    var rest = i;
    var ia = 0u;
    var ib = 0u;
    for (var d = i32(p.ndim) - 1; d >= 0; d--) {
        let size = p.shape[u32(d) / 4u][u32(d) % 4u];
        let coord = rest % size;
        rest = rest / size;
        ia += coord * p.a_strides[u32(d) / 4u][u32(d) % 4u];
        ib += coord * p.b_strides[u32(d) / 4u][u32(d) % 4u];
    }
    out[i] = f(a[ia], b[ib], p.arg0, p.arg1);
}

// The fast path: after merging, the output is one dim and each operand walks it
// (stride 1) or is a single value (stride 0, a scalar; also every operand when n is
// 1, as ndim 0 leaves the strides 0). Then there is no index to take apart, and each
// invocation does a run of four (common/vec4_runs.wgsl says why).
// It reads the same buffers as runs of four: a second set of variables at bindings
// 0-2. WGSL forbids two variables at one binding only within one entry point's
// interface, and each pipeline's layout comes from its own entry point (naga and
// Chrome's Tint both accept this: tests/test_shaders.py compiles every entry point
// in both). One file keeps the op constants, the switch and Params in one place.
@group(0) @binding(0) var<storage, read> a_runs: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b_runs: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out_runs: array<vec4<f32>>;

fn a_run(i: u32) -> vec4<f32> {
    if (p.a_strides[0].x == 0u) { return vec4<f32>(a_runs[0].x); }
    return a_runs[i];
}

fn b_run(i: u32) -> vec4<f32> {
    if (p.b_strides[0].x == 0u) { return vec4<f32>(b_runs[0].x); }
    return b_runs[i];
}

fn f4(x: vec4<f32>, y: vec4<f32>, s: f32, t: f32) -> vec4<f32> {
    return vec4<f32>(f(x.x, y.x, s, t), f(x.y, y.y, s, t), f(x.z, y.z, s, t), f(x.w, y.w, s, t));
}

@compute @workgroup_size(256)
fn runs(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // elements 4i .. 4i + 3
    if (4u * i >= p.n) { return; }
    let v = f4(a_run(i), b_run(i), p.arg0, p.arg1);
    if (whole_run(i, p.n)) {
        out_runs[i] = v;
    } else {
        out_runs[i] = select(out_runs[i], v, run_mask(i, p.n));   // elements at n and after stay
    }
}
