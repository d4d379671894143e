"""The demonstration functions and the benchmark helpers."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from nwnrc.device import SimulatedDevice
from nwnrc.device._bench import (
    digit_like_images,
    digit_like_stream,
    scaled_network_params,
    single_blas_thread,
)
from nwnrc.device._demos import (
    FORMATION_RATIO,
    dc_bias_demo,
    iv_sweep_demo,
    triangle_wave,
)
from nwnrc.errors import ConfigError
from nwnrc.network import NetworkParams, generate_network


@functools.cache
def device() -> SimulatedDevice:
    return SimulatedDevice(generate_network(NetworkParams(n_wires=300, seed=1)))


def test_triangle_wave_by_hand():
    wave = triangle_wave(2.0, 0.008, 2, 1e-3)
    one = [0.0, 1.0, 2.0, 1.0, 0.0, -1.0, -2.0, -1.0]
    assert wave.tolist() == one + one + [0.0]
    # quarter periods are rounded to an even number of steps
    assert triangle_wave(1.0, 0.01, 1, 1e-3).size == 4 * 2 + 1
    assert triangle_wave(1.0, 2.0, 3, 1e-3).size == 3 * 2000 + 1


def test_dc_bias_demo_numbers_match_its_arrays(tmp_path):
    res = dc_bias_demo(
        device(), (1.0, 2.0), bias_s=0.2, rest_s=0.4, out=tmp_path / "a.png"
    )
    assert res.path is not None and res.path.read_bytes()[:4] == b"\x89PNG"
    assert res.volts.shape == res.conductance.shape == (2, 600)
    np.testing.assert_array_equal(res.volts[:, :200], [[1.0] * 200, [2.0] * 200])
    np.testing.assert_array_equal(res.volts[:, 200:], 0.0)
    g0 = res.pristine_conductance
    for k in range(2):
        g = res.conductance[k]
        assert g[0] == g0
        on = np.argmax(g >= FORMATION_RATIO * g0)
        assert res.formation_s[k] == pytest.approx(on * 1e-3)
        assert res.peak_ratio[k] == pytest.approx(g.max() / g0)
        rest = g[200:]
        # with no input, filaments only dissolve: the conductance never rises
        assert np.all(np.diff(rest) <= 1e-12 * rest[:-1])
        assert res.fading_s[k] == pytest.approx(
            np.argmax(rest < FORMATION_RATIO * g0) * 1e-3
        )
        assert res.recovery_s[k] <= 0.3
    # a higher bias forms the path sooner
    assert res.formation_s[1] < res.formation_s[0]


def test_dc_bias_demo_that_never_forms():
    res = dc_bias_demo(device(), 0.05, bias_s=0.05, rest_s=0.01)
    assert res.peak_ratio[0] < FORMATION_RATIO
    assert math.isnan(res.formation_s[0]) and math.isnan(res.fading_s[0])
    assert res.path is None


def test_iv_sweep_demo(tmp_path):
    res = iv_sweep_demo(device(), 1.5, period_s=0.8, out=tmp_path / "iv.png")
    assert res.path is not None and res.path.read_bytes()[:4] == b"\x89PNG"
    np.testing.assert_array_equal(res.volts, triangle_wave(1.5, 0.8, 1, 1e-3))
    np.testing.assert_allclose(res.current, res.volts * res.conductance, rtol=1e-12)
    q = 200
    assert res.volts[q // 2] == res.volts[q + q // 2] == 0.75
    assert res.half_amplitude_currents == (
        res.current[q // 2],
        res.current[q + q // 2],
        res.current[2 * q + q // 2],
        res.current[3 * q + q // 2],
    )
    assert res.period_s == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: dc_bias_demo(d, ()), "bias_volts must hold at least one"),
        (lambda d: dc_bias_demo(d, 1.0, bias_s=0), "bias_s must be a positive"),
        (lambda d: dc_bias_demo(d, 1.0, rest_s=-1), "rest_s must be a positive"),
        (lambda d: iv_sweep_demo(d, 0.0), "amplitude_volts must be a positive"),
        (lambda d: iv_sweep_demo(d, 1.0, period_s=math.inf), "period_s must be"),
        (lambda d: iv_sweep_demo(d, 1.0, cycles=0), "cycles must be an integer"),
    ],
)
def test_demo_arguments_are_checked(call, message):
    with pytest.raises(ConfigError, match=message):
        call(device())


def test_scaled_network_keeps_the_density():
    for n in (300, 1000, 3000):
        p = scaled_network_params(n, seed=2)
        assert p.n_wires / p.chip_size_um**2 == pytest.approx(500 / 78.0**2)
        assert p.pad_size_um == 4.5 and p.seed == 2


def test_digit_like_stream():
    images = digit_like_images(40, seed=3)
    assert images.min() == 0.0 and images.max() == 1.0
    assert 0.75 < np.mean(images == 0.0) < 0.92  # MNIST: 0.81
    stream = digit_like_stream(3, 1000, seed=3, v_min=0.2, v_max=1.2)
    assert stream.shape == (3, 1000)
    assert stream.min() == pytest.approx(0.2) and stream.max() == pytest.approx(1.2)
    # replica 0 streams its first image row by row, then its second
    first = digit_like_images(6, seed=3)
    np.testing.assert_allclose(stream[0, :784], 0.2 + first[0].ravel())
    np.testing.assert_allclose(stream[0, 784:], 0.2 + first[1].ravel()[:216])
    np.testing.assert_allclose(
        digit_like_stream(3, 1000, seed=3), stream - 0.2, atol=1e-15
    )


def test_single_blas_thread_restores_the_count():
    from nwnrc.device._bench import _loaded_openblas

    libs = _loaded_openblas()
    before = [int(get()) for get, _ in libs]
    with single_blas_thread() as limited:
        assert limited == bool(libs)
        assert all(int(get()) == 1 for get, _ in libs)
    assert [int(get()) for get, _ in libs] == before
