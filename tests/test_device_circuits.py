"""Small circuits worked by hand: series junctions, a divider, a bridge, pruning.

Junction conductances come from the documented formula
``G = 1 / (R_t(s) + r_on) + 1 / r_off`` evaluated here; node voltages from Ohm's and
Kirchhoff's laws solved on paper (series sums, Cramer's rule for the bridge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from nwnrc.device import DenseReferenceDevice, SimulatedDevice
from nwnrc.errors import NetworkError

DT = 1e-3
R_ON, R_OFF = 12.9e3, 12.9e6
V_SET, V_RESET, B, LAMBDA_MAX = 0.01, 0.005, 10.0, 0.015


def g_by_hand(lam: float) -> float:
    """Conductance of the hochstetter2021 junction, from the module's formula."""
    s = max(5.0 * (0.01 - abs(lam)) / 0.01, 0.0)
    r_t = (2.0 / 0.17) * s / math.sqrt(0.81) * math.exp(10.19 * 0.81**2 * s)
    return 1.0 / (r_t / 4.71307e-5 + R_ON) + 1.0 / R_OFF


def law_by_hand(lam: float, v: float) -> float:
    """One Euler step of the threshold-flux law, written out."""
    if abs(v) > V_SET:
        lam += DT * (abs(v) - V_SET) * math.copysign(1.0, v)
    elif abs(v) < V_RESET and lam != 0.0:
        step = DT * B * (V_RESET - abs(v))
        lam = math.copysign(max(abs(lam) - step, 0.0), lam)
    return min(max(lam, -LAMBDA_MAX), LAMBDA_MAX)


@dataclass(frozen=True)
class TinyNetwork:
    n_wires: int
    junction_wires: np.ndarray
    pad_wires: tuple[np.ndarray, ...]


def tiny(n_wires: int, junctions: list[tuple[int, int]], pads: dict) -> TinyNetwork:
    pad_wires = tuple(np.array(pads.get(p, []), dtype=np.int64) for p in range(16))
    return TinyNetwork(n_wires, np.array(junctions, dtype=np.int64), pad_wires)


def test_two_wires_in_series_follow_i_equals_g_v():
    net = tiny(2, [(0, 1)], {4: [0], 11: [1]})
    dev = SimulatedDevice(net, readout_pads=())
    assert dev.circuit.n_nodes == 0
    out = dev.run(np.ones((1, 6)), np.array([[0.005]]))
    # 1 V across the junction: the state grows by 0.99 mV s per step
    lam = [0.005 + t * 0.99e-3 for t in range(7)]
    expected = np.array([g_by_hand(x) for x in lam[:6]])
    np.testing.assert_allclose(out.source_current[0], expected, rtol=1e-12)
    np.testing.assert_allclose(out.conductance[0], expected, rtol=1e-12)
    assert out.state[0, 0] == pytest.approx(lam[6], rel=1e-12)


@pytest.mark.parametrize("volts", [1.0, -0.7, 2.5])
def test_chain_of_three_junctions_is_a_voltage_divider(volts):
    # source pad 4 - wire 0 - j0 - wire 1 (pad 1) - j1 - wire 2 (pad 2) - j2 - wire 3
    net = tiny(4, [(0, 1), (1, 2), (2, 3)], {4: [0], 1: [1], 2: [2], 11: [3]})
    dev = SimulatedDevice(net, readout_pads=(1, 2))
    lam0 = [0.015, 0.0, 0.0092]
    out = dev.run(np.array([[volts]]), np.array([lam0]))

    r = [1.0 / g_by_hand(x) for x in lam0]
    total = sum(r)
    v1 = volts * (r[1] + r[2]) / total
    v2 = volts * r[2] / total
    np.testing.assert_allclose(out.pad_voltages[0, 0], [v1, v2], rtol=1e-12)
    assert out.source_current[0, 0] == pytest.approx(volts / total, rel=1e-12)
    assert out.drain_current[0, 0] == pytest.approx(volts / total, rel=1e-12)
    assert out.conductance[0, 0] == pytest.approx(1.0 / total, rel=1e-12)

    # the on junctions see about 1 mV and dissolve, the off one sees nearly all of V
    v_junction = [volts - v1, v1 - v2, v2]
    assert abs(v_junction[0]) < V_RESET and abs(v_junction[1]) > V_SET
    expected = [law_by_hand(x, v) for x, v in zip(lam0, v_junction, strict=True)]
    np.testing.assert_allclose(out.state[0], expected, rtol=1e-12, atol=1e-18)


