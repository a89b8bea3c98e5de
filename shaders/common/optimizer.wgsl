// What the one-parameter update kernels share (adagrad.wgsl, rmsprop.wgsl; SGD and Adam
// take two parameters a dispatch: common/two_parameters.wgsl). The parameter and its
// gradient come as runs of four floats (common/vec4_runs.wgsl says why), bindings 0
// and 1; the kernel declares its own state buffers and Params after them. One
// invocation per run:
//
//     let i = global_index(wg, lid);   // elements 4i .. 4i + 3
//     if (4u * i >= p.n) { return; }
//     state[i] = kept(i, state[i], new_state);
//!include common/index.wgsl
//!include common/vec4_runs.wgsl
@group(0) @binding(0) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> grad: array<vec4<f32>>;

// PyTorch's weight_decay (L2 regularisation folded into the gradient) for run i:
// g + weight_decay * p, with the kernel's p.weight_decay.
fn decayed_grad(i: u32) -> vec4<f32> {
    return grad[i] + p.weight_decay * param[i];
}

// What run i stores: the new values, except that elements at p.n and after (the
// last run may end past the parameter) keep the old ones.
fn kept(i: u32, old: vec4<f32>, updated: vec4<f32>) -> vec4<f32> {
    return select(old, updated, run_mask(i, p.n));
}
