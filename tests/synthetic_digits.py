"""Synthetic digits for end-to-end tests that need no MNIST download."""

from __future__ import annotations

import numpy as np


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten classes of bar patterns: horizontal bars for 0-4, vertical for 5-9.

    Each bar is shifted by up to a pixel and trimmed at random, so the classes are
    separable only by a readout that sees where the strokes are.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for i, c in enumerate(labels):
        pos = 4 + 4 * (c % 5) + rng.integers(-1, 2)
        lo, hi = 4 + rng.integers(0, 3), 24 - rng.integers(0, 3)
        if c < 5:
            images[i, pos : pos + 3, lo:hi] = 255
        else:
            images[i, lo:hi, pos : pos + 3] = 255
    return images, labels.astype(np.int64)


def write_digit_set(
    path, sizes: tuple[int, int, int], seeds: tuple[int, int, int]
) -> dict[str, np.ndarray]:
    """Write train, validation and test splits of synthetic digits to a ``.npz``.

    ``sizes`` and ``seeds`` are per split (train, val, test); returns the arrays
    under the keys ``load_mnist`` reads (``x_train``, ``y_train``, ...).
    """
    arrays = {}
    for split, n, seed in zip(("train", "val", "test"), sizes, seeds, strict=True):
        arrays[f"x_{split}"], arrays[f"y_{split}"] = synthetic_digits(n, seed)
    np.savez(path, **arrays)
    return arrays
