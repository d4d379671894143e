"""Mutual information between a discrete class and continuous readout values.

Two estimators of I(C; X) for a class label C (a digit, 10 values) and a real value X
(a readout voltage at one time step, a conductance, an input voltage), in bits:

- a binned plug-in estimator with the Miller-Madow bias correction, streaming and
  vectorised over many cells at once (a cell is one channel at one time step): counts
  of (bin, class) pairs are accumulated chunk by chunk in a compiled loop, so that a
  stream of tens of thousands of samples of 5 x 784 cells is never held in memory;
  :class:`StreamingMI` does the counting and :func:`binned_mutual_information` is the
  one-shot form;
- the nearest-neighbour estimator of Ross (2014) for a discrete and a continuous
  variable, :func:`ksg_mutual_information`, a cross-check without bins.

Both are exposed for the run-level analysis of :mod:`nwnrc.analysis._mi_run`.

The binned estimator
--------------------
Bins are fixed before counting, per cell, from the data (for a run: from the
training stream). Two rules (:func:`bin_edges`):

- ``"quantile"`` (the default): equal-frequency bins, edges at the k / n_bins
  quantiles of the cell's values. Every bin holds about as many samples, wherever the
  values crowd: a readout whose class information sits in deviations of a thousandth
  of its range (the memory of a network driven at a low background voltage) keeps
  it, and an outlier cannot squeeze the others into one bin. Tied values (a pixel
  that is black in most digits) make coinciding edges, and so fewer occupied bins.
  The price: an edge may cut through a tight cluster of values, so that a bin holds
  the tails of two neighbouring clusters; for values in well separated,
  class-specific clusters equal-width bins resolve more.
- ``"width"``: equal-width bins over the [q, 1 - q] quantile interval of the cell
  (q = 0.005, :func:`quantile_range`; the extremes where that interval is a point).

A value outside the edges falls in the first or the last bin; a value equal to an
edge goes to the bin above it. Any fixed binning gives a lower bound of the
information in the value itself (data processing), so the rule trades resolution
against bias, not validity. With counts n(x, c), N = sum n(x, c), the plug-in
estimate is

    I = sum_{x,c} n(x,c)/N log2( n(x,c) N / (n(x) n(c)) ),

the same as H(X) + H(C) - H(X, C) of the empirical distributions. Each plug-in
entropy is biased low by about (m - 1) / (2 N) nats, m the number of occupied bins
(Miller 1955); the Miller-Madow estimate adds that back to each of the three
entropies, which gives

    I_MM = I + [ (m_X - 1) + (m_C - 1) - (m_XC - 1) ] / (2 N ln 2)  bits.

The corrected value is then clipped to [0, H(C)], H(C) the plug-in class entropy of
the same samples: the true value lies in that interval, and a negative estimate of an
independent pair (the correction overshoots half of the time) carries no information
beyond "about zero". Consequences: a constant value gives exactly 0 (every term
vanishes); a value that determines the class gives exactly H(C); for an independent
pair the clipped estimate has a small positive bias, of order the standard deviation
sqrt(2 (B - 1)(K - 1)) / (2 N ln 2) of the corrected estimate (B bins and K classes
all occupied; from the chi-square law of 2 N ln 2 times the plug-in estimate).

The label-shuffle baseline (:func:`label_shuffle_baseline`, and the shuffled
accumulator of a run) runs the same estimator on labels permuted at random: what it
returns is the floor that bias and sampling noise alone give, to be compared with
the estimate on the real labels.

Specific information
--------------------
:meth:`StreamingMI.specific_information` returns, per class, the specific surprise of
DeWeese and Meister (1999),

    i(c) = sum_x p(x|c) log2( p(x|c) / p(x) ),

the Kullback-Leibler divergence of the class-conditional distribution from the
overall one: never negative, at most log2(1/p(c)), and its class-weighted mean
sum_c p(c) i(c) is the mutual information. The same Miller-Madow correction is
applied to the entropies it contains, -(m_c - 1) / (2 n(c) ln 2) for H(X|c) and
+(m_X - 1) / (2 N ln 2) for H(X), so that the corrected values still average to
I_MM; each is clipped to [0, log2(N / n(c))].

References
----------
.. [1] G. A. Miller, "Note on the bias of information estimates", in Information
   Theory in Psychology, H. Quastler (ed.), Free Press, 1955, pp. 95-100.
.. [2] B. C. Ross, "Mutual information between discrete and continuous data sets",
   PLoS ONE 9(2), e87357, 2014.
.. [3] M. R. DeWeese and M. Meister, "How to measure the information gained from one
   symbol", Network 10, 325-340, 1999 (the specific surprise).
.. [4] A. Kraskov, H. Stoegbauer and P. Grassberger, "Estimating mutual information",
   Phys. Rev. E 69, 066138, 2004.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import ConfigError, NotFittedError, NumericalWarning, StreamError

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_BINNING",
    "DEFAULT_BINS",
    "DEFAULT_RANGE_QUANTILE",
    "StreamingMI",
    "bin_edges",
    "binned_mutual_information",
    "class_entropy_bits",
    "ksg_mutual_information",
    "label_shuffle_baseline",
    "mutual_information_from_counts",
    "quantile_range",
    "specific_information_from_counts",
]

#: Bins per cell of the binned estimator. Sixteen bins resolve the shape of a
#: readout's distribution while the bias stays small: (16 - 1)(10 - 1) = 135 degrees
#: of freedom, a plug-in bias of 135 / (2 N ln 2) = 0.0097 bits at N = 10,000 before
#: correction.
DEFAULT_BINS = 16

#: Bin rule: equal-frequency bins (``"quantile"``) or equal-width (``"width"``).
DEFAULT_BINNING = "quantile"

#: Equal-width bins span the [q, 1 - q] quantiles of a cell with q = 0.005, not its
#: extremes: one outlying sample (the first digits of a stream, while a pristine
#: network forms its filaments) would otherwise squeeze every other value into one
#: bin.
DEFAULT_RANGE_QUANTILE = 0.005

_LN2 = math.log(2.0)
_MAX_COUNT = np.iinfo(np.int32).max


# ---------------------------------------------------------------------------------
# counting


@numba.njit(cache=True, nogil=True)
def _bin(
    values: NDArray[np.float64], edges: NDArray[np.float64], out: NDArray[np.uint8]
) -> None:  # pragma: no cover - compiled
    # the bin of a value is the number of its cell's edges at or below it; a
    # branch-free count over the (few) edges beats a binary search here
    n, cells = values.shape
    n_edges = edges.shape[1]
    for i in range(n):
        for j in range(cells):
            x = values[i, j]
            b = 0
            for e in range(n_edges):
                b += x >= edges[j, e]
            out[i, j] = b


@numba.njit(cache=True, nogil=True)
def _count(
    bins: NDArray[np.uint8],
    labels: NDArray[np.int64],
    groups: NDArray[np.int64],
    order: NDArray[np.int64],
    counts: NDArray[np.int32],
) -> None:  # pragma: no cover - compiled
    # counts has shape (groups, cells, bins, classes). Samples are visited group by
    # group (``order`` sorts them by group), so that one group's tables stay in
    # cache while they are written.
    n, cells = bins.shape
    for k in range(n):
        i = order[k]
        g = groups[i]
        c = labels[i]
        for j in range(cells):
            counts[g, j, bins[i, j], c] += 1


def _as_values(values: ArrayLike, name: str = "values") -> NDArray[np.float64]:
    arr = np.asarray(values)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise StreamError(
            f"{name} must be a real numeric array, got dtype {arr.dtype}; convert "
            "the readouts to float"
        )
    if arr.ndim == 0:
        raise StreamError(f"{name} needs a leading sample axis, got a scalar")
    out = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        bad = int(np.count_nonzero(~np.isfinite(out)))
        raise StreamError(
            f"{name} holds {bad} NaN or infinite value(s); the estimator needs "
            "finite values: drop or repair those samples"
        )
    return out


def _as_labels(
    labels: ArrayLike, n: int, n_classes: int | None
) -> tuple[NDArray[np.int64], int]:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise StreamError(
            f"labels must have shape ({n},), one per sample, got {arr.shape}"
        )
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise StreamError(
                "labels must be whole numbers (class indices), got non-integral "
                "floats; pass the class index of each sample"
            )
    elif not np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        raise StreamError(f"labels must be integer class indices, got {arr.dtype}")
    out = arr.astype(np.int64)
    if n and out.min() < 0:
        raise StreamError(f"labels must be >= 0, got {int(out.min())}")
    top = int(out.max()) + 1 if n else 0
    if n_classes is None:
        n_classes = max(top, 1)
    elif top > n_classes:
        raise StreamError(
            f"labels must be below n_classes={n_classes}, got {top - 1}; raise "
            "n_classes or check the labels"
        )
    return out, n_classes


def _check_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)):
        raise ConfigError(f"n_bins must be an integer, got {n_bins!r}")
    if not 2 <= n_bins <= 255:
        raise ConfigError(f"n_bins must be in 2..255, got {n_bins}; 16 is the default")
    return int(n_bins)


def _check_binning(binning: str) -> str:
    if binning not in ("quantile", "width"):
        raise ConfigError(f"binning must be 'quantile' or 'width', got {binning!r}")
    return binning


def _check_correction(correction: str) -> str:
    if correction not in ("miller-madow", "none"):
        raise ConfigError(
            f"correction must be 'miller-madow' or 'none', got {correction!r}"
        )
    return correction


# ---------------------------------------------------------------------------------
# estimates from counts


def class_entropy_bits(labels: ArrayLike) -> float:
    """Plug-in entropy of a sample of class labels, in bits.

    Parameters
    ----------
    labels : array_like of int, shape (n,)

    Returns
    -------
    float
        -sum_c p(c) log2 p(c) over the classes present; 0 for no samples.

    Examples
    --------
    >>> class_entropy_bits([0, 1, 2, 3])
    2.0
    """
    arr = np.asarray(labels)
    lab, _ = _as_labels(arr, arr.shape[0] if arr.ndim == 1 else -1, None)
    if lab.size == 0:
        return 0.0
    n_c = np.bincount(lab).astype(np.float64)
    n_c = n_c[n_c > 0]
    p = n_c / lab.size
    return float(max(0.0, -np.sum(p * np.log2(p))))


def mutual_information_from_counts(
    counts: ArrayLike, correction: str = "miller-madow"
) -> NDArray[np.float64]:
    """Mutual information in bits from (bin, class) counts.

    Parameters
    ----------
    counts : array_like of int, shape (..., bins, classes)
        Joint counts of value bin and class, one table per leading index.
    correction : {"miller-madow", "none"}
        Bias correction (see the module notes); ``"none"`` gives the plug-in value.

    Returns
    -------
    ndarray of float64, shape (...)
        The estimate, clipped to [0, H(C)] with H(C) the plug-in class entropy of each
        table; 0 for an empty table.

    Examples
    --------
    A value that tells the two classes apart, one sample each way:

    >>> mutual_information_from_counts([[5, 0], [0, 5]], correction="none")
    array(1.)
    """
    _check_correction(correction)
    n_xc = np.asarray(counts, dtype=np.float64)
    if n_xc.ndim < 2:
        raise StreamError(
            f"counts must have shape (..., bins, classes), got {n_xc.shape}"
        )
    if np.any(n_xc < 0):
        raise StreamError("counts must be non-negative")
    n_x = n_xc.sum(axis=-1, keepdims=True)
    n_c = n_xc.sum(axis=-2, keepdims=True)
    n = n_x.sum(axis=-2, keepdims=True)
    safe_n = np.where(n > 0, n, 1.0)

    # sum over occupied cells of n(x,c)/N log2(n(x,c) N / (n(x) n(c))); the ratio is
    # formed from integer-valued products so that it is exactly 1 for a constant value
    occupied = n_xc > 0
    ratio = np.where(occupied, n_xc * safe_n, 1.0) / np.where(occupied, n_x * n_c, 1.0)
    mi = np.sum(n_xc * np.log2(ratio), axis=(-2, -1)) / safe_n[..., 0, 0]

    p_c = n_c / safe_n
    h_c = -np.sum(
        np.where(p_c > 0, p_c * np.log2(np.where(p_c > 0, p_c, 1.0)), 0.0),
        axis=(-2, -1),
    )
    if correction == "miller-madow":
        m_x = np.count_nonzero(n_x[..., 0] > 0, axis=-1)
        m_c = np.count_nonzero(n_c[..., 0, :] > 0, axis=-1)
        m_xc = np.count_nonzero(occupied, axis=(-2, -1))
        mi = mi + ((m_x - 1) + (m_c - 1) - (m_xc - 1)) / (
            2.0 * safe_n[..., 0, 0] * _LN2
        )
    mi = np.where(n[..., 0, 0] > 0, np.clip(mi, 0.0, np.maximum(h_c, 0.0)), 0.0)
    return np.asarray(mi, dtype=np.float64)


def specific_information_from_counts(
    counts: ArrayLike, correction: str = "miller-madow"
) -> NDArray[np.float64]:
    """Specific surprise of every class, in bits, from (bin, class) counts.

    Parameters
    ----------
    counts : array_like of int, shape (..., bins, classes)
    correction : {"miller-madow", "none"}

    Returns
    -------
    ndarray of float64, shape (..., classes)
        i(c) = sum_x p(x|c) log2(p(x|c) / p(x)), corrected and clipped to
        [0, log2(N / n(c))] as the module notes say; NaN for a class without samples.

    Examples
    --------
    Class 0 always in bin 0, class 1 spread over both bins:

    >>> specific_information_from_counts([[2, 1], [0, 1]], correction="none")
    array([0.4150375 , 0.20751875])
    """
    _check_correction(correction)
    n_xc = np.asarray(counts, dtype=np.float64)
    if n_xc.ndim < 2:
        raise StreamError(
            f"counts must have shape (..., bins, classes), got {n_xc.shape}"
        )
    n_x = n_xc.sum(axis=-1, keepdims=True)
    n_c = n_xc.sum(axis=-2, keepdims=True)
    n = n_x.sum(axis=-2, keepdims=True)
    occupied = n_xc > 0
    safe_c = np.where(n_c > 0, n_c, 1.0)
    ratio = np.where(occupied, n_xc * n, 1.0) / np.where(occupied, n_c * n_x, 1.0)
    info = np.sum(n_xc * np.log2(ratio), axis=-2) / safe_c[..., 0, :]
    if correction == "miller-madow":
        m_c = np.count_nonzero(occupied, axis=-2)
        m_x = np.count_nonzero(n_x[..., 0] > 0, axis=-1)[..., None]
        safe_n = np.where(n > 0, n, 1.0)[..., 0, :]
        info = (
            info
            - (m_c - 1) / (2.0 * safe_c[..., 0, :] * _LN2)
            + (m_x - 1) / (2.0 * safe_n * _LN2)
        )
    top = np.log2(np.where(n_c > 0, n / safe_c, 1.0))[..., 0, :]
    info = np.clip(info, 0.0, top)
    return np.where(n_c[..., 0, :] > 0, info, np.nan)


def quantile_range(
    values: ArrayLike,
    quantile: float = DEFAULT_RANGE_QUANTILE,
    *,
    fallback: tuple[ArrayLike, ArrayLike] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bin range of each cell: its [q, 1 - q] quantiles, or its extremes.

    Parameters
    ----------
    values : array_like, shape (n, *cells)
        Samples of every cell (for a long stream, a subsample of it).
    quantile : float, default 0.005
        q, in [0, 0.5); 0 gives the minimum and maximum.
    fallback : (lo, hi), optional
        Range of a cell whose quantile interval is a single point (default: the
        extremes of ``values``): the cell's extremes over the whole data, when
        ``values`` is a subsample.

    Returns
    -------
    lo, hi : ndarray of float64, shape (*cells)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.r_[np.zeros(999), 1.0]      # one sample in a thousand is 1
    >>> quantile_range(x)                   # the quantiles coincide: extremes
    (array(0.), array(1.))
    >>> quantile_range(np.arange(1001.0), 0.01)
    (array(10.), array(990.))
    """
    if not (isinstance(quantile, (int, float)) and 0.0 <= quantile < 0.5):
        raise ConfigError(f"quantile must lie in [0, 0.5), got {quantile!r}")
    arr = _as_values(values)
    if arr.shape[0] == 0:
        raise StreamError("quantile_range needs at least one sample")
    lo_all, hi_all = arr.min(axis=0), arr.max(axis=0)
    if fallback is not None:
        lo_all = np.broadcast_to(np.asarray(fallback[0], np.float64), lo_all.shape)
        hi_all = np.broadcast_to(np.asarray(fallback[1], np.float64), hi_all.shape)
    if quantile == 0.0:
        return np.array(lo_all, dtype=np.float64), np.array(hi_all, dtype=np.float64)
    lo, hi = np.quantile(arr, [quantile, 1.0 - quantile], axis=0)
    point = ~(hi > lo)
    lo = np.where(point, lo_all, lo)
    hi = np.where(point, hi_all, hi)
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


