"""Figures of an MNIST run, drawn from its metrics (and one digit's readouts)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from nwnrc.report._axes import log_scale_or_note

logger = logging.getLogger(__name__)

#: The paper's reported accuracies (Zhu et al.), for reference marks on the plots.
PAPER_ONLINE = {1: 0.916, 5: 0.934}
PAPER_BATCH = {1: 0.866, 5: 0.914}

_COLOURS = {"online": "#1f77b4", "batch": "#d62728", "ridge": "#2ca02c"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    from nwnrc._atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=130, bbox_inches="tight", format="png")
    _plt().close(fig)


def write_mnist_figures(
    metrics: dict[str, Any],
    out_dir: str | Path,
    features_path: str | Path | None = None,
) -> list[Path]:
    """Write the PNG figures of an MNIST run into ``out_dir``; return their paths."""
    out = Path(out_dir)
    written = []
    if "learning_curves" in metrics:
        written.append(learning_curve_figure(metrics, out / "learning_curve.png"))
        written.append(dw_figure(metrics, out / "mean_abs_dw.png"))
    written.append(channels_figure(metrics, out / "accuracy_vs_channels.png"))
    if "confusion_matrix" in metrics:
        written.append(confusion_figure(metrics, out / "confusion_matrix.png"))
    if features_path is not None and Path(features_path).exists():
        written.append(readout_figure(Path(features_path), out / "readouts.png"))
    return written


def learning_curve_figure(metrics: dict[str, Any], path: Path) -> Path:
    """Test accuracy against training digits seen, per channel count (log axis)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    curves = metrics["learning_curves"]
    names = [n for n in curves if n != "input"]
    cmap = plt.get_cmap("viridis")
    for i, name in enumerate(names):
        c = curves[name]
        ax.plot(
            c["samples"],
            np.asarray(c["accuracy"]) * 100,
            "-",
            color=cmap(0.15 + 0.7 * i / max(1, len(names) - 1)),
            label=f"{name} channel{'s' if name != '1' else ''}",
            lw=1.8,
        )
    lc = metrics["learning_curve"]
    mean = np.asarray(lc["accuracy"]) * 100
    std = np.asarray(lc["accuracy_std"]) * 100
    ax.fill_between(
        lc["samples"], mean - std, mean + std, color="grey", alpha=0.2, lw=0
    )
    c = curves["input"]
    ax.plot(
        c["samples"],
        np.asarray(c["accuracy"]) * 100,
        "--",
        color="k",
        label="input stream (raw pixels)",
        lw=1.2,
    )
    ax.axhline(PAPER_ONLINE[5] * 100, color="#1f77b4", ls=":", lw=1)
    ax.text(
        c["samples"][0],
        PAPER_ONLINE[5] * 100 + 0.5,
        "paper, 5 ch: 93.4%",
        fontsize=8,
        color="#1f77b4",
    )
    ax.set_xscale("log")
    ax.set_xlabel("training digits seen")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Online RLS readout: learning curve")
    ax.set_ylim(0, 100)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    _save(fig, path)
    return path


