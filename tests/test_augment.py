"""Data augmentation (engine/data/augment.py, shaders/augment.wgsl and its numpy twin).

- The GPU and numpy give the same batch for a seed: bit for bit where only geometry
  and cut-out are on (integer arithmetic on both), within 1e-6 where brightness,
  contrast or noise are on (float arithmetic: WGSL lets a compiler fuse a * b + c into
  one rounding (lavapipe does), and the noise's log and cos are the GPU's own, a few
  float32 ulps from numpy's).
- Each transform against a float64 reference computed here: integer shifts move
  pixels exactly, a flip mirrors, a rotation is a nearest-neighbour rotation by an
  angle within the limit, a zoom by 2 repeats pixels, cut-out blanks a square,
  brightness and contrast follow their formulas, noise has the requested spread.
"""
import math

import numpy as np
import pytest

import engine as eg
from engine import nn, optim
from engine.data import Augment, DataLoader
from engine.data.augment import augment, pixel_range, policy_settings
from engine.train import fit

BLACK, WHITE = -0.4, 2.8          # a normalised pixel range, as the DataLoader makes
UNIT = WHITE - BLACK


def images(n=16, c=1, h=28, w=28, seed=0, low=0.0):
    """Random images with values in [black + low * unit, white]."""
    rng = np.random.default_rng(seed)
    return (BLACK + UNIT * rng.uniform(low, 1.0, (n, c, h, w))).astype(np.float32)


def run(x, seed=7, **settings):
    policy = settings.pop("policy", "none")
    out = augment(eg.tensor(x), policy_settings(policy, **settings), seed, (BLACK, WHITE))
    assert out.shape == x.shape and out.dtype == "float32"
    return out.numpy()


def shift_of(src, dy, dx):
    out = np.full_like(src, np.float32(BLACK))
    h, w = src.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        src[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def nearest_rotation(src, angle):
    """float64 reference: the output pixel (r, c) takes the input pixel nearest to its
    position turned by -angle about the centre; black outside."""
    h, w = src.shape[-2:]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    cos, sin = math.cos(angle), math.sin(angle)
    sc = np.floor(cx + cos * (c - cx) + sin * (r - cy) + 0.5).astype(int)
    sr = np.floor(cy - sin * (c - cx) + cos * (r - cy) + 0.5).astype(int)
    inside = (sc >= 0) & (sc < w) & (sr >= 0) & (sr < h)
    return np.where(inside, src[..., sr.clip(0, h - 1), sc.clip(0, w - 1)], np.float32(BLACK))


# ---- the two backends agree --------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("policy", ["none", "digits", "handwriting", "fashion", "all"])
def test_gpu_and_numpy_give_the_same_batch(policy):
    x = images(n=24, c=3, h=19, w=23)   # channels, and a size that is neither square nor even
    batches = {}
    for device in ("cpu", "gpu"):
        eg.set_device(device)
        batches[device] = run(x, seed=12345, policy=policy, cutout_size=6)
    settings = policy_settings(policy)
    if settings["brightness"] == settings["contrast"] == settings["noise"] == 0:
        np.testing.assert_array_equal(batches["gpu"], batches["cpu"])
    else:
        np.testing.assert_allclose(batches["gpu"], batches["cpu"], rtol=0, atol=1e-6 * UNIT)
    assert not np.array_equal(batches["cpu"], x) or policy == "none"


@pytest.mark.gpu
def test_the_gpu_gives_numpys_mnist_digits_exactly():
    from engine.data import MNIST
    test_set = MNIST("mnist", train=False)
    loader = DataLoader(test_set, 64)
    batches = []
    for device in ("cpu", "gpu"):
        eg.set_device(device)
        x, _ = next(iter(loader))
        batches.append(Augment("handwriting", seed=3)(x, pixel_range(loader)).numpy())
    np.testing.assert_array_equal(*batches)


# ---- each transform against a reference -----------------------------------------------------
def test_the_identity_policy_returns_the_input(device):
    x = images(c=2, h=9, w=12)
    np.testing.assert_array_equal(run(x, policy="none"), x)


def test_integer_shifts_move_pixels_exactly(device):
    x = images(n=40)
    out = run(x, shift=3)
    seen = set()
    for src, got in zip(x, out):
        matches = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)
                   if np.array_equal(got, shift_of(src, dy, dx))]
        assert len(matches) == 1, f"not an integer shift within 3 pixels: {matches}"
        seen.add(matches[0])
    assert len(seen) > 10   # the shifts are drawn, not fixed