def bin_edges(
    values: ArrayLike,
    n_bins: int = DEFAULT_BINS,
    binning: str = DEFAULT_BINNING,
    *,
    range_quantile: float = DEFAULT_RANGE_QUANTILE,
    fallback: tuple[ArrayLike, ArrayLike] | None = None,
) -> NDArray[np.float64]:
    """Inner bin edges of every cell, by the rule of the module notes.

    Parameters
    ----------
    values : array_like, shape (n, *cells)
        Samples of every cell (for a long stream, a subsample of it).
    n_bins : int, default 16
    binning : {"quantile", "width"}, default "quantile"
        Equal-frequency edges (the k / n_bins quantiles), or equal-width edges over
        :func:`quantile_range`.
    range_quantile : float, default 0.005
        q of the equal-width range.
    fallback : (lo, hi), optional
        Passed to :func:`quantile_range` (equal-width bins only).

    Returns
    -------
    ndarray of float64, shape (*cells, n_bins - 1)
        Non-decreasing along the last axis. A value x falls in bin
        ``searchsorted(edges, x, side="right")``.

    Examples
    --------
    >>> import numpy as np
    >>> bin_edges(np.arange(9.0), n_bins=4)
    array([2., 4., 6.])
    >>> bin_edges(np.r_[0.0, 1.0, 1.0, 1.0, 2.0, 4.0], 4, "width", range_quantile=0)
    array([1., 2., 3.])
    """
    n_bins = _check_bins(n_bins)
    _check_binning(binning)
    arr = _as_values(values)
    if arr.shape[0] == 0:
        raise StreamError("bin_edges needs at least one sample")
    k = np.arange(1, n_bins) / n_bins
    if binning == "quantile":
        edges = np.quantile(arr, k, axis=0)  # (n_bins - 1, *cells)
    else:
        lo, hi = quantile_range(arr, range_quantile, fallback=fallback)
        edges = lo + (hi - lo) * k.reshape((-1,) + (1,) * lo.ndim)
    return np.ascontiguousarray(np.moveaxis(edges, 0, -1), dtype=np.float64)


