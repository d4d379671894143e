"""Simulated devices: junction model, circuit, compiled stepping engine.

A device turns input voltage streams into readouts: electrode (pad) voltages, source
current and network conductance.
"""

from nwnrc.device._circuit import Circuit, build_circuit, minimum_degree_order
from nwnrc.device._device import (
    DEFAULT_DRAIN_PAD,
    DEFAULT_READOUT_PADS,
    DEFAULT_SOURCE_PAD,
    DeviceOutput,
    SimulatedDevice,
)
from nwnrc.device._junction import PRESETS, JunctionParams
from nwnrc.device._reference import DenseReferenceDevice

__all__ = [
    "DEFAULT_DRAIN_PAD",
    "DEFAULT_READOUT_PADS",
    "DEFAULT_SOURCE_PAD",
    "PRESETS",
    "Circuit",
    "DenseReferenceDevice",
    "DeviceOutput",
    "JunctionParams",
    "SimulatedDevice",
    "build_circuit",
    "minimum_degree_order",
]
