// The backward of a layer's bias and of the ReLU fused after it (engine/ops/matmul.py's
// Linear and engine/ops/conv.py's Conv2d, with relu), in one pass where there would be
// two dispatches. g and y are (rows, cols):
//   gz[r, c] = g[r, c] where y[r, c] > 0, else 0   (through the ReLU; y its output)
//   gb[c]    = the sum of gz[:, c] over the rows    (the bias's gradient)
// Without RELU there is no ReLU: gz is g itself (not written) and only gb is summed.
// One thread per column walks down its rows; neighbouring threads read neighbouring
// columns. The host uses it for batches of up to RELU_BIAS_ROWS rows (loops stay short).
// A Conv2d's (batch, channels, pixels) comes as (batch, channels * pixels): the host
// then adds up each channel's pixels with the reduce kernel.
//!include common/index.wgsl
override RELU: bool = true;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;              // dummy without RELU
@group(0) @binding(2) var<storage, read_write> gz: array<f32>;       // dummy without RELU
@group(0) @binding(3) var<storage, read_write> gb: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(256)
fn main(wg: Workgroup, @builtin(local_invocation_index) lid: u32) {
    let c = global_index(wg, lid);
    if (c >= p.cols) { return; }
    var total = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        let i = r * p.cols + c;
        if (RELU) {
            let v = select(0.0, g[i], y[i] > 0.0);
            gz[i] = v;
            total += v;
        } else {
            total += g[i];
        }
    }
    gb[c] = total;
}