def bridge() -> TinyNetwork:
    """Wheatstone bridge. Nodes: S = wire 0 (pad 4), D = wire 4 (pad 11),
    A = wires 1 and 2 (both under pad 1, with a junction between them that the pad
    shorts), B = wire 3 (under pads 2 and 13)."""
    junctions = [(0, 1), (0, 3), (2, 4), (3, 4), (2, 3), (1, 2)]
    pads = {4: [0], 1: [1, 2], 2: [3], 13: [3], 11: [4]}
    return tiny(5, junctions, pads)


def bridge_by_hand(g: list[float], volts: float) -> tuple[float, float, float]:
    """Voltages of A and B and the source current, by Cramer's rule."""
    g1, g2, g3, g4, g5 = g  # S-A, S-B, A-D, B-D, A-B
    a11, a12, a22 = g1 + g3 + g5, -g5, g2 + g4 + g5
    det = a11 * a22 - a12 * a12
    va = volts * (g1 * a22 - a12 * g2) / det
    vb = volts * (a11 * g2 - a12 * g1) / det
    return va, vb, g1 * (volts - va) + g2 * (volts - vb)


@pytest.mark.parametrize(
    "lam",
    [
        [0.015, 0.015, 0.0, 0.0, 0.0093],  # balanced: A and B at one voltage
        [0.015, 0.0, 0.0, 0.015, 0.015],  # crossed: the bridge carries the current
        [0.009, 0.0095, 0.0098, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0],
    ],
)
def test_wheatstone_bridge_with_a_shorted_junction(lam):
    net = bridge()
    dev = SimulatedDevice(net, readout_pads=(1, 2, 13))
    # the junction between wires 1 and 2 lies under pad 1 and is not simulated
    assert dev.circuit.junction_index.tolist() == [0, 1, 2, 3, 4]
    out = dev.run(np.array([[1.3]]), np.array([lam]))
    va, vb, current = bridge_by_hand([g_by_hand(x) for x in lam], 1.3)
    np.testing.assert_allclose(out.pad_voltages[0, 0], [va, vb, vb], rtol=1e-11)
    assert out.source_current[0, 0] == pytest.approx(current, rel=1e-11)
    assert out.drain_current[0, 0] == pytest.approx(current, rel=1e-11)
    if lam[0] == lam[1] and lam[2] == lam[3]:
        assert va == pytest.approx(vb, rel=1e-12)

    # the dense reference keeps the shorted junction; it sees 0 V and dissolves
    ref = DenseReferenceDevice(net, 4, 11, (1, 2, 13))
    r = ref.run(np.array([[1.3]]), np.array([[*lam, 0.004]]))
    np.testing.assert_allclose(r.pad_voltages, out.pad_voltages, rtol=1e-11)
    np.testing.assert_allclose(r.state[0, :5], out.state[0], rtol=1e-11, atol=1e-18)
    assert r.state[0, 5] == pytest.approx(0.004 - B * V_RESET * DT, rel=1e-12)


def dangling() -> TinyNetwork:
    """A two-junction path with a tree hanging off its middle wire, a shorted
    junction under the source pad and a separate component of two wires.

    Path: wire 0 (pads 4) - wire 1 (pad 5) - wire 2 (pad 11).
    Tree: 1 - 3, 3 - 4 (wire 4 under floating pad 7, not read), 3 - 5 (wire 5 under
    readout pad 13). Wire 8 also lies under pad 4; junction 0 - 8 is shorted.
    Separate: 6 - 7, wire 7 under pad 14.
    """
    junctions = [(0, 1), (1, 2), (1, 3), (3, 4), (3, 5), (6, 7), (0, 8)]
    pads = {4: [0, 8], 5: [1], 11: [2], 7: [4], 13: [5], 14: [7]}
    return tiny(9, junctions, pads)


