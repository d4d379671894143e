"""Signal checks of a recording: what would give wrong results, and what is suspect.

:func:`validate_recording` looks at the readouts of a :class:`Recording` the way a
careful experimenter would before trusting them: stretches of NaN or infinite values,
channels clipped at the instrument's range or stuck at their own extreme, baselines
that drift over the recording, time stamps that jump, a time step other than the
expected one, samples without a label, and an input stream that is not the stimulus
it claims to encode. Each problem is a :class:`Finding` that names the sample, the
channel (pad) and the steps where it is; the :class:`ValidationReport` collects them,
and :meth:`ValidationReport.raise_errors` refuses the errors (:class:`DataError`) and
passes the warnings on as :class:`DataWarning`.

The importers add what only they can see, the lengths and time steps of the raw
instrument channels, through :func:`check_channel_lengths`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import DataError, DataWarning
from nwnrc.recording._schema import Recording, check_recording

logger = logging.getLogger(__name__)

__all__ = [
    "Finding",
    "ValidationReport",
    "check_channel_lengths",
    "input_mismatches",
    "validate_recording",
]

SEVERITIES = ("error", "warning")

#: keys of ``Recording.instrument`` that give the input range of the pad channels (V)
RANGE_KEYS_V = ("range_min_v", "range_max_v")
#: keys of ``Recording.instrument`` that give the range of the current channel (A)
RANGE_KEYS_A = ("range_min_a", "range_max_a")


@dataclass(frozen=True)
class Finding:
    """One problem found in a recording.

    Parameters
    ----------
    severity : {"error", "warning"}
        An error would give wrong results and is refused; a warning marks suspect
        data that is still used.
    check : str
        Which check found it: ``"structure"``, ``"nonfinite"``, ``"clipped"``,
        ``"flat"``, ``"drift"``, ``"gap"``, ``"length"``, ``"dt"``, ``"labels"``,
        ``"input"``, ``"range"`` or ``"boundaries"``.
    message : str
        What is wrong, the value found and what to do.
    sample : int, optional
        The sample (0-based, in stream order) where it is; None for the whole
        recording.
    channel : str, optional
        The series: ``"pad 12"``, ``"input"``, ``"source current"``, ... or an
        instrument channel name.
    pad : int, optional
        The pad number of a readout channel.
    steps : tuple of int, optional
        First step and one past the last step (within ``sample``).

    Examples
    --------
    >>> f = Finding("error", "nonfinite", "NaN", sample=3, channel="pad 12", pad=12,
    ...             steps=(100, 120))
    >>> f.where()
    'sample 3, pad 12, steps 100-119'
    """

    severity: str
    check: str
    message: str
    sample: int | None = None
    channel: str | None = None
    pad: int | None = None
    steps: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"severity must be one of {SEVERITIES}, got {self.severity!r}"
            )

    def where(self) -> str:
        """Where the problem is, in words (``"sample 3, pad 12, steps 100-119"``)."""
        parts = []
        if self.sample is not None:
            parts.append(f"sample {self.sample}")
        if self.channel is not None:
            parts.append(self.channel)
        if self.steps is not None:
            a, b = self.steps
            parts.append(f"step {a}" if b - a == 1 else f"steps {a}-{b - 1}")
        return ", ".join(parts) if parts else "whole recording"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where()}: {self.message}"


@dataclass
class ValidationReport:
    """The findings of a validation, errors first.

    Attributes
    ----------
    findings : list of Finding
        Every finding (at most ``max_findings`` per check and channel, then one
        finding that counts the rest).

    Examples
    --------
    >>> report = ValidationReport([Finding("warning", "drift", "drifts")])
    >>> report.ok, len(report.warnings)
    (True, 1)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     report.raise_errors()
    >>> str(caught[0].message)
    'whole recording: drifts'
    """

    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings that would give wrong results."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that mark suspect but usable data."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """Whether there is no error (warnings allowed)."""
        return not self.errors

    def extend(self, findings: Sequence[Finding]) -> None:
        """Add findings (from an importer) to the report."""
        self.findings.extend(findings)

    def raise_errors(self, *, limit: int = 5, warn: bool = True) -> None:
        """Raise :class:`DataError` if there are errors; else warn of the warnings.

        Parameters
        ----------
        limit : int
            Errors (and warnings) spelled out; the rest are counted.
        warn : bool
            Issue each warning (up to ``limit``, then one that counts the rest) as a
            :class:`DataWarning` when there is no error.

        Raises
        ------
        DataError
            Naming the first ``limit`` errors (sample, channel, steps, what to do);
            its attribute ``report`` is this report (for a table of every finding).
        """
        errors = self.errors
        if errors:
            shown = "; ".join(f"{f.where()}: {f.message}" for f in errors[:limit])
            more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
            n_warn = len(self.warnings)
            also = f"; also {n_warn} warning(s)" if n_warn else ""
            exc = DataError(
                f"the recording has {len(errors)} error(s): {shown}{more}{also}"
            )
            exc.report = self  # type: ignore[attr-defined]
            raise exc
        if warn:
            found = self.warnings
            for f in found[:limit]:
                warnings.warn(f"{f.where()}: {f.message}", DataWarning, stacklevel=2)
            if len(found) > limit:
                warnings.warn(
                    f"and {len(found) - limit} more warning(s) about the recording "
                    "(`nwnrc import check` lists them all)",
                    DataWarning,
                    stacklevel=2,
                )

    def table(self) -> str:
        """The findings as a plain-text table, one row per finding."""
        if not self.findings:
            return "no findings: the recording passed every check"
        rows = [("severity", "check", "sample", "channel", "steps", "message")]
        for f in sorted(self.findings, key=lambda f: f.severity != "error"):
            steps = "" if f.steps is None else f"{f.steps[0]}-{f.steps[1] - 1}"
            rows.append(
                (
                    f.severity,
                    f.check,
                    "" if f.sample is None else str(f.sample),
                    f.channel or "",
                    steps,
                    f.message,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = []
        for r in rows:
            cells = [r[i].ljust(widths[i]) for i in range(5)]
            lines.append("  ".join([*cells, r[5]]))
        n_err, n_warn = len(self.errors), len(self.warnings)
        lines.append(f"{n_err} error(s), {n_warn} warning(s)")
        return "\n".join(lines)


def validate_recording(
    rec: Recording,
    *,
    expected_dt_s: float | None = None,
    dt_rtol: float = 1e-6,
    time_s: ArrayLike | None = None,
    time_rtol: float = 0.01,
    clip_steps: int = 5,
    clip_error_fraction: float = 0.01,
    drift_fraction: float = 0.1,
    drift_min_samples: int = 10,
    input_tolerance: float = 0.2,
    input_bad_fraction: float = 0.005,
    range_tolerance: float = 0.05,
    range_error_factor: float = 2.0,
    max_findings: int = 20,
) -> ValidationReport:
    """Check the signals of a recording; return the findings.

    Parameters
    ----------
    rec : Recording
        The recording (its structure is checked first with ``check_recording``).
    expected_dt_s : float, optional
        The time step the experiment expects, s.
    dt_rtol : float
        Relative tolerance of the time-step comparison.
    time_s : array_like, shape (samples, steps), optional
        Time stamp of every step, s (from an instrument that writes them).
    time_rtol : float
        Tolerated deviation of a time-stamp difference from ``dt_s``, relative.
    clip_steps : int
        Consecutive steps at one value that make a clipped stretch.
    clip_error_fraction : float
        Fraction of a channel's steps in clipped stretches above which clipping is
        an error rather than a warning.
    drift_fraction : float
        Baseline change over the recording, relative to the channel's signal range,
        above which a baseline drifts.
    drift_min_samples : int
        Fewest samples for which the baseline trend is estimated.
    input_tolerance : float
        Deviation of the input from the encoded stimulus, relative to
        ``|v_max - v_min|``, above which a step does not match.
    input_bad_fraction : float
        Fraction of a sample's steps allowed not to match before the sample does
        not match its stimulus.
    range_tolerance : float
        Excursion of a pad beyond the range of the applied voltages (between 0 V
        and the input), relative to the span of that range, above which a pad is
        implausible (warning).
    range_error_factor : float
        Excursion, in spans of that range, above which a pad is an error (a unit or
        gain mistake rather than noise or an offset).
    max_findings : int
        Findings listed per check and channel; further ones are counted in one.

    Returns
    -------
    ValidationReport
        Call :meth:`~ValidationReport.raise_errors` to refuse the errors and warn
        of the rest.

    Notes
    -----
    The criteria, each with its threshold (a parameter above):

    - **Structure** (error): shapes, dtypes and attributes, as
      :func:`~nwnrc.recording.check_recording` checks them.
    - **Non-finite values** (error): every stretch of NaN or infinite values in the
      pads, the input and the optional series (source current, conductance,
      stimulus), named by sample, channel and steps.
    - **Wrong time step** (error): ``dt_s`` differs from ``expected_dt_s`` by more
      than ``dt_rtol`` (relative); the message names both.
    - **Gaps** (error): where ``time_s`` is given, a difference between consecutive
      time stamps within a sample that departs from ``dt_s`` by more than
      ``time_rtol`` (a jump forward is a gap of missing steps, a jump back is a
      repeated or reordered stretch); between samples, time going backwards is an
      error and a pause longer than a step is a warning (the device rested).
    - **Clipping** (warning; error when more than ``clip_error_fraction`` of a
      channel's steps are clipped): a pad channel or the source current that holds
      one value for at least ``clip_steps`` consecutive steps at the instrument's
      range (``instrument["range_min_v"]``, ``instrument["range_max_v"]``; for the
      current ``range_min_a``, ``range_max_a``) or at the channel's own extreme
      (its maximum or minimum over the recording). At the channel's extreme a
      stretch counts only where the recorded input changes during it (a constant
      input can hold a device, and always holds a simulated one, in a steady state
      that reads exactly flat) and where the value is not the sample's baseline
      (its median: a quiet channel resting on one code of the converter). A
      channel that holds one value throughout is flat (warning).
    - **Drifting baseline** (warning): the baseline of a sample is the median of the
      channel over its steps; a least-squares line through the baselines of all
      samples (at least ``drift_min_samples``) whose change from the first sample to
      the last exceeds ``drift_fraction`` of the channel's signal range (the 1st to
      99th percentile span of the channel less each sample's baseline). The message
      gives the drift in V per 1,000 samples.
    - **Implausible range** (warning; error far out): a passive network driven by
      one source with grounded drains holds every pad between the lowest and the
      highest of the applied input and 0 V, ``lo..hi`` over the recording. A pad
      value beyond that range by more than ``range_tolerance`` of its span
      ``hi - lo`` is a warning (noise, an amplifier offset); beyond it by more than
      ``range_error_factor`` spans an error (a unit or gain mistake: millivolts
      read as volts). One finding per pad, at its farthest value.
    - **Labels** (error): a negative label marks a sample with no label.
    - **Input** (error): where the recording holds the stimulus and a finite
      ``v_min``/``v_max``, a sample whose input departs from
      ``v_min + (v_max - v_min) * stimulus`` by more than
      ``input_tolerance * |v_max - v_min|`` on more than ``input_bad_fraction`` of
      its steps.

    Limitations: the range check assumes a passive network, one source and
    grounded drains; a device with gain, a floating reference or a second source
    needs ``range_error_factor`` (and ``range_tolerance``) raised to ``inf``.
    Clipping at a channel's extreme while the input is exactly constant,
    or on more than half of a sample, is not told apart from a steady state or a
    rest level (give the instrument's range to catch it there), and a warm-up
    transient at the start of a short recording can read as drift. Gaps are
    visible only where the instrument wrote time stamps.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.recording import Recording
    >>> rng = np.random.default_rng(0)
    >>> pads = rng.normal(size=(4, 2, 50)).astype(np.float32)
    >>> pads[2, 1, 10:15] = np.nan
    >>> rec = Recording(pads=pads, input=rng.normal(size=(4, 50)), labels=[0, 1, 2, 3],
    ...                 dt_s=1e-3, pad_numbers=(1, 12), n_train=4)
    >>> report = validate_recording(rec, expected_dt_s=2e-3)
    >>> for f in report.errors:
    ...     print(f.where(), "|", f.check)
    whole recording | dt
    sample 2, pad 12, steps 10-14 | nonfinite
    >>> report.raise_errors()
    Traceback (most recent call last):
    ...
    nwnrc.errors.DataError: the recording has 2 error(s): ...
    """
    report = ValidationReport()
    try:
        check_recording(rec)
    except DataError as exc:
        report.findings.append(Finding("error", "structure", str(exc)))
        return report

    if expected_dt_s is not None:
        report.extend(_dt_findings(rec.dt_s, expected_dt_s, dt_rtol))
    for name, data, pad in _series(rec):
        report.extend(_nonfinite_findings(data, name, pad, max_findings))
    report.extend(_label_findings(rec.labels, max_findings))
    if time_s is not None:
        report.extend(_time_findings(rec, time_s, time_rtol, max_findings))

    steps_total = rec.n_samples * rec.n_steps
    for keys in (RANGE_KEYS_V, RANGE_KEYS_A):
        given = [k for k in keys if rec.instrument.get(k) is not None]
        if len(given) == 1:
            lack = next(k for k in keys if k not in given)
            message = (
                f"instrument metadata gives {given[0]} without {lack}: the range "
                "needs both ends, so clipping at the instrument's range is not "
                f"checked; give both (--meta instrument.{lack}=...)"
            )
            report.extend([Finding("warning", "clipped", message)])
    pad_range = _instrument_range(rec.instrument, RANGE_KEYS_V)
    for c, pad in enumerate(rec.pad_numbers):
        report.extend(
            _clip_findings(
                rec.pads[:, c, :],
                rec.input,
                f"pad {pad}",
                pad,
                pad_range,
                clip_steps,
                clip_error_fraction,
                max_findings,
                steps_total,
            )
        )
    if rec.source_current is not None:
        report.extend(
            _clip_findings(
                rec.source_current,
                rec.input,
                "source current",
                None,
                _instrument_range(rec.instrument, RANGE_KEYS_A),
                clip_steps,
                clip_error_fraction,
                max_findings,
                steps_total,
            )
        )
    report.extend(_range_findings(rec, range_tolerance, range_error_factor))
    if rec.n_samples >= drift_min_samples:
        for c, pad in enumerate(rec.pad_numbers):
            report.extend(_drift_findings(rec.pads[:, c, :], pad, drift_fraction))
    if rec.stimulus is not None and math.isfinite(rec.v_min + rec.v_max):
        expected = rec.v_min + (rec.v_max - rec.v_min) * rec.stimulus
        report.extend(
            input_mismatches(
                rec.input,
                expected,
                span_v=abs(rec.v_max - rec.v_min),
                tolerance=input_tolerance,
                bad_fraction=input_bad_fraction,
                max_findings=max_findings,
            )
        )

    report.findings.sort(key=lambda f: f.severity != "error")
    logger.info(
        "validated a recording of %d samples: %d error(s), %d warning(s)",
        rec.n_samples,
        len(report.errors),
        len(report.warnings),
    )
    return report


def check_channel_lengths(
    lengths: Mapping[str, int], dts: Mapping[str, float] | None = None
) -> list[Finding]:
    """Findings for raw instrument channels of unequal length or time step.

    Parameters
    ----------
    lengths : mapping of str to int
        Values recorded on each channel (the first is the reference).
    dts : mapping of str to float, optional
        Time step of each channel, s.

    Examples
    --------
    >>> for f in check_channel_lengths({"ai0": 100, "ai1": 98}):
    ...     print(f.channel, "|", f.message[:46])
    ai1 | channel 'ai1' has 98 values, channel 'ai0' 100
    """
    findings: list[Finding] = []
    names = list(lengths)
    if not names:
        return findings
    ref = names[0]
    for name in names[1:]:
        if lengths[name] != lengths[ref]:
            findings.append(
                Finding(
                    "error",
                    "length",
                    f"channel {name!r} has {lengths[name]} values, channel {ref!r} "
                    f"{lengths[ref]}; every channel must cover the same stretch of "
                    "time (export all channels of one acquisition task)",
                    channel=name,
                )
            )
    if dts:
        ref_dt = dts[ref]
        for name in names[1:]:
            if name in dts and not math.isclose(dts[name], ref_dt, rel_tol=1e-9):
                findings.append(
                    Finding(
                        "error",
                        "dt",
                        f"channel {name!r} was sampled every {dts[name]:g} s, channel "
                        f"{ref!r} every {ref_dt:g} s; every channel must share one "
                        "time step (resample them to one rate before import)",
                        channel=name,
                    )
                )
    return findings


def input_mismatches(
    recorded: NDArray[Any],
    expected: NDArray[Any],
    *,
    span_v: float,
    tolerance: float = 0.2,
    bad_fraction: float = 0.005,
    max_findings: int = 20,
    first_sample: int = 0,
) -> list[Finding]:
    """Findings for samples whose recorded input is not their expected input.

    Parameters
    ----------
    recorded, expected : ndarray, shape (samples, steps)
        Recorded input voltages and the voltages of the encoded stimulus, V.
    span_v : float
        ``|v_max - v_min|`` of the encoding, V.
    tolerance : float
        A step does not match when it departs by more than ``tolerance * span_v``.
    bad_fraction : float
        A sample does not match when more than this fraction of its steps (at
        least one) do not.
    max_findings : int
        Samples listed; further ones are counted in one.
    first_sample : int
        Index of the first row, for the message.

    Examples
    --------
    >>> exp = np.zeros((3, 100)); exp[:, 40:60] = 1.0
    >>> rec = exp.copy(); rec[1] = np.roll(rec[1], 5)
    >>> [(f.sample, f.message[:38]) for f in input_mismatches(rec, exp, span_v=1.0)]
    [(1, 'input differs from the encoded stimulu')]
    """
    dev = np.abs(np.asarray(recorded, np.float64) - np.asarray(expected, np.float64))
    n_steps = dev.shape[1]
    bad = dev > tolerance * span_v
    counts = bad.sum(axis=1)
    limit = max(1.0, bad_fraction * n_steps)
    rows = np.flatnonzero(counts > limit)
    findings: list[Finding] = []
    for k, r in enumerate(rows):
        if k == max_findings:
            findings.append(
                Finding(
                    "error",
                    "input",
                    f"and {rows.size - max_findings} more samples whose input differs "
                    "from the stimulus",
                    channel="input",
                )
            )
            break
        first = int(np.argmax(bad[r]))
        findings.append(
            Finding(
                "error",
                "input",
                f"input differs from the encoded stimulus by more than "
                f"{tolerance * span_v:.3g} V on {int(counts[r])} of {n_steps} steps "
                f"(largest {float(dev[r].max()):.3g} V, first at step {first}); the "
                "sample boundaries or the stimulus file do not match the recording",
                sample=first_sample + int(r),
                channel="input",
            )
        )
    return findings


def _series(rec: Recording) -> list[tuple[str, NDArray[np.float32], int | None]]:
    out: list[tuple[str, NDArray[np.float32], int | None]] = [
        (f"pad {p}", rec.pads[:, c, :], p) for c, p in enumerate(rec.pad_numbers)
    ]
    out.append(("input", rec.input, None))
    for name in ("source_current", "conductance", "stimulus"):
        value = getattr(rec, name)
        if value is not None:
            out.append((name.replace("_", " "), value, None))
    return out


def _row_runs(
    mask: NDArray[np.bool_],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Runs of True in each row of ``mask``: (row, start, stop), row-major order."""
    n, t = mask.shape
    padded = np.zeros((n, t + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    d = np.diff(padded, axis=1)
    rows, starts = np.nonzero(d == 1)
    _, stops = np.nonzero(d == -1)
    return rows, starts, stops


def _nonfinite_findings(
    data: NDArray[np.float32], name: str, pad: int | None, max_findings: int
) -> list[Finding]:
    mask = ~np.isfinite(data)
    if not mask.any():
        return []
    rows, starts, stops = _row_runs(mask)
    findings: list[Finding] = []
    for k in range(rows.size):
        if k == max_findings:
            findings.append(
                Finding(
                    "error",
                    "nonfinite",
                    f"and {rows.size - max_findings} more stretches of NaN or "
                    f"infinite values in {name} ({int(mask.sum())} values in all)",
                    channel=name,
                    pad=pad,
                )
            )
            break
        a, b = int(starts[k]), int(stops[k])
        value = data[rows[k], a]
        findings.append(
            Finding(
                "error",
                "nonfinite",
                f"{b - a} step(s) of {value} (a dropout of the instrument?); drop "
                "the sample from the recording or repair the channel before import",
                sample=int(rows[k]),
                channel=name,
                pad=pad,
                steps=(a, b),
            )
        )
    return findings


def _label_findings(labels: NDArray[np.int64], max_findings: int) -> list[Finding]:
    missing = np.flatnonzero(labels < 0)
    if missing.size == 0:
        return []
    shown = ", ".join(str(int(i)) for i in missing[:max_findings])
    more = ""
    if missing.size > max_findings:
        more = f" and {missing.size - max_findings} more"
    return [
        Finding(
            "error",
            "labels",
            f"{missing.size} sample(s) have no label (a negative label): samples "
            f"{shown}{more}; give every sample its class, or drop those samples",
            sample=int(missing[0]),
            channel="labels",
        )
    ]


def _dt_findings(dt_s: float, expected_dt_s: float, rtol: float) -> list[Finding]:
    if math.isclose(dt_s, expected_dt_s, rel_tol=rtol):
        return []
    return [
        Finding(
            "error",
            "dt",
            f"the recording's time step is {dt_s:g} s, expected {expected_dt_s:g} s; "
            "record at the expected rate, or give the DAQ samples per input step so "
            "that they are averaged to one step",
        )
    ]


def _time_findings(
    rec: Recording, time_s: ArrayLike, rtol: float, max_findings: int
) -> list[Finding]:
    t = np.asarray(time_s, dtype=np.float64)
    if t.shape != (rec.n_samples, rec.n_steps):
        return [
            Finding(
                "error",
                "structure",
                f"time_s must have shape (samples, steps) = "
                f"{(rec.n_samples, rec.n_steps)}, got {t.shape}",
            )
        ]
    dt = rec.dt_s
    findings: list[Finding] = []
    within = np.abs(np.diff(t, axis=1) - dt) > rtol * dt
    rows, cols = np.nonzero(within)
    for k in range(rows.size):
        if k == max_findings:
            findings.append(
                Finding(
                    "error",
                    "gap",
                    f"and {rows.size - max_findings} more jumps of the time stamps",
                    channel="time",
                )
            )
            break
        r, c = int(rows[k]), int(cols[k])
        jump = float(t[r, c + 1] - t[r, c])
        kind = (
            f"{round(jump / dt) - 1} missing steps"
            if jump > dt
            else "time going backwards"
            if jump <= 0
            else "a step shorter than dt"
        )
        findings.append(
            Finding(
                "error",
                "gap",
                f"time jumps by {jump:.6g} s ({kind}) where every step should be "
                f"{dt:g} s; export a continuous acquisition, or cut the samples "
                "around the gap",
                sample=r,
                channel="time",
                steps=(c + 1, c + 2),
            )
        )
    between = t[1:, 0] - t[:-1, -1]
    same_stream = np.ones(between.shape, dtype=bool)
    if rec.stream is not None:
        same_stream = rec.stream[1:] == rec.stream[:-1]
    for i in np.flatnonzero(same_stream & (between <= 0))[:max_findings]:
        findings.append(
            Finding(
                "error",
                "gap",
                f"sample starts {float(between[i]):.6g} s after the previous one "
                "ends: time goes backwards; samples must be in time order",
                sample=int(i) + 1,
                channel="time",
            )
        )
    pauses = np.flatnonzero(same_stream & (between > (1 + rtol) * dt))
    for i in pauses[:max_findings]:
        findings.append(
            Finding(
                "warning",
                "gap",
                f"the device rested {float(between[i]) - dt:.6g} s before this sample "
                "(its stream is not continuous)",
                sample=int(i) + 1,
                channel="time",
            )
        )
    return findings


def _range_findings(
    rec: Recording, tolerance: float, error_factor: float
) -> list[Finding]:
    """Pads outside the range between 0 V and the applied input."""
    inp = rec.input[np.isfinite(rec.input)]
    if inp.size == 0:
        return []
    lo = min(0.0, float(inp.min()))
    hi = max(0.0, float(inp.max()))
    span = hi - lo
    if not span > 0:
        return []
    findings: list[Finding] = []
    for c, pad in enumerate(rec.pad_numbers):
        data = rec.pads[:, c, :].astype(np.float64)
        excess = np.maximum(data - hi, lo - data)
        excess = np.where(np.isfinite(excess), excess, -np.inf)
        worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
        out = float(excess[worst])
        if not out > tolerance * span:
            continue
        value = float(data[worst])
        sample, step = int(worst[0]), int(worst[1])
        where = (
            f"pad {pad} reads {value:.6g} V at sample {sample}, step {step}, "
            f"outside {lo:.6g}..{hi:.6g} V (between 0 V and the applied input, where "
            "a passive network with grounded drains holds every pad)"
        )
        if out > error_factor * span:
            finding = Finding(
                "error",
                "range",
                f"{where} by {out / span:.3g} times that span: a unit or gain "
                "mistake? Check the channel's unit (--unit, the header, unit_string) "
                "and the amplifier's gain",
                sample=sample,
                channel=f"pad {pad}",
                pad=pad,
                steps=(step, step + 1),
            )
        else:
            finding = Finding(
                "warning",
                "range",
                f"{where} by {100 * out / span:.3g}% of that span, more than the "
                f"{100 * tolerance:g}% tolerated (noise or an amplifier offset?)",
                sample=sample,
                channel=f"pad {pad}",
                pad=pad,
                steps=(step, step + 1),
            )
        findings.append(finding)
    return findings


def _instrument_range(
    meta: Mapping[str, Any], keys: tuple[str, str]
) -> tuple[float, float] | None:
    values = []
    for key in keys:
        raw = meta.get(key)
        if raw is None:
            return None
        try:
            if isinstance(raw, bool):
                raise ValueError(raw)
            value = float(raw)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise DataError(
                f"instrument metadata {key}={raw!r} is not a number; give the "
                f"instrument's range as numbers (--meta instrument.{key}=-10)"
            )
        values.append(value)
    lo, hi = values
    if not lo < hi:
        raise DataError(
            f"instrument metadata {keys[0]}={lo:g} is not below {keys[1]}={hi:g}: "
            "the range is swapped or empty; give the lower end as "
            f"{keys[0]} and the upper as {keys[1]}"
        )
    return lo, hi


def _clip_findings(
    data: NDArray[np.float32],
    inp: NDArray[np.float32],
    name: str,
    pad: int | None,
    rail: tuple[float, float] | None,
    clip_steps: int,
    error_fraction: float,
    max_findings: int,
    steps_total: int,
) -> list[Finding]:
    finite = np.isfinite(data)
    if not finite.any():
        return []
    hi = float(np.max(data, where=finite, initial=-np.inf))
    lo = float(np.min(data, where=finite, initial=np.inf))
    if hi == lo:
        return [
            Finding(
                "warning",
                "flat",
                f"holds {hi:g} throughout (a disconnected or dead channel?); it "
                "carries no information",
                channel=name,
                pad=pad,
            )
        ]

    runs: list[tuple[int, int, int, float, str]] = []
    if rail is not None:
        tol = 1e-6 * (rail[1] - rail[0])
        for value, mask in (
            (rail[1], data >= rail[1] - tol),
            (rail[0], data <= rail[0] + tol),
        ):
            rows, starts, stops = _row_runs(mask)
            long = stops - starts >= clip_steps
            for r, a, b in zip(rows[long], starts[long], stops[long], strict=True):
                runs.append((int(r), int(a), int(b), value, "the instrument's range"))
    baselines: dict[int, float] = {}
    for value in (hi, lo):
        rows, starts, stops = _row_runs(data == np.float32(value))
        long = stops - starts >= clip_steps
        for r, a, b in zip(rows[long], starts[long], stops[long], strict=True):
            segment = inp[r, a:b]
            if not segment.max() > segment.min():
                continue  # a steady state under a constant input
            if r not in baselines:
                baselines[r] = float(np.median(data[r]))
            if value != baselines[r]:  # else the channel's rest level
                runs.append((int(r), int(a), int(b), value, "its extreme"))
    if not runs:
        return []

    runs.sort()
    # a stretch at the instrument's range may also be the channel's extreme
    unique: list[tuple[int, int, int, float, str]] = []
    for run in runs:
        if unique and run[0] == unique[-1][0] and run[1] < unique[-1][2]:
            continue
        unique.append(run)
    clipped = sum(b - a for _, a, b, _, _ in unique)
    fraction = clipped / steps_total
    severity = "error" if fraction > error_fraction else "warning"
    share = (
        f"; {name} is clipped on {100 * fraction:.3g}% of its steps, more than the "
        f"{100 * error_fraction:g}% tolerated: re-record with a wider input range"
        if severity == "error"
        else ""
    )
    findings: list[Finding] = []
    for k, (r, a, b, value, what) in enumerate(unique):
        if k == max_findings:
            findings.append(
                Finding(
                    severity,
                    "clipped",
                    f"and {len(unique) - max_findings} more clipped stretches of "
                    f"{name} ({clipped} steps in all)",
                    channel=name,
                    pad=pad,
                )
            )
            break
        findings.append(
            Finding(
                severity,
                "clipped",
                f"held at {value:.6g} ({what}) for {b - a} steps while the input "
                f"changed: clipped{share}",
                sample=r,
                channel=name,
                pad=pad,
                steps=(a, b),
            )
        )
    return findings


def _drift_findings(
    data: NDArray[np.float32], pad: int, drift_fraction: float
) -> list[Finding]:
    n = data.shape[0]
    baseline = np.median(data, axis=1).astype(np.float64)
    broken = np.flatnonzero(~np.isfinite(baseline))
    if broken.size:
        # samples with NaN (reported by the non-finite check) get the median of the
        # rest of their steps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows = np.where(np.isfinite(data[broken]), data[broken], np.nan)
            baseline[broken] = np.nanmedian(rows, axis=1)
    ok = np.isfinite(baseline)
    if ok.sum() < 2:
        return []
    idx = np.arange(n, dtype=np.float64)[ok]
    b = baseline[ok]
    slope = float(np.polyfit(idx, b, 1)[0])
    # the signal range, without the baselines, from at most 1,000 samples
    pick = np.unique(np.linspace(0, n - 1, min(n, 1000)).astype(np.int64))
    pick = pick[ok[pick]]
    resid = data[pick].astype(np.float64) - baseline[pick, None]
    resid = resid[np.isfinite(resid)]
    if resid.size == 0:
        return []
    p1, p99 = np.percentile(resid, [1, 99])
    spread = float(p99 - p1)
    change = slope * (n - 1)
    if spread <= 0 or abs(change) <= drift_fraction * spread:
        return []
    return [
        Finding(
            "warning",
            "drift",
            f"baseline drifts by {1000 * slope:+.4g} V per 1,000 samples "
            f"({change:+.4g} V from sample 0 to {n - 1}, "
            f"{100 * abs(change) / spread:.3g}% of the channel's signal range "
            f"{spread:.4g} V, more than the {100 * drift_fraction:g}% tolerated); "
            "subtract the baseline or let the device settle before recording",
            channel=f"pad {pad}",
            pad=pad,
        )
    ]
