"""Readouts of the real simulator written as instruments write them (for the tests).

A tiny simulated network streams a dozen synthetic digits; its pad voltages and
source current become the analog-input channels of an NI DAQ task (a TDMS file in the
layout NI-DAQmx logging writes), a CSV export or NumPy arrays, behind a stretch of
idle junk before the stimulus starts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nwnrc.data._encoding import encode_images
from nwnrc.device import SimulatedDevice
from nwnrc.network import NetworkParams, generate_network
from synthetic_digits import synthetic_digits

N_DIGITS = 12
STEPS = 784
DT = 1e-3
V_MIN, V_MAX = 0.0, 2.0
PADS = (1, 2, 12)
SOURCE_PAD, DRAIN_PAD = 4, 11
GAIN = 1e4  # V/A of the transimpedance amplifier on the source
JUNK = 137  # idle values before the stimulus starts
START = np.datetime64("2024-05-17T10:21:03.250000")


@dataclass(frozen=True)
class Simulated:
    """What the device gave, per sample: the arrays an import must reproduce."""

    stimulus: np.ndarray  # (samples, steps), in [0, 1]
    input: np.ndarray  # (samples, steps), V
    pads: np.ndarray  # (samples, channels, steps), V
    current: np.ndarray  # (samples, steps), A
    labels: np.ndarray


@functools.cache
def simulated() -> Simulated:
    """Stream the digits through a 150-wire network in one continuous run."""
    net = generate_network(NetworkParams(n_wires=150, chip_size_um=42.0, seed=2))
    device = SimulatedDevice(
        net, source_pad=SOURCE_PAD, drain_pad=DRAIN_PAD, readout_pads=PADS, dt=DT
    )
    images, labels = synthetic_digits(N_DIGITS, seed=5)
    stimulus = images.reshape(N_DIGITS, STEPS) / 255.0
    volts = encode_images(stimulus, V_MIN, V_MAX)
    out = device.run(volts.reshape(1, -1))
    pads = out.pad_voltages[0].reshape(N_DIGITS, STEPS, len(PADS)).transpose(0, 2, 1)
    return Simulated(
        stimulus=stimulus,
        input=volts,
        pads=np.ascontiguousarray(pads),
        current=out.source_current[0].reshape(N_DIGITS, STEPS),
        labels=labels,
    )


def raw_channels(
    sim: Simulated, junk: int = JUNK, seed: int = 0
) -> dict[str, tuple[np.ndarray, str]]:
    """DAQ channels (values, unit): the input on ai0, pads 1 and 2 in V on ai1 and
    ai2, pad 12 in mV on ai3, the current amplifier's output (V) on ai4."""
    rng = np.random.default_rng(seed)

    def stream(x: np.ndarray, scale: float) -> np.ndarray:
        idle = rng.normal(0.0, 0.01, junk)
        return np.concatenate([idle, x.ravel()]) * scale

    return {
        "ai0": (stream(sim.input, 1.0), "V"),
        "ai1": (stream(sim.pads[:, 0], 1.0), "V"),
        "ai2": (stream(sim.pads[:, 1], 1.0), "V"),
        "ai3": (stream(sim.pads[:, 2], 1e3), "mV"),
        "ai4": (stream(sim.current * GAIN, 1.0), "V"),
    }


PAD_MAP = {"ai1": 1, "ai2": 2, "ai3": 12}


def write_daq_tdms(
    path: Path,
    channels: dict[str, tuple[np.ndarray, str]],
    *,
    dt: dict[str, float] | None = None,
    start_offset: dict[str, float] | None = None,
    group: str = "Dev1 task",
    segments: int = 3,
) -> Path:
    """Write channels as NI-DAQmx logging does: root and group properties, one
    channel per analog input with its waveform properties, data in segments."""
    from nptdms import ChannelObject, GroupObject, RootObject, TdmsWriter

    dt = dt or {}
    start_offset = start_offset or {}
    root = RootObject(
        properties={
            "name": "nanowire run 7",
            "NI_ExpTimeStamp": START,
            "author": "device lab",
        }
    )
    grp = GroupObject(
        group,
        properties={"NI_ExpStartTimeStamp": START, "NI_ExpIsRelativeTime": False},
    )
    with TdmsWriter(path) as writer:
        for k in range(segments):
            objects: list[object] = [root, grp] if k == 0 else []
            for name, (values, unit) in channels.items():
                piece = np.array_split(values, segments)[k]
                props = {}
                if k == 0:
                    props = {
                        "wf_increment": dt.get(name, DT),
                        "wf_start_offset": start_offset.get(name, 0.0),
                        "wf_start_time": START,
                        "wf_samples": len(values),
                        "unit_string": unit,
                        "NI_ChannelName": f"Dev1/{name}",
                        "NI_UnitDescription": "Volts" if unit == "V" else unit,
                    }
                objects.append(ChannelObject(group, name, piece, properties=props))
            writer.write_segment(objects)
    return path