# ---------------------------------------------------------------------------------
# the streaming estimator


class StreamingMI:
    """Binned estimate of I(class; value) for many cells, fed chunk by chunk.

    A cell is one value per sample (one channel at one time step). The estimator
    keeps, for each cell, a table of counts of (value bin, class); the tables can be
    split into groups (segments of a stream), so that the estimate after the first
    n samples of a stream follows from the cumulative sum of the groups before n.

    Parameters
    ----------
    n_bins : int, default 16
        Bins per cell. Their edges are fixed before counting: by :meth:`set_edges`
        (for instance from :func:`bin_edges` of a sample of the data), by
        :meth:`set_range` (equal widths over a range), or else as equal widths from
        the minimum to the maximum of the values passed to :meth:`update_range`.
    n_classes : int, default 10
        Class labels are 0 .. n_classes - 1.
    n_groups : int, default 1
        Count tables per cell; :meth:`partial_fit` says which group each sample
        belongs to.
    correction : {"miller-madow", "none"}, default "miller-madow"
        Bias correction of the estimates.

    Attributes
    ----------
    edges_ : ndarray of float64, shape (cells, n_bins - 1)
        Inner bin edges of each cell; a value goes to the bin numbered by the count
        of edges at or below it.
    lo_, hi_ : ndarray of float64, shape (cells,)
        Extremes seen by :meth:`update_range` (absent otherwise).
    counts_ : ndarray of int32, shape (n_groups, cells, n_bins, n_classes)
        The count tables.
    n_samples_ : int
        Samples counted.
    cell_shape_ : tuple of int
        Shape of one sample's values (the cells).

    Notes
    -----
    A constant readout has all its samples in one bin and an estimate of exactly
    0. Memory is 4 x n_groups x cells x n_bins x n_classes bytes: 14 MB for 5,488
    cells, one group, 16 bins, 10 classes. Counts are int32, so at most 2**31 - 1
    samples can be counted.

    Unlike :func:`binned_mutual_information`, the streaming estimator does not warn
    about classes with a single sample: along a stream that is the normal state of
    the first checkpoints, and the label-shuffle floor is the measure of how far an
    estimate is from bias alone.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 2000)
    >>> values = np.stack([labels + rng.normal(0, 0.1, 4000),  # tells the class
    ...                    rng.normal(0, 1, 4000)], axis=1)     # does not
    >>> est = StreamingMI(n_bins=8, n_classes=2).set_edges(bin_edges(values, 8))
    >>> est = est.partial_fit(values, labels)
    >>> np.round(est.mutual_information(), 2)
    array([1., 0.])
    """

    def __init__(
        self,
        n_bins: int = DEFAULT_BINS,
        n_classes: int = 10,
        n_groups: int = 1,
        correction: str = "miller-madow",
    ) -> None:
        self.n_bins = n_bins
        self.n_classes = n_classes
        self.n_groups = n_groups
        self.correction = correction

    # -- bins

    def update_range(self, values: ArrayLike) -> StreamingMI:
        """Widen each cell's range to cover ``values`` (a first pass over the data).

        Unless edges are set before :meth:`partial_fit`, the bins are equal widths
        over this range.

        Parameters
        ----------
        values : array_like, shape (n, *cells)

        Returns
        -------
        StreamingMI
            self
        """
        arr = self._values(values)
        if arr.shape[0] == 0:
            return self
        lo = arr.min(axis=0)
        hi = arr.max(axis=0)
        if getattr(self, "lo_", None) is None:
            self.lo_, self.hi_ = lo, hi
        else:
            np.minimum(self.lo_, lo, out=self.lo_)
            np.maximum(self.hi_, hi, out=self.hi_)
        return self

    def set_range(self, lo: ArrayLike, hi: ArrayLike) -> StreamingMI:
        """Fix equal-width bins over [lo, hi] in each cell.

        Parameters
        ----------
        lo, hi : array_like of float, shape (*cells)
            Lowest and highest value of each cell; their shape is the cells'.

        Returns
        -------
        StreamingMI
            self
        """
        n_bins = _check_bins(self.n_bins)
        lo_arr = np.asarray(lo, dtype=np.float64)
        hi_arr = np.asarray(hi, dtype=np.float64)
        if lo_arr.shape != hi_arr.shape or np.any(hi_arr < lo_arr):
            raise ConfigError(
                "set_range needs lo and hi of one shape with hi >= lo, got shapes "
                f"{lo_arr.shape} and {hi_arr.shape}"
            )
        k = np.arange(1, n_bins) / n_bins
        return self.set_edges(lo_arr[..., None] + (hi_arr - lo_arr)[..., None] * k)

    def set_edges(self, edges: ArrayLike) -> StreamingMI:
        """Fix the inner bin edges of each cell.

        Parameters
        ----------
        edges : array_like of float, shape (*cells, n_bins - 1)
            Non-decreasing along the last axis (as :func:`bin_edges` gives them).

        Returns
        -------
        StreamingMI
            self
        """
        n_bins = _check_bins(self.n_bins)
        arr = np.asarray(edges, dtype=np.float64)
        if arr.ndim < 1 or arr.shape[-1] != n_bins - 1:
            raise ConfigError(
                f"edges must have shape (*cells, n_bins - 1) = (..., {n_bins - 1}), "
                f"got {arr.shape}"
            )
        if not np.all(np.isfinite(arr)) or np.any(np.diff(arr, axis=-1) < 0):
            raise ConfigError("edges must be finite and non-decreasing in each cell")
        self.cell_shape_ = tuple(arr.shape[:-1]) or (1,)
        self.edges_ = np.ascontiguousarray(arr.reshape(-1, n_bins - 1))
        return self

    # -- counting

    def bin_indices(self, values: ArrayLike) -> NDArray[np.uint8]:
        """Bin of every value, by the fixed edges.

        Parameters
        ----------
        values : array_like, shape (n, *cells)
            Integer or float; compared as float64.

        Returns
        -------
        ndarray of uint8, shape (n, *cells)
            The number of the cell's edges at or below each value.

        Raises
        ------
        NotFittedError
            If no bins were fixed (:meth:`set_edges`, :meth:`set_range` or
            :meth:`update_range`).
        StreamError
            If values hold NaN or infinities, or have another number of cells.
        """
        n_bins = _check_bins(self.n_bins)
        if getattr(self, "edges_", None) is None:
            if getattr(self, "lo_", None) is None:
                raise NotFittedError(
                    "StreamingMI has no bins yet: call set_edges (or set_range, or "
                    "update_range on the data) first"
                )
            shape = self.cell_shape_
            self.set_range(self.lo_.reshape(shape), self.hi_.reshape(shape))
        arr = self._values(values)
        if self.edges_.shape != (arr.shape[1], n_bins - 1):
            raise StreamError(
                f"values have {arr.shape[1]} cells per sample but the bins are set "
                f"for {self.edges_.shape[0]} cells of {self.edges_.shape[1] + 1} "
                "bins; pass samples of the same shape"
            )
        out = np.empty(arr.shape, dtype=np.uint8)
        if arr.shape[0]:
            _bin(arr, self.edges_, out)
        return out.reshape(arr.shape[0], *self.cell_shape_)

    def partial_fit(
        self,
        values: ArrayLike,
        labels: ArrayLike,
        groups: ArrayLike | int | None = None,
    ) -> StreamingMI:
        """Count a chunk of samples.

        Parameters
        ----------
        values : array_like, shape (n, *cells)
            Integer or float; converted to float64 before binning.
        labels : array_like of int, shape (n,)
        groups : int or array_like of int, shape (n,), optional
            Group of each sample (default 0).

        Returns
        -------
        StreamingMI
            self

        Raises
        ------
        NotFittedError
            If no bins were fixed (:meth:`set_edges`, :meth:`set_range` or
            :meth:`update_range`).
        StreamError
            If values hold NaN or infinities, or shapes disagree.
        """
        return self.count_bins(self.bin_indices(values), labels, groups)

    def count_bins(
        self,
        bins: ArrayLike,
        labels: ArrayLike,
        groups: ArrayLike | int | None = None,
    ) -> StreamingMI:
        """Count a chunk of samples given as bin indices.

        Binning once and counting under several labellings (the real labels and
        a permutation of them) saves the binning.

        Parameters
        ----------
        bins : array_like of uint8, shape (n, *cells)
            As :meth:`bin_indices` returns them (of this estimator or of one with
            the same edges).
        labels : array_like of int, shape (n,)
        groups : int or array_like of int, shape (n,), optional
            Group of each sample (default 0).

        Returns
        -------
        StreamingMI
            self
        """
        n_bins = _check_bins(self.n_bins)
        if isinstance(self.n_classes, bool) or int(self.n_classes) < 1:
            raise ConfigError(f"n_classes must be at least 1, got {self.n_classes}")
        if int(self.n_groups) < 1:
            raise ConfigError(f"n_groups must be at least 1, got {self.n_groups}")
        _check_correction(self.correction)
        b = np.asarray(bins)
        if b.dtype != np.uint8 or b.ndim < 1:
            raise StreamError(
                f"bins must be a uint8 array of bin indices, got {b.dtype}; use "
                "bin_indices"
            )
        n = b.shape[0]
        b2 = np.ascontiguousarray(b.reshape(n, -1))
        cells = b2.shape[1]
        if n and int(b2.max()) >= n_bins:
            raise StreamError(f"bin indices must lie below n_bins={n_bins}")
        lab, _ = _as_labels(labels, n, int(self.n_classes))
        if groups is None:
            g = np.zeros(n, dtype=np.int64)
        elif np.ndim(groups) == 0:
            g = np.full(n, int(np.asarray(groups)), dtype=np.int64)
        else:
            g = np.asarray(groups, dtype=np.int64)
            if g.shape != (n,):
                raise StreamError(f"groups must have shape ({n},), got {g.shape}")
        if n and (g.min() < 0 or g.max() >= int(self.n_groups)):
            raise StreamError(
                f"groups must lie in 0..{int(self.n_groups) - 1}, got "
                f"{int(g.min())}..{int(g.max())}"
            )
        if getattr(self, "counts_", None) is None:
            self.counts_ = np.zeros(
                (int(self.n_groups), cells, n_bins, int(self.n_classes)), np.int32
            )
            self.n_samples_ = 0
            if getattr(self, "cell_shape_", None) is None:
                self.cell_shape_ = tuple(b.shape[1:]) or (1,)
        if self.counts_.shape[1] != cells:
            raise StreamError(
                f"bins have {cells} cells per sample, the count tables "
                f"{self.counts_.shape[1]}; pass samples of the same shape"
            )
        if self.n_samples_ + n > _MAX_COUNT:
            raise StreamError(
                f"StreamingMI counts at most {_MAX_COUNT} samples (int32 tables); "
                "split the stream over several estimators"
            )
        if n:
            order = np.argsort(g, kind="stable").astype(np.int64)
            _count(b2, lab, g, order, self.counts_)
        self.n_samples_ += n
        return self

    # -- estimates

    def counts(self, group: int | None = None) -> NDArray[np.int64]:
        """Count tables summed over groups 0..group (all groups by default).

        Parameters
        ----------
        group : int, optional

        Returns
        -------
        ndarray of int64, shape (*cells, n_bins, n_classes)
        """
        counts = self._fitted()
        stop = counts.shape[0] if group is None else int(group) + 1
        total = counts[:stop].sum(axis=0, dtype=np.int64)
        return total.reshape(*self.cell_shape_, *counts.shape[2:])

    def mutual_information(self, group: int | None = None) -> NDArray[np.float64]:
        """I(class; value) in bits per cell, from the samples of groups 0..group.

        Parameters
        ----------
        group : int, optional
            Last group included (all groups by default).

        Returns
        -------
        ndarray of float64, shape (*cells)
        """
        return mutual_information_from_counts(self.counts(group), self.correction)

    def mutual_information_curve(self) -> NDArray[np.float64]:
        """I(class; value) after each group, from the cumulative counts.

        Returns
        -------
        ndarray of float64, shape (n_groups, *cells)
            Row g is the estimate from the samples of groups 0..g.
        """
        counts = self._fitted()
        running = np.zeros(counts.shape[1:], dtype=np.int64)
        rows = []
        for g in range(counts.shape[0]):
            running += counts[g]
            rows.append(
                mutual_information_from_counts(running, self.correction).reshape(
                    self.cell_shape_
                )
            )
        return np.stack(rows)

    def specific_information(self, group: int | None = None) -> NDArray[np.float64]:
        """Specific surprise i(c) in bits per cell and class.

        Parameters
        ----------
        group : int, optional
            Last group included (all groups by default).

        Returns
        -------
        ndarray of float64, shape (*cells, n_classes)
            NaN for a class without samples.
        """
        return specific_information_from_counts(self.counts(group), self.correction)

    # -- helpers

    def _values(self, values: ArrayLike) -> NDArray[np.float64]:
        arr = _as_values(values)
        shape = tuple(arr.shape[1:]) or (1,)
        known = getattr(self, "cell_shape_", None)
        if known is None:
            self.cell_shape_ = shape
        elif math.prod(known) != math.prod(shape):
            raise StreamError(
                f"values have cells of shape {shape}, earlier chunks {known}; pass "
                "samples of one shape"
            )
        return np.ascontiguousarray(arr.reshape(arr.shape[0], -1))

    def _fitted(self) -> NDArray[np.int32]:
        counts = getattr(self, "counts_", None)
        if counts is None:
            raise NotFittedError("StreamingMI has counted nothing yet: partial_fit")
        return counts


