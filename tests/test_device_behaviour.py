"""Device behaviour on the default network: path formation, fading, I-V hysteresis,
and the bookkeeping of replicas, lanes and continued streams."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nwnrc.device import JunctionParams, SimulatedDevice
from nwnrc.network import NetworkParams, generate_network


@functools.cache
def device() -> SimulatedDevice:
    return SimulatedDevice(generate_network(NetworkParams(seed=0)))


def test_dc_bias_forms_a_path_that_fades_after_removal():
    dev = device()
    bias_steps, rest_steps = 300, 400
    volts = np.concatenate([np.full(bias_steps, 1.0), np.zeros(rest_steps)])
    out = dev.run(volts)
    g = out.conductance[0]
    g0 = g[0]

    # formation: up at least a hundredfold under the bias
    assert g[:bias_steps].max() > 100 * g0
    assert g[bias_steps - 1] > 100 * g0
    # fading: with no input every filament dissolves at b * v_reset = 0.05 V s/s,
    # so no junction and hence no path can conduct more from step to step
    after = g[bias_steps:]
    assert np.all(np.diff(after) <= 1e-12 * after[:-1])
    assert after[150] < 10 * g0
    # and a filament at lambda_max = 0.015 V s is gone after 0.3 s
    np.testing.assert_array_equal(out.state, 0.0)
    assert g[-1] == pytest.approx(g0, rel=1e-12)


def test_network_conductance_scales_with_the_junction_conductance():
    # All junctions pristine or all formed: the Laplacian scales by
    # G_on / G_off = (1 / r_on + 1 / r_off) / (1 / r_off) = 1001.
    dev = device()
    p = JunctionParams.preset("hochstetter2021")
    lam = np.zeros((2, dev.n_junctions))
    lam[1] = p.lambda_max
    out = dev.run(np.full((2, 1), 0.5), lam)
    assert out.conductance[1, 0] / out.conductance[0, 0] == pytest.approx(
        1001.0, rel=1e-9
    )
    # the readouts of a uniformly scaled network do not change
    np.testing.assert_allclose(
        out.pad_voltages[1], out.pad_voltages[0], rtol=1e-9, atol=1e-15
    )


def test_triangular_sweep_gives_a_pinched_hysteresis_loop():
    dev = device()
    quarter = 250
    k = np.arange(quarter + 1)
    up = k / quarter  # 0 -> 1 V
    volts = np.concatenate([up, up[-2::-1], -up[1:], -up[-2::-1]])  # one cycle
    out = dev.run(volts)
    current = out.source_current[0]

    # pinched: no current wherever the voltage is zero
    zeros = np.nonzero(volts == 0.0)[0]
    assert zeros.tolist() == [0, 2 * quarter, 4 * quarter]
    np.testing.assert_array_equal(current[zeros], 0.0)

    # hysteresis: at the same voltage the current on the way up (step i) and on the
    # way down (step 2 * quarter - i) differ
    rise = current[1:quarter]
    fall = current[2 * quarter - 1 : quarter : -1]
    np.testing.assert_array_equal(
        volts[1:quarter], volts[2 * quarter - 1 : quarter : -1]
    )
    relative = np.abs(rise - fall) / np.maximum(np.abs(rise), np.abs(fall))
    assert relative.max() > 0.5
    # the same on the negative half
    neg = slice(2 * quarter + 1, 3 * quarter)
    neg_back = slice(4 * quarter - 1, 3 * quarter, -1)
    np.testing.assert_array_equal(volts[neg], volts[neg_back])
    relative = np.abs(current[neg] - current[neg_back]) / np.abs(current[neg])
    assert relative.max() > 0.5
    # and current follows the sign of the voltage (a passive network)
    assert np.all(current * volts >= 0.0)


def stream(n_replicas: int, n_steps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 2.0, (n_replicas, n_steps)) * rng.integers(
        0, 2, (n_replicas, n_steps)
    )


def assert_same_output(a, b, rtol=1e-12):
    for name in ("pad_voltages", "source_current", "drain_current", "conductance"):
        np.testing.assert_allclose(
            getattr(a, name), getattr(b, name), rtol=rtol, atol=1e-18, err_msg=name
        )
    np.testing.assert_allclose(a.state, b.state, rtol=rtol, atol=1e-18)


def test_identical_replicas_give_identical_outputs():
    dev = device()
    out = dev.run(np.repeat(stream(1, 150, 1), 6, axis=0))
    for name in ("pad_voltages", "source_current", "conductance", "state"):
        values = getattr(out, name)
        for r in range(1, 6):
            np.testing.assert_array_equal(values[r], values[0])


def test_replicas_are_independent():
    dev = device()
    volts = stream(5, 150, 2)
    together = dev.run(volts)
    for r in range(5):
        alone = dev.run(volts[r])
        for name in ("pad_voltages", "source_current", "conductance", "state"):
            np.testing.assert_allclose(
                getattr(together, name)[r],
                getattr(alone, name)[0],
                rtol=1e-12,
                atol=1e-18,
                err_msg=name,
            )


@pytest.mark.parametrize("lanes", [1, 3, 16])
def test_results_do_not_depend_on_lanes(lanes):
    net = device().network
    volts = stream(7, 120, 3)
    base = SimulatedDevice(net, lanes=8).run(volts)
    assert_same_output(SimulatedDevice(net, lanes=lanes).run(volts), base)


def test_continuing_from_a_returned_state_equals_one_long_run():
    dev = device()
    volts = stream(3, 240, 4)
    whole = dev.run(volts)
    first = dev.run(volts[:, :100])
    second = dev.run(volts[:, 100:], first.state)
    for name in ("pad_voltages", "source_current", "conductance"):
        joined = np.concatenate([getattr(first, name), getattr(second, name)], axis=1)
        np.testing.assert_allclose(
            joined, getattr(whole, name), rtol=1e-12, atol=1e-18, err_msg=name
        )
    np.testing.assert_allclose(second.state, whole.state, rtol=1e-12, atol=1e-18)
    # the input state is not modified
    before = first.state.copy()
    dev.run(volts[:, :10], first.state)
    np.testing.assert_array_equal(first.state, before)


def test_one_dimensional_stream_is_one_replica():
    dev = device()
    volts = stream(1, 50, 5)
    assert_same_output(dev.run(volts[0]), dev.run(volts))
