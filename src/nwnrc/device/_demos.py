"""Physics demonstrations of a simulated device, with their figures.

Two experiments that show what the junction model does at the scale of a network:

- :func:`dc_bias_demo`: a constant source voltage grows filaments along the junctions
  that carry the most voltage until a conducting path joins source and drain (the
  network conductance rises a hundredfold and more); when the bias is removed every
  filament dissolves and the conductance falls back to its pristine value.
- :func:`iv_sweep_demo`: a triangular voltage sweep traces a current-voltage loop that
  is pinched at the origin (a passive network carries no current at 0 V) and opens
  elsewhere (the current at a given voltage depends on the history of the filaments):
  the fingerprint of a memristive system.

Each function returns the arrays and the measured numbers, and writes a PNG when given
a path. :func:`make_device_figures` makes both figures of ``docs/device.md`` on the
default network.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwnrc.device._device import SimulatedDevice
from nwnrc.errors import ConfigError

logger = logging.getLogger(__name__)

F64 = NDArray[np.float64]

#: Rise of the network conductance that counts as a formed conducting path.
FORMATION_RATIO = 100.0


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive number, got {value!r}")


def _first(mask: NDArray[np.bool_]) -> int:
    """Index of the first True, or -1."""
    hits = np.nonzero(mask)[0]
    return int(hits[0]) if hits.size else -1


# DC bias ------------------------------------------------------------------------


@dataclass(frozen=True)
class DcBiasResult:
    """A DC bias switched on, then off, for one or more bias voltages.

    Attributes
    ----------
    time_s : ndarray, shape (steps,)
        Time of each step, s; the bias is on for ``time_s < bias_s``.
    bias_volts : tuple of float
        The bias of each replica; the first is the one the figure annotates.
    volts : ndarray, shape (biases, steps)
        Source voltage, V.
    conductance : ndarray, shape (biases, steps)
        Network conductance between source and drain, S.
    bias_s, rest_s : float
        Duration of the bias and of the rest at 0 V that follows, s.
    pristine_conductance : float
        Conductance before any filament has grown, S.
    peak_ratio : tuple of float
        Largest conductance over the pristine one, per bias.
    formation_s : tuple of float
        Time from switching the bias on until the conductance first reaches
        ``FORMATION_RATIO`` times the pristine value, s (NaN if it never does).
    fading_s : tuple of float
        Time from switching the bias off until the conductance drops below
        ``FORMATION_RATIO`` times the pristine value, s (NaN if it never formed or
        never dropped).
    recovery_s : tuple of float
        Time from switching the bias off until the conductance is back at its
        pristine value (every filament dissolved), s (NaN if not within the rest).
    path : Path or None
        The figure, if one was written.
    """

    time_s: F64
    bias_volts: tuple[float, ...]
    volts: F64
    conductance: F64
    bias_s: float
    rest_s: float
    pristine_conductance: float
    peak_ratio: tuple[float, ...]
    formation_s: tuple[float, ...]
    fading_s: tuple[float, ...]
    recovery_s: tuple[float, ...]
    path: Path | None = None


def dc_bias_demo(
    device: SimulatedDevice,
    bias_volts: float | Sequence[float] = (1.0, 0.5, 2.0),
    bias_s: float = 0.5,
    rest_s: float = 0.5,
    out: str | PathLike[str] | None = None,
) -> DcBiasResult:
    """Switch a DC bias on a pristine network, then off; follow its conductance.

    Parameters
    ----------
    device : SimulatedDevice
        The device; every bias runs as one replica from pristine filaments.
    bias_volts : float or sequence of float
        Bias voltage(s), V. The figure annotates the first.
    bias_s, rest_s : float
        How long the bias is on, then off (0 V), s.
    out : path, optional
        Where to write the figure (PNG).

    Returns
    -------
    DcBiasResult

    Raises
    ------
    ConfigError
        If a duration is not positive or no bias is given.

    Examples
    --------
    >>> from nwnrc.network import NetworkParams, generate_network
    >>> dev = SimulatedDevice(generate_network(NetworkParams(n_wires=300, seed=1)))
    >>> res = dc_bias_demo(dev, 1.0, bias_s=0.2, rest_s=0.35)
    >>> bool(res.peak_ratio[0] > FORMATION_RATIO), res.recovery_s[0] <= 0.3
    (True, True)
    """
    biases = (
        (float(bias_volts),)
        if isinstance(bias_volts, int | float)
        else tuple(float(v) for v in bias_volts)
    )
    if not biases:
        raise ConfigError("bias_volts must hold at least one voltage, got none")
    _check_positive("bias_s", bias_s)
    _check_positive("rest_s", rest_s)
    n_bias = max(round(bias_s / device.dt), 1)
    n_rest = max(round(rest_s / device.dt), 1)
    volts = np.zeros((len(biases), n_bias + n_rest))
    volts[:, :n_bias] = np.asarray(biases)[:, None]
    logger.info(
        "DC bias demo: %s V for %g s, then 0 V for %g s", biases, bias_s, rest_s
    )

    g = device.run(volts).conductance
    g0 = float(g[0, 0])
    threshold = FORMATION_RATIO * g0
    formation, fading, recovery = [], [], []
    for row in g:
        on = _first(row[:n_bias] >= threshold)
        off = _first(row[n_bias:] < threshold) if on >= 0 else -1
        back = _first(np.abs(row[n_bias:] - g0) <= 1e-9 * g0)
        formation.append(on * device.dt if on >= 0 else math.nan)
        fading.append(off * device.dt if off >= 0 else math.nan)
        recovery.append(back * device.dt if back >= 0 else math.nan)

    result = DcBiasResult(
        time_s=np.arange(n_bias + n_rest, dtype=np.float64) * device.dt,
        bias_volts=biases,
        volts=volts,
        conductance=g,
        bias_s=n_bias * device.dt,
        rest_s=n_rest * device.dt,
        pristine_conductance=g0,
        peak_ratio=tuple(float(x) for x in g.max(axis=1) / g0),
        formation_s=tuple(formation),
        fading_s=tuple(fading),
        recovery_s=tuple(recovery),
    )
    if out is not None:
        title = (
            "A DC bias forms a conducting path; it fades when the bias is removed\n"
            + _describe(device)
        )
        result = _replace_path(result, plot_dc_bias(result, out, title))
    return result


def plot_dc_bias(
    result: DcBiasResult, path: str | PathLike[str], title: str | None = None
) -> Path:
    """Draw conductance against time on a log axis, annotated; write a PNG."""
    from matplotlib.figure import Figure

    r = result
    g0 = r.pristine_conductance
    t_ms = r.time_s * 1e3
    bias_end = r.bias_s * 1e3
    fig = Figure(figsize=(8.0, 5.6), layout="constrained")
    top, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 3.2]})

    colours = ["#1b4f9c", "#9aa9c7", "#6d8fc9", "#c2ccdf", "#52668a"]
    for k in range(len(r.bias_volts) - 1, -1, -1):
        main = k == 0
        colour = colours[k % len(colours)]
        label = f"{r.bias_volts[k]:g} V bias"
        top.plot(t_ms, r.volts[k], color=colour, lw=2.2 if main else 1.2)
        ax.plot(
            t_ms,
            r.conductance[k] * 1e6,
            color=colour,
            lw=2.4 if main else 1.3,
            label=label,
            zorder=3 if main else 2,
        )
    top.set_ylabel("source (V)")
    top.set_ylim(-0.1 * max(r.bias_volts), 1.25 * max(r.bias_volts))
    top.spines[["top", "right"]].set_visible(False)

    for a in (top, ax):
        a.axvspan(0, bias_end, color="#fff1d6", zorder=0, lw=0)
    ax.set_yscale("log")
    ax.axhline(g0 * 1e6, color="0.35", ls="--", lw=1)
    ax.axhline(FORMATION_RATIO * g0 * 1e6, color="0.35", ls=":", lw=1)
    ax.text(
        t_ms[-1],
        g0 * 1e6 * 1.25,
        f"pristine $G_0$ = {g0 * 1e6:.3g} µS",
        ha="right",
        va="bottom",
        color="0.3",
        fontsize=9,
    )
    ax.text(
        t_ms[-1],
        FORMATION_RATIO * g0 * 1e6 * 1.25,
        f"{FORMATION_RATIO:g} × $G_0$",
        ha="right",
        va="bottom",
        color="0.3",
        fontsize=9,
    )

    # annotate formation and fading of the highlighted bias
    g_main = r.conductance[0] * 1e6
    form, fade, back = r.formation_s[0], r.fading_s[0], r.recovery_s[0]
    if math.isfinite(form):
        t_form = form * 1e3
        y_form = np.interp(t_form, t_ms, g_main)
        ax.plot([t_form], [y_form], "o", color="#d9480f", ms=6, zorder=4)
        ax.annotate(
            f"formation: ×{FORMATION_RATIO:g} after {t_form:.0f} ms\n"
            f"(peak ×{r.peak_ratio[0]:.0f})",
            xy=(t_form, y_form),
            xytext=(t_form + 0.12 * bias_end, y_form / 12),
            arrowprops={"arrowstyle": "->", "color": "#d9480f"},
            color="#d9480f",
            fontsize=10,
        )
    if math.isfinite(fade):
        t_fade = bias_end + fade * 1e3
        y_fade = np.interp(t_fade, t_ms, g_main)
        ax.plot([t_fade], [y_fade], "o", color="#2b8a3e", ms=6, zorder=4)
        ax.annotate(
            f"fading: below ×{FORMATION_RATIO:g}\n{fade * 1e3:.0f} ms after removal",
            xy=(t_fade, y_fade),
            xytext=(t_fade + 0.12 * (t_ms[-1] - bias_end), y_fade / 6),
            arrowprops={"arrowstyle": "->", "color": "#2b8a3e"},
            color="#2b8a3e",
            fontsize=10,
        )
    if math.isfinite(back):
        t_back = bias_end + back * 1e3
        ax.plot([t_back], [g0 * 1e6], "o", color="#2b8a3e", ms=5, zorder=4)
        ax.annotate(
            "all filaments dissolved:\n"
            f"back to $G_0$ {back * 1e3:.0f} ms after removal",
            xy=(t_back, g0 * 1e6),
            xytext=(t_back + 0.05 * (t_ms[-1] - bias_end), g0 * 1e6 * 5),
            arrowprops={"arrowstyle": "->", "color": "#2b8a3e"},
            color="#2b8a3e",
            fontsize=10,
        )
    ax.text(bias_end * 0.5, g0 * 1e6 * 0.45, "bias on", ha="center", color="0.45")
    ax.text(
        0.5 * (bias_end + t_ms[-1]),
        g0 * 1e6 * 0.45,
        "bias off",
        ha="center",
        color="0.45",
    )
    ax.set_ylim(g0 * 1e6 * 0.3, r.conductance.max() * 1e6 * 4)
    ax.set_xlim(t_ms[0], t_ms[-1])
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("network conductance (µS)")
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles[::-1],
        labels[::-1],
        loc="upper right",
        bbox_to_anchor=(1.0, 0.97),
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, which="major", axis="y", color="0.9", lw=0.8)
    fig.suptitle(
        title or "A DC bias forms a conducting path; it fades when the bias is removed",
        fontsize=11,
    )
    return _save(fig, path)


# I-V sweep ----------------------------------------------------------------------


@dataclass(frozen=True)
class IvSweepResult:
    """A triangular voltage sweep and the current it drives.

    Attributes
    ----------
    time_s, volts, current, conductance : ndarray, shape (steps,)
        Time (s), source voltage (V), source current (A), network conductance (S).
    amplitude_volts, period_s : float
        Peak voltage and period of the sweep.
    cycles : int
        Number of periods; each runs 0 -> +A -> 0 -> -A -> 0.
    half_amplitude_currents : tuple of float
        In the first cycle, the current at ``+A/2`` rising, at ``+A/2`` falling, at
        ``-A/2`` falling and at ``-A/2`` rising, A: one voltage, two branches.
    path : Path or None
        The figure, if one was written.
    """

    time_s: F64
    volts: F64
    current: F64
    conductance: F64
    amplitude_volts: float
    period_s: float
    cycles: int
    half_amplitude_currents: tuple[float, float, float, float]
    path: Path | None = None


def triangle_wave(
    amplitude_volts: float, period_s: float, cycles: int, dt: float
) -> F64:
    """A triangular sweep 0 -> +A -> 0 -> -A -> 0, repeated, ending at 0 V.

    The quarter period is rounded to an even number of steps, so that the wave hits
    0, +-A and +-A/2 exactly.

    Examples
    --------
    >>> triangle_wave(1.0, 8e-3, 1, 1e-3).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0, -0.5, -1.0, -0.5, 0.0]
    """
    quarter = max(2 * round(period_s / (8 * dt)), 2)
    k = np.arange(quarter) / quarter
    cycle = amplitude_volts * np.concatenate([k, 1 - k, -k, k - 1]) + 0.0  # no -0.0
    return np.append(np.tile(cycle, cycles), 0.0)


def iv_sweep_demo(
    device: SimulatedDevice,
    amplitude_volts: float = 2.0,
    period_s: float = 2.0,
    cycles: int = 1,
    out: str | PathLike[str] | None = None,
) -> IvSweepResult:
    """Sweep the source voltage in a triangle and record the current.

    Parameters
    ----------
    device : SimulatedDevice
        The device, started from pristine filaments.
    amplitude_volts : float
        Peak voltage, V.
    period_s : float
        Period of one sweep 0 -> +A -> 0 -> -A -> 0, s.
    cycles : int
        Number of periods.
    out : path, optional
        Where to write the figure (PNG).

    Returns
    -------
    IvSweepResult

    Raises
    ------
    ConfigError
        If the amplitude or period is not positive or ``cycles`` is below 1.

    Examples
    --------
    >>> from nwnrc.network import NetworkParams, generate_network
    >>> dev = SimulatedDevice(generate_network(NetworkParams(n_wires=300, seed=1)))
    >>> res = iv_sweep_demo(dev, 1.0, period_s=0.4)
    >>> float(res.current[res.volts == 0].max())
    0.0
    """
    _check_positive("amplitude_volts", amplitude_volts)
    _check_positive("period_s", period_s)
    if not (isinstance(cycles, int) and cycles >= 1):
        raise ConfigError(f"cycles must be an integer >= 1, got {cycles!r}")
    volts = triangle_wave(amplitude_volts, period_s, cycles, device.dt)
    logger.info(
        "I-V sweep demo: +-%g V, period %g s, %d cycle(s)",
        amplitude_volts,
        period_s,
        cycles,
    )
    output = device.run(volts)
    current = output.source_current[0]
    quarter = (volts.size - 1) // (4 * cycles)
    half = quarter // 2
    at = [half, quarter + half, 2 * quarter + half, 3 * quarter + half]
    result = IvSweepResult(
        time_s=np.arange(volts.size, dtype=np.float64) * device.dt,
        volts=volts,
        current=current,
        conductance=output.conductance[0],
        amplitude_volts=float(amplitude_volts),
        period_s=4 * quarter * device.dt,
        cycles=cycles,
        half_amplitude_currents=(
            float(current[at[0]]),
            float(current[at[1]]),
            float(current[at[2]]),
            float(current[at[3]]),
        ),
    )
    if out is not None:
        title = (
            f"Triangular sweep ±{result.amplitude_volts:g} V, period "
            f"{result.period_s:g} s: a pinched hysteresis loop\n" + _describe(device)
        )
        result = _replace_path(result, plot_iv_sweep(result, out, title))
    return result


def plot_iv_sweep(
    result: IvSweepResult, path: str | PathLike[str], title: str | None = None
) -> Path:
    """Draw the I-V loop coloured by time, and conductance against time; write a PNG."""
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.figure import Figure

    r = result
    t = r.time_s
    v = r.volts
    i_ua = r.current * 1e6
    # plasma without its palest yellow, which vanishes on white
    cmap = ListedColormap(colormaps["plasma"](np.linspace(0.0, 0.88, 256)))
    norm = Normalize(t[0], t[-1])

    fig = Figure(figsize=(11.0, 4.8), layout="constrained")
    loop, trace = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})

    points = np.stack([v, i_ua], axis=1)
    segments = np.stack([points[:-1], points[1:]], axis=1)
    lines = LineCollection(list(segments), cmap=cmap, norm=norm, lw=1.8)
    lines.set_array(0.5 * (t[:-1] + t[1:]))
    loop.add_collection(lines)
    loop.autoscale()
    loop.margins(0.06)
    loop.axhline(0, color="0.75", lw=0.8, zorder=0)
    loop.axvline(0, color="0.75", lw=0.8, zorder=0)
    loop.plot([0], [0], "o", ms=7, mfc="white", mec="black", zorder=5)
    loop.annotate(
        "pinched at 0 V",
        xy=(0, 0),
        xytext=(0.25 * r.amplitude_volts, 0.55 * i_ua.min()),
        arrowprops={"arrowstyle": "->", "color": "0.2"},
        fontsize=10,
    )
    # arrows along the loop in the sweep direction, at +-3A/4 of the first cycle
    n_cycle = round(float(r.period_s / (t[1] - t[0])))
    span = max(n_cycle // 100, 1)  # direction over a few steps, past switching noise
    for k in (3, 5, 11, 13):
        s = k * n_cycle // 16
        if s + span >= v.size:
            break
        loop.annotate(
            "",
            xy=(v[s + span], i_ua[s + span]),
            xytext=(v[s], i_ua[s]),
            arrowprops={
                "arrowstyle": "-|>",
                "color": cmap(norm(t[s])),
                "mutation_scale": 18,
                "lw": 0,
            },
        )
    up, down = r.half_amplitude_currents[0] * 1e6, r.half_amplitude_currents[1] * 1e6
    half = 0.5 * r.amplitude_volts
    loop.plot([half, half], [up, down], "s", color="0.15", ms=4, zorder=5)
    loop.annotate(
        f"{up:.0f} µA at {half:g} V rising",
        xy=(half, up),
        xytext=(half + 0.12 * r.amplitude_volts, up - 0.12 * np.ptp(i_ua)),
        arrowprops={"arrowstyle": "->", "color": "0.2"},
        fontsize=10,
    )
    loop.annotate(
        f"{down:.0f} µA at {half:g} V falling",
        xy=(half, down),
        xytext=(-0.9 * r.amplitude_volts, down + 0.1 * np.ptp(i_ua)),
        arrowprops={"arrowstyle": "->", "color": "0.2"},
        fontsize=10,
    )
    loop.set_xlabel("source voltage (V)")
    loop.set_ylabel("source current (µA)")
    loop.set_title("I-V loop", fontsize=10)
    loop.spines[["top", "right"]].set_visible(False)

    trace.scatter(t, r.conductance * 1e6, c=t, cmap=cmap, norm=norm, s=3, lw=0)
    trace.set_yscale("log")
    trace.set_xlabel("time (s)")
    trace.set_ylabel("network conductance (µS)")
    trace.set_title("conductance and source voltage", fontsize=10)
    trace.spines[["top"]].set_visible(False)
    twin = trace.twinx()
    twin.plot(t, v, color="0.55", lw=1, ls="--")
    twin.set_ylabel("source voltage (V)", color="0.45")
    twin.tick_params(axis="y", colors="0.45")
    twin.spines[["top"]].set_visible(False)
    bar = fig.colorbar(lines, ax=[loop, trace], location="right", shrink=0.9, pad=0.02)
    bar.set_label("time (s)")
    fig.suptitle(
        title or f"Triangular sweep ±{r.amplitude_volts:g} V, period {r.period_s:g} s",
        fontsize=11,
    )
    return _save(fig, path)


# Both figures ---------------------------------------------------------------------


def make_device_figures(
    out_dir: str | PathLike[str] = "docs/figures", seed: int = 0
) -> dict[str, Any]:
    """Make both demonstration figures on the default network; return the numbers.

    Parameters
    ----------
    out_dir : path
        Folder for ``device-dc-bias.png`` and ``device-iv-hysteresis.png``.
    seed : int
        Network seed (``NetworkParams(seed=seed)``, 500 wires).

    Returns
    -------
    dict
        ``network`` (wires, junctions, circuit sizes), ``dc_bias`` and ``iv_sweep``
        (the measured numbers), and the ``figures`` written.
    """
    from nwnrc.network import NetworkParams, generate_network

    network = generate_network(NetworkParams(seed=seed))
    device = SimulatedDevice(network)
    out = Path(out_dir)
    dc = dc_bias_demo(device, out=out / "device-dc-bias.png")
    iv = iv_sweep_demo(device, out=out / "device-iv-hysteresis.png")
    return {
        "network": {
            "seed": seed,
            "wires": network.n_wires,
            "junctions": int(network.junction_wires.shape[0]),
            **device.circuit.summary(),
        },
        "dc_bias": {
            "bias_volts": list(dc.bias_volts),
            "bias_s": dc.bias_s,
            "rest_s": dc.rest_s,
            "pristine_conductance_s": dc.pristine_conductance,
            "peak_ratio": list(dc.peak_ratio),
            "formation_s": list(dc.formation_s),
            "fading_s": list(dc.fading_s),
            "recovery_s": list(dc.recovery_s),
        },
        "iv_sweep": {
            "amplitude_volts": iv.amplitude_volts,
            "period_s": iv.period_s,
            "cycles": iv.cycles,
            "half_amplitude_currents_a": list(iv.half_amplitude_currents),
            "peak_current_a": float(np.abs(iv.current).max()),
            "conductance_range_s": [
                float(iv.conductance.min()),
                float(iv.conductance.max()),
            ],
        },
        "figures": [str(dc.path), str(iv.path)],
    }


def _describe(device: SimulatedDevice) -> str:
    """One line naming the network and the driven pads, for figure titles."""
    n_wires = getattr(device.network, "n_wires", "?")
    seed = getattr(getattr(device.network, "params", None), "seed", None)
    seed_text = f", seed {seed}" if seed is not None else ""
    return (
        f"{n_wires}-wire network{seed_text}; source pad {device.circuit.source_pad}, "
        f"drain pad {device.circuit.drain_pad}"
    )


def _replace_path(result: Any, path: Path) -> Any:
    from dataclasses import replace

    return replace(result, path=path)


def _save(fig: Any, path: str | PathLike[str]) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    logger.info("wrote %s", out)
    return out