def test_flip_mirrors_left_to_right(device):
    x = images(c=3, h=8, w=11)
    np.testing.assert_array_equal(run(x, flip=1.0), x[..., ::-1])
    half = run(images(n=64), flip=0.5)
    mirrored = [np.array_equal(got, src[..., ::-1]) for src, got in zip(images(n=64), half)]
    kept = [np.array_equal(got, src) for src, got in zip(images(n=64), half)]
    assert all(m or k for m, k in zip(mirrored, kept)) and 16 < sum(mirrored) < 48


def test_rotation_is_a_nearest_neighbour_rotation_within_the_limit(device):
    x = images(n=12, h=21, w=21)
    out = run(x, rotate=15.0)
    angles = np.radians(np.arange(-15, 15.01, 0.05))
    for src, got in zip(x, out):
        agreement = [np.mean(nearest_rotation(src, a) == got) for a in angles]
        # the kernel's angle is exact in its fixed point, the reference's in float64:
        # pixels whose source lies on a half-pixel boundary may round either way
        assert max(agreement) > 0.99, max(agreement)
    assert not all(np.array_equal(got, src) for src, got in zip(x, out))


def test_a_zoom_by_two_repeats_each_pixel(device):
    x = images(n=4, h=12, w=10)
    out = run(x, scale=(2.0, 2.0))
    # output pixel j reads floor(c + (j - c) / 2 + 1/2), c the centre, in float64
    rows = np.floor((12 - 1) / 2 + (np.arange(12) - (12 - 1) / 2) / 2 + 0.5).astype(int)
    cols = np.floor((10 - 1) / 2 + (np.arange(10) - (10 - 1) / 2) / 2 + 0.5).astype(int)
    np.testing.assert_array_equal(out, x[:, :, rows][:, :, :, cols])


def test_cutout_blanks_a_square(device):
    x = images(n=48, c=2, low=0.1)   # no pixel is black before
    out = run(x, cutout=1.0, cutout_size=6)
    full = 0
    for src, got in zip(x, out):
        changed = np.argwhere((got != src).any(axis=0))
        assert (got[:, changed[:, 0], changed[:, 1]] == np.float32(BLACK)).all()
        (top, left), (bottom, right) = changed.min(0), changed.max(0)
        assert len(changed) == (bottom - top + 1) * (right - left + 1)   # a rectangle...
        assert bottom - top < 6 and right - left < 6                        # ...within 6 x 6
        full += (bottom - top == 5 and right - left == 5)
    assert full > 24   # most squares lie wholly inside the image


def test_brightness_adds_one_number_per_image(device):
    x = images(n=32, low=0.3)[..., :, :] * np.float32(0.5) + np.float32(0.2)   # away from clamps
    out = run(x, brightness=0.1).astype(np.float64)
    delta = out - x
    per_image = delta.reshape(32, -1)
    np.testing.assert_allclose(per_image, per_image[:, :1].repeat(per_image.shape[1], 1),
                               atol=1e-6 * UNIT)
    assert np.abs(per_image[:, 0]).max() <= 0.1 * UNIT + 1e-6
    assert per_image[:, 0].std() > 0.02 * UNIT


def test_contrast_scales_around_mid_grey(device):
    mid = BLACK + 0.5 * UNIT
    x = (mid + (images(n=32) - mid) * 0.7).astype(np.float32)   # stays inside after x1.2
    out = run(x, contrast=0.2).astype(np.float64)
    factor = (out - mid) / (x - mid)
    per_image = factor.reshape(32, -1)
    away = np.abs(x - mid).reshape(32, -1) > 0.05 * UNIT   # a ratio of tiny numbers is noise
    for f, a in zip(per_image, away):
        np.testing.assert_allclose(f[a], np.median(f[a]), atol=1e-4)
        assert 0.8 - 1e-5 <= np.median(f[a]) <= 1.2 + 1e-5
    assert np.std([np.median(f[a]) for f, a in zip(per_image, away)]) > 0.05


def test_values_stay_between_black_and_white(device):
    out = run(images(n=16), policy="all")
    assert out.min() >= np.float32(BLACK) and out.max() <= np.float32(WHITE)


def test_noise_is_gaussian_with_the_requested_spread(device):
    mid = np.float32(BLACK + 0.5 * UNIT)
    x = np.full((16, 1, 64, 64), mid, np.float32)
    noise = (run(x, noise=0.05).astype(np.float64) - mid) / UNIT    # |noise| < 10 sigma: no clamp
    assert abs(noise.mean()) < 0.002
    assert abs(noise.std() - 0.05) < 0.001
    assert abs(np.mean(np.abs(noise) < 0.05) - 0.6827) < 0.01      # one sigma
    assert abs(np.mean(np.abs(noise) < 0.1) - 0.9545) < 0.005      # two sigmas


