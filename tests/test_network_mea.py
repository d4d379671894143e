"""MEA pads: positions, wire-pad contacts, against a clipping reference and theory."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.network import NetworkParams, generate_network, pad_centres
from nwnrc.network import segments_touch_square as touch


def _liang_barsky(start, end, lo, hi):
    """Reference: does the segment survive clipping to the box [lo, hi]^2?"""
    t0, t1 = 0.0, 1.0
    d = end - start
    for axis in (0, 1):
        for p, q in (
            (-d[axis], start[axis] - lo[axis]),
            (d[axis], hi[axis] - start[axis]),
        ):
            if p == 0:
                if q < 0:
                    return False
                continue
            r = q / p
            if p < 0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
            if t0 > t1:
                return False
    return True


def test_pad_centres_by_hand():
    centres = pad_centres(80.0)
    assert centres.shape == (16, 2)
    expected = {
        0: (10, 70),
        3: (70, 70),
        5: (30, 50),
        4: (10, 50),
        11: (70, 30),
        12: (10, 10),
        15: (70, 10),
    }
    for pad, xy in expected.items():
        np.testing.assert_allclose(centres[pad], xy)


@pytest.mark.parametrize(
    "start, end, hit",
    [
        ((0.5, 0.5), (1.5, 1.5), True),  # inside
        ((-5, 1), (5, 1), True),  # straight through
        ((-5, 2), (5, 2), True),  # along the top edge
        ((-5, 2.001), (5, 2.001), False),  # just above
        ((3, 0), (0, 3), True),  # through the corner (1.5, 1.5)... diagonal
        ((2, 3), (3, 2), False),  # passes the corner (2, 2) outside
        ((2, 4), (4, 2), False),
        ((1, 3), (3, 1), True),  # touches the corner (2, 2) exactly
        ((-3, -3), (-1, -1), False),  # on the diagonal's line, short of the box
        ((5, 1), (9, 1), False),  # on the edge's line, beyond it
        ((1, 5), (1, 9), False),
        ((1, -1), (1, 0), True),  # ends on the bottom edge
    ],
)
def test_segment_touches_square_by_hand(start, end, hit):
    # Square [0, 2]^2.
    got = touch(np.array([start], float), np.array([end], float), (1.0, 1.0), 2.0)
    assert bool(got[0]) is hit
    assert (
        _liang_barsky(
            np.array(start, float), np.array(end, float), np.zeros(2), np.full(2, 2.0)
        )
        is hit
    )


def test_contacts_match_clipping_reference_on_random_network():
    net = generate_network(NetworkParams(n_wires=500, seed=21))
    starts, ends = net.starts, net.ends
    half = net.params.pad_size_um / 2
    for pad, centre in enumerate(pad_centres(net.params.chip_size_um)):
        ref = [
            w
            for w in range(net.n_wires)
            if _liang_barsky(starts[w], ends[w], centre - half, centre + half)
        ]
        assert net.pad_wires[pad].tolist() == ref


def test_mean_contacts_match_stick_theory():
    # A convex pad of area A and perimeter P is hit by a random stick of length L
    # whose centre lies in an area A + P L / pi (Cauchy-Crofton), so a pad of side a
    # touches n (a^2 + 4 a <L> / pi) wires on average at density n.
    params = NetworkParams()
    a, n = params.pad_size_um, params.density_per_um2
    expected = n * (a**2 + 4 * a * params.length_mean_um / np.pi)
    counts = [
        len(w)
        for seed in range(20)
        for w in generate_network(NetworkParams(seed=seed)).pad_wires
    ]
    # 320 near-Poisson counts of ~7.3: standard error ~0.15.
    assert np.mean(counts) == pytest.approx(expected, abs=0.5)