# ---------------------------------------------------------------------------------
# one-shot estimators


def _warn_single_sample_classes(labels: NDArray[np.int64], what: str) -> None:
    n_c = np.bincount(labels)
    single = np.flatnonzero(n_c == 1)
    if single.size:
        warnings.warn(
            f"class(es) {single.tolist()} have a single sample: {what}. Gather more "
            "samples of those classes or leave them out.",
            NumericalWarning,
            stacklevel=3,
        )


def binned_mutual_information(
    values: ArrayLike,
    labels: ArrayLike,
    n_bins: int = DEFAULT_BINS,
    *,
    binning: str = DEFAULT_BINNING,
    range_quantile: float = DEFAULT_RANGE_QUANTILE,
    n_classes: int | None = None,
    correction: str = "miller-madow",
) -> Any:
    """I(class; value) in bits from bins fixed by the values themselves.

    Parameters
    ----------
    values : array_like, shape (n,) or (n, *cells)
        One value per sample, or one per sample and cell; integer or float (the
        same numbers give the same answer in either type).
    labels : array_like of int, shape (n,)
        Class of each sample, 0 .. n_classes - 1.
    n_bins : int, default 16
    binning : {"quantile", "width"}, default "quantile"
        Equal-frequency or equal-width bins (see :func:`bin_edges`).
    range_quantile : float, default 0.005
        Equal-width bins span each cell's [q, 1 - q] quantiles (see
        :func:`quantile_range`); 0 spans its minimum to maximum.
    n_classes : int, optional
        Default: one more than the largest label.
    correction : {"miller-madow", "none"}

    Returns
    -------
    float or ndarray of float64, shape (*cells)
        The Miller-Madow corrected estimate clipped to [0, H(C)] (see the module
        notes).

    Warns
    -----
    NumericalWarning
        If a class has a single sample: that class's conditional distribution is a
        single point, and the estimate rests on it.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat(np.arange(10), 100)
    >>> float(binned_mutual_information(labels * 1.5, labels))  # log2(10)
    3.321928094887362
    >>> float(binned_mutual_information(np.ones(1000), labels))
    0.0
    """
    arr = _as_values(values)
    lab, k = _as_labels(labels, arr.shape[0], n_classes)
    _warn_single_sample_classes(lab, "the binned estimate leans on one value there")
    if arr.shape[0] == 0:
        return 0.0 if arr.ndim == 1 else np.zeros(arr.shape[1:])
    est = StreamingMI(n_bins=n_bins, n_classes=k, correction=correction)
    est.set_edges(bin_edges(arr, n_bins, binning, range_quantile=range_quantile))
    est.partial_fit(arr, lab)
    mi = est.mutual_information()
    return float(mi.reshape(-1)[0]) if arr.ndim == 1 else mi.reshape(arr.shape[1:])


