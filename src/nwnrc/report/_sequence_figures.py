"""Figures of a sequence-memory run, drawn from its metrics and its figure data.

:func:`write_sequence_figures` reads ``metrics.json`` (as a dict) and the small
``figure-data.npz`` that :func:`nwnrc.experiments._sequence.run_sequence` writes
beside it, and draws:

- ``conductance.png``: the network conductance of the first training stream on a
  log axis (formation from the pristine network, then the steady state), one
  repetition of the sequence in detail, and the relaxation once the input stops
  (simulated runs only: a recording holds no relaxation record);
- ``iv_phase.png``: source current against input voltage, one panel per sequence
  position, coloured by position;
- ``ssim_vs_window.png``: SSIM against the window length L per sequence position,
  and the mean beside the controls;
- ``exclusion.png``: SSIM against the number of conductance columns replaced;
- ``reconstructions.png``: targets of one held-out repetition beside their
  reconstructions at every L;
- ``memory.png``: how much of a digit's ink shows in the conductance of the digits
  after it, and the learning curves of the reconstructors.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from nwnrc.report._axes import log_scale_or_note

logger = logging.getLogger(__name__)

__all__ = ["write_sequence_figures"]

STEPS_PER_DIGIT = 784


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    from nwnrc._atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    _plt().close(fig)
    return path


def _position_colours(n: int) -> list[Any]:
    cmap = _plt().get_cmap("tab10")
    return [cmap(i % 10) for i in range(n)]


def write_sequence_figures(metrics: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write the PNG figures of a sequence run into ``out_dir``; return their paths.

    Parameters
    ----------
    metrics : dict
        The metrics of the run (the content of ``metrics.json``).
    out_dir : path
        The run folder; ``figure-data.npz`` is read from it when present (the
        conductance, phase-space and reconstruction figures need it).

    Returns
    -------
    list of Path
        The figures written.

    Examples
    --------
    >>> write_sequence_figures(metrics, "runs/sequence")  # doctest: +SKIP
    """
    out = Path(out_dir)
    written = [
        ssim_window_figure(metrics, out / "ssim_vs_window.png"),
        exclusion_figure(metrics, out / "exclusion.png"),
        memory_figure(metrics, out / "memory.png"),
    ]
    data_path = out / "figure-data.npz"
    if data_path.exists():
        with np.load(data_path) as z:
            data = {k: z[k] for k in z.files}
        written.append(conductance_figure(metrics, data, out / "conductance.png"))
        written.append(iv_figure(metrics, data, out / "iv_phase.png"))
        written.append(
            reconstruction_figure(metrics, data, out / "reconstructions.png")
        )
    logger.info("wrote %d figures to %s", len(written), out)
    return written


