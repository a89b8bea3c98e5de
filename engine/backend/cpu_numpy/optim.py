"""The numpy backend's optimizer updates (see __init__.py; the kernels they match are
shaders/sgd.wgsl, adam.wgsl, adagrad.wgsl and rmsprop.wgsl).

Each update runs in place on p and the state, its intermediate results in scratch
buffers (`out=`): no new array per parameter per step, and memory is what bounds
these loops (a few passes over each array)."""
import numpy as np


class OptimPrimitives:
    """Mixed into NumpyBackend: `self.float` is its float dtype, `self._scratch_buffers`
    the updates' temporaries (a list, empty at first)."""

    def _scratch(self, numel, count):
        """`count` float arrays of `numel` elements, the same memory on every call: the
        optimizer updates write their intermediate results there (numpy `out=`), so a
        training step allocates nothing for them."""
        for k in range(count):
            if k == len(self._scratch_buffers):
                self._scratch_buffers.append(np.empty(0, self.float))
            if self._scratch_buffers[k].size < numel:
                self._scratch_buffers[k] = np.empty(numel, self.float)
        return [buf[:numel] for buf in self._scratch_buffers[:count]]

    def _with_weight_decay(self, g, p, weight_decay, scratch):
        """g + weight_decay * p (L2 regularisation), in `scratch`; g itself if no decay."""
        if not weight_decay:
            return g
        np.multiply(p, weight_decay, out=scratch)
        scratch += g
        return scratch

    def sgd_step(self, updates, lr, momentum, dampening, weight_decay, nesterov):
        for p, g, velocity, numel, first_step in updates:
            t, u = self._scratch(numel, 2)
            d = self._with_weight_decay(g, p, weight_decay, t)
            if momentum:
                if first_step:
                    velocity[:] = d
                else:
                    velocity *= momentum
                    velocity += np.multiply(d, 1 - dampening, out=u) if dampening else d
                if nesterov:   # d + momentum * velocity
                    d = np.add(d, np.multiply(velocity, momentum, out=u), out=u)
                else:
                    d = velocity
            p -= np.multiply(d, lr, out=t)

    def adam_step(self, updates, lr, beta1, beta2, eps, weight_decay, decoupled):
        for p, g, m, v, numel, step in updates:
            t, u = self._scratch(numel, 2)
            if weight_decay and decoupled:   # AdamW: shrink the weights themselves
                p *= 1 - lr * weight_decay
            elif weight_decay:
                g = self._with_weight_decay(g, p, weight_decay, u)
            m *= beta1                                   # m = beta1 m + (1 - beta1) g
            m += np.multiply(g, 1 - beta1, out=t)
            v *= beta2                                   # v = beta2 v + (1 - beta2) g^2
            np.multiply(g, g, out=t)
            t *= 1 - beta2
            v += t
            bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
            np.divide(v, bc2, out=t)                     # p -= lr (m / bc1) / (sqrt(v / bc2) + eps)
            np.sqrt(t, out=t)
            t += eps
            np.divide(m, t, out=t)
            t *= lr / bc1
            p -= t

    def adagrad_step(self, updates, eps, weight_decay):
        for p, g, sum_sq, numel, clr in updates:
            t, u = self._scratch(numel, 2)
            g = self._with_weight_decay(g, p, weight_decay, u)
            sum_sq += np.multiply(g, g, out=t)
            np.sqrt(sum_sq, out=t)                       # p -= clr g / (sqrt(sum_sq) + eps)
            t += eps
            np.divide(g, t, out=t)
            t *= clr
            p -= t

    def rmsprop_step(self, updates, lr, alpha, eps, weight_decay, momentum):
        for p, g, square_avg, grad_avg, buf, numel in updates:
            t, u = self._scratch(numel, 2)
            g = self._with_weight_decay(g, p, weight_decay, u)
            square_avg *= alpha                          # square_avg = a sq + (1 - a) g^2
            np.multiply(g, g, out=t)
            t *= 1 - alpha
            square_avg += t
            if grad_avg is not None:   # centered: divide by an estimate of the variance instead
                grad_avg *= alpha
                grad_avg += np.multiply(g, 1 - alpha, out=t)
                np.multiply(grad_avg, grad_avg, out=t)
                np.subtract(square_avg, t, out=t)
                np.sqrt(t, out=t)
            else:
                np.sqrt(square_avg, out=t)
            t += eps                                     # t = the denominator
            np.divide(g, t, out=t)
            if buf is not None:
                buf *= momentum
                buf += t
                p -= np.multiply(buf, lr, out=t)
            else:
                t *= lr
                p -= t