def label_shuffle_baseline(
    values: ArrayLike,
    labels: ArrayLike,
    n_bins: int = DEFAULT_BINS,
    *,
    n_shuffles: int = 1,
    seed: int = 0,
    binning: str = DEFAULT_BINNING,
    range_quantile: float = DEFAULT_RANGE_QUANTILE,
    n_classes: int | None = None,
    correction: str = "miller-madow",
) -> Any:
    """The binned estimate on randomly permuted labels: the bias floor.

    Parameters
    ----------
    values, labels, n_bins, binning, range_quantile, n_classes, correction
        As for :func:`binned_mutual_information`.
    n_shuffles : int, default 1
        Permutations; the result is their mean.
    seed : int, default 0
        Seed of the permutations (``numpy.random.default_rng``).

    Returns
    -------
    float or ndarray of float64, shape (*cells)

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.repeat(np.arange(10), 100)
    >>> float(label_shuffle_baseline(labels * 1.5, labels, seed=1)) < 0.05
    True
    """
    if n_shuffles < 1:
        raise ConfigError(f"n_shuffles must be at least 1, got {n_shuffles}")
    arr = _as_values(values)
    lab, k = _as_labels(labels, arr.shape[0], n_classes)
    rng = np.random.default_rng(seed)
    total: Any = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        for _ in range(n_shuffles):
            total = total + binned_mutual_information(
                arr,
                rng.permutation(lab),
                n_bins,
                binning=binning,
                range_quantile=range_quantile,
                n_classes=k,
                correction=correction,
            )
    return total / n_shuffles


