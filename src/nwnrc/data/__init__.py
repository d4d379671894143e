"""Data sources and input encodings.

MNIST from local files, a verified cache, or a one-time fetch (:func:`load_mnist`);
IDX file reading (:func:`read_idx`); and the pixel-to-voltage encoding that turns
images into input streams for a device (:func:`encode_images`).
"""

from nwnrc.data._encoding import (
    DEFAULT_V_MAX,
    DEFAULT_V_MIN,
    PIXELS_PER_IMAGE,
    encode_images,
)
from nwnrc.data._idx import read_idx, write_idx
from nwnrc.data._mnist import MnistSplits, default_cache_dir, load_mnist

__all__ = [
    "DEFAULT_V_MAX",
    "DEFAULT_V_MIN",
    "PIXELS_PER_IMAGE",
    "MnistSplits",
    "default_cache_dir",
    "encode_images",
    "load_mnist",
    "read_idx",
    "write_idx",
]
