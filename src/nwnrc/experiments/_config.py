"""Plain-dict round trips of experiment configurations (for metrics.json)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any, Self

from nwnrc.errors import ConfigError

#: Config fields that define the simulated device (network, pads, junctions, input
#: encoding, time step): part of every experiment's stream stamp.
DEVICE_FIELDS = (
    "n_wires",
    "network_seed",
    "chip_size_um",
    "length_mean_um",
    "length_std_um",
    "pad_size_um",
    "source_pad",
    "drain_pad",
    "junction",
    "v_min",
    "v_max",
    "dt",
)


class ConfigDict:
    """Mixin for frozen dataclass configs: ``to_dict`` and ``from_dict``.

    Tuple-valued fields (those whose default is a tuple) are written as JSON lists and
    read back as tuples; unknown keys are refused.
    """

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for metrics.json)."""
        d = asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`ConfigError`."""
        if not isinstance(data, dict):
            raise ConfigError(
                f"a {cls.__name__} must be a JSON object of field: value pairs, got "
                f"{type(data).__name__}"
            )
        known = fields(cls)  # type: ignore[arg-type]
        unknown = set(data) - {f.name for f in known}
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} keys: {sorted(unknown)}; valid keys are "
                f"{sorted(f.name for f in known)}"
            )
        by_name = {f.name: f for f in known}
        d: dict[str, Any] = {}
        for key, value in data.items():
            default = by_name[key].default
            d[key] = _checked(cls.__name__, key, value, default)
        return cls(**d)

    def subset(self, keys: tuple[str, ...]) -> dict[str, Any]:
        """The named fields, in plain-dict form."""
        d = self.to_dict()
        return {k: d[k] for k in keys}


#: Largest input voltage magnitude an experiment accepts, V.
MAX_VOLTS = 100.0


def check_input_voltages(v_min: float, v_max: float) -> None:
    """Refuse an input encoding that is not finite, inverted or far too large.

    Examples
    --------
    >>> check_input_voltages(0.0, 2.0)
    >>> check_input_voltages(1.0, 0.5)
    Traceback (most recent call last):
    ...
    nwnrc.errors.ConfigError: need finite voltages with v_max > 0 and v_min < v_max, ...
    """
    if not (
        math.isfinite(v_min) and math.isfinite(v_max) and v_max > 0 and v_min < v_max
    ):
        raise ConfigError(
            "need finite voltages with v_max > 0 and v_min < v_max, got "
            f"v_min={v_min!r}, v_max={v_max!r}"
        )
    if max(abs(v_min), abs(v_max)) > MAX_VOLTS:
        raise ConfigError(
            f"input voltages must lie within +-{MAX_VOLTS:g} V, got v_min="
            f"{v_min!r}, v_max={v_max!r}; the junction model's thresholds are "
            "millivolts and its useful range a few volts"
        )


def _checked(kind: str, key: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of the field's default, or a ConfigError."""
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{kind}.{key} must be a list, got {value!r}")
        return tuple(value)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        raise ConfigError(
            f"{kind}.{key} must be of type {type(default).__name__}, got {value!r}"
        )
    return float(value) if isinstance(default, float) else value


def simulated_device(config: Any, readout_pads: Sequence[int], lanes: int) -> Any:
    """The simulated device that an experiment config describes.

    ``config`` carries the network fields (``n_wires``, ``network_seed``,
    ``chip_size_um``, ``length_mean_um``, ``length_std_um``, ``pad_size_um``), the
    driven pads, the junction preset and ``dt``.
    """
    from nwnrc.device import SimulatedDevice
    from nwnrc.network import NetworkParams, generate_network

    params = NetworkParams(
        n_wires=config.n_wires,
        chip_size_um=config.chip_size_um,
        length_mean_um=config.length_mean_um,
        length_std_um=config.length_std_um,
        pad_size_um=config.pad_size_um,
        seed=config.network_seed,
    )
    return SimulatedDevice(
        generate_network(params),
        source_pad=config.source_pad,
        drain_pad=config.drain_pad,
        readout_pads=readout_pads,
        junction=config.junction,
        dt=config.dt,
        lanes=lanes,
    )
