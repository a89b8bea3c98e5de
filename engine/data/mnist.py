"""MNIST, Fashion-MNIST and every dataset laid out like them: four IDX files.

torchvision's convention, plus names and plain folders:

    MNIST(train=True, download=True)       the data root's mnist/ (engine/data/datasets.py),
                                           fetched, hash-checked and cached when missing
    FashionMNIST(train=False)              the same for Fashion-MNIST
    MNIST("fashion-mnist")                 a named dataset: "mnist" or "fashion-mnist"
    MNIST("path/to/root", download=True)   torchvision's layout: path/to/root/mnist/
    MNIST("path/to/idx-folder")            a folder that holds the IDX files itself (KMNIST,
                                           your own data...): read as it is, no hash pinned

    ds.images          # bytes, uint8, num_samples * 28 * 28, row-major
    ds.labels          # bytes, uint8, num_samples
    image, label = ds[0]

Standard library only, so it runs in the browser under Pyodide too; only download=True
reaches for download.py (pip, urllib), and only when files are missing or wrong.
"""
import os

from .datasets import DATASETS, FILES, ChecksumError, dataset_folder, find_file, read_verified
from .idx import IdxFormatError, read_idx


class ImageBytes:
    """Samples stored as MNIST stores them: `images` one H*W run of grey bytes per sample,
    `labels` one byte each, `num_samples`, `image_shape` (C, H, W). MNIST and your own
    data (archive.ImageSet) index them the same way."""

    def __len__(self):
        return self.num_samples

    def __getitem__(self, i):
        """(image as H*W bytes, label as int)."""
        if not -self.num_samples <= i < self.num_samples:
            raise IndexError(f"index {i} out of range for {self.num_samples} samples")
        i %= self.num_samples
        n = self.image_shape[1] * self.image_shape[2]
        return self.images[i * n:(i + 1) * n], self.labels[i]


class MNIST(ImageBytes):
    """One split (train or test) of an MNIST-style dataset; see the module's docstring for `root`."""

    dataset = "mnist"  # the named dataset MNIST() means; FashionMNIST says "fashion-mnist"
    num_classes = 10
    classes = list(DATASETS["mnist"].classes)
    mean, std = DATASETS["mnist"].mean, DATASETS["mnist"].std  # training-set pixel statistics (0..1)

    def __init__(self, root=None, train=True, download=False):
        info, folder = _resolve(root, self.dataset)
        self.root, self.train = folder, bool(train)
        if info is None:
            (images_file, images), (labels_file, labels) = (_read_plain(folder, f) for f in FILES[self.train])
        else:
            self.classes, self.mean, self.std = list(info.classes), info.mean, info.std
            (images_file, images), (labels_file, labels) = _read_named(info, folder, self.train, download)
        _check_split(images_file, images, labels_file, labels, self.num_classes)
        self.images, self.labels = images.data, labels.data
        self.num_samples = images.shape[0]
        self.image_shape = (1,) + images.shape[1:]  # (C, H, W)

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(root={self.root!r}, {split}, {self.num_samples} x {self.image_shape})"


class FashionMNIST(MNIST):
    dataset = "fashion-mnist"
    classes = list(DATASETS["fashion-mnist"].classes)
    mean, std = DATASETS["fashion-mnist"].mean, DATASETS["fashion-mnist"].std


def _resolve(root, name):
    """(DatasetInfo, folder) for a named dataset, or (None, folder) for a plain folder of IDX files."""
    if root is None:
        return DATASETS[name], dataset_folder(name)
    root = os.fspath(root)
    if root in DATASETS:  # a name, not a folder
        return DATASETS[root], dataset_folder(root)
    if any(find_file(root, f) for pair in FILES.values() for f in pair):
        return None, root
    return DATASETS[name], dataset_folder(name, root)  # torchvision's root/<name>/


def _read_named(info, folder, train, download):
    """[(path, Idx) of the images, of the labels], hash-checked; fetched first if need be and allowed."""
    try:
        return [read_verified(folder, f, info) for f in FILES[train]]
    except (FileNotFoundError, ChecksumError):
        if not download:
            raise
    from .download import prepare  # native only: may run pip or open URLs
    prepare(info.name, os.path.dirname(folder))
    return [read_verified(folder, f, info) for f in FILES[train]]


def _read_plain(folder, name):
    path = find_file(folder, name)
    if path is None:
        where = f"{folder!r} has no file {name} or {name}.gz" if os.path.isdir(folder) else \
            f"no folder {folder!r} (looking for {name}[.gz])"
        raise FileNotFoundError(f"IDX data missing: {where}. Pass root= a folder of the four IDX files, "
                                f"or a dataset name: {', '.join(DATASETS)}.")
    return path, read_idx(path)


def _check_split(images_file, images, labels_file, labels, num_classes):
    """The images and labels fit together: N x H x W uint8, N uint8 labels below num_classes."""
    if images.dtype != "uint8" or len(images.shape) != 3:
        raise IdxFormatError(f"{images_file}: expected 3-D uint8 images (N, H, W), "
                             f"found {len(images.shape)}-D {images.dtype} of shape {images.shape}")
    if labels.dtype != "uint8" or len(labels.shape) != 1:
        raise IdxFormatError(f"{labels_file}: expected 1-D uint8 labels (N,), "
                             f"found {len(labels.shape)}-D {labels.dtype} of shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IdxFormatError(f"{images_file} has {images.shape[0]} images but {labels_file} "
                             f"has {labels.shape[0]} labels")
    if labels.data and max(labels.data) >= num_classes:
        bad = max(labels.data)
        raise IdxFormatError(f"{labels_file}: label {bad} at index {labels.data.index(bad)} "
                             f"is out of range 0..{num_classes - 1}")
