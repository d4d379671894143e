"""Axis helpers shared by the figures.

A log axis needs positive values: matplotlib warns and draws an empty axis when a
series has none (a flat or dead channel, a weight change that stays zero). The
figures ask :func:`log_scale_or_note` instead of setting the scale directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def log_scale_or_note(ax: Any, axis: str, *series: Any) -> bool:
    """Put ``axis`` of ``ax`` on a log scale if the series have a positive value.

    Parameters
    ----------
    ax : matplotlib Axes
    axis : {"x", "y"}
        The axis to scale.
    *series : array_like
        The values drawn along that axis.

    Returns
    -------
    bool
        True if the axis is logarithmic; False if no value is positive (and
        finite): the axis stays linear and a note in its corner says why.

    Notes
    -----
    Non-positive values beside positive ones are left out of a log axis by
    matplotlib without a warning, as usual.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> log_scale_or_note(ax, "y", [0.0, 0.0]), ax.get_yscale()
    (False, 'linear')
    >>> log_scale_or_note(ax, "y", [0.0, 2.0]), ax.get_yscale()
    (True, 'log')
    >>> plt.close(fig)
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    positive = False
    for values in series:
        v = np.asarray(values, dtype=np.float64)
        if np.any(np.isfinite(v) & (v > 0)):
            positive = True
            break
    if positive:
        if axis == "x":
            ax.set_xscale("log")
        else:
            ax.set_yscale("log")
        return True
    ax.text(
        0.02 if axis == "y" else 0.5,
        0.5 if axis == "y" else 0.02,
        "no positive values: linear axis",
        transform=ax.transAxes,
        fontsize=7,
        color="grey",
        ha="left" if axis == "y" else "center",
        va="center" if axis == "y" else "bottom",
    )
    return False
