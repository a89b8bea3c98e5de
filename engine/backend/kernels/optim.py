"""Launchers for engine/optim/: fused update kernels, in place (shaders/sgd.wgsl,
adam.wgsl, adagrad.wgsl, rmsprop.wgsl). Each call gets one parameter group's updates,
a tuple per parameter. SGD and Adam update two parameters per dispatch
(shaders/common/two_parameters.wgsl), Adagrad and RMSprop one: RMSprop binds five
arrays per parameter, and WebGPU promises only eight storage bindings per kernel.
Their learning rate and bias corrections change every step, so each dispatch's uniform
is a "slot" the runtime rewrites in place (its bind group stays cached). Each takes its
arrays as runs of four floats, an invocation per run (shaders/common/vec4_runs.wgsl)."""
from . import runs_of_four


def _pairs(updates):
    """(first, second) for each two updates in turn; the last alone is (last, None)."""
    for k in range(0, len(updates), 2):
        yield updates[k], (updates[k + 1] if k + 1 < len(updates) else None)


class OptimKernels:
    def _absent(self, arrays, *numbers):
        """A lone parameter's missing partner: `arrays` dummies (never read, as its size is
        0), none the same buffer as another or as dummy 0, then its `numbers`."""
        return tuple(self._or_dummy(None, 1 + k) for k in range(arrays)) + numbers

    def sgd_step(self, updates, lr, momentum, dampening, weight_decay, nesterov):
        settings = dict(lr=float(lr), momentum=float(momentum), dampening=float(dampening),
                        weight_decay=float(weight_decay), nesterov=int(nesterov))
        for first, second in _pairs(updates):
            a_p, a_g, a_velocity, a_n, a_first_step = first
            b_p, b_g, b_velocity, b_n, b_first_step = second or self._absent(3, 0, False)
            params = dict(settings, a_n=a_n, a_first_step=int(a_first_step), b_n=b_n,
                          b_first_step=int(b_first_step))
            arrays = [a_p, a_g, self._or_dummy(a_velocity), b_p, b_g, self._or_dummy(b_velocity, 3)]
            self._run("sgd", arrays, params, runs_of_four(a_n) + runs_of_four(b_n),
                      constants={"MOMENTUM": a_velocity is not None},
                      slot=("sgd", a_p.serial, b_p.serial))

    def adam_step(self, updates, lr, beta1, beta2, eps, weight_decay, decoupled):
        settings = dict(lr=float(lr), beta1=float(beta1), beta2=float(beta2), eps=float(eps),
                        weight_decay=float(weight_decay), decoupled=int(decoupled))
        for first, second in _pairs(updates):
            a_p, a_g, a_m, a_v, a_n, a_step = first
            b_p, b_g, b_m, b_v, b_n, b_step = second or self._absent(4, 0, 1)
            # the bias corrections 1 - beta^t, for each parameter's own step count t
            params = dict(settings, a_n=a_n, a_bc1=float(1 - beta1 ** a_step),
                          a_bc2=float(1 - beta2 ** a_step), b_n=b_n,
                          b_bc1=float(1 - beta1 ** b_step), b_bc2=float(1 - beta2 ** b_step))
            self._run("adam", [a_p, a_g, a_m, a_v, b_p, b_g, b_m, b_v], params,
                      runs_of_four(a_n) + runs_of_four(b_n), slot=("adam", a_p.serial, b_p.serial))

    def adagrad_step(self, updates, eps, weight_decay):
        for p, g, sum_sq, n, clr in updates:
            params = dict(n=n, clr=float(clr), eps=float(eps), weight_decay=float(weight_decay))
            self._run("adagrad", [p, g, sum_sq], params, runs_of_four(n),
                      slot=("adagrad", p.serial))

    def rmsprop_step(self, updates, lr, alpha, eps, weight_decay, momentum):
        for p, g, square_avg, grad_avg, buf, n in updates:
            params = dict(n=n, lr=float(lr), alpha=float(alpha), eps=float(eps),
                          weight_decay=float(weight_decay), momentum=float(momentum))
            # absent optional state is bound but never read (CENTERED / MOMENTUM say so);
            # two different dummies, as both bindings are writable (see _or_dummy)
            self._run("rmsprop", [p, g, square_avg, self._or_dummy(grad_avg),
                                  self._or_dummy(buf, 1)], params, runs_of_four(n),
                      constants={"CENTERED": grad_avg is not None, "MOMENTUM": buf is not None},
                      slot=("rmsprop", p.serial))
