"""Structural similarity (SSIM) of reconstructed images against their targets.

The sequence-memory task scores a reconstructed digit by its structural similarity
to the true digit [1]_ (eq. 13 of the paper, with the mean over local windows of
eq. 17): for two images x and y and a local window,

    SSIM = (2 mu_x mu_y + C1) (2 sigma_xy + C2) /
           ((mu_x**2 + mu_y**2 + C1) (sigma_x**2 + sigma_y**2 + C2)),

with ``C1 = (K1 * data_range)**2``, ``C2 = (K2 * data_range)**2``, K1 = 0.01 and
K2 = 0.03, averaged over every window position that fits inside the image. This
module wraps :func:`skimage.metrics.structural_similarity` so that every score in
nwnrc is computed the same way:

- images are pixel intensities in [0, 1] and ``data_range`` is always 1 (never inferred
  from the data, which would make the constants depend on how bright a digit is);
- the window is a uniform ``win_size`` x ``win_size`` square (7 by default, the
  scikit-image default) with the sample (N - 1) covariance, as in scikit-image;
- a reconstruction is clipped to [0, 1] before scoring (a linear reconstructor can
  overshoot), while a target outside [0, 1] is an error.

References
----------
.. [1] Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality
   assessment: from error visibility to structural similarity", IEEE Trans. Image
   Process. 13, 600-612 (2004).
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import ConfigError

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_SSIM_WINDOW", "ssim", "ssim_batch"]

#: Side of the square SSIM window, pixels (scikit-image's default).
DEFAULT_SSIM_WINDOW = 7


def _check_window(win_size: int, shape: tuple[int, ...]) -> int:
    if isinstance(win_size, bool) or not isinstance(win_size, int | np.integer):
        raise ConfigError(f"win_size must be an odd integer >= 3, got {win_size!r}")
    if win_size < 3 or win_size % 2 == 0:
        raise ConfigError(f"win_size must be an odd integer >= 3, got {win_size!r}")
    if min(shape) < win_size:
        raise ConfigError(
            f"images of shape {shape} are smaller than the SSIM window "
            f"(win_size={win_size}); pass an odd win_size <= {min(shape)} or larger "
            "images"
        )
    return int(win_size)


def _check_pair(
    target: ArrayLike, reconstruction: ArrayLike, ndim: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t = np.asarray(target, dtype=np.float64)
    r = np.asarray(reconstruction, dtype=np.float64)
    what = "an image (h, w)" if ndim == 2 else "a stack of images (n, h, w)"
    if t.ndim != ndim:
        raise ConfigError(f"target must be {what}, got shape {t.shape}")
    if r.shape != t.shape:
        raise ConfigError(
            f"reconstruction shape {r.shape} differs from target shape {t.shape}; "
            "reshape the reconstruction to the target's shape"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(r))):
        raise ConfigError("target and reconstruction must be finite (no NaN or inf)")
    if t.size and (t.min() < 0.0 or t.max() > 1.0):
        raise ConfigError(
            f"target pixels must lie in [0, 1] (SSIM uses data_range=1), got values "
            f"in [{t.min():g}, {t.max():g}]; scale the target (8-bit images: / 255)"
        )
    return t, r


def ssim(
    target: ArrayLike,
    reconstruction: ArrayLike,
    *,
    win_size: int = DEFAULT_SSIM_WINDOW,
) -> float:
    """Structural similarity of a reconstruction against its target.

    Parameters
    ----------
    target : array_like, shape (h, w)
        The true image, pixels in [0, 1].
    reconstruction : array_like, shape (h, w)
        The reconstructed image; clipped to [0, 1] before scoring.
    win_size : int, default 7
        Side of the square uniform window, odd, at most the smaller image side.

    Returns
    -------
    float
        Mean SSIM over the window positions, in [-1, 1]; 1 for identical images.

    Raises
    ------
    ConfigError
        If the shapes differ or are not 2-D, the images are smaller than the window,
        ``win_size`` is not an odd integer >= 3, a value is not finite, or the target
        leaves [0, 1].

    Notes
    -----
    ``data_range`` is fixed at 1, whatever the dtype or the brightness of the images.
    For two constant images of values a and b the variances vanish and the score is
    ``(2 a b + C1) / (a**2 + b**2 + C1)`` with ``C1 = 1e-4``.

    Examples
    --------
    >>> import numpy as np
    >>> round(ssim(np.full((8, 8), 0.2), np.full((8, 8), 0.6)), 6)  # 0.2401 / 0.4001
    0.6001
    >>> ssim(np.eye(8), np.eye(8) * 2.0)  # the reconstruction is clipped to [0, 1]
    1.0
    """
    from skimage.metrics import structural_similarity

    t, r = _check_pair(target, reconstruction, 2)
    w = _check_window(win_size, t.shape)
    value = structural_similarity(
        t, np.clip(r, 0.0, 1.0), win_size=w, data_range=1.0, gaussian_weights=False
    )
    return float(value)


def ssim_batch(
    targets: ArrayLike,
    reconstructions: ArrayLike,
    *,
    win_size: int = DEFAULT_SSIM_WINDOW,
) -> NDArray[np.float64]:
    """SSIM of each reconstruction in a stack against its target.

    Parameters
    ----------
    targets, reconstructions : array_like, shape (n, h, w)
        Images, as for :func:`ssim`.
    win_size : int, default 7
        Side of the square uniform window.

    Returns
    -------
    ndarray, shape (n,)
        One score per image pair.

    Raises
    ------
    ConfigError
        As :func:`ssim`.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((2, 8, 8))
    >>> ssim_batch(a, a)
    array([1., 1.])
    """
    from skimage.metrics import structural_similarity

    t, r = _check_pair(targets, reconstructions, 3)
    w = _check_window(win_size, t.shape[1:])
    r = np.clip(r, 0.0, 1.0)
    return np.array(
        [
            structural_similarity(
                t[i], r[i], win_size=w, data_range=1.0, gaussian_weights=False
            )
            for i in range(t.shape[0])
        ],
        dtype=np.float64,
    )
