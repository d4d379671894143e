"""Bad networks, pads, streams and states: typed errors that name the problem."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from nwnrc.device import SimulatedDevice
from nwnrc.errors import ConfigError, NetworkError, StreamError


@dataclass(frozen=True)
class TinyNetwork:
    n_wires: int
    junction_wires: np.ndarray
    pad_wires: tuple[np.ndarray, ...]


def tiny(n_wires: int, junctions: list[tuple[int, int]], pads: dict) -> TinyNetwork:
    pad_wires = tuple(np.array(pads.get(p, []), dtype=np.int64) for p in range(16))
    junction_wires = np.array(junctions, dtype=np.int64).reshape(-1, 2)
    return TinyNetwork(n_wires, junction_wires, pad_wires)


def chain() -> TinyNetwork:
    """Source pad 4 - wire 0 - wire 1 (pad 1) - wire 2 - wire 3 (pad 11);
    wires 4 and 5 apart, under pad 15 and pad 0."""
    return tiny(
        6,
        [(0, 1), (1, 2), (2, 3), (4, 5)],
        {4: [0], 1: [1], 11: [3], 15: [5], 0: [4], 3: [2]},
    )


@pytest.mark.parametrize(
    ("net", "kwargs", "message"),
    [
        (tiny(0, [], {}), {}, "the network has no wires"),
        (chain(), {"readout_pads": (7,)}, "pad 7 \\(readout_pads\\) touches no wire"),
        (chain(), {"source_pad": 9}, "pad 9 \\(source_pad\\) touches no wire"),
        (chain(), {"drain_pad": 4}, "source_pad and drain_pad must differ, both are 4"),
        (chain(), {"drain_pad": 15}, "are not connected by the network"),
        (chain(), {"readout_pads": (15,)}, "readout pad 15 is not connected"),
        (chain(), {"readout_pads": (4,)}, "readout pad 4 is driven"),
        (chain(), {"readout_pads": (1, 11)}, "readout pad 11 is driven"),
        (chain(), {"readout_pads": (1, 1)}, "readout_pads has repeats"),
        (
            chain(),
            {"readout_pads": (16,)},
            "readout_pads must be a pad number in 0..15",
        ),
        (chain(), {"source_pad": -1}, "source_pad must be a pad number in 0..15"),
        (
            tiny(3, [(0, 1), (1, 2)], {4: [0, 2], 11: [2]}),
            {"readout_pads": ()},
            "a wire touches both the source pad 4 and the drain pad 11",
        ),
    ],
)
def test_bad_networks_and_pads(net, kwargs, message):
    kwargs = {"readout_pads": (1,), **kwargs}
    with pytest.raises(NetworkError, match=message):
        SimulatedDevice(net, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dt": 0.0}, "dt must be a positive number of seconds, got 0.0"),
        ({"dt": float("nan")}, "dt must be a positive number"),
        ({"lanes": 0}, "lanes must be an integer in 1..64, got 0"),
        ({"lanes": 2.5}, "lanes must be an integer"),
        ({"junction": "fast"}, "unknown junction preset 'fast'"),
    ],
)
def test_bad_device_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SimulatedDevice(chain(), readout_pads=(1,), **kwargs)


@pytest.fixture(scope="module")
def dev() -> SimulatedDevice:
    return SimulatedDevice(chain(), readout_pads=(1,))


@pytest.mark.parametrize(
    ("volts", "message"),
    [
        (
            np.ones((2, 3, 4)),
            "volts must have shape \\(replicas, steps\\).*\\(2, 3, 4\\)",
        ),
        (np.ones((2, 0)), "volts must have shape .*got shape \\(2, 0\\)"),
        (np.ones((0, 5)), "volts must have shape .*got shape \\(0, 5\\)"),
        (np.ones(0), "volts must have shape"),
        (np.float64(1.0), "volts must have shape"),
        ([[1.0, np.nan, 1.0]], "NaN or infinite value at replica 0, step 1"),
        ([[1.0, 1.0], [1.0, np.inf]], "NaN or infinite value at replica 1, step 1"),
        ([[-np.inf]], "NaN or infinite value at replica 0, step 0"),
    ],
)
def test_bad_streams(dev, volts, message):
    with pytest.raises(StreamError, match=message):
        dev.run(volts)


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (
            np.zeros((1, 2)),
            "state must have shape \\(replicas, junctions\\) = "
            "\\(2, 3\\), got \\(1, 2\\)",
        ),
        (np.zeros((2, 4)), "got \\(2, 4\\)"),
        (np.zeros(3), "got \\(3,\\)"),
        (np.array([[0.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), "NaN or infinite filament"),
    ],
)
def test_bad_states(dev, state, message):
    with pytest.raises(StreamError, match=message):
        dev.run(np.ones((2, 4)), state)


def test_extreme_inputs_stay_finite(dev):
    # kilovolt inputs and states beyond lambda_max: clipped, never NaN
    volts = np.array([[1e3, -1e3, 0.0, 1e-300, 5e2], [0.0, 0.0, 0.0, 0.0, 0.0]])
    state = np.array([[1.0, -1.0, 0.02], [1e-3, -1e-3, 0.0]])
    out = dev.run(volts, state)
    for values in (out.pad_voltages, out.source_current, out.conductance, out.state):
        assert np.all(np.isfinite(values))
    assert np.all(np.abs(out.state) <= 0.015)
