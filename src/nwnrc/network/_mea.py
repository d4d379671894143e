"""The 4x4 multi-electrode array (MEA): pad positions and wire-pad contacts.

Pads are squares numbered 0..15 row-major. Row 0 is the top row, the one with the
largest y, as the array is drawn on the chip; column 0 is the left column (smallest x).
With pitch ``P = chip_size / 4`` the centre of pad ``(row, col)`` is at
``((col + 0.5) P, chip_size - (row + 0.5) P)``::

     0  1  2  3      <- top, y near chip_size
     4  5  6  7
     8  9 10 11
    12 13 14 15      <- bottom, y near 0

A pad contacts every wire whose segment touches the closed square, boundary included.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from nwnrc.errors import ConfigError
from nwnrc.network._geometry import MEA_SIDE

#: Number of pads on the array.
N_PADS = MEA_SIDE * MEA_SIDE


def check_pad(pad: object, name: str = "pad") -> int:
    """Return ``pad`` as an int, or raise ConfigError if it is not a pad number."""
    ok = isinstance(pad, int | np.integer) and not isinstance(pad, bool | np.bool_)
    if not ok or not 0 <= int(pad) < N_PADS:  # type: ignore[call-overload]
        raise ConfigError(
            f"{name} must be a pad number in 0..{N_PADS - 1}, got {pad!r}; pads are "
            "numbered row-major from the top-left"
        )
    return int(pad)  # type: ignore[call-overload]


def pad_centres(chip_size_um: float) -> NDArray[np.float64]:
    """Return the centres of the 16 pads, shape (16, 2), in pad-number order.

    Examples
    --------
    >>> pad_centres(80.0)[[0, 3, 12]].tolist()
    [[10.0, 70.0], [70.0, 70.0], [10.0, 10.0]]
    """
    pitch = chip_size_um / MEA_SIDE
    row, col = np.divmod(np.arange(N_PADS), MEA_SIDE)
    x = (col + 0.5) * pitch
    y = chip_size_um - (row + 0.5) * pitch
    return np.stack([x, y], axis=1).astype(np.float64)


def segments_touch_square(
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    centre: NDArray[np.float64] | tuple[float, float],
    side: float,
) -> NDArray[np.bool_]:
    """Return which segments touch an axis-aligned closed square.

    Parameters
    ----------
    starts, ends : ndarray of shape (n, 2)
        Segment end points.
    centre : array_like of shape (2,)
        Centre of the square.
    side : float
        Side of the square.

    Returns
    -------
    ndarray of bool, shape (n,)

    Notes
    -----
    Separating-axis test: a segment misses a convex square exactly when the two are
    separated along the x axis, the y axis, or the segment's normal. The normal test
    compares the distance of the centre from the segment's line with the square's
    half-width projected on the normal.

    Examples
    --------
    A diagonal through the square's corner region, and a horizontal line above it:

    >>> starts = np.array([[0.0, 0.0], [0.0, 3.0]])
    >>> ends = np.array([[4.0, 4.0], [4.0, 3.0]])
    >>> touch = segments_touch_square(starts, ends, (2.0, 0.0), 2.0)
    >>> touch.tolist()
    [True, False]
    """
    c = np.asarray(centre, dtype=np.float64)
    h = 0.5 * float(side)
    lo = np.minimum(starts, ends)
    hi = np.maximum(starts, ends)
    boxes = np.all((lo <= c + h) & (hi >= c - h), axis=1)
    d = ends - starts
    rel = c - starts
    normal_dist = np.abs(d[:, 0] * rel[:, 1] - d[:, 1] * rel[:, 0])
    reach = h * (np.abs(d[:, 0]) + np.abs(d[:, 1]))
    # Float slack keeps a wire that only grazes a corner or an edge.
    slack = 1e-12 * (np.abs(rel).sum(axis=1) + h) * (np.abs(d).sum(axis=1))
    return boxes & (normal_dist <= reach + slack)


def pad_contacts(
    starts: NDArray[np.float64],
    ends: NDArray[np.float64],
    chip_size_um: float,
    pad_size_um: float,
) -> tuple[NDArray[np.int64], ...]:
    """Return, for each of the 16 pads, the sorted indices of the wires it touches."""
    centres = pad_centres(chip_size_um)
    return tuple(
        np.flatnonzero(segments_touch_square(starts, ends, c, pad_size_um)).astype(
            np.int64
        )
        for c in centres
    )
