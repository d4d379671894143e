"""From instrument channels to a recording: roles, units, samples, labels, checks.

The importers (:mod:`~nwnrc.recording._tdms`, :mod:`~nwnrc.recording._tabular`) read
the channels of a file; this module does the rest, the same for every file format:
it maps channels to roles (the input, the readout pads, the source current), scales
them to V and A, cuts them into samples, attaches the labels (and the stimulus), and
validates the result.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import DataError, DataWarning
from nwnrc.recording._schema import N_PADS, Recording
from nwnrc.recording._segment import (
    Boundaries,
    find_boundaries,
    fixed_boundaries,
    given_boundaries,
    onset_boundaries,
)
from nwnrc.recording._validate import validate_recording

logger = logging.getLogger(__name__)

#: divisors from a unit to volts (a value in mV divided by 1e3 is in V); the
#: unprefixed unit is also read as ``v``, ``volt``, ``volts`` in any case
VOLT_UNITS = {
    "V": 1.0,
    "mV": 1e3,
    "uV": 1e6,
    "µV": 1e6,
    "μV": 1e6,
    "kV": 1e-3,
}
#: divisors from a unit to amperes; also ``a``, ``amp``, ``amps``, ``ampere(s)``
AMP_UNITS = {
    "A": 1.0,
    "mA": 1e3,
    "uA": 1e6,
    "µA": 1e6,
    "μA": 1e6,
    "nA": 1e9,
    "pA": 1e12,
}
_BASE_NAMES = {
    "V": ("v", "volt", "volts"),
    "A": ("a", "amp", "amps", "ampere", "amperes"),
}


def parse_unit(unit: str) -> tuple[str, float] | None:
    """The kind (``"V"`` or ``"A"``) and divisor of a unit, or None if unknown.

    The base unit is read in any case and spelt out (``V``, ``volt``, ``Volts``;
    ``A``, ``amps``), but a prefix is case-sensitive: ``mV`` is a millivolt, and
    ``MV`` (a megavolt) is not a unit a DAQ records in, so it is unknown.

    Examples
    --------
    >>> parse_unit("Volts"), parse_unit("mV"), parse_unit("MV"), parse_unit("nA")
    (('V', 1.0), ('V', 1000.0), None, ('A', 1000000000.0))
    """
    u = unit.strip()
    for kind, table in (("V", VOLT_UNITS), ("A", AMP_UNITS)):
        for prefix in ("", "m", "u", "µ", "μ", "k", "n", "p"):
            divisor = table.get(prefix + kind)
            if divisor is None or not u.startswith(prefix):
                continue
            if u[len(prefix) :].lower() in _BASE_NAMES[kind]:
                return kind, divisor
    return None


def _accepted(kind: str) -> str:
    table = VOLT_UNITS if kind == "V" else AMP_UNITS
    names = ", ".join(_BASE_NAMES[kind])
    return f"{', '.join(table)} (the unprefixed unit also as {names}, in any case)"


def _unknown_unit(channel: str, unit: str, kinds: str) -> DataError:
    accepted = "; ".join(_accepted(k) for k in kinds)
    fix = "V" if kinds[0] == "V" else "A"
    return DataError(
        f"channel {channel!r} has the unit {unit!r}, which is not recognised; the "
        f"accepted units are {accepted}; prefixes are case-sensitive (mV is a "
        f"millivolt). If the file's unit is wrong or unusual, give the real one: "
        f"--unit {channel}={fix} (units={{{channel!r}: {fix!r}}})"
    )


@dataclass(frozen=True)
class ChannelMap:
    """Which instrument channel plays which role.

    Parameters
    ----------
    input : str
        The channel that recorded the voltage on the source pad.
    pads : mapping of str to int
        Readout channels and the pad (0..15, row-major) each one reads, in the order
        of the recording's channels.
    current : str, optional
        The channel that recorded the current into the network.
    current_gain_v_per_a : float, optional
        Transimpedance gain, V/A, where the current channel recorded the voltage of
        a current amplifier: the current is the voltage divided by the gain, its
        sign included (an inverting amplifier has a negative gain).

    Examples
    --------
    >>> roles = ChannelMap("ai0", {"ai1": 1, "ai2": 12}, current="ai3",
    ...                    current_gain_v_per_a=1e6)
    >>> roles.channels()
    ['ai0', 'ai1', 'ai2', 'ai3']
    """

    input: str
    pads: Mapping[str, int]
    current: str | None = None
    current_gain_v_per_a: float | None = None
    _order: tuple[str, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        if not self.pads:
            raise DataError(
                "map at least one readout channel to a pad (--pad CHANNEL=PAD)"
            )
        pads = dict(self.pads)
        object.__setattr__(self, "pads", pads)
        bad = {ch: p for ch, p in pads.items() if not 0 <= int(p) < N_PADS}
        if bad:
            raise DataError(f"pad numbers must be 0..{N_PADS - 1}, got {bad}")
        numbers = [int(p) for p in pads.values()]
        if len(set(numbers)) != len(numbers):
            raise DataError(
                f"each pad can be read by one channel only, got {pads}; give each "
                "channel its own pad"
            )
        names = self.channels()
        if len(set(names)) != len(names):
            raise DataError(
                f"a channel plays two roles in input={self.input!r}, pads={pads}, "
                f"current={self.current!r}; give each role its own channel"
            )
        gain = self.current_gain_v_per_a
        if gain is not None and not (math.isfinite(gain) and gain != 0):
            raise DataError(
                f"the transimpedance gain must be a finite, non-zero number of V/A "
                f"(negative for an inverting amplifier), got {gain}"
            )
        if gain is not None and self.current is None:
            raise DataError("a transimpedance gain needs a current channel")

    def channels(self) -> list[str]:
        """Every mapped channel: input, pads, current."""
        out = [self.input, *self.pads]
        if self.current is not None:
            out.append(self.current)
        return out


def to_volts(data: NDArray[Any], unit: str | None, channel: str) -> NDArray[np.float64]:
    """Scale a voltage channel to volts; ``unit`` None means V."""
    x = np.asarray(data, dtype=np.float64)
    if unit is None or unit.strip() == "":
        return x
    parsed = parse_unit(unit)
    if parsed is None:
        raise _unknown_unit(channel, unit, "V")
    kind, divisor = parsed
    if kind != "V":
        raise DataError(
            f"channel {channel!r} is in {unit.strip()!r}, a current, where a "
            "voltage is needed; map a voltage channel to this role, or give the "
            f"channel's real unit (--unit {channel}=V)"
        )
    return x if divisor == 1.0 else x / divisor


def to_amps(
    data: NDArray[Any], unit: str | None, channel: str, gain_v_per_a: float | None
) -> NDArray[np.float64]:
    """Scale a current channel to amperes (through the transimpedance gain if in V)."""
    x = np.asarray(data, dtype=np.float64)
    u = (unit or "").strip()
    parsed = parse_unit(u) if u else ("V", 1.0)
    if parsed is None:
        raise _unknown_unit(channel, u, "AV")
    kind, divisor = parsed
    if kind == "A":
        if gain_v_per_a is not None:
            raise DataError(
                f"current channel {channel!r} is already in {u}; a transimpedance "
                "gain applies only to a channel recorded in volts"
            )
        return x if divisor == 1.0 else x / divisor
    if gain_v_per_a is None:
        stated = u or "unstated units (taken as V)"
        raise DataError(
            f"current channel {channel!r} is in {stated}; give the "
            "transimpedance gain of the current amplifier in V/A "
            "(--current CHANNEL:GAIN)"
        )
    return (x if divisor == 1.0 else x / divisor) / gain_v_per_a


def check_distinct_channels(roles: ChannelMap, resolved: Mapping[str, str]) -> None:
    """Refuse one file channel given two roles (or two pads) under two spellings.

    ``resolved`` maps each name in ``roles`` to the channel of the file it means
    (``"group/channel"`` in a TDMS file); two names of one channel are an error
    that names both spellings and their roles.

    Examples
    --------
    >>> roles = ChannelMap("ai0", {"ai1": 1, "Dev1/ai1": 2})
    >>> try:
    ...     check_distinct_channels(roles, {"ai0": "T/ai0", "ai1": "T/ai1",
    ...                                     "Dev1/ai1": "T/ai1"})
    ... except DataError as exc:
    ...     print(str(exc)[:61])
    channel 'T/ai1' is given two roles: 'ai1' as pad 1 and 'Dev1/
    """
    named: list[tuple[str, str]] = [(roles.input, "the input")]
    named += [(ch, f"pad {p}") for ch, p in roles.pads.items()]
    if roles.current is not None:
        named.append((roles.current, "the current"))
    seen: dict[str, tuple[str, str]] = {}
    for name, role in named:
        channel = resolved[name]
        if channel in seen:
            first, first_role = seen[channel]
            raise DataError(
                f"channel {channel!r} is given two roles: {first!r} as {first_role} "
                f"and {name!r} as {role}; give each channel one role (and each pad "
                "one channel)"
            )
        seen[channel] = (name, role)


def load_labels(
    source: str | Path | ArrayLike, what: str = "label"
) -> NDArray[np.int64]:
    """Labels (or other integers, one per sample) from an array or a file.

    A file is .npy, or .txt/.csv with one integer a line (the first column), or
    all of them on one line separated by commas or white space; a first line that
    is not a number (a header) is skipped. ``what`` names the integers in
    messages.

    Examples
    --------
    >>> load_labels([3, 1, 4]).tolist()
    [3, 1, 4]
    """
    if isinstance(source, str | Path):
        p = Path(source)
        if not p.is_file():
            raise DataError(f"no {what} file at {p}; give one {what} per sample")
        if p.suffix == ".npy":
            raw = np.load(p, allow_pickle=False)
        else:
            return _labels_from_text(p, what)
    else:
        raw = np.asarray(source)
    arr = np.asarray(raw).ravel()
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))
        if bad.size:
            raise DataError(
                f"each {what} must be an integer; {what} {int(bad[0])} is "
                f"{float(arr[bad[0]])!r}"
            )
    elif arr.dtype.kind not in "iu":
        raise DataError(f"each {what} must be an integer, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _labels_from_text(p: Path, what: str) -> NDArray[np.int64]:
    """Integers of a text file: one a line (first column), or all on one line."""
    text = p.read_bytes().decode("utf-8-sig", errors="replace")
    rows = [
        (i + 1, [t for t in re.split(r"[,;\s]+", ln.strip()) if t])
        for i, ln in enumerate(text.splitlines())
        if ln.strip()
    ]
    if rows and not is_number(rows[0][1][0]):
        rows = rows[1:]  # a header
    if len(rows) == 1:
        cells = [(rows[0][0], t) for t in rows[0][1]]
    else:
        cells = [(line, tokens[0]) for line, tokens in rows]
    out = np.empty(len(cells), dtype=np.int64)
    for k, (line, token) in enumerate(cells):
        try:
            value = float(token)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value == round(value)):
            raise DataError(
                f"each {what} must be an integer: {p} line {line} holds {token!r}; "
                f"give one {what} a line, or all on one line separated by commas"
            )
        out[k] = int(value)
    return out


def load_stimulus(source: str | Path | ArrayLike) -> NDArray[np.float64]:
    """Data values that were played, shape (samples, steps), in [0, 1].

    ``source`` is an array or a .npy/.npz file of shape (samples, steps) or
    (samples, 28, 28); 8-bit values (dtype uint8) are scaled by 1/255.

    Examples
    --------
    >>> load_stimulus(np.full((2, 28, 28), 255, np.uint8)).shape
    (2, 784)
    """
    if isinstance(source, str | Path):
        p = Path(source)
        if not p.is_file():
            raise DataError(f"no stimulus file at {p}")
        loaded = np.load(p, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                keys = list(loaded.keys())
                names = ("stimulus", "images", "x")
                key: str | None = next((k for k in names if k in keys), None)
                if key is None and len(keys) == 1:
                    key = keys[0]
                if key is None:
                    raise DataError(
                        f"{p} holds {keys}; name the stimulus array 'stimulus'"
                    )
                raw = loaded[key]
        else:
            raw = loaded
    else:
        raw = np.asarray(source)
    arr = np.asarray(raw)
    if arr.ndim == 3:
        arr = arr.reshape(arr.shape[0], -1)
    if arr.ndim != 2 or arr.size == 0:
        raise DataError(
            f"the stimulus must have shape (samples, steps) or (samples, 28, 28), got "
            f"{arr.shape}"
        )
    values = arr.astype(np.float64)
    if arr.dtype == np.uint8:
        values /= 255.0
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise DataError(
            "stimulus values must lie in [0, 1] (or be 8-bit, 0..255), got "
            f"{float(np.nanmin(values))}..{float(np.nanmax(values))}"
        )
    return values


def assemble_recording(
    *,
    input_v: NDArray[np.float64],
    pads_v: Sequence[NDArray[np.float64]],
    roles: ChannelMap,
    current_a: NDArray[np.float64] | None,
    raw_dt_s: float | None,
    time_s: NDArray[np.float64] | None,
    labels: str | Path | ArrayLike,
    steps: int | None,
    offset: int,
    starts: str | Path | ArrayLike | None,
    find: bool,
    stimulus: str | Path | ArrayLike | None,
    v_min: float | None,
    v_max: float | None,
    dt_s: float | None,
    samples_per_step: int,
    n_train: int | None,
    source_pad: int,
    drain_pads: Sequence[int],
    drop_incomplete: bool,
    drop_unlabelled: bool,
    device: Mapping[str, Any] | None,
    instrument: Mapping[str, Any],
    config: Mapping[str, Any],
    validate: bool,
) -> Recording:
    """Cut scaled channels into samples and build a validated :class:`Recording`.

    Every channel must already have the same length (the importers check).
    """
    m = samples_per_step
    if source_pad != -1 and source_pad in drain_pads:
        raise DataError(
            f"pad {source_pad} is both the source pad and a drain pad; a pad is "
            "driven or grounded, not both (--source-pad, --drain-pad)"
        )
    if len(set(drain_pads)) != len(drain_pads):
        raise DataError(f"a drain pad is named twice: {list(drain_pads)}")
    if raw_dt_s is None:
        if dt_s is None:
            raise DataError(
                "the file does not say its time step; give it (dt_s=..., --dt S)"
            )
        raw_dt_s = dt_s / m
    elif not (math.isfinite(raw_dt_s) and raw_dt_s > 0):
        raise DataError(f"the file's time step is {raw_dt_s!r} s, not a positive time")
    if dt_s is not None:
        _check_step(raw_dt_s, dt_s, m)

    played = None if stimulus is None else load_stimulus(stimulus)
    if played is not None:
        if v_min is None or v_max is None:
            raise DataError(
                "a stimulus needs the voltages of data values 0 and 1 (v_min, v_max; "
                "--v-min, --v-max)"
            )
        if steps is not None and steps != played.shape[1]:
            raise DataError(
                f"steps is {steps}, but the stimulus has {played.shape[1]} steps a "
                "sample; give one or make them agree"
            )
        steps = played.shape[1]

    lab = load_labels(labels)
    if find and played is not None:
        bad = np.flatnonzero(~np.isfinite(input_v))
        if bad.size:
            i = int(bad[0])
            t = float(time_s[i]) if time_s is not None else i * raw_dt_s
            raise DataError(
                f"the recorded input holds {input_v[i]} at value {i} (t = {t:.6g} s"
                f"{' in the file' if time_s is not None else ' from its start'}; "
                f"{bad.size} value(s) in all), so the stimulus cannot be matched; "
                "repair the input channel, or give the boundaries (--steps and "
                "--offset, or --boundaries)"
            )
    try:
        b = _boundaries(
            input_v,
            steps,
            offset,
            starts,
            find,
            played,
            v_min,
            v_max,
            m,
            drop_incomplete,
        )
        n = b.n_samples
        if played is not None:
            k = played.shape[0]
            # found from a short stimulus, the recording holds more after it
            more = b.trailing // b.span if b.method == "stimulus" else 0
            if k < n or (more and lab.size > k):
                raise DataError(
                    f"the stimulus has {k} samples, but the recording holds "
                    f"{max(n, k + more)} and there are {lab.size} labels; give the "
                    "stimulus of every sample"
                )
        lab, keep = _match_labels(lab, n, b.n_dropped, drop_unlabelled)
    except DataError:
        # rows missing inside the file shift every later sample: say so first
        if time_s is not None:
            _check_time_gaps(time_s, raw_dt_s, steps, offset, m, starts, find)
        raise
    if keep < n:
        b = Boundaries(b.starts[:keep], b.steps, m, b.n_dropped, b.method, b.trailing)
        n = keep
    if played is not None:
        played = played[:n]

    cut_pads = b.cut(np.stack(pads_v))
    cut_input = b.cut(input_v)
    cut_current = None if current_a is None else b.cut(current_a)
    cut_time = None if time_s is None else b.cut(time_s, np.float64)
    dt = raw_dt_s * m

    meta = {
        "sample_rate_hz": round_significant(1.0 / raw_dt_s),
        "samples_per_step": m,
        "channel_input": roles.input,
        **{f"channel_pad_{p}": ch for ch, p in roles.pads.items()},
    }
    if roles.current is not None:
        meta["channel_current"] = roles.current
    if roles.current_gain_v_per_a is not None:
        meta["current_gain_v_per_a"] = roles.current_gain_v_per_a
    meta.update(instrument)
    cfg = {
        **config,
        "boundaries": {
            "method": b.method,
            "first_value": int(b.starts[0]),
            "steps": b.steps,
            "samples_per_step": m,
            "dropped_samples": b.n_dropped,
            "trailing_values": b.trailing,
        },
    }
    rec = Recording(
        pads=cut_pads,
        input=cut_input,
        labels=lab,
        dt_s=dt,
        pad_numbers=tuple(int(p) for p in roles.pads.values()),
        n_train=n if n_train is None else int(n_train),
        source_pad=int(source_pad),
        drain_pads=tuple(int(p) for p in drain_pads),
        kind="recorded",
        v_min=math.nan if v_min is None else float(v_min),
        v_max=math.nan if v_max is None else float(v_max),
        source_current=cut_current,
        stimulus=None if played is None else played.astype(np.float32),
        device=dict(device or {}),
        instrument=meta,
        config=cfg,
    )
    if validate:
        report = validate_recording(rec, expected_dt_s=dt_s, time_s=cut_time)
        report.raise_errors()
    logger.info(
        "imported %d samples x %d channels x %d steps (dt %g s)",
        rec.n_samples,
        rec.n_channels,
        rec.n_steps,
        rec.dt_s,
    )
    return rec


def _check_step(raw_dt_s: float, dt_s: float, m: int) -> None:
    """Refuse a file whose time step is not ``dt_s / m``, saying what would fit."""
    if not (math.isfinite(dt_s) and dt_s > 0):
        raise DataError(f"the time step must be a positive number of s, got {dt_s!r}")
    if math.isclose(raw_dt_s * m, dt_s, rel_tol=1e-6):
        return
    told = (
        f"the file's time step is {raw_dt_s:g} s, so {m} value(s) a step make "
        f"{raw_dt_s * m:g} s, but --dt is {dt_s:g} s"
    )
    ratio = dt_s / raw_dt_s
    if raw_dt_s > dt_s * (1 + 1e-6):
        raise DataError(
            f"{told}: the DAQ sampled slower than one input step, and "
            "--samples-per-step cannot help; check --dt, or record at a rate of at "
            f"least {1 / dt_s:g} Hz"
        )
    if abs(ratio - round(ratio)) <= 1e-6 * ratio:
        raise DataError(
            f"{told}: the DAQ took {round(ratio)} values a step; give "
            f"--samples-per-step {round(ratio)} (samples_per_step={round(ratio)}) to "
            "average them to one"
        )
    raise DataError(
        f"{told}: {ratio:.4g} values a step is not a whole number; check --dt and "
        "the DAQ's rate"
    )


def _check_time_gaps(
    time_s: NDArray[np.float64],
    raw_dt_s: float,
    steps: int | None,
    offset: int,
    m: int,
    starts: object,
    find: bool,
) -> None:
    """Raise on the first jump of the raw time stamps (rows missing or repeated)."""
    t = np.asarray(time_s, dtype=np.float64)
    if t.size < 2:
        return
    d = np.diff(t)
    bad = np.flatnonzero(np.abs(d - raw_dt_s) > 0.01 * raw_dt_s)
    if bad.size == 0:
        return
    i = int(bad[0])
    jump = float(d[i])
    kind = (
        f"{round(jump / raw_dt_s) - 1} values missing"
        if jump > raw_dt_s
        else "time going backwards"
        if jump <= 0
        else "a step shorter than the others"
    )
    where = ""
    if steps is not None and starts is None and not find and i + 1 >= offset:
        span = steps * m
        k, within = divmod(i + 1 - offset, span)
        where = f" (sample {k}, step {within // m}, by --steps and --offset)"
    raise DataError(
        f"the time stamps jump by {jump:.6g} s ({kind}) after value {i} "
        f"(t = {float(t[i]):.6g} s){where}, where every step is {raw_dt_s:g} s; "
        "every later sample is shifted: export a continuous acquisition, or give "
        "each sample's first value (--boundaries) around the gap"
    )


def _boundaries(
    input_v: NDArray[np.float64],
    steps: int | None,
    offset: int,
    starts: str | Path | ArrayLike | None,
    find: bool,
    played: NDArray[np.float64] | None,
    v_min: float | None,
    v_max: float | None,
    m: int,
    drop: bool,
) -> Boundaries:
    n_values = input_v.shape[-1]
    if starts is not None and find:
        raise DataError("give sample starts or ask to find them, not both")
    if find and played is not None and v_min is not None and v_max is not None:
        expected = v_min + (v_max - v_min) * played
        return find_boundaries(
            input_v, expected, samples_per_step=m, drop_incomplete=drop
        )
    if steps is None:
        raise DataError(
            "give the steps per sample (--steps), or the stimulus that was played "
            "(--stimulus)"
        )
    if find:
        return onset_boundaries(
            input_v, steps, samples_per_step=m, drop_incomplete=drop
        )
    if starts is not None:
        if isinstance(starts, str | Path):
            starts = load_labels(starts, "sample start")
        return given_boundaries(
            starts, n_values, steps, samples_per_step=m, drop_incomplete=drop
        )
    return fixed_boundaries(
        n_values, steps, offset=offset, samples_per_step=m, drop_incomplete=drop
    )


def _match_labels(
    labels: NDArray[np.int64], n: int, n_dropped: int, drop_unlabelled: bool
) -> tuple[NDArray[np.int64], int]:
    """Labels for the ``n`` samples kept; returns (labels, samples to keep)."""
    k = labels.size
    if k == n:
        return labels, n
    if n_dropped and k == n + n_dropped:
        # the labels of the dropped samples go with them
        return labels[:n], n
    if k < n:
        which = f"sample {k}" if n - k == 1 else f"samples {k}-{n - 1}"
        have = "has" if n - k == 1 else "have"
        if not drop_unlabelled:
            raise DataError(
                f"the recording holds {n} samples but there are {k} labels: {which} "
                f"{have} no label; give a label for every sample, or drop the "
                "unlabelled samples (drop_unlabelled=True, --drop-unlabelled)"
            )
        warnings.warn(
            f"{which} {have} no label: dropped ({n} samples, {k} labels)",
            DataWarning,
            stacklevel=3,
        )
        return labels, k
    raise DataError(
        f"there are {k} labels but the recording holds {n} samples"
        + (f" ({n_dropped} incomplete sample(s) dropped)" if n_dropped else "")
        + "; check the sample boundaries (--steps, --offset) and the label file"
    )


def round_significant(value: float, digits: int = 12) -> float:
    """``value`` rounded to ``digits`` significant digits (a rate of 1 / 1e-3 s).

    Examples
    --------
    >>> 1 / 0.0010000000000000009, round_significant(1 / 0.0010000000000000009)
    (999.9999999999991, 1000.0)
    """
    if not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits - 1}e}")


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def plain_metadata(value: Any) -> str | int | float | bool:
    """A metadata value as a str, int, float or bool (dates and others as text)."""
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64):
        value = value.item()
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value))
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)