def conductance_figure(
    metrics: dict[str, Any], data: dict[str, Any], path: Path
) -> Path:
    """Network conductance on a log axis: whole stream, one repetition, relaxation."""
    plt = _plt()
    cfg = metrics["config"]
    dt = cfg["dt"]
    seq = cfg["sequence"]
    n = len(seq)
    g = data["conductance_stream0"].astype(np.float64)
    t = np.arange(g.size) * dt
    dyn = metrics["conductance_dynamic_range"]
    fig, axes = plt.subplots(3, 1, figsize=(8.5, 9.0))

    ax = axes[0]
    thin = max(1, g.size // 200_000)
    ax.plot(t[::thin], g[::thin], lw=0.3, color="#1f77b4")
    log_scale_or_note(ax, "y", g)
    washout = cfg["washout_repeats"] * n * STEPS_PER_DIGIT * dt
    ax.axvline(washout, color="k", ls=":", lw=1)
    # the ends of the conductance scale: probed on a simulated device only
    if "g_pristine_s" in dyn:
        ax.axhline(dyn["g_pristine_s"], color="grey", ls="--", lw=0.8)
        ax.axhline(dyn["g_all_formed_s"], color="grey", ls="--", lw=0.8)
    top = dyn.get("g_all_formed_s", dyn["g_max_s"])
    ax.text(washout, top, " end of washout", va="top", fontsize=8)
    ax.set_title(
        f"first training stream: {dyn['whole_stream_decades']:.2f} decades overall, "
        f"{dyn['steady_state_p1_p99_decades']:.2f} (1-99 %) after the washout",
        fontsize=10,
    )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("conductance G (S)")

    ax = axes[1]
    first = cfg["washout_repeats"] * n * STEPS_PER_DIGIT
    sl = slice(first, first + n * STEPS_PER_DIGIT)
    ax.plot(t[sl], g[sl], lw=0.6, color="#1f77b4")
    log_scale_or_note(ax, "y", g[sl])
    lo, hi = g[sl].min(), g[sl].max()
    for k in range(n + 1):
        ax.axvline(t[first] + k * STEPS_PER_DIGIT * dt, color="grey", lw=0.5)
    for k, c in enumerate(seq):
        ax.text(
            t[first] + (k + 0.5) * STEPS_PER_DIGIT * dt,
            hi,
            c,
            ha="center",
            va="bottom",
            fontsize=11,
        )
    ax.set_ylim(lo / 1.3, hi * 1.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("G (S)")
    ax.set_title(
        "one repetition after the washout (digit boundaries in grey); median range "
        f"within a digit {dyn['within_digit_median_decades']:.2f} decades",
        fontsize=10,
    )

    ax = axes[2]
    if "relax_t_s" in data:
        ax.plot(data["relax_t_s"], data["relax_log10_g"], color="#d62728")
        ax.axhline(np.log10(dyn["g_pristine_s"]), color="grey", ls="--", lw=0.8)
        ax.set_xlabel("time after the input stops (s)")
        ax.set_ylabel("log10 G (S)")
        rel = metrics["memory"]["relaxation"]
        txt = []
        if rel.get("one_decade_s") is not None:
            txt.append(f"one decade down in {rel['one_decade_s']:.2f} s")
        if rel.get("to_pristine_s") is not None:
            txt.append(f"back to pristine in {rel['to_pristine_s']:.1f} s")
        ax.set_title(
            "relaxation with 0 V input (junction forgetting time "
            f"{metrics['memory']['junction_forgetting_time_s']:g} s)"
            + (": " + ", ".join(txt) if txt else ""),
            fontsize=10,
        )
    else:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "no relaxation record: a recording holds only the stream",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=10,
        )
    fig.tight_layout()
    return _save(fig, path)


def iv_figure(metrics: dict[str, Any], data: dict[str, Any], path: Path) -> Path:
    """Source current against input voltage, one panel per sequence position."""
    plt = _plt()
    seq = metrics["config"]["sequence"]
    n = len(seq)
    v = data["iv_volts"].reshape(-1, STEPS_PER_DIGIT)
    i = data["iv_current"].reshape(-1, STEPS_PER_DIGIT) * 1e6
    reps = v.shape[0] // n
    cols = min(n, 4)
    rows = -(-n // cols)
    colours = _position_colours(n)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.0 * cols, 2.7 * rows), sharex=True, sharey=True
    )
    axes = np.atleast_1d(axes).ravel()
    for p in range(n):
        ax = axes[p]
        for r in range(reps):
            k = r * n + p
            ax.plot(
                v[k], i[k], lw=0.5, color=colours[p], alpha=0.9 - 0.5 * r / max(reps, 1)
            )
        ax.set_title(f"position {p}: digit {seq[p]}", fontsize=9)
        if p % cols == 0:
            ax.set_ylabel("source current (µA)")
        if p // cols == rows - 1:
            ax.set_xlabel("input voltage (V)")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"I-V phase space, held-out stream, {reps} repetitions after the washout "
        "(darker: earlier)",
        fontsize=10,
    )
    fig.tight_layout()
    return _save(fig, path)