# ---- seeds, calls, errors ---------------------------------------------------------------
def test_a_seed_gives_one_batch_and_another_seed_another(device):
    x = images()
    assert np.array_equal(run(x, seed=1, policy="all"), run(x, seed=1, policy="all"))
    assert not np.array_equal(run(x, seed=1, policy="all"), run(x, seed=2, policy="all"))
    first, second = Augment("digits", seed=5), Augment("digits", seed=5)
    t = eg.tensor(x)
    a1, a2 = first(t).numpy(), first(t).numpy()
    assert not np.array_equal(a1, a2)                       # each call draws anew
    assert np.array_equal(second(t).numpy(), a1)            # ...reproducibly


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match=r"unknown augmentation policy 'digit'; choose one of "
                                         r"none, digits"):
        Augment("digit")
    with pytest.raises(ValueError, match=r"unknown setting\(s\) rotation"):
        Augment("digits", rotation=3)
    with pytest.raises(ValueError, match=r"rotate must be a number in \[0, 90\], got 120"):
        Augment("digits", rotate=120)
    with pytest.raises(ValueError, match=r"shift must be an integer"):
        Augment("digits", shift=1.5)
    with pytest.raises(ValueError, match=r"scale must be a pair"):
        Augment("digits", scale=(0.1, 1.0))
    with pytest.raises(ValueError, match=r"cutout > 0 needs a cutout_size"):
        Augment("none", cutout=0.5)
    with pytest.raises(ValueError, match=r"expected a float32 batch of images \(N, C, H, W\), "
                                         r"got Tensor of shape \(3, 4\)"):
        Augment()(eg.zeros(3, 4))
    with pytest.raises(ValueError, match=r"pixel_range must be finite \(black, white\) with "
                                         r"white > black"):
        Augment()(eg.zeros(1, 1, 4, 4), pixel_range=(1.0, 0.0))
    with pytest.raises(TypeError, match=r"give an engine.data.DataLoader, not a list"):
        pixel_range([])


class Quadrants:
    """Class c lights up quadrant c of an 8 x 8 image."""
    image_shape = (1, 8, 8)
    mean, std = 0.1, 0.3

    def __init__(self, n=64):
        self.labels = bytes(i % 4 for i in range(n))
        self.images = b"".join(bytes(255 if (j // 32) * 2 + (j % 8) // 4 == c else 0
                                     for j in range(64)) for c in self.labels)

    def __len__(self):
        return len(self.labels)


def test_fit_trains_on_augmented_batches(device):
    eg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
    loader = DataLoader(Quadrants(), batch_size=16, shuffle=True, seed=1)
    seen = []
    augmenter = Augment("digits", seed=0, rotate=0.0, scale=(1.0, 1.0), shift=1)

    def watched(x, pixel_range):
        out = augmenter(x, pixel_range)
        seen.append((x.numpy(), out.numpy()))
        return out
    history = fit(model, loader, optim.SGD(model.parameters(), lr=0.1), epochs=4,
                  log_every=4, progress=False, augment=watched)
    assert history[-1][1] < history[0][1] / 2
    black = -0.1 / 0.3
    for x, out in seen:   # the step got shifted batches, black filling in
        assert not np.array_equal(x, out) and np.isclose(out.min(), black, atol=1e-6)


# ---- the page's Python (web/playground/, natively; tests/test_page.py drives the page) ----------
def test_the_playground_switch_augments_batches_and_draws_a_strip():
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    "web"))
    import playground as pg
    from engine.data import available_datasets
    import engine.models
    pg.boot("cpu")
    pg.open_dataset("mnist", available_datasets()["mnist"]["folder"])
    with open(os.path.join(os.path.dirname(engine.models.__file__), "mlp.py")) as f:
        assert pg.build(f.read(), None, "mlp")["ok"]
    trainer = pg._playground.trainer
    plain, _ = trainer.next_batch()
    off = pg.configure({"augment": False})
    assert off["ok"] and off["augment_strip"] is None
    on = pg.configure({"augment": True})
    assert on["ok"] and on["settings"]["augment"] is True
    strip = on["augment_strip"]
    assert strip["policy"] == "handwriting" and len(strip["pixels"]) == strip["width"] * strip["height"]
    pixels = np.array(strip["pixels"], np.uint8).reshape(strip["height"], strip["width"])
    originals, augmented = pixels[:28], pixels[30:]
    assert originals.max() > 200 and not np.array_equal(originals, augmented)
    batch, _ = trainer.next_batch()
    # the loader's black is the background of every augmented digit's corner
    assert np.isclose(batch.numpy()[:, 0, 0, 0], trainer.loader.shift).all()
    assert math.isfinite(pg.train_steps(3)["loss"])
    assert pg.configure({"augment": "yes"})["ok"] is False
