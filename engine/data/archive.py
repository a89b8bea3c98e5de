"""Your own images as a dataset: a zip of one folder per class, or of IDX files.

    train, test = load_archive("shapes.zip")      # natively: PNGs decoded here (png.py)

    archive = open_archive("shapes.zip")          # or bytes; reads the zip's layout only
    archive.classes                               # ["circle", "square", ...]: the folder names
    for member in archive.members: ...            # the image files, each with a label and a split
    train, test = archive.image_sets(pixels)      # pixels: every member as H*W grey bytes

The zip holds either

    <class>/<image>.png|jpg|...                   one folder per class (a folder around them
    [<top>/]<class>/.../<image>                   all is allowed), split 80/20 per class, seeded
    [<top>/]train/<class>/..., test/<class>/...   or split as its train/ and test/ folders say

or the four IDX files of an MNIST-style dataset (train-images-idx3-ubyte[.gz], ...),
whose classes are named by their labels "0", "1", ...

The playground page has the browser decode the images (it draws each one into a canvas
at the model's input size, its aspect ratio kept, and reads its grey values) and calls
open_archive and image_sets; natively load_archive decodes PNGs with png.py (zlib
only; JPEG needs the browser) and scales them the same way. Standard library only, so
this runs under Pyodide. A bad archive raises ArchiveError with a message naming the
archive and what is wrong.
"""
import collections
import io
import math
import posixpath
import random
import zipfile

from .datasets import FILES
from .idx import IdxFormatError, read_idx
from .mnist import ImageBytes
from .png import PngError, border_indices, decode_png, fit_grey

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
SPLIT_FOLDERS = ("train", "test")
TEST_SHARE = 0.2          # of each class, when the archive has no train/ and test/ folders
MAX_CLASSES = 256         # labels are stored as bytes
IMAGE_SIZE = (28, 28)     # (H, W): what the zoo's models read
MAX_BYTES = 1 << 30       # unpacked: a zip bomb is refused before it fills the tab's memory


class ArchiveError(ValueError):
    """An archive that cannot be a dataset; the message names it and the problem."""


class ImageSet(ImageBytes):
    """One split of your own data, laid out as MNIST is (engine.data.MNIST): grey images as
    bytes, labels as bytes, class names; DataLoader, Subset and the playground read it."""

    def __init__(self, name, images, labels, classes, image_shape, mean, std, train):
        self.dataset, self.train = name, train
        self.images, self.labels = bytes(images), bytes(labels)
        self.classes, self.num_classes = list(classes), len(classes)
        self.image_shape = tuple(image_shape)          # (C, H, W)
        self.num_samples = len(self.labels)
        self.mean, self.std = mean, std                # of the training split, pixels in 0..1

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"ImageSet({self.dataset!r}, {split}, {self.num_samples} x {self.image_shape})"


Member = collections.namedtuple("Member", "path label test")   # test: in the test split


