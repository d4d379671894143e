"""Plot a nanowire network over its 4x4 MEA as a PNG (or SVG, PDF, ...)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nwnrc.errors import DataError, NetworkError
from nwnrc.network._mea import check_pad, pad_centres

if TYPE_CHECKING:
    from nwnrc.network._network import NanowireNetwork

logger = logging.getLogger(__name__)

_KEPT = "#1f5fa8"
_DROPPED = "#b8b8b8"
_JUNCTION = "#d62728"
_SOURCE = "#e6550d"
_DRAIN = "#31a354"
_HIGHLIGHT = "#9467bd"
_PAD = "#f0c419"


def plot_network(
    network: NanowireNetwork,
    path: str | PathLike[str],
    pads: Sequence[int] | None = (4, 11),
    highlight: Sequence[int] = (),
    *,
    title: str | None = None,
    dpi: int = 150,
) -> None:
    """Draw the wires, junctions and MEA pads of a network and write it to ``path``.

    Parameters
    ----------
    network : NanowireNetwork
        The network to draw.
    path : str or path-like
        Output file; the suffix picks the format (``.png``, ``.svg``, ...).
    pads : sequence of int or None, default (4, 11)
        Driven pads (source first, then drain). Wires outside the component that
        joins them are drawn grey, as are their junctions; the source pad is orange,
        the drain green. None draws every wire alike. If the pads are not connected
        the plot is still drawn, every wire alike, and the title says why.
    highlight : sequence of int, default ()
        Further pads to mark (purple), for example the readout channels.
    title : str, optional
        Figure title; the default states wires, junctions and dropped wires.
    dpi : int, default 150
        Resolution of raster output.

    Raises
    ------
    DataError
        If the output folder does not exist.
    ConfigError
        If a pad number is not in 0..15.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    target = Path(path)
    if not target.parent.is_dir():
        raise DataError(
            f"cannot write the plot to {str(target)!r}: the folder does not exist; "
            "create it first"
        )
    driven = [] if pads is None else [check_pad(p, "pads") for p in pads]
    marked = [check_pad(p, "highlight") for p in highlight]

    n = network.n_wires
    mask = np.ones(n, dtype=bool)
    note = ""
    if driven:
        try:
            mask = network.connected_wires(driven)
        except NetworkError as exc:
            logger.warning("plotting without a driven component: %s", exc)
            note = f"pads {driven} not connected"
    starts, ends = network.starts, network.ends
    segments = np.stack([starts, ends], axis=1)

    fig = Figure(figsize=(6.4, 6.4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    # Pads under the wires, as on the device.
    side = network.params.pad_size_um
    for p, (cx, cy) in enumerate(pad_centres(network.params.chip_size_um)):
        edge = _PAD
        if driven and p == driven[0]:
            edge = _SOURCE
        elif driven and p in driven[1:]:
            edge = _DRAIN
        elif p in marked:
            edge = _HIGHLIGHT
        ax.add_patch(
            Rectangle(
                (cx - side / 2, cy - side / 2),
                side,
                side,
                facecolor=edge,
                alpha=0.35,
                edgecolor=edge,
                linewidth=1.5,
                zorder=1,
            )
        )
        ax.annotate(
            str(p),
            (cx, cy + side / 2),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            color="black",
            zorder=5,
        )

    ax.add_collection(
        LineCollection(list(segments[~mask]), colors=_DROPPED, linewidths=0.6, zorder=2)
    )
    ax.add_collection(
        LineCollection(list(segments[mask]), colors=_KEPT, linewidths=0.8, zorder=3)
    )
    if network.n_junctions:
        kept_junction = mask[network.junction_wires[:, 0]]
        pts = network.junction_points
        off, on = pts[~kept_junction], pts[kept_junction]
        ax.scatter(off[:, 0], off[:, 1], s=3, color=_DROPPED, zorder=3, lw=0)
        ax.scatter(on[:, 0], on[:, 1], s=4, color=_JUNCTION, zorder=4, lw=0)

    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = [Line2D([], [], color=_KEPT, label="wire")]
    if driven and not note:
        handles.append(Line2D([], [], color=_DROPPED, label="dropped wire"))
    handles.append(
        Line2D([], [], color=_JUNCTION, marker="o", ls="", ms=3, label="junction")
    )
    if driven:
        handles.append(Patch(color=_SOURCE, alpha=0.5, label="source pad"))
    if len(driven) > 1:
        handles.append(Patch(color=_DRAIN, alpha=0.5, label="drain pad"))
    if marked:
        handles.append(Patch(color=_HIGHLIGHT, alpha=0.5, label="marked pad"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
    )

    chip = network.params.chip_size_um
    ax.add_patch(
        Rectangle((0, 0), chip, chip, fill=False, edgecolor="black", linewidth=0.8)
    )
    lo = min(0.0, float(segments.min())) if n else 0.0
    hi = max(chip, float(segments.max())) if n else chip
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("x (um)")
    ax.set_ylabel("y (um)")
    if title is None:
        title = (
            f"{n} wires, {network.n_junctions} junctions, seed {network.params.seed}"
        )
        if driven and not note:
            dropped = int((~mask).sum())
            noun = "wire" if dropped == 1 else "wires"
            title += f"\n{dropped} {noun} outside the pads' {driven} component"
        elif note:
            title += f"\n{note}"
    ax.set_title(title, fontsize=10)
    fig.savefig(target, dpi=dpi, bbox_inches="tight")
    logger.info("wrote network plot to %s", target)
