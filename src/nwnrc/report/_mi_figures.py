"""Figures of the MI analysis of an MNIST run (see :mod:`nwnrc.analysis._mi_run`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwnrc.report._axes import log_scale_or_note

logger = logging.getLogger(__name__)

_OTHER = {"conductance": "#ff7f0e", "input": "black"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path, tight: bool = True) -> Path:
    from nwnrc._atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=130, bbox_inches="tight" if tight else None, format="png")
    _plt().close(fig)
    return path


def _colours(names: list[str]) -> dict[str, Any]:
    plt = _plt()
    pads = [n for n in names if n not in _OTHER]
    cmap = plt.get_cmap("viridis")
    out: dict[str, Any] = {
        n: cmap(0.1 + 0.75 * i / max(1, len(pads) - 1)) for i, n in enumerate(pads)
    }
    out.update({n: c for n, c in _OTHER.items() if n in names})
    return out


def _label(name: str) -> str:
    return name if name in _OTHER else f"pad {name}"


def write_mi_figures(
    metrics: dict[str, Any],
    mi_maps: NDArray[np.float64],
    specific_maps: NDArray[np.float64],
    out_dir: str | Path,
) -> list[Path]:
    """Write the PNG figures of an MI analysis into ``out_dir``; return their paths.

    Parameters
    ----------
    metrics : dict
        As returned by :func:`nwnrc.analysis.analyse_mi`.
    mi_maps : ndarray, shape (channels, 28, 28)
        I(class; value) per step, bits.
    specific_maps : ndarray, shape (channels, classes, 28, 28)
        Specific information per class and step, bits.
    out_dir : path
    """
    out = Path(out_dir)
    paths = [
        mi_curve_figure(metrics, out / "mi_curve.png"),
        mi_maps_figure(
            metrics["channels"], mi_maps, specific_maps, out / "mi_maps.png"
        ),
    ]
    if metrics["mi_accuracy_correlation"].get("available"):
        paths.append(mi_accuracy_figure(metrics, out / "mi_vs_accuracy.png"))
    return paths


def mi_curve_figure(metrics: dict[str, Any], path: Path) -> Path:
    """MI against training digits seen (log axis), with mean |dW| on a second axis.

    Top: the estimate and its label-shuffle floor per channel. Bottom: the excess
    over the floor, with the learner's mean |dW| and the marks of its peak, its
    fading and the MI saturation.
    """
    plt = _plt()
    fig, (top, ax) = plt.subplots(2, 1, figsize=(7.2, 6.4), sharex=True)
    curve = metrics["mi_curve"]
    names = metrics["channels"]
    colours = _colours(names)
    n = np.asarray(curve["samples"])
    for name in names:
        top.plot(
            n, curve["bits"][name], "-", color=colours[name], lw=1.6, label=_label(name)
        )
        top.plot(
            n, curve["shuffle_bits"][name], ":", color=colours[name], lw=1.0, alpha=0.7
        )
        ax.plot(n, curve["excess_bits"][name], "-", color=colours[name], lw=1.6)
    top.plot([], [], ":", color="grey", label="shuffled labels (bias floor)")
    top.set_ylabel("I(class; value) (bits)")
    top.set_ylim(bottom=0)
    top.grid(True, which="both", alpha=0.25)
    top.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    top.set_title(
        "Information in the channels along the training stream (mean over 784 steps)",
        fontsize=10,
    )

    sat = metrics["saturation"]["samples"].get("readouts")
    if sat:
        ax.axvline(
            sat,
            color="tab:blue",
            ls="--",
            lw=1.0,
            label=f"readouts' MI at {metrics['saturation']['level']:.0%} ({sat})",
        )
    ax.set_xscale("log")
    ax.set_xlabel("training digits seen (shuffle 0's order)")
    ax.set_ylabel("MI above the floor (bits)")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.25)
    dw = metrics.get("mean_abs_dw", {})
    if dw.get("available"):
        ax2 = ax.twinx()
        ax2.plot(dw["samples"], dw["value"], "-", color="tab:red", lw=0.6, alpha=0.4)
        ax2.plot(dw["samples"], dw["smoothed"], "-", color="tab:red", lw=1.4)
        log_scale_or_note(ax2, "y", dw["value"], dw["smoothed"])
        ax2.set_ylabel("mean |dW| per digit", color="tab:red")
        ax2.tick_params(axis="y", colors="tab:red")
        ax.axvline(
            dw["peak_samples"],
            color="tab:red",
            ls="--",
            lw=1.0,
            label=f"|dW| peak ({dw['peak_samples']})",
        )
        if dw.get("fade_samples"):
            ax.axvline(
                dw["fade_samples"],
                color="tab:red",
                ls="-.",
                lw=1.0,
                label=f"|dW| below {dw['fade_fraction']:.0%} of its peak "
                f"({dw['fade_samples']})",
            )
    else:
        ax.plot([], [], " ", label="no mean |dW| in this run")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.15, 0.5))
    return _save(fig, path)


def mi_maps_figure(
    names: list[str],
    mi_maps: NDArray[np.float64],
    specific_maps: NDArray[np.float64],
    path: Path,
) -> Path:
    """Grid of 28 x 28 maps: the MI, then one row per class; a column per channel.

    Each column has its own colour scale (bits), shown under it.
    """
    plt = _plt()
    n_ch, n_cls = specific_maps.shape[:2]
    cell, left, top_margin, bottom = 1.05, 0.55, 0.7, 0.75
    width = left + cell * n_ch + 0.1
    height = top_margin + cell * (n_cls + 1) + bottom
    fig, axes = plt.subplots(n_cls + 1, n_ch, figsize=(width, height), squeeze=False)
    fig.subplots_adjust(
        left=left / width,
        right=1 - 0.1 / width,
        top=1 - top_margin / height,
        bottom=bottom / height,
        wspace=0.06,
        hspace=0.06,
    )
    for j in range(n_ch):
        finite = specific_maps[j][np.isfinite(specific_maps[j])]
        vmax = max(float(finite.max()) if finite.size else 0.0, 1e-6)
        vmax = max(vmax, float(np.nanmax(mi_maps[j])))
        for i in range(n_cls + 1):
            ax = axes[i, j]
            img = mi_maps[j] if i == 0 else specific_maps[j, i - 1]
            im = ax.imshow(img, cmap="magma", vmin=0.0, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(_label(names[j]), fontsize=8)
            if j == 0:
                ax.set_ylabel("I(C;X)" if i == 0 else f"digit {i - 1}", fontsize=8)
        box = axes[-1, j].get_position()
        cax = fig.add_axes((box.x0, box.y0 - 0.3 / height, box.width, 0.08 / height))
        cb = fig.colorbar(im, cax=cax, orientation="horizontal")
        cb.ax.tick_params(labelsize=6)
        cb.set_label("bits", fontsize=6, labelpad=1)
    fig.suptitle(
        "MI per step (top row) and specific information per class, after training",
        fontsize=9,
        y=1 - 0.15 / height,
    )
    return _save(fig, path, tight=False)


def mi_accuracy_figure(metrics: dict[str, Any], path: Path) -> Path:
    """Per-class specific information of the readouts against per-class accuracy."""
    plt = _plt()
    mi = np.asarray(metrics["per_class_mi"]["readouts"])
    acc = np.asarray(metrics["per_class_accuracy"]["values"]) * 100
    corr = metrics["mi_accuracy_correlation"]
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.scatter(mi, acc, color="tab:blue")
    for c, (x, a) in enumerate(zip(mi, acc, strict=True)):
        ax.annotate(
            str(c), (x, a), textcoords="offset points", xytext=(4, 3), fontsize=9
        )
    ax.set_xlabel("specific information, mean over readout pads and steps (bits)")
    ax.set_ylabel("per-class accuracy (%)")
    ax.set_title(
        f"Pearson r = {corr['pearson']['r']:.2f} (p = {corr['pearson']['p']:.2g}), "
        f"Spearman = {corr['spearman']['r']:.2f}",
        fontsize=9,
    )
    ax.grid(True, alpha=0.3)
    fig.text(
        0.01,
        -0.02,
        f"accuracy: {metrics['per_class_accuracy']['source']}",
        fontsize=6,
        color="grey",
    )
    return _save(fig, path)
