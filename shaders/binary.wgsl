// out = a <op> b with broadcasting. The host merges dims that both operands
// walk contiguously, then passes the output shape and each operand's strides
// (0 along a broadcast dim). OP follows BINARY_OPS in engine/backend/base.py.
// A quiet NaN. Kept in a variable: Chrome's compiler rejects a NaN constant expression.
var<private> NAN_BITS: u32 = 0x7fc00000u;

override OP: u32 = 0u;
struct Params {
    n: u32, ndim: u32, alpha: f32, _pad: u32,
    shape: array<vec4<u32>, 2>,      // output shape, up to 8 dims
    a_strides: array<vec4<u32>, 2>,
    b_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn signed_pow(v: f32, e: f32) -> f32 {
    if (e == 0.0) { return 1.0; }
    let r = pow(abs(v), e);
    if (v >= 0.0) { return r; }
    if (fract(e) != 0.0) { return bitcast<f32>(NAN_BITS); }
    if (fract(e * 0.5) != 0.0) { return -r; }
    return r;
}

fn f(x: f32, y: f32, k: f32) -> f32 {
    switch OP {
        case 0u:  { return x + y; }                               // add
        case 1u:  { return x - y; }                               // sub
        case 2u:  { return x * y; }                               // mul
        case 3u:  { return x / y; }                               // div
        case 4u:  { return signed_pow(x, y); }                    // pow
        case 5u:  { return max(x, y); }                           // maximum
        case 6u:  { return min(x, y); }                           // minimum
        case 7u:  { return select(0.0, 1.0, x == y); }            // eq
        case 8u:  { return select(0.0, 1.0, x != y); }            // ne
        case 9u:  { return select(0.0, 1.0, x < y); }             // lt
        case 10u: { return select(0.0, 1.0, x <= y); }            // le
        case 11u: { return select(0.0, 1.0, x > y); }             // gt
        case 12u: { return select(0.0, 1.0, x >= y); }            // ge
        // backward helpers: x is the incoming gradient, y what the forward saved
        case 13u: { return select(0.0, x, y > 0.0); }             // relu_grad (y = input)
        case 14u: { return select(k * x, x, y > 0.0); }           // leaky_relu_grad
        case 15u: { return select(x * k * exp(y), x, y > 0.0); }  // elu_grad
        case 16u: { return x * y * (1.0 - y); }                   // sigmoid_grad (y = output)
        case 17u: { return x * (1.0 - y * y); }                   // tanh_grad (y = output)
        case 18u: { return x; }                                   // lhs: a broadcast to out
        default:  { return x; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * 256u + lid;
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
    out[i] = f(a[ia], b[ib], p.alpha);
}
