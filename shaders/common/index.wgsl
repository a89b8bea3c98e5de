// Which invocation this is. The host spreads a 1-D range of workgroups over x and y
// (at most 65,535 per dimension, engine/backend/runtime.py's grid()), so a
// workgroup's number is id.y * count.x + id.x.
// Only uniform builtins go in this struct: Chrome's compiler counts a struct
// parameter as non-uniform if any member is, and kernels that call
// workgroupBarrier() after a branch on workgroup_index() need it uniform.
struct Workgroup {
    @builtin(workgroup_id) id: vec3<u32>,
    @builtin(num_workgroups) count: vec3<u32>,
}

fn workgroup_index(wg: Workgroup) -> u32 {
    return wg.id.y * wg.count.x + wg.id.x;
}

// One thread per element in the 1-D kernels (@workgroup_size(256)).
fn global_index(wg: Workgroup, lid: u32) -> u32 {
    return workgroup_index(wg) * 256u + lid;
}