def ksg_mutual_information(
    values: ArrayLike,
    labels: ArrayLike,
    k: int = 3,
    *,
    jitter: float = 1e-10,
    seed: int = 0,
) -> float:
    """I(class; value) in bits by nearest neighbours (Ross 2014, after KSG).

    For each sample i: d_i is the distance to its k-th nearest neighbour among the
    samples of its own class (N_c of them), m_i the number of samples of any class
    within d_i (the k-th neighbour included, i itself not). Then, in nats,

        I = psi(N) - <psi(N_c)> + psi(k) - <psi(m)>,

    with psi the digamma function and <.> the mean over samples (Ross, eq. 2). The
    result is converted to bits and clipped at 0.

    Parameters
    ----------
    values : array_like, shape (n,) or (n, d)
        A continuous value (or vector) per sample; distances are max-norm.
    labels : array_like of int, shape (n,)
    k : int, default 3
        Neighbours; a class with fewer than k + 1 samples uses k = its size - 1.
    jitter : float, default 1e-10
        Tied values break the estimator (zero distances), so every value is moved
        by a normal deviate of ``jitter`` times the values' standard deviation
        (Kraskov et al. do the same). 0 turns this off.
    seed : int, default 0
        Seed of the jitter.

    Returns
    -------
    float
        Bits, at least 0; exactly 0 for constant values.

    Warns
    -----
    NumericalWarning
        If a class has a single sample: it has no neighbour of its own class, and
        its samples are left out of the estimate (as Ross does).

    Notes
    -----
    Limitations: with values that take few distinct levels (the pixels of a digit,
    mostly 0) the estimate is that of a jittered, discrete variable and is not
    reliable; the binned estimator is the one to use there. Cost is O(n log n) per
    call through :class:`scipy.spatial.cKDTree`, one call per cell.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 2000)
    >>> x = rng.normal(0, 1, 2000) + 20 * labels   # classes far apart: 1 bit
    >>> round(ksg_mutual_information(x, labels), 2)
    1.0
    """
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    if not (math.isfinite(jitter) and jitter >= 0):
        raise ConfigError(f"jitter must be finite and >= 0, got {jitter!r}")
    arr = _as_values(values)
    x = arr.reshape(arr.shape[0], -1)
    lab, _ = _as_labels(labels, x.shape[0], None)
    if x.shape[0] == 0:
        return 0.0
    spread = x.std(axis=0)
    if np.all(spread == 0):
        return 0.0
    if jitter > 0:
        rng = np.random.default_rng(seed)
        x = x + rng.normal(0.0, 1.0, x.shape) * jitter * np.where(
            spread > 0, spread, 1.0
        )

    _warn_single_sample_classes(lab, "their samples are left out of the estimate")
    n_c = np.bincount(lab)
    keep = n_c[lab] > 1
    x, lab = x[keep], lab[keep]
    n = x.shape[0]
    if n == 0 or np.unique(lab).size < 2:
        return 0.0

    radius = np.empty(n)
    k_used = np.empty(n)
    size = np.empty(n)
    for c in np.unique(lab):
        idx = np.flatnonzero(lab == c)
        kc = min(int(k), idx.size - 1)
        dist, _ = cKDTree(x[idx]).query(x[idx], k=kc + 1, p=np.inf)
        radius[idx] = dist[:, kc]
        k_used[idx] = kc
        size[idx] = idx.size
    m = cKDTree(x).query_ball_point(x, r=radius, p=np.inf, return_length=True)
    m = np.asarray(m, dtype=np.float64) - 1.0  # the sample itself
    mi_nats = (
        digamma(n)
        - np.mean(digamma(size))
        + np.mean(digamma(k_used))
        - np.mean(digamma(np.maximum(m, 1.0)))
    )
    return float(max(0.0, mi_nats / _LN2))
