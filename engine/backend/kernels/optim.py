"""Launchers for engine/optim/: one fused update kernel per parameter, in place
(shaders/sgd.wgsl, adam.wgsl, adagrad.wgsl, rmsprop.wgsl). Their learning rate and
bias corrections change every step, so each parameter's uniform is a "slot" the
runtime rewrites in place (its bind group stays cached). Each takes its arrays as runs
of four floats, an invocation per run (shaders/common/vec4_runs.wgsl)."""
from . import runs_of_four


class OptimKernels:
    def sgd_step(self, p, g, velocity, numel, lr, momentum, dampening, weight_decay,
                 nesterov, first_step):
        params = dict(n=numel, lr=float(lr), momentum=float(momentum),
                      dampening=float(dampening), weight_decay=float(weight_decay),
                      nesterov=int(nesterov), first_step=int(first_step))
        self._run("sgd", [p, g, self._or_dummy(velocity)], params, runs_of_four(numel),
                  constants={"MOMENTUM": velocity is not None}, slot=("sgd", p.serial))

    def adam_step(self, p, g, m, v, numel, lr, beta1, beta2, eps, weight_decay,
                  step, decoupled):
        params = dict(n=numel, lr=float(lr), beta1=float(beta1), beta2=float(beta2),
                      eps=float(eps), weight_decay=float(weight_decay),
                      bc1=float(1 - beta1 ** step), bc2=float(1 - beta2 ** step),
                      decoupled=int(decoupled))
        self._run("adam", [p, g, m, v], params, runs_of_four(numel), slot=("adam", p.serial))

    def adagrad_step(self, p, g, sum_sq, numel, clr, eps, weight_decay):
        params = dict(n=numel, clr=float(clr), eps=float(eps), weight_decay=float(weight_decay))
        self._run("adagrad", [p, g, sum_sq], params, runs_of_four(numel),
                  slot=("adagrad", p.serial))

    def rmsprop_step(self, p, g, square_avg, grad_avg, buf, numel, lr, alpha, eps, weight_decay,
                     momentum):
        params = dict(n=numel, lr=float(lr), alpha=float(alpha), eps=float(eps),
                      weight_decay=float(weight_decay), momentum=float(momentum))
        # absent optional state is bound but never read (CENTERED / MOMENTUM say so); two
        # different dummies, as both bindings are writable (see _or_dummy)
        self._run("rmsprop", [p, g, square_avg, self._or_dummy(grad_avg), self._or_dummy(buf, 1)],
                  params, runs_of_four(numel),
                  constants={"CENTERED": grad_avg is not None, "MOMENTUM": buf is not None},
                  slot=("rmsprop", p.serial))
