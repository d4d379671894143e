"""Junction search: every crossing of two wire segments.

Two search functions give the same answer: :func:`find_junctions` puts the wires'
bounding boxes on a uniform grid and tests only pairs that share a grid cell, and
:func:`find_junctions_bruteforce` tests every pair. Both call one pairwise predicate,
so they can differ only if the grid misses a pair, which the tests rule out.

Edge cases, with ``tol`` the tolerance of :func:`find_junctions`:

- two segments cross at an interior point of both: one junction at the crossing;
- an end point lies within ``tol`` of the other segment (a T-junction), or two end
  points coincide: one junction at that end point;
- parallel segments more than ``tol`` apart: no junction;
- collinear segments that overlap (or touch end to end): one junction at the midpoint
  of the overlap. Physically such wires touch along a line; one junction keeps the
  graph simple, and random geometry produces this case with probability zero.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from nwnrc.errors import ConfigError

logger = logging.getLogger(__name__)

#: Default tolerance, relative to the largest absolute coordinate.
DEFAULT_RTOL = 1e-9

# Candidate pairs tested per chunk: bounds the memory of the vectorised predicate.
_CHUNK_PAIRS = 1 << 20

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _as_segments(starts: object, ends: object) -> tuple[FloatArray, FloatArray]:
    p = np.asarray(starts, dtype=np.float64)
    q = np.asarray(ends, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or q.shape != p.shape:
        raise ConfigError(
            "starts and ends must both have shape (n_wires, 2), got "
            f"{p.shape} and {q.shape}; pass one row (x, y) per wire"
        )
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise ConfigError(
            "starts and ends must be finite, got NaN or infinite coordinates; "
            "check the wire geometry"
        )
    return p, q


def _tolerance(p: FloatArray, q: FloatArray, rtol: float) -> float:
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ConfigError(f"rtol must be a finite number >= 0, got {rtol!r}")
    if p.size == 0:
        return 0.0
    scale = max(float(np.abs(p).max()), float(np.abs(q).max()))
    # A network at the origin with zero size still needs a positive tolerance.
    return rtol * scale if scale > 0 else rtol


def _point_segment_distance(
    x: FloatArray, a: FloatArray, d: FloatArray, dd: FloatArray
) -> FloatArray:
    """Distance from points ``x`` to segments ``a + t d``, t in [0, 1]."""
    rel = x - a
    safe = np.where(dd > 0, dd, 1.0)
    t = np.clip(np.einsum("ij,ij->i", rel, d) / safe, 0.0, 1.0)
    t = np.where(dd > 0, t, 0.0)
    diff = rel - t[:, None] * d
    return np.hypot(diff[:, 0], diff[:, 1])


def _cross(u: FloatArray, v: FloatArray) -> FloatArray:
    return u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]


def _intersect_pairs(
    p1: FloatArray, p2: FloatArray, q1: FloatArray, q2: FloatArray, tol: float
) -> tuple[NDArray[np.bool_], FloatArray]:
    """Test segment pairs ``p1-p2`` against ``q1-q2``, row by row.

    Returns a boolean per row and the junction point (NaN where there is none).
    The predicate is symmetric under swapping the two segments of a row, and under
    reversing either segment, so the answer does not depend on wire order.
    """
    d = p2 - p1
    e = q2 - q1
    dd = np.einsum("ij,ij->i", d, d)
    ee = np.einsum("ij,ij->i", e, e)
    len_d = np.sqrt(dd)
    len_e = np.sqrt(ee)

    # Orientation of each end point against the other segment's line, as a signed
    # distance: zero within tol, so that near-touching counts as touching.
    o1 = _cross(d, q1 - p1)
    o2 = _cross(d, q2 - p1)
    o3 = _cross(e, p1 - q1)
    o4 = _cross(e, p2 - q1)
    s1 = np.where(np.abs(o1) <= tol * len_d, 0, np.sign(o1))
    s2 = np.where(np.abs(o2) <= tol * len_d, 0, np.sign(o2))
    s3 = np.where(np.abs(o3) <= tol * len_e, 0, np.sign(o3))
    s4 = np.where(np.abs(o4) <= tol * len_e, 0, np.sign(o4))
    proper = (s1 * s2 < 0) & (s3 * s4 < 0)

    # End points touching the other segment: T-junctions, shared end points and
    # collinear overlaps.
    touch = np.stack(
        [
            _point_segment_distance(q1, p1, d, dd) <= tol,
            _point_segment_distance(q2, p1, d, dd) <= tol,
            _point_segment_distance(p1, q1, e, ee) <= tol,
            _point_segment_distance(p2, q1, e, ee) <= tol,
        ],
        axis=1,
    )
    hit = proper | touch.any(axis=1)

    points = np.full(p1.shape, np.nan)

    # Proper crossings: solve p1 + t d = q1 + u e for t.
    if proper.any():
        k = np.flatnonzero(proper)
        denom = _cross(d[k], e[k])
        t = _cross(q1[k] - p1[k], e[k]) / denom
        points[k] = p1[k] + t[:, None] * d[k]

    # Touching: the midpoint of the two touching end points furthest apart. That is
    # the end point itself for a T-junction or a shared end, and the middle of the
    # overlap for collinear segments.
    touch_only = hit & ~proper
    if touch_only.any():
        k = np.flatnonzero(touch_only)
        ends = np.stack([q1[k], q2[k], p1[k], p2[k]], axis=1)  # (m, 4, 2)
        mask = touch[k]
        gaps = np.linalg.norm(ends[:, :, None, :] - ends[:, None, :, :], axis=-1)
        both = mask[:, :, None] & mask[:, None, :]
        gaps = np.where(both, gaps, -1.0)
        flat = gaps.reshape(len(k), 16).argmax(axis=1)
        a, b = np.divmod(flat, 4)
        rows = np.arange(len(k))
        points[k] = 0.5 * (ends[rows, a] + ends[rows, b])
    return hit, points


def _finish(
    i: IntArray, j: IntArray, points: FloatArray
) -> tuple[IntArray, FloatArray]:
    pairs = np.stack([i, j], axis=1).astype(np.int64, copy=False).reshape(-1, 2)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order], points[order].reshape(-1, 2)


def _test_candidates(
    p: FloatArray, q: FloatArray, i: IntArray, j: IntArray, tol: float
) -> tuple[IntArray, IntArray, FloatArray]:
    keep_i, keep_j, keep_pts = [], [], []
    for lo in range(0, len(i), _CHUNK_PAIRS):
        ci, cj = i[lo : lo + _CHUNK_PAIRS], j[lo : lo + _CHUNK_PAIRS]
        hit, pts = _intersect_pairs(p[ci], q[ci], p[cj], q[cj], tol)
        keep_i.append(ci[hit])
        keep_j.append(cj[hit])
        keep_pts.append(pts[hit])
    if not keep_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty((0, 2))
    return np.concatenate(keep_i), np.concatenate(keep_j), np.concatenate(keep_pts)


def find_junctions_bruteforce(
    starts: object, ends: object, *, rtol: float = DEFAULT_RTOL
) -> tuple[IntArray, FloatArray]:
    """Find every junction by testing all pairs of wires (reference, O(N^2)).

    Parameters and returns are those of :func:`find_junctions`. Use it to check the
    grid search; it needs memory and time proportional to the number of pairs.

    Examples
    --------
    >>> pairs, points = find_junctions_bruteforce([[0, 0], [0, 2]], [[2, 2], [2, 0]])
    >>> pairs.tolist(), points.tolist()
    ([[0, 1]], [[1.0, 1.0]])
    """
    p, q = _as_segments(starts, ends)
    tol = _tolerance(p, q, rtol)
    i, j = np.triu_indices(len(p), k=1)
    i, j, pts = _test_candidates(p, q, i.astype(np.int64), j.astype(np.int64), tol)
    return _finish(i, j, pts)


def _cell_pairs(cell: IntArray, wire: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """All pairs of wires that share a cell, from one (cell, wire) row per cover.

    Returns the cell and the two wires of each pair.
    """
    order = np.lexsort((wire, cell))
    cell, wire = cell[order], wire[order]
    starts = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]])
    counts = np.diff(np.r_[starts, len(cell)])

    # Row r of a cell with m rows pairs with the rows after it: m - 1 - rank pairs.
    rank = np.arange(len(cell)) - np.repeat(starts, counts)
    partners = np.repeat(counts, counts) - 1 - rank
    total = int(partners.sum())
    first = np.repeat(np.arange(len(cell)), partners)
    offset = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    second = first + 1 + offset
    return cell[first], wire[first], wire[second]


def find_junctions(
    starts: object,
    ends: object,
    *,
    rtol: float = DEFAULT_RTOL,
    cell_size: float | None = None,
) -> tuple[IntArray, FloatArray]:
    """Find every junction (crossing of two wire segments) with a uniform grid.

    Parameters
    ----------
    starts, ends : array_like of shape (n_wires, 2)
        End points of the wire segments.
    rtol : float, default 1e-9
        Tolerance relative to the largest absolute coordinate. End points closer than
        ``rtol * scale`` to another segment touch it, and near-parallel segments
        within that distance count as collinear.
    cell_size : float, optional
        Side of the grid cells. The default is the mean of the wires' bounding-box
        sides (their larger side), about the mean wire length.

    Returns
    -------
    pairs : ndarray of int64, shape (n_junctions, 2)
        Wire indices ``(i, j)`` with ``i < j``, rows sorted lexicographically.
    points : ndarray of float64, shape (n_junctions, 2)
        The junction positions, in the order of ``pairs``.

    Raises
    ------
    ConfigError
        If the arrays have the wrong shape or hold NaN or infinite values.

    Notes
    -----
    Each wire's bounding box, widened by the tolerance, is laid on a grid of square
    cells; only pairs that share a cell are tested, and each pair is tested once (in
    the cell that holds the lower-left corner of the two boxes' overlap). Time and
    memory grow with the number of wires times the mean number of wires per cell:
    about linear at fixed density (10,000 wires at the default density take well
    under a second; ``python benchmarks/network_junctions.py``). The module
    docstring lists the edge cases.

    Limitations: a wire whose bounding box spans many cells is listed in each of
    them, so a few wires far longer than the cell size cost memory in proportion to
    their box area over the cell area; pass a larger ``cell_size`` for such
    geometries.

    Examples
    --------
    A cross, a T-junction and a parallel pair that does not touch:

    >>> starts = [[0, 0], [0, 2], [4, 0], [5, 0], [8, 0], [8, 1]]
    >>> ends = [[2, 2], [2, 0], [4, 2], [5, 1], [10, 0], [10, 1]]
    >>> pairs, points = find_junctions(starts, ends)
    >>> pairs.tolist()
    [[0, 1]]
    >>> find_junctions([[0, 0], [1, 0]], [[2, 0], [1, 3]])[1].tolist()
    [[1.0, 0.0]]
    """
    p, q = _as_segments(starts, ends)
    tol = _tolerance(p, q, rtol)
    n = len(p)
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return _finish(empty, empty, np.empty((0, 2)))

    lo = np.minimum(p, q) - tol
    hi = np.maximum(p, q) + tol
    if cell_size is None:
        cell_size = float(np.mean(np.max(hi - lo, axis=1)))
    if not (np.isfinite(cell_size) and cell_size > 0):
        raise ConfigError(f"cell_size must be a finite number > 0, got {cell_size!r}")

    # Integer cell ranges of every bounding box.
    origin = lo.min(axis=0)
    cmin = np.floor((lo - origin) / cell_size).astype(np.int64)
    cmax = np.floor((hi - origin) / cell_size).astype(np.int64)
    ny = int(cmax[:, 1].max()) + 1
    nx_cover = cmax[:, 0] - cmin[:, 0] + 1
    ny_cover = cmax[:, 1] - cmin[:, 1] + 1
    covers = nx_cover * ny_cover

    # One (cell, wire) row per cell that a box covers.
    wire = np.repeat(np.arange(n, dtype=np.int64), covers)
    k = np.arange(len(wire)) - np.repeat(np.cumsum(covers) - covers, covers)
    cx = cmin[wire, 0] + k // ny_cover[wire]
    cy = cmin[wire, 1] + k % ny_cover[wire]
    cell = cx * ny + cy

    pair_cell, a, b = _cell_pairs(cell, wire)
    # Keep a pair only in the cell of its boxes' overlap corner: tested once.
    corner_x = np.maximum(cmin[a, 0], cmin[b, 0])
    corner_y = np.maximum(cmin[a, 1], cmin[b, 1])
    once = pair_cell == corner_x * ny + corner_y
    overlap = (
        (lo[a, 0] <= hi[b, 0])
        & (lo[b, 0] <= hi[a, 0])
        & (lo[a, 1] <= hi[b, 1])
        & (lo[b, 1] <= hi[a, 1])
    )
    keep = once & overlap
    a, b = a[keep], b[keep]
    i = np.minimum(a, b)
    j = np.maximum(a, b)
    logger.debug(
        "junction grid: %d wires, cell %.3g, %d candidate pairs", n, cell_size, len(i)
    )
    i, j, pts = _test_candidates(p, q, i, j, tol)
    return _finish(i, j, pts)