def ssim_window_figure(metrics: dict[str, Any], path: Path) -> Path:
    """SSIM against window length per sequence position; mean beside the controls."""
    plt = _plt()
    windows = [int(w) for w in metrics["ssim"]]
    keys = list(next(iter(metrics["ssim"].values())))
    colours = _position_colours(len(keys))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))

    ax = axes[0]
    for k, key in enumerate(keys):
        y = [metrics["ssim"][str(w)][key] for w in windows]
        e = [metrics["ssim_sem"][str(w)][key] for w in windows]
        p, c = key.split(":")
        ax.errorbar(
            windows,
            y,
            yerr=e,
            marker="o",
            ms=3,
            lw=1.2,
            capsize=2,
            color=colours[k],
            label=f"'{c}' (position {p})",
        )
    ax.set_xticks(windows)
    ax.set_xlabel("window length L")
    ax.set_ylabel("SSIM")
    ax.set_title("per sequence position (± s.e.m.)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)

    ax = axes[1]
    ax.plot(
        windows,
        [metrics["ssim_mean"][str(w)] for w in windows],
        "o-",
        color="k",
        label="pad voltage + conductance",
    )
    ctl = metrics["control"]
    cw = [int(w) for w in ctl["windows"]]
    for name, marker, colour, label in (
        ("voltage_only", "s", "#d62728", "voltages only (2 pads)"),
        ("shuffled_conductance", "^", "#9467bd", "shuffled conductance"),
        ("input_only", "v", "#2ca02c", "input pixels (no device)"),
    ):
        ax.plot(
            cw,
            [ctl[name]["ssim_mean"][str(w)] for w in cw],
            marker,
            ls="--",
            color=colour,
            label=label,
        )
    ax.axhline(
        ctl["class_mean"]["ssim_mean"],
        color="grey",
        ls=":",
        label="mean image of the class (perfect context)",
    )
    ax.plot(
        [1],
        [metrics["ssim_own_features"]["ssim_mean"]],
        "D",
        color="#ff7f0e",
        label="target's own readouts",
    )
    ax.set_xticks([1, *windows])
    ax.set_xlabel("window length L (1: the target's own readouts)")
    ax.set_ylabel("mean SSIM")
    ax.set_title("mean over positions, with controls", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def exclusion_figure(metrics: dict[str, Any], path: Path) -> Path:
    """SSIM against the number of conductance columns replaced by voltage columns."""
    plt = _plt()
    ex = metrics["exclusion"]
    cols = ex["columns"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    colours = _position_colours(len(ex["ssim_by_digit"]))
    for k, (key, ys) in enumerate(ex["ssim_by_digit"].items()):
        p, c = key.split(":")
        ax.plot(cols, ys, lw=0.8, alpha=0.6, color=colours[k], label=f"'{c}' ({p})")
    ax.plot(cols, ex["ssim"], "o-", color="k", lw=2, label="mean")
    for m in range(28, cols[-1] + 1, 28):
        ax.axvline(m, color="grey", lw=0.6, ls=":")
    ax.set_xlabel(
        f"conductance columns replaced by pad {ex['replacement_pad']} voltage columns"
    )
    ax.set_ylabel("SSIM")
    ax.set_title(
        f"memory exclusion at L = {ex['window']} (dotted: whole following digits)",
        fontsize=10,
    )
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    return _save(fig, path)


def memory_figure(metrics: dict[str, Any], path: Path) -> Path:
    """Ink-to-conductance correlation against lag; learning curves per L."""
    plt = _plt()
    mem = metrics["memory"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    ax = axes[0]
    ax.plot(mem["lags"], mem["ink_corr_first_row_log10_g"], "o-", label="first row")
    ax.plot(mem["lags"], mem["ink_corr_digit_mean_log10_g"], "s-", label="whole digit")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xticks(mem["lags"])
    ax.set_xlabel("lag j (digits)")
    ax.set_ylabel("corr(ink of digit k, log10 G of digit k + j)")
    ax.set_title("how long a digit shows in the conductance", fontsize=10)
    ax.legend(fontsize=8)

    ax = axes[1]
    curves = metrics.get("learning_curve", {})
    cmap = plt.get_cmap("viridis")
    for k, (w, c) in enumerate(curves.items()):
        ax.plot(
            c["windows"],
            c["ssim_mean"],
            "o-",
            ms=3,
            color=cmap(k / max(len(curves) - 1, 1)),
            label=f"L = {w}",
        )
    ax.set_xlabel("training windows seen")
    ax.set_ylabel("held-out mean SSIM")
    ax.set_title("online learning along the training streams", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def reconstruction_figure(
    metrics: dict[str, Any], data: dict[str, Any], path: Path
) -> Path:
    """Targets of one held-out repetition beside their reconstructions at every L."""
    plt = _plt()
    seq = metrics["config"]["sequence"]
    n = len(seq)
    targets = data["example_targets"][:n]
    recon = data["example_reconstructions"][:, :n]
    windows = [int(w) for w in data["example_windows"]]
    rows = 1 + len(windows)
    fig, axes = plt.subplots(
        rows, n, figsize=(1.05 * n + 0.6, 1.05 * rows), squeeze=False
    )
    for p in range(min(n, targets.shape[0])):
        axes[0, p].imshow(targets[p].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[0, p].set_title(f"'{seq[p]}' ({p})", fontsize=8)
        for j in range(len(windows)):
            axes[1 + j, p].imshow(
                np.clip(recon[j, p].reshape(28, 28), 0, 1), cmap="gray", vmin=0, vmax=1
            )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("target", fontsize=8)
    for j, w in enumerate(windows):
        axes[1 + j, 0].set_ylabel(f"L = {w}", fontsize=8)
    fig.suptitle("held-out repetition: targets and reconstructions", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
