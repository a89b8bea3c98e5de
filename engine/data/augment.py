"""Data augmentation on the device: each training image a little different every time.

    augment = Augment("digits", seed=0)
    for x, y in loader:
        x = augment(x, pixel_range=pixel_range(loader))   # a new (N, C, H, W) tensor

Every image of a batch gets its own random flip, shift, rotation, scale, cut-out,
brightness, contrast and noise, drawn on the device from a counter-based hash of
(seed, call, image): one kernel, shaders/augment.wgsl, one thread per output pixel,
and its numpy twin (engine/backend/cpu_numpy/augment.py) gives the same batch for
the same seed. No autograd: augmentation happens to data, before the model.

Policies are named (POLICIES); keyword arguments override their settings:

    shift        largest shift in whole pixels, each way (an integer)
    rotate       largest rotation in degrees, each way (at most 90)
    scale        (smallest, largest) zoom factor, in [0.5, 2]
    flip         probability of a horizontal mirror image (0 for digits: a mirrored 2 is no 2)
    cutout       probability of blanking a square of cutout_size pixels
    brightness   largest brightness change each way, as a fraction of black-to-white
    contrast     largest contrast change each way (0.2: a factor in [0.8, 1.2])
    noise        standard deviation of Gaussian noise, as a fraction of black-to-white

`pixel_range` is (black, white): what a black and a white pixel are worth in the batch
(the DataLoader normalises them), so that empty space is filled with black.
"""
import math

from ..backend.augment_fields import IDENTITY
from ..tensor import Tensor

POLICIES = {
    "none": {},
    # shifts of up to 2 pixels, no flip (a mirrored 2 is no 2): in docs/TRAINING.md, as good as
    # "handwriting" against shifted digits and, unlike it, no loss on the plain test set
    "digits": dict(shift=2),
    # ...and small turns and zooms too, as a hand varies: for bigger models, longer runs
    "handwriting": dict(shift=2, rotate=10.0, scale=(0.9, 1.1)),
    # clothes may be mirrored, photographed lighter or darker
    "fashion": dict(shift=2, rotate=8.0, scale=(0.95, 1.05), flip=0.5, cutout=0.5, cutout_size=8,
                    brightness=0.1, contrast=0.2),
    # everything at once, to see what each transform does
    "all": dict(shift=3, rotate=15.0, scale=(0.85, 1.15), flip=0.5, cutout=0.5, cutout_size=8,
                brightness=0.2, contrast=0.3, noise=0.1),
}


def pixel_range(loader):
    """(black, white) in the batches of an engine.data.DataLoader, which turns a pixel p
    in 0..255 into p * loader.scale + loader.shift."""
    if not (hasattr(loader, "scale") and hasattr(loader, "shift")):
        raise TypeError(f"augmentation needs to know what black and white are in the batches: "
                        f"give an engine.data.DataLoader, not a {type(loader).__name__}, or call "
                        f"Augment(...)(x, pixel_range=(black, white)) in your own loop")
    return loader.shift, loader.shift + 255 * loader.scale


def policy_settings(policy="digits", **overrides):
    """A named policy with `overrides` applied, checked: every key of IDENTITY."""
    if policy not in POLICIES:
        raise ValueError(f"unknown augmentation policy {policy!r}; choose one of "
                         f"{', '.join(POLICIES)}")
    unknown = sorted(set(overrides) - set(IDENTITY))
    if unknown:
        raise ValueError(f"Augment: unknown setting(s) {', '.join(unknown)}; the settings are "
                         f"{', '.join(IDENTITY)}")
    settings = {**IDENTITY, **POLICIES[policy], **overrides}
    _check(settings)
    return settings


def _check(s):
    def bad(name, rule):
        raise ValueError(f"Augment: {name} must be {rule}, got {s[name]!r}")
    if isinstance(s["shift"], bool) or not isinstance(s["shift"], int) or not 0 <= s["shift"] <= 64:
        bad("shift", "an integer number of pixels in [0, 64]")
    for name, top in (("rotate", 90), ("flip", 1), ("cutout", 1), ("brightness", 1),
                      ("contrast", 1), ("noise", 1)):
        if not isinstance(s[name], (int, float)) or not (0 <= s[name] <= top):
            bad(name, f"a number in [0, {top}]")
    scale = s["scale"]
    if (not isinstance(scale, (tuple, list)) or len(scale) != 2
            or not all(isinstance(v, (int, float)) and 0.5 <= v <= 2 for v in scale)):
        bad("scale", "a pair (smallest, largest) of factors in [0.5, 2]")
    size = s["cutout_size"]
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= 1024:
        bad("cutout_size", "an integer number of pixels in [0, 1024]")
    if s["cutout"] > 0 and size == 0:
        raise ValueError("Augment: cutout > 0 needs a cutout_size in pixels")


class Augment:
    """A named policy (POLICIES) with a seed: each call draws new transforms, so the n-th
    call of an Augment(policy, seed) gives the same batch on every backend."""

    def __init__(self, policy="digits", seed=0, **overrides):
        self.policy = policy
        self.settings = policy_settings(policy, **overrides)
        self.seed, self.calls = seed, 0

    def __repr__(self):
        return f"Augment({self.policy!r}, seed={self.seed})"

    def __call__(self, x, pixel_range=(0.0, 1.0)):
        seed = (self.seed * 1_000_003 + self.calls) & 0xFFFFFFFF   # a new stream per call
        self.calls += 1
        return augment(x, self.settings, seed, pixel_range)


def augment(x, settings, seed, pixel_range=(0.0, 1.0)):
    """x (N, C, H, W) float32, transformed by `settings` (policy_settings) with `seed`."""
    if not isinstance(x, Tensor) or len(x.shape) != 4 or x.dtype != "float32":
        shape = getattr(x, "shape", None)
        raise ValueError(f"Augment: expected a float32 batch of images (N, C, H, W), got "
                         f"{type(x).__name__} of shape {shape} and dtype "
                         f"{getattr(x, 'dtype', None)}")
    black, white = (float(v) for v in pixel_range)
    if not (math.isfinite(black) and math.isfinite(white) and white > black):
        raise ValueError(f"Augment: pixel_range must be finite (black, white) with white > black, "
                         f"got {pixel_range!r}")
    N, C, H, W = x.shape
    data = x.backend.augment(x.data, N, C, (H, W), seed, settings, black, white)
    return Tensor(data, x.shape, "float32", x.backend)