def channels_figure(metrics: dict[str, Any], path: Path) -> Path:
    """Accuracy against the number of readout channels, for every readout."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for method, key in (
        ("online", "online_accuracy"),
        ("batch", "batch_accuracy"),
        ("ridge", "ridge_accuracy"),
    ):
        if key not in metrics:
            continue
        acc = metrics[key]
        ms = sorted(int(m) for m in acc)
        mean = np.array([acc[str(m)]["mean"] for m in ms]) * 100
        std = np.array([acc[str(m)]["std"] for m in ms]) * 100
        ax.errorbar(
            ms,
            mean,
            yerr=std,
            marker="o",
            capsize=3,
            color=_COLOURS[method],
            label=f"{method} (device)",
        )
        base = metrics["input_channel_accuracy"].get(method)
        if base:
            ax.axhline(
                base["mean"] * 100,
                color=_COLOURS[method],
                ls="--",
                lw=1,
                alpha=0.7,
                label=f"{method} (raw pixels)",
            )
    for paper, method in ((PAPER_ONLINE, "online"), (PAPER_BATCH, "batch")):
        ax.scatter(
            list(paper),
            [v * 100 for v in paper.values()],
            marker="*",
            s=90,
            facecolor="none",
            edgecolor=_COLOURS[method],
            label=f"paper, {method}",
        )
    ax.set_xlabel("readout channels")
    ax.set_ylabel("test accuracy (%)")
    ax.set_xticks(range(1, 6))
    ax.set_title("Accuracy against readout channels")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    _save(fig, path)
    return path


def confusion_figure(metrics: dict[str, Any], path: Path) -> Path:
    """Row-normalised confusion matrix with counts."""
    plt = _plt()
    conf = np.asarray(metrics["confusion_matrix"], dtype=float)
    frac = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    im = ax.imshow(frac * 100, cmap="Blues", vmin=0, vmax=100)
    for i in range(10):
        for j in range(10):
            if conf[i, j]:
                ax.text(
                    j,
                    i,
                    f"{int(conf[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if frac[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    acc = np.trace(conf) / max(conf.sum(), 1) * 100
    ax.set_title(f"Confusion matrix (online, {acc:.1f}% overall)")
    fig.colorbar(im, ax=ax, fraction=0.046, label="% of true class")
    _save(fig, path)
    return path


def dw_figure(metrics: dict[str, Any], path: Path) -> Path:
    """Mean |dW| per update along the training stream, with the learning curve."""
    plt = _plt()
    dw = metrics["mean_abs_dw"]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(dw["samples"], dw["value"], color="#9467bd", lw=1)
    log_scale_or_note(ax, "x", dw["samples"])
    # a readout whose features are all flat never changes its weights
    log_scale_or_note(ax, "y", dw["value"])
    ax.set_xlabel("training digits seen")
    ax.set_ylabel("mean |dW| per digit", color="#9467bd")
    ax.grid(True, which="both", alpha=0.3)
    peak = int(np.argmax(dw["value"]))
    ax.axvline(dw["samples"][peak], color="#9467bd", ls=":", lw=1)
    ax2 = ax.twinx()
    lc = metrics["learning_curve"]
    ax2.plot(lc["samples"], np.asarray(lc["accuracy"]) * 100, color="#1f77b4", lw=1.5)
    ax2.set_ylabel("test accuracy (%)", color="#1f77b4")
    ax.set_title(
        f"Weight change along the stream (peak at {dw['samples'][peak]} digits)"
    )
    _save(fig, path)
    return path


def readout_figure(features_path: Path, path: Path, sample: int = 0) -> Path:
    """One digit's readouts, each channel's 784 steps laid out as a 28x28 image.

    The last panel is the network conductance (log10) where the features hold it
    (simulated runs), else the input voltage (recordings without a conductance).
    """
    import h5py

    plt = _plt()
    with h5py.File(features_path, "r") as f:
        pads = np.asarray(f["pads"][sample])
        if "conductance" in f:
            last = np.log10(np.maximum(np.asarray(f["conductance"][sample]), 1e-30))
            last_title, last_cmap = "log10 G (S)", "viridis"
        elif "input" in f:
            last = np.asarray(f["input"][sample])
            last_title, last_cmap = "input (V)", "gray"
        else:
            last = None
        label = int(f["labels"][sample])
        numbers = list(np.asarray(f.attrs.get("pad_numbers", range(pads.shape[0]))))
    panels = [(pads[i], f"pad {numbers[i]} (V)", "magma") for i in range(len(pads))]
    if last is not None:
        panels.append((last, last_title, last_cmap))
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(2.3 * n, 2.6), squeeze=False)
    for ax, (values, title, cmap) in zip(axes[0], panels, strict=True):
        im = ax.imshow(values.reshape(28, 28), cmap=cmap)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
        bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        bar.ax.tick_params(labelsize=6)
    fig.suptitle(
        f"Readouts of one digit (label {label}), 784 steps as 28x28", fontsize=9
    )
    _save(fig, path)
    return path
