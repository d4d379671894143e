"""The compiled engine against the dense reference on random networks.

The reference (:class:`nwnrc.device.DenseReferenceDevice`) keeps every junction, prunes
nothing, builds the full Laplacian and solves it with LAPACK at the actual source
voltage; the engine reduces the circuit, orders it, factorises it sparsely and scales a
unit-voltage solution. Agreement to 1e-9 relative, from states that mix formed, pristine
and half-formed filaments and through streams that switch junctions, checks the whole
chain of reductions and the compiled kernel.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from nwnrc.device import DenseReferenceDevice, JunctionParams, SimulatedDevice
from nwnrc.device._bench import single_blas_thread
from nwnrc.device._junction import conductances
from nwnrc.errors import NetworkError
from nwnrc.network import NetworkParams, generate_network

N_NETWORKS = 20
STEPS = 200
RTOL = 1e-9
#: The paper's readout pads first, then the other floating pads.
PREFERRED_READOUTS = (1, 2, 12, 13, 15, 0, 3, 5, 6, 7, 8, 9, 10, 14)


@functools.cache
def random_networks() -> list[tuple[int, object, tuple[int, ...], str]]:
    """Twenty networks of 100..300 wires at the default density.

    Chip and pads scale with the square root of the wire count. Seeds whose pads 4
    and 11 are not connected, or are shorted by a wire, are skipped. Readout pads
    are up to five floating pads of the driven component, the paper's first. Every
    other network uses the slow-decay preset.
    """
    sizes = np.linspace(100, 300, N_NETWORKS).round().astype(int)
    found = []
    seed = 0
    for k, n_wires in enumerate(sizes):
        while True:
            scale = math.sqrt(n_wires / 500)
            params = NetworkParams(
                n_wires=int(n_wires),
                chip_size_um=78.0 * scale,
                pad_size_um=4.5 * scale,
                seed=seed,
            )
            seed += 1
            net = generate_network(params)
            try:
                pads = net.pads_in_component([4, 11])
                SimulatedDevice(net, readout_pads=())
            except NetworkError:
                continue
            readout = tuple(p for p in PREFERRED_READOUTS if p in pads)[:5]
            preset = "slow_decay" if k % 2 else "hochstetter2021"
            found.append((params.seed, net, readout, preset))
            break
    return found


def mixed_states(
    n_replicas: int, n_junctions: int, p: JunctionParams, rng: np.random.Generator
) -> np.ndarray:
    """States a quarter each at +-lambda_max, at 0, near lambda_crit, and uniform."""
    kind = rng.integers(0, 4, size=(n_replicas, n_junctions))
    sign = rng.choice([-1.0, 1.0], size=kind.shape)
    near_crit = p.lambda_crit * rng.uniform(0.85, 1.05, size=kind.shape)
    uniform = rng.uniform(0.0, p.lambda_max, size=kind.shape)
    magnitude = np.select(
        [kind == 0, kind == 1, kind == 2], [p.lambda_max, 0.0, near_crit], uniform
    )
    return sign * magnitude


@functools.cache
def compared(index: int) -> tuple:
    """Run engine and reference on one network; cached for the tests below."""
    seed, net, readout, preset = random_networks()[index]
    p = JunctionParams.preset(preset)
    rng = np.random.default_rng(1000 + seed)
    n_all = len(net.junction_wires)

    # mixed states, then a stream of 1-3 V that flips polarity every 25 steps
    lam_all = mixed_states(1, n_all, p, rng)
    volts = rng.uniform(1.0, 3.0, size=(1, STEPS))
    volts *= np.repeat(rng.choice([-1.0, 1.0], size=STEPS // 25), 25)

    dev = SimulatedDevice(net, readout_pads=readout, junction=p, lanes=1)
    ref = DenseReferenceDevice(net, 4, 11, readout, junction=p)
    out = dev.run(volts, lam_all[:, dev.circuit.junction_index])
    with single_blas_thread():  # small dense solves: threads only wait on each other
        expect = ref.run(volts, lam_all)
    return dev, lam_all, out, expect


@pytest.mark.parametrize("index", range(N_NETWORKS))
def test_engine_matches_dense_reference(index):
    dev, _, out, expect = compared(index)
    jidx = dev.circuit.junction_index
    np.testing.assert_allclose(
        out.pad_voltages, expect.pad_voltages, rtol=RTOL, atol=1e-12
    )
    np.testing.assert_allclose(out.source_current, expect.source_current, rtol=RTOL)
    np.testing.assert_allclose(out.conductance, expect.conductance, rtol=RTOL)
    np.testing.assert_allclose(out.drain_current, expect.drain_current, rtol=RTOL)
    np.testing.assert_allclose(
        out.state, expect.state[:, jidx], rtol=RTOL, atol=RTOL * 0.015
    )


@pytest.mark.parametrize("index", range(N_NETWORKS))
def test_kirchhoff_source_current_equals_drain_current(index):
    _, _, out, expect = compared(index)
    for o in (out, expect):
        assert np.all(np.isfinite(o.source_current))
        np.testing.assert_allclose(o.drain_current, o.source_current, rtol=RTOL)


def test_the_comparison_covers_what_it_claims():
    """States span the full conductance range, streams switch junctions, and the
    networks exercise the circuit reductions."""
    switched = pruned = dropped = 0
    sizes = []
    for index, (_, net, _, preset) in enumerate(random_networks()):
        dev, lam_all, out, _ = compared(index)
        p = JunctionParams.preset(preset)
        sizes.append(net.n_wires)
        lam0 = lam_all[:, dev.circuit.junction_index]
        g0 = conductances(lam0[0], p.as_array())
        assert g0.min() == pytest.approx(1.0 / p.r_off, rel=1e-6)
        assert g0.max() == pytest.approx(1.0 / p.r_on + 1.0 / p.r_off, rel=1e-12)
        assert g0.max() / g0.min() > 999.0
        on_before = np.abs(lam0) >= p.lambda_crit
        on_after = np.abs(out.state) >= p.lambda_crit
        n_switched = int(np.count_nonzero(on_before != on_after))
        assert n_switched >= 1
        switched += n_switched
        pruned += dev.circuit.n_nodes_pruned > 0
        dropped += dev.circuit.n_wires_dropped > 0
    assert switched >= 40 * N_NETWORKS
    assert min(sizes) == 100 and max(sizes) == 300
    assert pruned >= N_NETWORKS // 2
    assert dropped >= 1
