"""The numpy twin of shaders/augment.wgsl: the same integers in the same order, so a
seed picks the same source pixel for every output pixel as the GPU does, bit for bit
(the shader's comment explains the fixed point). The photometric steps (brightness,
contrast, noise) are float arithmetic in the shader's order; the noise's log and cos
come from numpy in float64, so they agree with a GPU's to a few float32 ulps.
"""
import numpy as np

from ..augment_fields import IMAGE_STREAM, SCALE_ONE, TURN_DENOMINATOR, augment_fields

FRACTION_BITS = 14
NOISE_KEY = 0x9E3779B9


def _bits24(seed, counters):
    from . import _uniform   # the package's hash (imported late: the package imports this module)
    return (_uniform(seed, counters) * (1 << 24)).astype(np.int64)


class AugmentPrimitive:
    def augment(self, x, count, channels, hw, seed, policy, black, white):
        f = augment_fields(policy, count, channels, hw, seed, black, white)
        H, W = hw
        image = np.arange(count, dtype=np.uint64)

        def bits(k):   # the images' random parameter number k, (count, 1, 1) for broadcasting
            return _bits24(f["seed"], image * IMAGE_STREAM + k).reshape(-1, 1, 1)

        def symmetric(b, limit):
            return b % (2 * limit + 1) - limit

        # output pixel centres relative to the image's, in half pixels: u per column (count,
        # 1, W), v per row (count, H, 1), so that only the sums below are whole images
        u = (2 * np.arange(W, dtype=np.int64) - W + 1).reshape(1, 1, W)
        v = (2 * np.arange(H, dtype=np.int64) - H + 1).reshape(1, H, 1)
        u = np.where(bits(0) < f["flip_below"], -u, u)
        u = u - 2 * symmetric(bits(1), f["max_shift"])
        v = v - 2 * symmetric(bits(2), f["max_shift"])
        m = symmetric(bits(3), f["max_turn"])
        scale = f["scale_min"] + bits(4) % (f["scale_max"] - f["scale_min"] + 1)
        am, d2 = np.abs(m), TURN_DENOMINATOR * TURN_DENOMINATOR
        denominator = d2 + am * am
        a = ((d2 - am * am) << FRACTION_BITS) // denominator * SCALE_ONE // scale
        b = ((2 * am * TURN_DENOMINATOR) << FRACTION_BITS) // denominator * SCALE_ONE // scale
        b = np.where(m < 0, -b, b)
        one = 1 << FRACTION_BITS
        src_col = (a * u + b * v + W * one) >> (FRACTION_BITS + 1)
        src_row = (a * v - b * u + H * one) >> (FRACTION_BITS + 1)
        inside = (src_col >= 0) & (src_col < W) & (src_row >= 0) & (src_row < H)
        source = (np.clip(src_row, 0, H - 1) * W + np.clip(src_col, 0, W - 1)).reshape(count, 1, -1)
        planes = x.reshape(count, channels, H * W)
        picked = np.take_along_axis(planes, np.broadcast_to(source, planes.shape), axis=2)
        fill = self.float.type(f["fill"])
        out = np.where(inside.reshape(count, 1, -1), picked, fill)

        half, size = f["cutout_size"] // 2, f["cutout_size"]
        left = bits(6) % W - half
        upper = bits(7) % H - half
        col, row = np.arange(W).reshape(1, 1, W), np.arange(H).reshape(1, H, 1)
        cut = ((bits(5) < f["cutout_below"]) & (col >= left) & (col < left + size)
               & (row >= upper) & (row < upper + size))
        out = np.where(cut.reshape(count, 1, -1), fill, out)

        flt = self.float.type
        photometric = f["brightness"] > 0 or f["contrast"] > 0
        if photometric:
            def signed_unit(k):   # 2u - 1, exact in float32
                u01 = _bits24(f["seed"], image * IMAGE_STREAM + k) * (1.0 / (1 << 24))
                return (2.0 * u01 - 1.0).astype(self.float).reshape(-1, 1, 1)
            contrast = flt(1.0) + flt(f["contrast"]) * signed_unit(8)
            brightness = flt(f["brightness"]) * signed_unit(9)
            mid = flt(f["mid"])
            out = (out - mid) * contrast + mid + brightness
        if f["noise"] > 0:
            from . import _uniform
            counters = 2 * np.arange(out.size, dtype=np.uint64)
            u1 = _uniform(f["seed"] ^ NOISE_KEY, counters)
            u2 = _uniform(f["seed"] ^ NOISE_KEY, counters + 1)
            z = (np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)).astype(self.float)
            out = out + flt(f["noise"]) * z.reshape(out.shape)
        if photometric or f["noise"] > 0:
            out = np.clip(out, fill, flt(f["top"]))
        return out.astype(self.float, copy=False).ravel()
