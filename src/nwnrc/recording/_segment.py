"""Sample boundaries: cut continuous instrument channels into samples.

An instrument records each channel as one long series of values. The experiment
streamed samples (digits) one after another, each ``steps`` input steps long; this
module finds where each sample starts in the series and cuts every channel into
(samples, steps), averaging the ``samples_per_step`` values of each input step where
the instrument sampled faster than the input changed.

The boundaries are given by the user (:func:`fixed_boundaries`: a fixed length after
an offset; :func:`given_boundaries`: a list of start indices) or found in the input
stream (:func:`find_boundaries`: cross-correlation with the encoded stimulus that was
played; :func:`onset_boundaries`: the first departure of the input from its rest
level). A final sample that the recording cuts short is an error unless the caller
asks to drop it, and then a :class:`DataWarning` names it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import DataError, DataWarning

logger = logging.getLogger(__name__)

__all__ = [
    "Boundaries",
    "decimate",
    "find_boundaries",
    "fixed_boundaries",
    "given_boundaries",
    "onset_boundaries",
]

#: normalised cross-correlation below which the stimulus is not found in the input
MIN_CORRELATION = 0.5


@dataclass(frozen=True)
class Boundaries:
    """Where each sample lies in the continuous series of an instrument.

    Parameters
    ----------
    starts : ndarray of int, shape (samples,)
        Index of each sample's first value in the series.
    steps : int
        Input steps per sample.
    samples_per_step : int
        Instrument values per input step (averaged to one step).
    n_dropped : int
        Samples after the last one that were dropped (truncated or absent) at the
        caller's request.
    method : str
        How the boundaries were set: ``"fixed"``, ``"given"``, ``"stimulus"`` or
        ``"onset"``.
    trailing : int
        Values after the end of the last sample that belong to no sample.

    Examples
    --------
    >>> b = fixed_boundaries(27, steps=4, offset=3, samples_per_step=2)
    >>> b.starts.tolist(), b.span
    ([3, 11, 19], 8)
    >>> b.cut(np.arange(27.0))[0].tolist()
    [3.5, 5.5, 7.5, 9.5]
    >>> b.locate(12)
    (1, 0)
    """

    starts: NDArray[np.int64]
    steps: int
    samples_per_step: int = 1
    n_dropped: int = 0
    method: str = "given"
    trailing: int = 0

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.starts.size)

    @property
    def span(self) -> int:
        """Instrument values per sample."""
        return self.steps * self.samples_per_step

    def locate(self, index: int) -> tuple[int | None, int | None]:
        """(sample, step) of an index of the series; (None, None) between samples."""
        k = int(np.searchsorted(self.starts, index, side="right")) - 1
        if k < 0 or index >= self.starts[k] + self.span:
            return None, None
        return k, int(index - self.starts[k]) // self.samples_per_step

    def cut(self, series: ArrayLike, dtype: type[np.floating[Any]] = np.float32) -> Any:
        """Cut a series into samples, averaging each step's values.

        Parameters
        ----------
        series : array_like, shape (values,) or (channels, values)
        dtype : numpy floating type
            Type of the result (float64 for time stamps).

        Returns
        -------
        ndarray of ``dtype``, shape (samples, steps) or (samples, channels, steps)
        """
        x = np.asarray(series)
        if x.ndim not in (1, 2):
            raise DataError(f"a series must be 1-D or 2-D, got shape {x.shape}")
        n, span, m = self.n_samples, self.span, self.samples_per_step
        if n and self.starts[-1] + span > x.shape[-1]:
            raise DataError(
                f"sample {n - 1} ends at value {int(self.starts[-1]) + span}, past "
                f"the end of the series ({x.shape[-1]} values)"
            )
        first = int(self.starts[0]) if n else 0
        if n and np.array_equal(self.starts, first + span * np.arange(n)):
            block = x[..., first : first + n * span]
            block = block.reshape((*x.shape[:-1], n, span))
        else:
            idx = self.starts[:, None] + np.arange(span)
            block = x[..., idx]
        # (..., samples, span) -> (samples, ..., span)
        block = np.moveaxis(block, -2, 0)
        if m == 1:
            return np.asarray(block, dtype=dtype)
        steps = block.reshape((*block.shape[:-1], self.steps, m))
        return steps.mean(axis=-1, dtype=np.float64).astype(dtype)


def decimate(series: ArrayLike, samples_per_step: int) -> NDArray[np.float64]:
    """Average each run of ``samples_per_step`` values to one step.

    Parameters
    ----------
    series : array_like, shape (..., values)
        ``values`` must be a multiple of ``samples_per_step``.
    samples_per_step : int

    Examples
    --------
    >>> decimate([1.0, 3.0, 5.0, 7.0], 2).tolist()
    [2.0, 6.0]
    """
    x = np.asarray(series, dtype=np.float64)
    m = _positive_int(samples_per_step, "samples_per_step")
    if x.shape[-1] % m:
        raise DataError(
            f"{x.shape[-1]} values are not a whole number of steps of {m} values; "
            "cut the series at step boundaries first"
        )
    return x.reshape((*x.shape[:-1], x.shape[-1] // m, m)).mean(axis=-1)


def fixed_boundaries(
    n_values: int,
    steps: int,
    *,
    offset: int = 0,
    samples_per_step: int = 1,
    drop_incomplete: bool = False,
    fix: str | None = None,
) -> Boundaries:
    """Samples of ``steps`` input steps one after another from ``offset`` on.

    Parameters
    ----------
    n_values : int
        Length of the series.
    steps : int
        Input steps per sample (784 for an MNIST digit).
    offset : int
        Index of the first sample's first value (values before it are not data).
    samples_per_step : int
        Instrument values per input step.
    drop_incomplete : bool
        Drop a final sample that the series cuts short (with a :class:`DataWarning`
        that names it) instead of raising.
    fix : str, optional
        What the error of a cut-short sample tells the user to do; by default to
        record the whole stream or to drop the incomplete samples.

    Raises
    ------
    DataError
        If the series holds no whole sample, or ends inside a sample and
        ``drop_incomplete`` is False (the message names the sample and its steps).

    Examples
    --------
    >>> fixed_boundaries(10, 3, offset=1).starts.tolist()
    [1, 4, 7]
    >>> fixed_boundaries(11, 3, offset=1)
    Traceback (most recent call last):
    ...
    nwnrc.errors.DataError: the recording ends inside sample 3, which has 1 of its 3 ...
    """
    steps = _positive_int(steps, "steps")
    m = _positive_int(samples_per_step, "samples_per_step")
    if not (isinstance(offset, int | np.integer) and 0 <= offset <= n_values):
        raise DataError(
            f"offset must be an index into the {n_values} values of the series, got "
            f"{offset!r}"
        )
    span = steps * m
    n_full, rest = divmod(n_values - int(offset), span)
    if n_full == 0:
        raise DataError(
            f"the series has {n_values - offset} values after the offset {offset}, "
            f"fewer than one sample of {steps} steps x {m} values; check --steps "
            "and --offset"
        )
    starts = int(offset) + span * np.arange(n_full, dtype=np.int64)
    dropped = _truncated(n_full, rest, steps, m, drop_incomplete, fix=fix)
    return Boundaries(starts, steps, m, n_dropped=dropped, method="fixed")


def given_boundaries(
    starts: ArrayLike,
    n_values: int,
    steps: int,
    *,
    samples_per_step: int = 1,
    drop_incomplete: bool = False,
) -> Boundaries:
    """Samples that start where the user says.

    Parameters
    ----------
    starts : array_like of int
        Index of each sample's first value, increasing, at least a sample apart.
    n_values : int
        Length of the series.
    steps, samples_per_step, drop_incomplete
        As for :func:`fixed_boundaries`.

    Examples
    --------
    >>> given_boundaries([0, 5, 12], 20, 4).starts.tolist()
    [0, 5, 12]
    >>> given_boundaries([0, 3], 20, 4)
    Traceback (most recent call last):
    ...
    nwnrc.errors.DataError: sample 1 starts at value 3, inside sample 0 ...
    """
    steps = _positive_int(steps, "steps")
    m = _positive_int(samples_per_step, "samples_per_step")
    s = np.asarray(starts)
    if s.ndim != 1 or s.size == 0 or s.dtype.kind not in "iu":
        raise DataError(
            f"sample starts must be a non-empty list of integer indices, got "
            f"{s.dtype} of shape {s.shape}"
        )
    s = s.astype(np.int64)
    span = steps * m
    if s[0] < 0:
        raise DataError(f"sample 0 starts at value {int(s[0])}, before the series")
    for i in np.flatnonzero(np.diff(s) < span):
        raise DataError(
            f"sample {i + 1} starts at value {int(s[i + 1])}, inside sample {i} "
            f"(values {int(s[i])}-{int(s[i]) + span - 1}); samples must not overlap"
        )
    ends = s + span
    beyond = np.flatnonzero(ends > n_values)
    n_full = int(beyond[0]) if beyond.size else s.size
    dropped = 0
    if beyond.size:
        rest = max(0, n_values - int(s[n_full]))
        dropped = _truncated(n_full, rest, steps, m, drop_incomplete, total=s.size)
    if n_full == 0:
        raise DataError(
            f"no sample fits in the series of {n_values} values (sample 0 starts at "
            f"{int(s[0])} and needs {span})"
        )
    trailing = n_values - int(ends[n_full - 1])
    return Boundaries(
        s[:n_full], steps, m, n_dropped=dropped, method="given", trailing=trailing
    )


def find_boundaries(
    recorded_input: ArrayLike,
    expected_input: ArrayLike,
    *,
    samples_per_step: int = 1,
    max_offset: int | None = None,
    drop_incomplete: bool = False,
    template_samples: int = 4,
) -> Boundaries:
    """Find the samples in the recorded input by cross-correlation with the stimulus.

    Parameters
    ----------
    recorded_input : array_like, shape (values,)
        The input channel as recorded, V.
    expected_input : array_like, shape (samples, steps)
        The voltages that were played: the encoded stimulus, V.
    samples_per_step : int
        Instrument values per input step.
    max_offset : int, optional
        Largest index at which the first sample may start. By default the search
        covers the recording's slack (its length less the stimulus's) and one
        sample more, then the whole recording if nothing matches there.
    drop_incomplete : bool
        Drop the samples of the stimulus that the recording cuts short or lacks (a
        :class:`DataWarning` names them) instead of raising.
    template_samples : int
        Samples of the stimulus (from the first) matched against the recording.

    Returns
    -------
    Boundaries
        Contiguous samples from the offset of best match.

    Raises
    ------
    DataError
        If the stimulus matches nowhere (normalised correlation below 0.5), or the
        recording ends before the stimulus does and ``drop_incomplete`` is False.

    Notes
    -----
    The start is the offset that maximises the normalised cross-correlation
    (Pearson's r over the window) between the recorded input and the first
    ``template_samples`` samples of the expected stream (the first alone where
    those do not match: a recording that stops early), each step repeated
    ``samples_per_step`` times. Every later sample is assumed to follow without a
    pause; whether each sample's recorded input matches its expected one is checked
    afterwards (:func:`~nwnrc.recording.validate_recording` with the stimulus).
    Limitations: a stimulus that repeats itself exactly within the search window
    matches at more than one offset; the first best one is taken.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> played = rng.integers(0, 2, (5, 20)).astype(float)
    >>> recorded = np.r_[np.zeros(7), played.ravel()]
    >>> find_boundaries(recorded, played).starts.tolist()
    [7, 27, 47, 67, 87]
    """
    r = np.asarray(recorded_input, dtype=np.float64).ravel()
    e = np.asarray(expected_input, dtype=np.float64)
    if e.ndim != 2 or e.size == 0:
        raise DataError(
            f"the expected input must have shape (samples, steps), got {e.shape}"
        )
    m = _positive_int(samples_per_step, "samples_per_step")
    n, steps = e.shape
    span = steps * m
    if not np.all(np.isfinite(r)):
        raise DataError(
            "the recorded input holds NaN or infinite values at index "
            f"{int(np.argmax(~np.isfinite(r)))}; the stimulus cannot be matched"
        )

    if span > r.size:
        raise DataError(
            f"the recording ({r.size} values) is shorter than one sample of the "
            f"stimulus ({span} values)"
        )
    k = max(1, min(template_samples, n, r.size // span))
    offset, best = _match(r, e, k, m, n, span, max_offset)
    if best < MIN_CORRELATION and k > 1:
        # a recording that stops within the first samples holds only the first one
        offset, best = _match(r, e, 1, m, n, span, max_offset)
    if best < MIN_CORRELATION:
        raise DataError(
            f"the stimulus does not match the recorded input anywhere (best "
            f"correlation {best:.3f} at value {offset}, below {MIN_CORRELATION}); "
            "check the stimulus file, --v-min/--v-max and the input channel"
        )
    logger.info(
        "stimulus found at value %d of the input (correlation %.4f)", offset, best
    )

    n_fit, rest = divmod(r.size - offset, span)
    n_full = min(n, n_fit)
    dropped = 0
    if n_full < n:
        dropped = _truncated(n_full, rest, steps, m, drop_incomplete, total=n)
    trailing = r.size - offset - n_full * span
    if n_full == n and trailing >= span:
        warnings.warn(
            f"the recording goes on for {trailing} values ({trailing // span} whole "
            f"samples) after the last sample of the stimulus (sample {n - 1}); they "
            "are not imported: give the whole stimulus if they are samples",
            DataWarning,
            stacklevel=2,
        )
    starts = offset + span * np.arange(n_full, dtype=np.int64)
    return Boundaries(
        starts, steps, m, n_dropped=dropped, method="stimulus", trailing=trailing
    )


def _match(
    r: NDArray[np.float64],
    e: NDArray[np.float64],
    k: int,
    m: int,
    n: int,
    span: int,
    max_offset: int | None,
) -> tuple[int, float]:
    """Offset and correlation of the best match of the first ``k`` samples."""
    tmpl = np.repeat(e[:k], m, axis=1).ravel()
    t0 = tmpl - tmpl.mean()
    t_norm = float(np.sqrt(np.sum(t0 * t0)))
    if t_norm == 0:
        raise DataError(
            "the first samples of the stimulus are constant; they cannot be found "
            "by correlation (give the boundaries or an offset instead)"
        )
    w = tmpl.size
    if max_offset is not None:
        limit = min(max(0, int(max_offset)), r.size - w)
        ncc = _correlation(r[: limit + w], t0, t_norm)
    else:
        # a whole stimulus starts within the recording's slack; look a sample
        # further, then everywhere if nothing matches there
        limit = min(max(r.size - n * span, 0) + span, r.size - w)
        ncc = _correlation(r[: limit + w], t0, t_norm)
        if ncc.max() < MIN_CORRELATION and limit < r.size - w:
            ncc = _correlation(r, t0, t_norm)
    offset = int(np.argmax(ncc))
    return offset, float(ncc[offset])


def _correlation(
    x: NDArray[np.float64], t0: NDArray[np.float64], t_norm: float
) -> NDArray[np.float64]:
    """Pearson's r of ``t0`` (zero-mean) with every window of ``x``."""
    from scipy.signal import fftconvolve

    w = t0.size
    x = x - x.mean()
    dot = fftconvolve(x, t0[::-1], mode="valid")
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    s1 = c1[w:] - c1[:-w]
    s2 = c2[w:] - c2[:-w]
    scale = np.sqrt(np.maximum(s2 - s1 * s1 / w, 0.0)) * t_norm
    # windows of a constant recording correlate with nothing
    live = scale > 1e-9 * float(np.max(scale))
    return np.divide(dot, scale, out=np.zeros_like(dot), where=live)


def onset_boundaries(
    recorded_input: ArrayLike,
    steps: int,
    *,
    samples_per_step: int = 1,
    threshold_v: float | None = None,
    lead_steps: int = 0,
    drop_incomplete: bool = False,
) -> Boundaries:
    """Samples one after another from the first departure of the input from rest.

    Parameters
    ----------
    recorded_input : array_like, shape (values,)
        The input channel as recorded, V.
    steps : int
        Input steps per sample.
    samples_per_step : int
        Instrument values per input step.
    threshold_v : float, optional
        Departure from the rest level (the median of the first 16 values) that marks
        the onset, V; a tenth of the input's range by default.
    lead_steps : int
        Steps of the first sample before its onset (where the first sample begins
        at rest).
    drop_incomplete : bool
        As for :func:`fixed_boundaries`.

    Notes
    -----
    Limitations: suited to streams whose first sample leaves the rest level at a
    known step (a marker step or a pulse); for data streams such as MNIST, whose
    first active step depends on the digit, give the stimulus to
    :func:`find_boundaries` instead.

    Examples
    --------
    >>> x = np.r_[np.zeros(5), np.tile([1.0, 0, 0, 0], 3)]
    >>> onset_boundaries(x, 4).starts.tolist()
    [5, 9, 13]
    """
    r = np.asarray(recorded_input, dtype=np.float64).ravel()
    m = _positive_int(samples_per_step, "samples_per_step")
    steps = _positive_int(steps, "steps")
    finite = r[np.isfinite(r)]
    if finite.size == 0:
        raise DataError("the recorded input holds no finite value")
    rest = float(np.median(r[: min(16, r.size)]))
    if threshold_v is None:
        threshold_v = 0.1 * float(finite.max() - finite.min())
    above = np.abs(r - rest) > threshold_v
    if threshold_v <= 0 or not above.any():
        raise DataError(
            f"the input never departs from its rest level {rest:.4g} V by more than "
            f"{threshold_v:.4g} V; no onset to find (give --steps and an offset)"
        )
    onset = int(np.argmax(above))
    offset = onset - int(lead_steps) * m
    if offset < 0:
        raise DataError(
            f"the input's onset is at value {onset}, so a first sample with "
            f"{lead_steps} steps before it would start before the recording"
        )
    logger.info("input onset at value %d; samples start at %d", onset, offset)
    b = fixed_boundaries(
        r.size,
        steps,
        offset=offset,
        samples_per_step=m,
        drop_incomplete=drop_incomplete,
        fix=(
            f"the boundaries found from the input's onset (value {onset}) may be "
            "wrong: give the stimulus (--stimulus) or each sample's first value "
            "(--boundaries)"
        ),
    )
    return Boundaries(b.starts, steps, m, n_dropped=b.n_dropped, method="onset")


def _truncated(
    sample: int,
    rest: int,
    steps: int,
    m: int,
    drop: bool,
    total: int | None = None,
    fix: str | None = None,
) -> int:
    """Deal with the samples from ``sample`` on that the series cuts short.

    ``rest`` values of sample ``sample`` are present; ``total`` samples were
    expected (None: only the truncated one). Returns how many were dropped.
    """
    absent = 0 if total is None else total - sample - (1 if rest else 0)
    if rest == 0 and absent <= 0:
        return 0
    parts = []
    if rest:
        parts.append(
            f"the recording ends inside sample {sample}, which has {rest // m} of its "
            f"{steps} steps" + (f" ({rest} values)" if m > 1 else "")
        )
        first_absent = sample + 1
    else:
        first_absent = sample
    if absent > 0:
        last = first_absent + absent - 1
        which = f"sample {last}" if absent == 1 else f"samples {first_absent}-{last}"
        parts.append(f"{which} of the stimulus are not in the recording")
    what = "; ".join(parts)
    if not drop:
        raise DataError(
            f"{what}; "
            + (
                fix
                or "record the whole stream, or drop the incomplete samples "
                "(drop_incomplete=True, --drop-incomplete)"
            )
        )
    n = (1 if rest else 0) + max(absent, 0)
    warnings.warn(f"{what}: dropped", DataWarning, stacklevel=3)
    logger.info("dropped %d incomplete sample(s) from sample %d on", n, sample)
    return n


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