def test_dangling_trees_are_pruned_and_read_correctly():
    net = dangling()
    dev = SimulatedDevice(net, readout_pads=(5, 13))
    c = dev.circuit
    assert c.n_wires_dropped == 2  # wires 6 and 7
    assert c.n_nodes_pruned == 1  # wire 4 under the floating pad 7
    assert sorted(c.junction_index.tolist()) == [0, 1, 2, 4]

    lam_all = np.array([0.012, 0.0, 0.011, 0.008, 0.013, 0.01, 0.006])
    steps = 40
    volts = np.full((1, steps), 0.8)
    out = dev.run(volts, lam_all[c.junction_index][None, :])

    # Step 0 by hand: the tree carries no current, so pad 13 reads wire 1's voltage.
    r1, r2 = 1.0 / g_by_hand(0.012), 1.0 / g_by_hand(0.0)
    v_mid = 0.8 * r2 / (r1 + r2)
    np.testing.assert_allclose(out.pad_voltages[0, 0], [v_mid, v_mid], rtol=1e-12)
    assert out.source_current[0, 0] == pytest.approx(0.8 / (r1 + r2), rel=1e-12)

    # The reference prunes nothing; it agrees everywhere, and every junction that
    # carries no current (tree, shorted, separate) dissolves at b * v_reset.
    ref = DenseReferenceDevice(net, 4, 11, (5, 13))
    r = ref.run(volts, lam_all[None, :])
    for name in ("pad_voltages", "source_current", "drain_current", "conductance"):
        np.testing.assert_allclose(
            getattr(out, name), getattr(r, name), rtol=1e-10, err_msg=name
        )
    np.testing.assert_allclose(
        out.state[0], r.state[0, c.junction_index], rtol=1e-10, atol=1e-18
    )
    for j in (2, 3, 4, 5, 6):
        decayed = max(lam_all[j] - steps * B * V_RESET * DT, 0.0)
        assert r.state[0, j] == pytest.approx(decayed, rel=1e-9, abs=1e-15)
        if j in c.junction_index:
            k = int(np.nonzero(c.junction_index == j)[0][0])
            assert out.state[0, k] == pytest.approx(decayed, rel=1e-9, abs=1e-15)


def test_pruned_readout_chain_keeps_the_floating_voltage():
    # A readout pad at the end of a three-wire tail: the tail stays, and reads the
    # voltage of the wire it hangs from.
    junctions = [(0, 1), (1, 2), (1, 3), (3, 4), (4, 5)]
    net = tiny(6, junctions, {4: [0], 11: [2], 15: [5]})
    dev = SimulatedDevice(net, readout_pads=(15,))
    assert dev.circuit.n_nodes_pruned == 0
    lam = np.array([[0.0, 0.015, 0.015, 0.0, 0.01]])
    out = dev.run(np.array([[2.0]]), lam)
    r1, r2 = 1.0 / g_by_hand(0.0), 1.0 / g_by_hand(0.015)
    assert out.pad_voltages[0, 0, 0] == pytest.approx(2.0 * r2 / (r1 + r2), rel=1e-12)


@pytest.mark.parametrize(("pad", "reads"), [(5, 1.0), (10, 0.0)])
def test_readout_pad_shorted_to_a_driven_pad_reads_its_voltage(pad, reads):
    # wire 3 lies under pad 4 (source) and pad 5; wire 4 under pad 11 (drain) and 10
    junctions = [(0, 1), (1, 2), (1, 3), (2, 4)]
    net = tiny(5, junctions, {4: [0, 3], 5: [3], 11: [2, 4], 10: [4], 1: [1]})
    dev = SimulatedDevice(net, readout_pads=(1, pad))
    lam = np.array([[0.0, 0.015, 0.0, 0.0]])
    # junction 2 - 4 lies under the drain pad and is not simulated
    assert dev.circuit.junction_index.tolist() == [0, 1, 2]
    out = dev.run(np.array([[1.7, -0.4]]), lam[:, :3])
    np.testing.assert_allclose(out.pad_voltages[0, :, 1], [1.7 * reads, -0.4 * reads])
    # wire 1 sits between two parallel off junctions to the source and an on one
    # to the drain
    g_off, g_on = g_by_hand(0.0), g_by_hand(0.015)
    v1 = 1.7 * 2 * g_off / (2 * g_off + g_on)
    assert out.pad_voltages[0, 0, 0] == pytest.approx(v1, rel=1e-12)
    ref = DenseReferenceDevice(net, 4, 11, (1, pad))
    r = ref.run(np.array([[1.7, -0.4]]), lam)
    np.testing.assert_allclose(r.pad_voltages, out.pad_voltages, rtol=1e-12)


def test_reference_refuses_a_readout_pad_outside_the_driven_component():
    net = tiny(4, [(0, 1), (2, 3)], {4: [0], 11: [1], 15: [3]})
    with pytest.raises(NetworkError, match="outside the driven component"):
        DenseReferenceDevice(net, 4, 11, (15,))
