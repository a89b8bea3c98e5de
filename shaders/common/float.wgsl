// Two float32 values written so that Chrome's WGSL compiler accepts them:
// it rejects a NaN constant expression (0.0 / 0.0 and the like), and it rejects the
// decimal literal 3.4028235e38 (which rounds above the largest float32).

// A quiet NaN, kept in a variable so that it is not a constant expression.
var<private> NAN_BITS: u32 = 0x7fc00000u;

fn nan() -> f32 {
    return bitcast<f32>(NAN_BITS);
}

// The largest float32, in hex.
const FLT_MAX: f32 = 0x1.fffffep+127f;