class Archive:
    """A zip's layout: `kind` "images" (members to decode) or "idx" (ready to use)."""

    def __init__(self, zf, name, seed=0):
        self.zip, self.name = zf, name
        infos = [i for i in zf.infolist() if not i.is_dir() and not _hidden(i.filename)]
        unpacked = sum(i.file_size for i in infos)    # zipfile never reads past these sizes
        if unpacked > MAX_BYTES:
            raise ArchiveError(f"{name}: {unpacked / 2**20:,.0f} MB unpacked; at most "
                               f"{MAX_BYTES / 2**20:,.0f} MB")
        files = [i.filename for i in infos]
        idx = _idx_members(files)
        wanted = [f for pair in FILES.values() for f in pair]
        if idx and len(idx) < len(wanted) and not any(f.lower().endswith(IMAGE_SUFFIXES) for f in files):
            raise ArchiveError(f"{name}: an IDX dataset needs four files; missing "
                               f"{', '.join(f for f in wanted if f not in idx)} (or .gz)")
        if len(idx) == len(wanted):
            self.kind = "idx"
            self._idx_sets = self._read_idx(idx)
            self.classes = self._idx_sets[0].classes
            self.members = []
            return
        self.kind = "images"
        self.classes, self.members = _image_layout(files, name, seed)

    def read(self, member):
        """The bytes of one member (an image file)."""
        return self.zip.read(member.path)

    def image_sets(self, pixels=None, size=IMAGE_SIZE):
        """(train, test) ImageSets. For an image archive, `pixels` holds every member's grey
        values (H*W bytes each, 0 black .. 255 white, in the order of `members`)."""
        if self.kind == "idx":
            return self._idx_sets
        h, w = size
        pixels = bytes(pixels)
        if len(pixels) != len(self.members) * h * w:
            raise ArchiveError(f"{self.name}: {len(pixels)} bytes of pixels for {len(self.members)} "
                               f"images of {h}x{w}: expected {len(self.members) * h * w}")
        pixels = ink_bright(pixels, h, w)
        split = {}
        for test in (False, True):
            chosen = [k for k, m in enumerate(self.members) if m.test == test]
            split[test] = (b"".join(pixels[k * h * w:(k + 1) * h * w] for k in chosen),
                           bytes(self.members[k].label for k in chosen))
        mean, std = pixel_statistics(split[False][0])
        return tuple(ImageSet(self.name, images, labels, self.classes, (1, h, w), mean, std, not test)
                     for test, (images, labels) in split.items())

    def _read_idx(self, idx):
        sets = []
        for train in (True, False):
            (images_path, labels_path) = (idx[f] for f in FILES[train])
            try:
                images = read_idx(self.zip.read(images_path), f"{self.name}:{images_path}")
                labels = read_idx(self.zip.read(labels_path), f"{self.name}:{labels_path}")
            except IdxFormatError as err:
                raise ArchiveError(str(err)) from None
            if images.dtype != "uint8" or len(images.shape) != 3:
                raise ArchiveError(f"{self.name}:{images_path}: expected (N, H, W) uint8 images, "
                                   f"found {images.dtype} of shape {images.shape}")
            if labels.dtype != "uint8" or labels.shape != images.shape[:1]:
                raise ArchiveError(f"{self.name}:{labels_path}: expected {images.shape[0]} uint8 "
                                   f"labels for {images_path}, found {labels.dtype} of shape "
                                   f"{labels.shape}")
            sets.append((images, labels))
        train_labels = sets[0][1].data
        if len(set(train_labels)) < 2:
            raise ArchiveError(f"{self.name}: the training labels hold one class only; "
                               "a classifier needs at least two")
        classes = [str(k) for k in range(max(max(train_labels), max(sets[1][1].data, default=0)) + 1)]
        mean, std = pixel_statistics(sets[0][0].data)
        return tuple(ImageSet(self.name, images.data, labels.data, classes, (1,) + images.shape[1:],
                              mean, std, train)
                     for train, (images, labels) in zip((True, False), sets))


def open_archive(source, name=None, seed=0):
    """Read a zip's layout (a path or bytes). `name` is what messages call it."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, source = name or "the archive", io.BytesIO(bytes(source))
    else:
        name = name or posixpath.basename(str(source))
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise ArchiveError(f"{name}: not a zip archive") from None
    return Archive(zf, name, seed)


def load_archive(source, name=None, size=IMAGE_SIZE, seed=0):
    """(train, test) ImageSets of a zip natively: its images decoded by png.py, PNG only,
    and scaled to `size` with their aspect ratio kept (png.fit_grey), as the page does."""
    archive = open_archive(source, name, seed)
    if archive.kind == "idx":
        return archive.image_sets()
    pixels = []
    for member in archive.members:
        try:
            height, width, grey = decode_png(archive.read(member), member.path)
        except PngError as err:
            raise ArchiveError(f"{archive.name}: cannot read the image {err}") from None
        pixels.append(fit_grey(grey, height, width, size))
    return archive.image_sets(b"".join(pixels), size)


def _hidden(path):
    """macOS's __MACOSX/ resource forks, .DS_Store and other dot files are not data."""
    return any(part.startswith(".") or part == "__MACOSX" for part in path.split("/"))


def _idx_members(files):
    """{standard IDX file name: its path in the zip}, for those of the four it holds."""
    wanted = {f for pair in FILES.values() for f in pair}
    found = {}
    for path in files:
        base = posixpath.basename(path)
        base = base[:-3] if base.endswith(".gz") else base
        if base in wanted:
            found[base] = path
    return found


