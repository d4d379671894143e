"""Junction search: edge cases worked out by hand, grid against brute force, physics."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.errors import ConfigError
from nwnrc.network import (
    NetworkParams,
    find_junctions,
    find_junctions_bruteforce,
    generate_network,
    segment_ends,
)
from nwnrc.network._geometry import sample_wires

# (name, starts, ends, expected pairs, expected points), worked out by hand.
EDGE_CASES = [
    ("cross", [[0, 0], [0, 2]], [[2, 2], [2, 0]], [[0, 1]], [[1, 1]]),
    ("plus", [[-1, 0], [0, -1]], [[1, 0], [0, 1]], [[0, 1]], [[0, 0]]),
    ("parallel apart", [[0, 0], [0, 1]], [[5, 0], [5, 1]], [], []),
    ("parallel slanted", [[0, 0], [0, 1]], [[3, 3], [3, 4]], [], []),
    ("collinear gap", [[0, 0], [2, 0]], [[1, 0], [3, 0]], [], []),
    ("collinear overlap", [[0, 0], [2, 0]], [[3, 0], [5, 0]], [[0, 1]], [[2.5, 0]]),
    ("collinear vertical", [[1, 0], [1, 1]], [[1, 4], [1, 6]], [[0, 1]], [[1, 2.5]]),
    ("collinear reversed", [[3, 3], [1, 1]], [[0, 0], [4, 4]], [[0, 1]], [[2, 2]]),
    ("collinear end to end", [[0, 0], [1, 0]], [[1, 0], [2, 0]], [[0, 1]], [[1, 0]]),
    ("contained", [[0, 0], [1, 0]], [[4, 0], [2, 0]], [[0, 1]], [[1.5, 0]]),
    ("identical", [[0, 1], [0, 1]], [[2, 3], [2, 3]], [[0, 1]], [[1, 2]]),
    ("T junction", [[0, 0], [1, 0]], [[2, 0], [1, 3]], [[0, 1]], [[1, 0]]),
    ("T from above", [[0, 0], [1, 5]], [[2, 0], [1, 0]], [[0, 1]], [[1, 0]]),
    ("shared end V", [[0, 0], [0, 0]], [[1, 1], [1, -1]], [[0, 1]], [[0, 0]]),
    ("shared end L", [[0, 0], [2, 0]], [[2, 0], [2, 2]], [[0, 1]], [[2, 0]]),
    ("near miss T", [[0, 0], [1, 1e-6]], [[2, 0], [1, 3]], [], []),
    (
        "T within tolerance",
        [[0, 0], [1, 1e-13]],
        [[2, 0], [1, 3]],
        [[0, 1]],
        [[1, 1e-13]],
    ),
    ("line stops short", [[0, 0], [3, -1]], [[2, 0], [3, 1]], [], []),
    ("point on segment", [[0, 0], [1, 0]], [[2, 0], [1, 0]], [[0, 1]], [[1, 0]]),
    ("point off segment", [[0, 0], [1, 0.5]], [[2, 0], [1, 0.5]], [], []),
    (
        "three wires",
        [[0, 0], [0, 2], [1, -1]],
        [[2, 2], [2, 0], [1, 3]],
        [[0, 1], [0, 2], [1, 2]],
        [[1, 1], [1, 1], [1, 1]],
    ),
]


def _as_set(pairs, points):
    return {tuple(p): tuple(x) for p, x in zip(pairs.tolist(), points, strict=True)}


@pytest.mark.parametrize(
    "name, starts, ends, pairs, points", EDGE_CASES, ids=[c[0] for c in EDGE_CASES]
)
@pytest.mark.parametrize("finder", [find_junctions, find_junctions_bruteforce])
def test_edge_case_matches_hand_result(finder, name, starts, ends, pairs, points):
    got_pairs, got_points = finder(starts, ends)
    assert got_pairs.tolist() == pairs
    np.testing.assert_allclose(
        got_points, np.reshape(points, (-1, 2)), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize(
    "name, starts, ends, pairs, points", EDGE_CASES, ids=[c[0] for c in EDGE_CASES]
)
def test_edge_case_does_not_depend_on_order_or_direction(
    name, starts, ends, pairs, points
):
    starts, ends = np.asarray(starts, float), np.asarray(ends, float)
    n = len(starts)
    expected = {
        tuple(p): np.asarray(x, float) for p, x in zip(pairs, points, strict=True)
    }
    rng = np.random.default_rng(5)
    for _ in range(6):
        perm = rng.permutation(n)
        flip = rng.random(n) < 0.5
        s = np.where(flip[:, None], ends, starts)[perm]
        e = np.where(flip[:, None], starts, ends)[perm]
        got_pairs, got_points = find_junctions(s, e)
        mapped = np.sort(perm[got_pairs], axis=1)
        got = {tuple(p): x for p, x in zip(mapped.tolist(), got_points, strict=True)}
        assert got.keys() == expected.keys()
        for key, point in expected.items():
            np.testing.assert_allclose(got[key], point, atol=1e-12)


def test_translation_far_from_origin_keeps_edge_cases():
    # The tolerance scales with the coordinates: a T-junction and a near miss stay
    # what they are 1e4 units away from the origin.
    offset = np.array([1.0e4, -3.0e4])
    starts = np.array([[0, 0], [1, 0], [5, 0], [6, 1e-3]]) + offset
    ends = np.array([[2, 0], [1, 3], [7, 0], [6, 3]]) + offset
    pairs, points = find_junctions(starts, ends)
    assert pairs.tolist() == [[0, 1]]
    np.testing.assert_allclose(points, [offset + np.array([1.0, 0.0])], atol=1e-9)


def test_empty_and_single_wire():
    for n in (0, 1):
        pairs, points = find_junctions(np.zeros((n, 2)), np.ones((n, 2)))
        assert pairs.shape == (0, 2) and pairs.dtype == np.int64
        assert points.shape == (0, 2) and points.dtype == np.float64


def _random_segments(rng, n, chip, mean_len):
    centres = rng.uniform(0, chip, (n, 2))
    angles = rng.uniform(0, np.pi, n)
    lengths = rng.gamma(9.0, mean_len / 9.0, n)
    return segment_ends(centres, angles, lengths)


def _add_degenerate_wires(rng, starts, ends, k):
    """Replace k wires by T-junctions, shared ends and collinear overlaps."""
    starts, ends = starts.copy(), ends.copy()
    n = len(starts)
    victims = rng.choice(n, size=k, replace=False)
    for m, v in enumerate(victims):
        host = (v + 1 + rng.integers(n - 1)) % n
        a, b = starts[host], ends[host]
        kind = m % 4
        if kind == 0:  # T-junction: end point on the host's interior
            t = rng.uniform(0.1, 0.9)
            starts[v] = a + t * (b - a)
        elif kind == 1:  # shared end point
            starts[v] = b.copy()
        elif kind == 2:  # collinear overlap with the host
            t0, t1 = np.sort(rng.uniform(-0.5, 1.5, 2))
            starts[v], ends[v] = a + t0 * (b - a), a + t1 * (b - a)
        else:  # parallel copy, shifted off the host's line
            normal = np.array([-(b - a)[1], (b - a)[0]])
            shift = 0.3 * normal / np.linalg.norm(normal)
            starts[v], ends[v] = a + shift, b + shift
    return starts, ends


@pytest.mark.parametrize("case", range(50))
def test_grid_equals_bruteforce_on_random_networks(case):
    rng = np.random.default_rng(1000 + case)
    n = int(rng.integers(50, 301))
    mean_len = float(rng.uniform(3.0, 15.0))
    # Density from sparse (0.5 n_c) to dense (6 n_c).
    density = rng.uniform(0.5, 6.0) * 5.637 / mean_len**2
    chip = float(np.sqrt(n / density))
    starts, ends = _random_segments(rng, n, chip, mean_len)
    if case % 2:
        starts, ends = _add_degenerate_wires(rng, starts, ends, n // 10)
    cell = None if case % 3 else float(rng.uniform(0.2, 3.0) * mean_len)

    fast_pairs, fast_points = find_junctions(starts, ends, cell_size=cell)
    ref_pairs, ref_points = find_junctions_bruteforce(starts, ends)
    np.testing.assert_array_equal(fast_pairs, ref_pairs)
    np.testing.assert_array_equal(fast_points, ref_points)


def _parametric_crossings(starts, ends):
    """Independent check for generic segments: solve p + t d = q + u e."""
    n = len(starts)
    i, j = np.triu_indices(n, 1)
    d = ends[i] - starts[i]
    e = ends[j] - starts[j]
    r = starts[j] - starts[i]
    det = -d[:, 0] * e[:, 1] + d[:, 1] * e[:, 0]
    # Cramer's rule for [d, -e] [t, u]^T = r.
    t = (-r[:, 0] * e[:, 1] + r[:, 1] * e[:, 0]) / det
    u = (d[:, 0] * r[:, 1] - d[:, 1] * r[:, 0]) / det
    hit = (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    pairs = np.stack([i[hit], j[hit]], axis=1)
    points = starts[i[hit]] + t[hit, None] * d[hit]
    return pairs, points


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_parametric_solution_on_generic_network(seed):
    params = NetworkParams(n_wires=400, seed=seed)
    starts, ends = segment_ends(*sample_wires(params))
    pairs, points = find_junctions(starts, ends)
    ref_pairs, ref_points = _parametric_crossings(starts, ends)
    np.testing.assert_array_equal(pairs, ref_pairs)
    np.testing.assert_allclose(points, ref_points, rtol=0, atol=1e-9)
    # A crossing lies on both wires.
    for k in (0, 1):
        a, b = starts[pairs[:, k]], ends[pairs[:, k]]
        cross = (b - a)[:, 0] * (points - a)[:, 1] - (b - a)[:, 1] * (points - a)[:, 0]
        assert np.abs(cross / np.linalg.norm(b - a, axis=1)).max() < 1e-9


def test_result_does_not_depend_on_wire_order():
    net = generate_network(NetworkParams(n_wires=500, seed=4))
    starts, ends = net.starts, net.ends
    perm = np.random.default_rng(0).permutation(net.n_wires)
    pairs, points = find_junctions(starts[perm], ends[perm])
    mapped = np.sort(perm[pairs], axis=1)
    order = np.lexsort((mapped[:, 1], mapped[:, 0]))
    np.testing.assert_array_equal(mapped[order], net.junction_wires)
    np.testing.assert_allclose(points[order], net.junction_points, atol=1e-12)


def test_output_format():
    net = generate_network(NetworkParams(n_wires=300, seed=9))
    pairs, points = net.junction_wires, net.junction_points
    assert pairs.dtype == np.int64 and points.dtype == np.float64
    assert np.all(pairs[:, 0] < pairs[:, 1])
    keys = pairs[:, 0] * net.n_wires + pairs[:, 1]
    assert np.all(np.diff(keys) > 0)


def test_mean_junctions_per_wire_matches_stick_theory():
    # Two sticks of lengths a, b with uniform random angles cross when their
    # centres fall in an area (2 / pi) a b; away from the chip edge a wire of length
    # a therefore meets n (2 / pi) a <L> others, n the density.
    mean_len, n_wires, chip = 10.0, 4000, 200.0
    params = NetworkParams(
        n_wires=n_wires,
        chip_size_um=chip,
        length_mean_um=mean_len,
        length_std_um=2.0,
        pad_size_um=1.0,
        seed=11,
    )
    net = generate_network(params)
    degree = np.bincount(net.junction_wires.ravel(), minlength=n_wires)
    margin = 20.0  # more than any wire length: no edge losses
    inner = np.all((net.centres > margin) & (net.centres < chip - margin), axis=1)
    density = n_wires / chip**2
    expected = density * (2 / np.pi) * net.lengths[inner] * mean_len
    # Poisson counts: the mean of ~3200 degrees of ~5 has standard error ~0.04.
    assert degree[inner].mean() == pytest.approx(expected.mean(), rel=0.03)


@pytest.mark.parametrize(
    "starts, ends",
    [
        (np.zeros((3, 2)), np.zeros((2, 2))),
        (np.zeros((3, 3)), np.zeros((3, 3))),
        (np.zeros(4), np.zeros(4)),
        ([[0, 0], [np.nan, 1]], [[1, 1], [2, 2]]),
    ],
)
def test_bad_input_raises_config_error(starts, ends):
    with pytest.raises(ConfigError, match="starts and ends"):
        find_junctions(starts, ends)
    with pytest.raises(ConfigError, match="starts and ends"):
        find_junctions_bruteforce(starts, ends)


def test_bad_cell_size_and_tolerance():
    with pytest.raises(ConfigError, match="cell_size"):
        find_junctions([[0, 0], [1, 1]], [[1, 1], [2, 0]], cell_size=0.0)
    with pytest.raises(ConfigError, match="rtol"):
        find_junctions([[0, 0], [1, 1]], [[1, 1], [2, 0]], rtol=-1.0)
