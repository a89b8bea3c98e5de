// y = f(x), element by element. OP picks f when the pipeline is created; the
// numbering follows UNARY_OPS in engine/backend/base.py.
// A quiet NaN. Kept in a variable: Chrome's compiler rejects a NaN constant expression.
var<private> NAN_BITS: u32 = 0x7fc00000u;

override OP: u32 = 0u;
struct Params { n: u32, alpha: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// tanh without overflow: exp(-2|v|) never exceeds 1 (some GPUs' tanh gives NaN at |v| > 44)
fn safe_tanh(v: f32) -> f32 {
    let e = exp(-2.0 * abs(v));
    return sign(v) * (1.0 - e) / (1.0 + e);
}

// x^a for any sign of x: WGSL's pow is only defined for x >= 0
fn signed_pow(v: f32, a: f32) -> f32 {
    if (a == 0.0) { return 1.0; }
    let r = pow(abs(v), a);
    if (v >= 0.0) { return r; }
    if (fract(a) != 0.0) { return bitcast<f32>(NAN_BITS); }   // NaN, like PyTorch
    if (fract(a * 0.5) != 0.0) { return -r; }                      // odd power
    return r;
}

fn f(v: f32, a: f32) -> f32 {
    switch OP {
        case 0u:  { return v; }                                  // copy
        case 1u:  { return -v; }                                 // neg
        case 2u:  { return exp(v); }                             // exp
        case 3u:  { return log(v); }                             // log
        case 4u:  { return sqrt(v); }                            // sqrt
        case 5u:  { return abs(v); }                             // abs
        case 6u:  { return max(v, 0.0); }                        // relu
        case 7u:  { return 1.0 / (1.0 + exp(-v)); }              // sigmoid
        case 8u:  { return safe_tanh(v); }                       // tanh
        case 9u:  { return select(a * v, v, v > 0.0); }          // leaky_relu
        case 10u: { return select(a * (exp(v) - 1.0), v, v > 0.0); }  // elu
        case 11u: { return v * a; }                              // scale
        case 12u: { return v + a; }                              // add_scalar
        case 13u: { return signed_pow(v, a); }                   // pow_scalar
        case 14u: { return a - v; }                              // rsub_scalar
        case 15u: { return a / v; }                              // rdiv_scalar
        case 16u: { return sign(v); }                            // sign
        case 17u: { return v * v; }                              // square
        default:  { return v; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
    if (i >= p.n) { return; }
    y[i] = f(x[i], p.alpha);
}
