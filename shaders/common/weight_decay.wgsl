// PyTorch's weight_decay for the optimizers (L2 regularisation folded into the
// gradient): g + weight_decay * p, for run i of four elements. Reads the including
// kernel's `param` and `grad` bindings (arrays of vec4) and its p.weight_decay.
fn decayed_grad(i: u32) -> vec4<f32> {
    return grad[i] + p.weight_decay * param[i];
}
