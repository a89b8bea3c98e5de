// Tree reduction across the 256 threads of a workgroup, through workgroup memory:
// every thread passes its value and gets the workgroup's sum, max or min back.
// It contains barriers: call it from uniform control flow (every thread of the
// workgroup, none returned early).
const SUM: u32 = 0u;
const MAX: u32 = 1u;
const MIN: u32 = 2u;

fn combine(op: u32, a: f32, b: f32) -> f32 {
    switch op {
        case MAX: { return max(a, b); }
        case MIN: { return min(a, b); }
        default: { return a + b; }
    }
}

var<workgroup> scratch: array<f32, 256>;

fn workgroup_reduce(op: u32, lid: u32, value: f32) -> f32 {
    scratch[lid] = value;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { scratch[lid] = combine(op, scratch[lid], scratch[lid + s]); }
        workgroupBarrier();
    }
    let total = scratch[0];
    workgroupBarrier();   // everyone has read it before scratch is written again
    return total;
}
