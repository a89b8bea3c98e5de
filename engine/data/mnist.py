"""MNIST and every dataset laid out like it (Fashion-MNIST, KMNIST, ...): four IDX files.

    ds = MNIST("data/mnist", train=True)     # or MNIST("mnist"), MNIST("fashion-mnist")
    ds.images          # bytes, uint8, num_samples * 28 * 28, row-major
    ds.labels          # bytes, uint8, num_samples
    image, label = ds[0]

Standard library only, so it runs in the browser under Pyodide too.
"""
import os

from .idx import IdxFormatError, read_idx

FILES = {  # train -> (images, labels), each read with or without a .gz suffix
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATASETS = {  # a name instead of a folder
    "mnist": os.path.join(_REPO, "data", "mnist"),  # made by scripts/setup.sh
    "fashion-mnist": "/usr/share/datasets/fashion-mnist",  # Debian: dataset-fashion-mnist
}
MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class MNIST:
    """One split of an MNIST-style dataset, read from `root`: a folder, or a name in DATASETS."""

    num_classes = 10
    classes = MNIST_CLASSES
    mean, std = 0.1307, 0.3081  # pixel statistics of the training set (pixel / 255)

    def __init__(self, root="data/mnist", train=True):
        self.root = DATASETS.get(root, root)
        if root == "fashion-mnist":
            self.classes = FASHION_MNIST_CLASSES
        self.train = train
        images_file, labels_file = (_find(self.root, f) for f in FILES[bool(train)])
        images, labels = read_idx(images_file), read_idx(labels_file)
        if images.dtype != "uint8" or len(images.shape) != 3:
            raise IdxFormatError(f"{images_file}: expected 3-D uint8 images (N, H, W), "
                                 f"found {len(images.shape)}-D {images.dtype} of shape {images.shape}")
        if labels.dtype != "uint8" or len(labels.shape) != 1:
            raise IdxFormatError(f"{labels_file}: expected 1-D uint8 labels (N,), "
                                 f"found {len(labels.shape)}-D {labels.dtype} of shape {labels.shape}")
        if images.shape[0] != labels.shape[0]:
            raise IdxFormatError(f"{images_file} has {images.shape[0]} images but {labels_file} "
                                 f"has {labels.shape[0]} labels")
        if labels.data and max(labels.data) >= self.num_classes:
            bad = max(labels.data)
            raise IdxFormatError(f"{labels_file}: label {bad} at index {labels.data.index(bad)} "
                                 f"is out of range 0..{self.num_classes - 1}")
        self.images, self.labels = images.data, labels.data
        self.num_samples = images.shape[0]
        self.image_shape = (1,) + images.shape[1:]  # (C, H, W)

    def __len__(self):
        return self.num_samples

    def __getitem__(self, i):
        """(image as H*W bytes, label as int)."""
        if not -self.num_samples <= i < self.num_samples:
            raise IndexError(f"index {i} out of range for {self.num_samples} samples")
        i %= self.num_samples
        n = self.image_shape[1] * self.image_shape[2]
        return self.images[i * n:(i + 1) * n], self.labels[i]

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(root={self.root!r}, {split}, {self.num_samples} x {self.image_shape})"


class FashionMNIST(MNIST):
    classes = FASHION_MNIST_CLASSES
    mean, std = 0.2860, 0.3530

    def __init__(self, root="fashion-mnist", train=True):
        super().__init__(root, train)


def _find(root, name):
    for candidate in (os.path.join(root, name), os.path.join(root, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    where = f"{root!r} has no file {name} or {name}.gz" if os.path.isdir(root) else \
        f"no folder {root!r} (looking for {name}[.gz])"
    raise FileNotFoundError(f"MNIST data missing: {where}. Run `bash scripts/setup.sh` to fetch "
                            f"MNIST into data/mnist/, or pass root= a folder of the four IDX files.")
