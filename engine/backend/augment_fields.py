"""The numbers shaders/augment.wgsl and its numpy twin read: a policy (degrees,
probabilities, scale factors) turned into the kernel's integer and float fields.

Both backends call `augment_fields`, so they start from the same integers. The
geometry is then computed in integers alone (fixed point, see the shader), which
is what makes a seed give bit-identical images on the GPU and in numpy: no sin,
cos or float rounding decides which source pixel an output pixel copies.

Pure Python (no numpy): the browser imports it too.
"""
import math

# Fixed-point conventions shared with shaders/augment.wgsl (its constants of the same names)
TURN_DENOMINATOR = 256   # a rotation is drawn as t = tan(angle / 2) = m / 256, m an integer
SCALE_ONE = 1024         # a scale factor is drawn as k / 1024, k an integer
IMAGE_STREAM = 16        # random numbers per image: counter = image * 16 + which parameter

# What a policy may set, and its identity value (the transform is off)
IDENTITY = dict(shift=0, rotate=0.0, scale=(1.0, 1.0), flip=0.0, cutout=0.0, cutout_size=0,
                brightness=0.0, contrast=0.0, noise=0.0)


def _threshold(probability):
    """A 24-bit random integer below this happens with `probability` (dropout's rule)."""
    return math.ceil(probability * (1 << 24))


def augment_fields(policy, count, channels, hw, seed, black, white):
    """The kernel's `struct Params`, in its order, for `count` images of `channels` x hw.
    `black` and `white` are the values a black and a white pixel have in the batch (it
    is usually normalised): the fill of empty space, and the range brightness, contrast
    and noise are measured in and clamped to."""
    unit = white - black
    low, high = sorted((round(policy["scale"][0] * SCALE_ONE), round(policy["scale"][1] * SCALE_ONE)))
    return dict(
        count=count, channels=channels, height=hw[0], width=hw[1], seed=seed & 0xFFFFFFFF,
        max_shift=int(policy["shift"]),
        max_turn=round(TURN_DENOMINATOR * math.tan(math.radians(policy["rotate"]) / 2)),
        scale_min=low, scale_max=high,
        flip_below=_threshold(policy["flip"]), cutout_below=_threshold(policy["cutout"]),
        cutout_size=int(policy["cutout_size"]),
        fill=float(black), mid=float(black + 0.5 * unit), top=float(white),
        brightness=float(policy["brightness"] * unit), contrast=float(policy["contrast"]),
        noise=float(policy["noise"] * unit))
