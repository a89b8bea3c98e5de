// y = f(x), element by element. OP picks f when the pipeline is created: each op's
// code is its row's in engine/backend/elementwise_table.py, named by the constants
// below (tests/test_elementwise_table.py checks that they agree). arg0 and arg1 are
// the op's scalar arguments, in the order of its row's `args`.
// One invocation per run of four elements (common/vec4_runs.wgsl says why).
//!include common/index.wgsl
//!include common/math.wgsl
//!include common/vec4_runs.wgsl

const COPY: u32 = 0u;
const NEG: u32 = 1u;
const EXP: u32 = 2u;
const LOG: u32 = 3u;
const SQRT: u32 = 4u;
const ABS: u32 = 5u;
const RELU: u32 = 6u;
const SIGMOID: u32 = 7u;
const TANH: u32 = 8u;
const LEAKY_RELU: u32 = 9u;
const ELU: u32 = 10u;
const SCALE: u32 = 11u;
const ADD_SCALAR: u32 = 12u;
const POW_SCALAR: u32 = 13u;
const RSUB_SCALAR: u32 = 14u;
const RDIV_SCALAR: u32 = 15u;
const SIGN: u32 = 16u;
const SQUARE: u32 = 17u;
const ERF: u32 = 18u;
const GELU: u32 = 19u;
const GELU_TANH: u32 = 20u;
const SILU: u32 = 21u;
const SOFTPLUS: u32 = 22u;
const HARDTANH: u32 = 23u;

override OP: u32 = 0u;
struct Params { n: u32, arg0: f32, arg1: f32 }
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

fn f(v: f32, a: f32, b: f32) -> f32 {
    switch OP {
        case COPY: { return v; }
        case NEG: { return -v; }
        case EXP: { return exp(v); }
        case LOG: { return log(v); }
        case SQRT: { return sqrt(v); }
        case ABS: { return abs(v); }
        case RELU: { return max(v, 0.0); }
        case SIGMOID: { return sigmoid(v); }
        case TANH: { return safe_tanh(v); }
        case LEAKY_RELU: { return select(a * v, v, v > 0.0); }        // a: negative_slope
        case ELU: { return select(a * (exp(v) - 1.0), v, v > 0.0); }  // a: alpha
        case SCALE: { return v * a; }
        case ADD_SCALAR: { return v + a; }
        case POW_SCALAR: { return signed_pow(v, a); }
        case RSUB_SCALAR: { return a - v; }
        case RDIV_SCALAR: { return a / v; }
        case SIGN: { return sign(v); }
        case SQUARE: { return v * v; }
        case ERF: { return erf(v); }
        case GELU: { return v * normal_cdf(v); }
        case GELU_TANH: { return v * 0.5 * (1.0 + gelu_tanh_inner(v)); }
        case SILU: { return v * sigmoid(v); }
        case SOFTPLUS: { return softplus(v, a, b); }                   // a: beta, b: threshold
        case HARDTANH: { return min(max(v, a), b); }                   // a: min_val, b: max_val
        default: { return v; }
    }
}

fn f4(v: vec4<f32>, a: f32, b: f32) -> vec4<f32> {
    return vec4<f32>(f(v.x, a, b), f(v.y, a, b), f(v.z, a, b), f(v.w, a, b));
}

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let i = global_index(wg, lid);   // elements 4i .. 4i + 3
    if (4u * i >= p.n) { return; }
    let v = f4(x[i], p.arg0, p.arg1);
    if (whole_run(i, p.n)) {
        y[i] = v;
    } else {
        y[i] = select(y[i], v, run_mask(i, p.n));   // elements at n and after stay
    }
}
