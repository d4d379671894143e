"""The threshold-flux junction law, worked by hand.

Every expected value below comes from the equations in the ``nwnrc.device._junction``
module docstring, evaluated here with plain Python arithmetic. The law is checked
twice: in the compiled helpers (used by the dense reference) and inside the stepping
engine, through a one-junction device whose junction sees the full source voltage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from nwnrc.device import JunctionParams, SimulatedDevice
from nwnrc.device._junction import (
    filament_step,
    filament_steps,
    junction_conductance,
)
from nwnrc.errors import ConfigError

P = JunctionParams.preset("hochstetter2021")
PARAMS = P.as_array()
DT = 1e-3


def r_tunnel_by_hand(s_nm: float) -> float:
    """R_t(s) = (2 / A) s / sqrt(phi) exp(C0 phi^2 s) / J1, in ohms."""
    a, phi, c0, j1 = 0.17, 0.81, 10.19, 4.71307e-5
    return (2.0 / a) * s_nm / math.sqrt(phi) * math.exp(c0 * phi**2 * s_nm) / j1


@dataclass(frozen=True)
class TinyNetwork:
    n_wires: int
    junction_wires: np.ndarray
    pad_wires: tuple[np.ndarray, ...]


def one_junction_network() -> TinyNetwork:
    """Wire 0 under the source pad 4, wire 1 under the drain pad 11, one junction."""
    pads = [np.zeros(0, dtype=np.int64) for _ in range(16)]
    pads[4] = np.array([0])
    pads[11] = np.array([1])
    return TinyNetwork(2, np.array([[0, 1]]), tuple(pads))


def engine_step(lam0: list[float], volts: list[float]) -> np.ndarray:
    """One engine step per replica; return the filament states after it."""
    dev = SimulatedDevice(one_junction_network(), readout_pads=(), lanes=4)
    out = dev.run(np.array(volts)[:, None], np.array(lam0)[:, None])
    return out.state[:, 0]


# (lambda before, junction voltage, lambda after): each worked from the law.
CASES = [
    # growth above v_set: + (|V| - v_set) dt
    (0.0, 1.0, (1.0 - 0.01) * DT),
    (0.004, 0.5, 0.004 + (0.5 - 0.01) * DT),
    # a voltage just above v_set grows by a sliver
    (0.002, 0.011, 0.002 + 0.001 * DT),
    # dead zone v_reset <= |V| <= v_set: no change, both ends included
    (0.007, 0.0075, 0.007),
    (0.007, 0.01, 0.007),
    (0.007, 0.005, 0.007),
    (-0.003, -0.008, -0.003),
    # decay below v_reset: - b (v_reset - |V|) dt, towards zero
    (0.007, 0.0, 0.007 - 10.0 * 0.005 * DT),
    (0.007, 0.002, 0.007 - 10.0 * 0.003 * DT),
    (-0.007, -0.001, -0.007 + 10.0 * 0.004 * DT),
    # decay never crosses zero (a full step would take 5e-5 V s)
    (1e-5, 0.0, 0.0),
    (-2e-5, 0.001, 0.0),
    # a pristine junction stays pristine at low voltage
    (0.0, 0.003, 0.0),
    # clipping at lambda_max
    (0.0149, 3.0, 0.015),
    (-0.0149, -3.0, -0.015),
    (0.015, 0.2, 0.015),
    # a reversed voltage drives the filament back through zero
    (0.0005, -1.0, 0.0005 - 0.99 * DT),
    (0.003, -2.0, 0.003 - 1.99 * DT),
]


@pytest.mark.parametrize(("lam", "v", "expected"), CASES)
def test_compiled_filament_step_by_hand(lam, v, expected):
    assert filament_step(lam, v, DT, PARAMS) == pytest.approx(expected, abs=1e-15)


def test_engine_filament_step_by_hand():
    lam0 = [c[0] for c in CASES]
    volts = [c[1] for c in CASES]
    expected = np.array([c[2] for c in CASES])
    np.testing.assert_allclose(engine_step(lam0, volts), expected, rtol=0, atol=1e-15)


def test_array_helper_matches_scalar_law():
    lam = np.array([c[0] for c in CASES]).reshape(3, -1)
    v = np.array([c[1] for c in CASES]).reshape(3, -1)
    expected = np.array([c[2] for c in CASES]).reshape(3, -1)
    np.testing.assert_allclose(filament_steps(lam, v, DT, PARAMS), expected, atol=1e-15)


def test_sign_symmetry():
    rng = np.random.default_rng(5)
    lam = rng.uniform(-0.015, 0.015, 200)
    v = rng.choice([-1, 1], 200) * rng.uniform(0, 0.03, 200)
    plus = engine_step(lam.tolist(), v.tolist())
    minus = engine_step((-lam).tolist(), (-v).tolist())
    np.testing.assert_array_equal(minus, -plus)
    g_plus = [junction_conductance(x, PARAMS) for x in lam]
    g_minus = [junction_conductance(-x, PARAMS) for x in lam]
    assert g_plus == g_minus


def test_decay_from_lambda_max_takes_the_forgetting_time():
    # 0.015 V s at 10 * 5 mV = 0.05 V/s: 300 steps of 1 ms, exactly.
    dev = SimulatedDevice(one_junction_network(), readout_pads=(), lanes=1)
    out = dev.run(np.zeros((1, 299)), np.full((1, 1), 0.015))
    assert out.state[0, 0] == pytest.approx(0.015 - 299 * 5e-5, rel=1e-9)
    out = dev.run(np.zeros((1, 1)), out.state)
    assert 0.0 <= out.state[0, 0] < 1e-15  # the 300th step, up to rounding
    out = dev.run(np.zeros((1, 5)), out.state)
    assert out.state[0, 0] == 0.0
    assert P.forgetting_time_s == pytest.approx(0.3)


def test_conductance_at_zero_and_at_lambda_crit():
    g_off = 1.0 / (r_tunnel_by_hand(5.0) + 12.9e3) + 1.0 / 12.9e6
    g_on = 1.0 / 12.9e3 + 1.0 / 12.9e6
    assert g_on == pytest.approx(7.759689922e-05, rel=1e-9)
    assert junction_conductance(0.0, PARAMS) == pytest.approx(g_off, rel=1e-12)
    # the pristine gap of 5 nm leaves only the leakage of the coating
    assert g_off == pytest.approx(1.0 / 12.9e6, rel=1e-12)
    for lam in (0.01, -0.01, 0.0125, 0.015):
        assert junction_conductance(lam, PARAMS) == pytest.approx(g_on, rel=1e-12)
    assert g_on / g_off == pytest.approx(1001.0, rel=1e-9)


def test_tunnelling_resistance_at_one_nanometre():
    # Worked on paper: exp(10.19 * 0.81^2) = exp(6.685659) = 801.17...;
    # (2 / 0.17) / 0.9 = 13.0719; 13.0719 * 801.17 / 4.71307e-5 = 2.2212e8 ohm.
    assert r_tunnel_by_hand(1.0) == pytest.approx(2.2212e8, rel=1e-4)
    # A gap of 1 nm is lambda = lambda_crit * (1 - 1 / 5) = 0.008 V s.
    g = junction_conductance(0.008, PARAMS)
    r_t = 1.0 / (g - 1.0 / 12.9e6) - 12.9e3
    assert r_t == pytest.approx(2.2212e8, rel=1e-4)
    assert g == pytest.approx(
        1.0 / (r_tunnel_by_hand(1.0) + 12.9e3) + 1.0 / 12.9e6, rel=1e-12
    )


@pytest.mark.parametrize("lam", [0.002, 0.005, 0.0085, 0.0095, 0.0099])
def test_conductance_between_the_ends(lam):
    s = 5.0 * (0.01 - lam) / 0.01
    expected = 1.0 / (r_tunnel_by_hand(s) + 12.9e3) + 1.0 / 12.9e6
    assert junction_conductance(lam, PARAMS) == pytest.approx(expected, rel=1e-12)


def test_engine_current_is_g_times_v_on_one_junction():
    # In the dead zone the state holds, so every step reads G(lambda) * V.
    lam = np.array([[0.0], [0.005], [0.008], [0.0095], [0.01], [0.015]])
    v = 0.0075
    dev = SimulatedDevice(one_junction_network(), readout_pads=(), lanes=8)
    out = dev.run(np.full((6, 20), v), lam)
    for r, (x,) in enumerate(lam):
        s = max(5.0 * (0.01 - abs(x)) / 0.01, 0.0)
        g = 1.0 / (r_tunnel_by_hand(s) + 12.9e3) + 1.0 / 12.9e6
        np.testing.assert_allclose(out.conductance[r], g, rtol=1e-12)
        np.testing.assert_allclose(out.source_current[r], g * v, rtol=1e-12)
        np.testing.assert_allclose(out.drain_current[r], g * v, rtol=1e-12)
    np.testing.assert_array_equal(out.state, lam)


def test_slow_decay_preset_values():
    p = JunctionParams.preset("slow_decay")
    assert (p.v_reset, p.lambda_crit, p.lambda_max) == (1e-3, 0.1, 0.15)
    assert (p.r_on, p.r_off) == (10e3, 10e6)
    assert p.forgetting_time_s == pytest.approx(0.15 / (10 * 1e-3))


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"v_set": -1.0}, "v_set"),
        ({"v_reset": 0.02}, "v_reset"),
        ({"lambda_max": 0.005}, "lambda_max"),
        ({"r_off": 1e3}, "r_off"),
        ({"b": float("nan")}, "b"),
    ],
)
def test_bad_junction_parameters(kwargs, word):
    with pytest.raises(ConfigError, match=word):
        JunctionParams(**kwargs)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown junction preset 'nope'"):
        JunctionParams.preset("nope")
