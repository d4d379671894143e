"""Network parameters and the wire sampler."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nwnrc.errors import ConfigError
from nwnrc.network import NetworkParams, generate_network, segment_ends
from nwnrc.network._geometry import sample_wires


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_wires", 0),
        ("n_wires", -5),
        ("n_wires", 2.5),
        ("n_wires", True),
        ("seed", -1),
        ("seed", 1.0),
        ("chip_size_um", 0.0),
        ("chip_size_um", -80.0),
        ("chip_size_um", math.inf),
        ("length_mean_um", 0.0),
        ("length_mean_um", math.nan),
        ("length_std_um", -1.0),
        ("pad_size_um", -4.0),
        ("pad_size_um", 0.0),
        ("pad_size_um", 19.5),  # equal to the pitch: pads would touch
    ],
)
def test_invalid_field_raises_config_error_naming_it(field, value):
    with pytest.raises(ConfigError) as info:
        NetworkParams(**{field: value})
    message = str(info.value)
    assert field in message and repr(value) in message


def test_defaults_are_two_to_two_and_a_half_times_percolation_threshold():
    p = NetworkParams()
    n_c = 5.637 / p.length_mean_um**2
    ratio = p.n_wires / p.chip_size_um**2 / n_c
    assert 2.0 <= ratio <= 2.5
    assert p.critical_density_per_um2 == pytest.approx(n_c)
    assert p.density_per_um2 == pytest.approx(p.n_wires / p.chip_size_um**2)
    # The gap between neighbouring pads exceeds the length of >90 % of the wires.
    gap = p.pad_pitch_um - p.pad_size_um
    k = p.length_mean_um**2 / p.length_std_um**2
    scale = p.length_std_um**2 / p.length_mean_um
    assert stats.gamma(k, scale=scale).cdf(gap) > 0.9


def test_generation_is_reproducible_from_seed():
    a = generate_network(NetworkParams(n_wires=300, seed=12))
    b = generate_network(NetworkParams(n_wires=300, seed=12))
    c = generate_network(NetworkParams(n_wires=300, seed=13))
    for name in ("centres", "angles", "lengths", "junction_wires", "junction_points"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for pa, pb in zip(a.pad_wires, b.pad_wires, strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a.centres, c.centres)


def test_sampler_uses_one_generator_in_documented_order():
    params = NetworkParams(n_wires=50, seed=3)
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, params.chip_size_um, (50, 2))
    angles = rng.uniform(0, np.pi, 50)
    k = params.length_mean_um**2 / params.length_std_um**2
    lengths = rng.gamma(k, params.length_std_um**2 / params.length_mean_um, 50)
    got = sample_wires(params)
    np.testing.assert_array_equal(got[0], centres)
    np.testing.assert_array_equal(got[1], angles)
    np.testing.assert_array_equal(got[2], lengths)


def test_sampled_distributions():
    params = NetworkParams(
        n_wires=20000, chip_size_um=500.0, length_mean_um=12.0, length_std_um=2.0
    )
    centres, angles, lengths = sample_wires(params)
    assert centres.min() >= 0 and centres.max() <= 500.0
    assert angles.min() >= 0 and angles.max() < np.pi
    # Mean 12 and std 2 with standard errors 0.014 and 0.01.
    assert lengths.mean() == pytest.approx(12.0, abs=0.06)
    assert lengths.std() == pytest.approx(2.0, abs=0.05)
    gamma = stats.gamma(36.0, scale=1.0 / 3.0)
    assert stats.kstest(lengths, gamma.cdf).pvalue > 1e-3
    assert stats.kstest(angles, stats.uniform(0, np.pi).cdf).pvalue > 1e-3


def test_zero_std_gives_equal_lengths():
    params = NetworkParams(n_wires=10, length_std_um=0.0)
    assert np.all(sample_wires(params)[2] == params.length_mean_um)


def test_segment_ends_by_hand():
    centres = np.array([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0]])
    angles = np.array([0.0, np.pi / 2, np.pi / 4])
    lengths = np.array([2.0, 4.0, 2.0 * np.sqrt(2.0)])
    starts, ends = segment_ends(centres, angles, lengths)
    np.testing.assert_allclose(starts, [[0, 1], [0, -2], [4, 4]], atol=1e-12)
    np.testing.assert_allclose(ends, [[2, 1], [0, 2], [6, 6]], atol=1e-12)


def test_network_arrays_are_read_only_and_typed():
    net = generate_network(NetworkParams(n_wires=100, seed=1))
    assert net.centres.dtype == np.float64 and net.junction_wires.dtype == np.int64
    assert all(w.dtype == np.int64 for w in net.pad_wires)
    with pytest.raises(ValueError, match="read-only"):
        net.centres[0, 0] = 1.0
    np.testing.assert_allclose(
        np.linalg.norm(net.ends - net.starts, axis=1), net.lengths, rtol=1e-12
    )