def _image_layout(files, name, seed):
    """(class names, [Member]) from the image paths: one folder per class."""
    images = [p for p in files if p.lower().endswith(IMAGE_SUFFIXES)]
    if not images:
        raise ArchiveError(
            f"{name}: no images (PNG, JPEG, GIF, BMP, WebP) and no IDX files in it; expected one "
            f"folder per class holding its images, e.g. cat/1.png, dog/1.png")
    parts = [p.split("/") for p in images]
    # a folder around everything ("shapes/circle/1.png") is not a class: drop it while
    # every image keeps a folder of its own
    while len({p[0] for p in parts}) == 1 and all(len(p) >= 3 for p in parts):
        parts = [p[1:] for p in parts]
    loose = [images[k] for k, p in enumerate(parts) if len(p) < 2]
    if loose:
        raise ArchiveError(
            f"{name}: no class folders: {_some(loose)} {'lies' if len(loose) == 1 else 'lie'} "
            f"outside any folder. Put each class's images in a folder named after the class "
            f"(cat/1.png, dog/1.png)")
    tops = {p[0].lower() for p in parts}
    if tops <= set(SPLIT_FOLDERS) and all(len(p) >= 3 for p in parts):   # train/<class>/..., test/<class>/...
        return _split_by_folders(images, parts, name)
    classes = sorted({p[0] for p in parts})
    _check_classes(classes, name)
    label = {c: k for k, c in enumerate(classes)}
    by_class = collections.defaultdict(list)
    for path, p in zip(images, parts):
        by_class[label[p[0]]].append(path)
    rng = random.Random(seed)
    members = []
    for k in range(len(classes)):
        paths = sorted(by_class[k])
        order = list(range(len(paths)))
        rng.shuffle(order)
        n_test = max(1, round(TEST_SHARE * len(paths))) if len(paths) >= 2 else 0
        test = set(order[:n_test])
        members += [Member(path, k, i in test) for i, path in enumerate(paths)]
    return classes, members


def _split_by_folders(images, parts, name):
    train_classes = sorted({p[1] for p in parts if p[0].lower() == "train"})
    _check_classes(train_classes, f"{name}: train/")
    label = {c: k for k, c in enumerate(train_classes)}
    strays = sorted({p[1] for p in parts if p[1] not in label})
    if strays:
        raise ArchiveError(f"{name}: test/ has class folders that train/ lacks: {', '.join(strays)}")
    members = sorted(Member(path, label[p[1]], p[0].lower() == "test") for path, p in zip(images, parts))
    if not any(m.test for m in members):
        raise ArchiveError(f"{name}: test/ holds no images")
    return train_classes, members


def _check_classes(classes, where):
    if len(classes) < 2:
        raise ArchiveError(f"{where}: one class only ({classes[0]}): a classifier needs at least "
                           f"two class folders")
    if len(classes) > MAX_CLASSES:
        raise ArchiveError(f"{where}: {len(classes)} class folders; at most {MAX_CLASSES}")


def _some(paths, n=3):
    return ", ".join(paths[:n]) + (f" and {len(paths) - n} more" if len(paths) > n else "")


def ink_bright(pixels, h, w):
    """MNIST's convention is bright ink on a black background (and so is the drawing pad).
    Images drawn dark on white are turned over, judged by the mean of their borders."""
    count = len(pixels) // (h * w)
    border = border_indices(h, w)
    total = sum(pixels[k * h * w + i] for k in range(count) for i in border)
    if count and total / (count * len(border)) > 127:
        return pixels.translate(bytes(range(255, -1, -1)))
    return pixels


def pixel_statistics(images):
    """(mean, std) of the pixels scaled to 0..1, as MNIST's pinned statistics are."""
    counts = collections.Counter(images)          # 256 buckets: fast for megabytes too
    n = max(1, len(images))
    mean = sum(v * c for v, c in counts.items()) / n / 255
    var = sum((v / 255 - mean) ** 2 * c for v, c in counts.items()) / n
    return mean, max(math.sqrt(var), 1e-3)
