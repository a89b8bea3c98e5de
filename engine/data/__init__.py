"""Datasets in the IDX format (MNIST and its relatives), read with the standard library alone."""
from .idx import IdxFormatError, read_idx, write_idx
from .mnist import MNIST, FashionMNIST
from .loader import DataLoader, Subset

__all__ = ["MNIST", "FashionMNIST", "DataLoader", "Subset", "read_idx", "write_idx", "IdxFormatError"]
