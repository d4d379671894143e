"""Encode images as voltage streams: one time step per pixel.

A 28x28 image in [0, 1] becomes 784 consecutive samples of the source-electrode
voltage, taken in row-major order (row 0 left to right, then row 1, ...), with

    V = v_min + (v_max - v_min) * pixel

so that a black pixel (0) drives ``v_min`` volts and a white pixel (1) ``v_max``. At
one pixel per time step of dt = 1 ms, an image lasts 784 ms of stream.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from nwnrc.errors import ConfigError, StreamError

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_V_MAX", "DEFAULT_V_MIN", "PIXELS_PER_IMAGE", "encode_images"]

#: Source voltage for a black pixel (V). Provisional: to be set from a sweep of
#: classification accuracy against the voltage range on the simulated device.
DEFAULT_V_MIN: float = 0.0
#: Source voltage for a white pixel (V). Provisional, like :data:`DEFAULT_V_MIN`.
DEFAULT_V_MAX: float = 1.0
#: Time steps per encoded MNIST image (28 x 28 pixels).
PIXELS_PER_IMAGE: int = 784


def encode_images(
    images: np.ndarray,
    v_min: float = DEFAULT_V_MIN,
    v_max: float = DEFAULT_V_MAX,
) -> np.ndarray:
    """Map images with pixels in [0, 1] to voltage streams, one step per pixel.

    Parameters
    ----------
    images : array_like, shape (n, 28, 28) or (n, 784)
        Pixel intensities in [0, 1] (MNIST as returned by ``load_mnist``). A single
        image needs a leading axis: ``image[None]``.
    v_min : float, default DEFAULT_V_MIN
        Voltage (V) of a pixel of 0.
    v_max : float, default DEFAULT_V_MAX
        Voltage (V) of a pixel of 1. May be below ``v_min`` (an inverted encoding)
        but not equal to it.

    Returns
    -------
    numpy.ndarray, shape (n, 784), float64
        Row ``i`` is the voltage stream of image ``i``, pixels in row-major order.

    Raises
    ------
    StreamError
        If ``images`` has another shape, is not numeric, or holds NaN, infinite or
        out-of-range pixels.
    ConfigError
        If ``v_min`` or ``v_max`` is not finite, or they are equal.

    Notes
    -----
    The defaults (0 V to 1 V) are provisional; the range that makes the device most
    useful depends on its switching thresholds and is chosen by a sweep.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((1, 28, 28))
    >>> image[0, 0, 1] = 1.0
    >>> stream = encode_images(image, v_min=0.1, v_max=0.5)
    >>> stream.shape, stream[0, :3]
    ((1, 784), array([0.1, 0.5, 0.1]))
    """
    for name, value in (("v_min", v_min), ("v_max", v_max)):
        if not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
            raise ConfigError(
                f"{name} must be a finite number of volts; got {value!r}."
            )
    if v_min == v_max:
        raise ConfigError(
            f"v_min and v_max are both {v_min!r} V, so every pixel gives the same "
            "voltage; choose v_max different from v_min."
        )

    pixels = np.asarray(images)
    if pixels.dtype.kind not in "biuf":
        raise StreamError(
            f"images must be a numeric array; got dtype {pixels.dtype}. Pass pixel "
            "intensities in [0, 1]."
        )
    if pixels.ndim == 3 and pixels.shape[1:] == (28, 28):
        pixels = pixels.reshape(pixels.shape[0], PIXELS_PER_IMAGE)
    elif not (pixels.ndim == 2 and pixels.shape[1] == PIXELS_PER_IMAGE):
        raise StreamError(
            f"images must have shape (n, 28, 28) or (n, 784); got {pixels.shape}. "
            "For a single image, pass image[None]."
        )

    pixels = pixels.astype(np.float64)
    if not np.all(np.isfinite(pixels)):
        bad = np.argwhere(~np.isfinite(pixels))[0]
        raise StreamError(
            f"images hold NaN or infinite pixels (first at image {bad[0]}, pixel "
            f"{bad[1]}); clean the data before encoding."
        )
    if pixels.size and (pixels.min() < 0.0 or pixels.max() > 1.0):
        raise StreamError(
            f"pixels must lie in [0, 1]; got values from {float(pixels.min())} to "
            f"{float(pixels.max())}. Scale 8-bit images by 1/255 first."
        )

    stream = pixels
    stream *= v_max - v_min
    stream += v_min
    return stream
