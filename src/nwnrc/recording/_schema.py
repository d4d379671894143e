"""The on-disk schema of a recording: device readouts of a sample stream, in HDF5.

A recording holds what a device (a real nanowire network on a multi-electrode array, or
the simulator) gave for a stream of samples, each sample ``steps`` time steps of
``dt_s`` seconds long, in the order in which they were streamed. It is the one format
that every experiment downstream of the device reads, so that measurements of a
physical device stand wherever simulated readouts do.

Layout (format ``nwnrc-recording``, version 1; every dataset carries a ``units``
attribute):

- ``pads``: float32, (samples, channels, steps), readout pad voltages, V;
- ``input``: float32, (samples, steps), voltage on the source pad, V;
- ``labels``: int64, (samples,), class of each sample;
- ``source_current`` (optional): float32, (samples, steps), current into the
  network, A;
- ``conductance`` (optional): float32, (samples, steps), network conductance, S;
- ``stimulus`` (optional): float32, (samples, steps), the encoded data values in
  [0, 1] (pixel intensities);
- ``stream`` (optional): int32, (samples,), the independent stream of each sample
  (all 0 if absent).

Root attributes: ``format``, ``format_version``, ``kind`` (``"recorded"`` or
``"simulated"``), ``dt_s``, ``n_train`` (the first ``n_train`` samples are the training
stream, the rest the test stream), ``pad_numbers`` (the pad of each readout channel,
0..15 row-major on the 4 x 4 array), ``source_pad`` (-1 if unknown), ``drain_pads``,
``v_min`` and ``v_max`` (the voltages of data values 0 and 1; NaN if the input is not
such an encoding) and ``config`` (JSON: the settings that made the stream). Groups
``device`` and ``instrument`` hold free-form metadata as attributes (material, chip,
instrument model, sample rate, input range, ...).

The samples of one stream are contiguous and in time order; a file with several
streams (independent runs of the same device, such as the lanes of the sequence task)
lists stream 0 first, then stream 1, and so on.

The simulated feature store (``features.h5`` of a run) is written in this schema, so a
run's features are a recording and a recording can replace them.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import h5py
import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import atomic_path
from nwnrc.errors import DataError

logger = logging.getLogger(__name__)

FORMAT = "nwnrc-recording"
FORMAT_VERSION = 1
KINDS = ("recorded", "simulated")
N_PADS = 16

#: optional per-step series and their units
OPTIONAL_SERIES = {"source_current": "A", "conductance": "S", "stimulus": "1"}
UNITS = {"pads": "V", "input": "V", "labels": "1", "stream": "1", **OPTIONAL_SERIES}


@dataclass(eq=False)
class Recording:
    """Readouts of a device for a stream of samples (see the module docstring).

    Parameters
    ----------
    pads : ndarray, shape (samples, channels, steps)
        Readout pad voltages, V.
    input : ndarray, shape (samples, steps)
        Voltage applied to the source pad, V.
    labels : ndarray of int, shape (samples,)
        Class of each sample.
    dt_s : float
        Time step, s.
    pad_numbers : tuple of int
        Pad (0..15, row-major) of each readout channel.
    n_train : int
        The first ``n_train`` samples are the training stream.
    source_pad : int
        Pad the input drives; -1 if not known.
    drain_pads : tuple of int
        Grounded pads.
    kind : {"recorded", "simulated"}
    v_min, v_max : float
        Voltages of data values 0 and 1 in ``input``; NaN if not an encoding.
    source_current, conductance, stimulus : ndarray, shape (samples, steps), optional
        Current into the network (A), network conductance (S), encoded data values.
    stream : ndarray of int, shape (samples,), optional
        Independent stream of each sample.
    device, instrument : dict
        Free-form metadata (str, int, float or bool values).
    config : dict
        Settings that made the stream (JSON-serialisable).

    Examples
    --------
    >>> import numpy as np
    >>> rec = Recording(
    ...     pads=np.zeros((2, 1, 4), np.float32),
    ...     input=np.zeros((2, 4), np.float32),
    ...     labels=np.array([3, 1]),
    ...     dt_s=1e-3,
    ...     pad_numbers=(12,),
    ...     n_train=1,
    ... )
    >>> rec.n_samples, rec.n_channels, rec.n_steps
    (2, 1, 4)
    """

    pads: NDArray[np.float32]
    input: NDArray[np.float32]
    labels: NDArray[np.int64]
    dt_s: float
    pad_numbers: tuple[int, ...]
    n_train: int
    source_pad: int = -1
    drain_pads: tuple[int, ...] = ()
    kind: str = "recorded"
    v_min: float = math.nan
    v_max: float = math.nan
    source_current: NDArray[np.float32] | None = None
    conductance: NDArray[np.float32] | None = None
    stimulus: NDArray[np.float32] | None = None
    stream: NDArray[np.int32] | None = None
    device: dict[str, Any] = field(default_factory=dict)
    instrument: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pads = np.asarray(self.pads, dtype=np.float32)
        self.input = np.asarray(self.input, dtype=np.float32)
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.pad_numbers = tuple(int(p) for p in self.pad_numbers)
        self.drain_pads = tuple(int(p) for p in self.drain_pads)
        for name in OPTIONAL_SERIES:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, np.asarray(value, dtype=np.float32))
        if self.stream is not None:
            self.stream = np.asarray(self.stream, dtype=np.int32)
        check_recording(self)

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.pads.shape[0])

    @property
    def n_channels(self) -> int:
        """Number of readout channels."""
        return int(self.pads.shape[1])

    @property
    def n_steps(self) -> int:
        """Time steps per sample."""
        return int(self.pads.shape[2])

    def input_values(self) -> NDArray[np.float32]:
        """The data values behind the input stream, shape (samples, steps).

        ``stimulus`` where stored; else the input voltages mapped back through
        ``v_min``/``v_max``; else the input scaled to [0, 1] by its own range.
        """
        if self.stimulus is not None:
            return self.stimulus
        lo, hi = self.v_min, self.v_max
        if not (math.isfinite(lo) and math.isfinite(hi) and hi != lo):
            lo, hi = float(self.input.min()), float(self.input.max())
        if hi == lo:
            return np.zeros_like(self.input)
        return ((self.input - np.float32(lo)) / np.float32(hi - lo)).astype(np.float32)


def check_recording(rec: Recording) -> None:
    """Check the structure of a recording; raise :class:`DataError` if broken.

    Structure only (shapes, dtypes, attribute ranges); the signal checks (NaN,
    clipping, drift, gaps) are in :func:`nwnrc.recording.validate_recording`.
    """
    if rec.pads.ndim != 3:
        raise DataError(
            f"pads must have shape (samples, channels, steps), got {rec.pads.shape}"
        )
    n, m, t = rec.pads.shape
    if n == 0 or m == 0 or t == 0:
        raise DataError(
            f"a recording needs samples, channels and steps, got shape {(n, m, t)}"
        )
    if rec.input.shape != (n, t):
        raise DataError(
            f"input must have shape (samples, steps) = {(n, t)} like the pads, got "
            f"{rec.input.shape}; each sample needs its input stream"
        )
    if rec.labels.shape != (n,):
        raise DataError(
            f"labels must have one entry per sample ({n}), got shape "
            f"{rec.labels.shape}; give a label for every sample (or drop the samples "
            "without one)"
        )
    for name in OPTIONAL_SERIES:
        value = getattr(rec, name)
        if value is not None and value.shape != (n, t):
            raise DataError(
                f"{name} must have shape (samples, steps) = {(n, t)}, got {value.shape}"
            )
    if rec.stream is not None:
        if rec.stream.shape != (n,):
            raise DataError(
                f"stream must have one entry per sample ({n}), got {rec.stream.shape}"
            )
        if np.any(np.diff(rec.stream) < 0) or (n and rec.stream[0] != 0):
            raise DataError(
                "stream numbers must start at 0 and never decrease along the file "
                "(the samples of one stream contiguous, stream 0 first)"
            )
    if not (math.isfinite(rec.dt_s) and rec.dt_s > 0):
        raise DataError(f"dt_s must be a positive time step in seconds, got {rec.dt_s}")
    if len(rec.pad_numbers) != m:
        raise DataError(
            f"pad_numbers must name the pad of each of the {m} channels, got "
            f"{list(rec.pad_numbers)}"
        )
    pads = [*rec.pad_numbers, *rec.drain_pads]
    if rec.source_pad != -1:
        pads.append(rec.source_pad)
    bad = [p for p in pads if not 0 <= p < N_PADS]
    if bad:
        raise DataError(f"pad numbers must be 0..{N_PADS - 1}, got {bad}")
    if len(set(rec.pad_numbers)) != m:
        raise DataError(f"pad_numbers must be distinct, got {list(rec.pad_numbers)}")
    if not 0 <= rec.n_train <= n:
        raise DataError(f"n_train must be in 0..{n} (the samples), got {rec.n_train}")
    if rec.kind not in KINDS:
        raise DataError(f"kind must be one of {KINDS}, got {rec.kind!r}")
    for name, meta in (("device", rec.device), ("instrument", rec.instrument)):
        for key, value in meta.items():
            if not isinstance(value, str | int | float | bool | np.generic):
                raise DataError(
                    f"{name} metadata {key!r} must be a str, int, float or bool, got "
                    f"{type(value).__name__}"
                )


def write_recording(path: str | Path, rec: Recording) -> Path:
    """Write a recording to an HDF5 file (atomically); return the path.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> rec = Recording(
    ...     pads=np.ones((2, 1, 3)), input=np.ones((2, 3)), labels=[0, 1],
    ...     dt_s=1e-3, pad_numbers=(2,), n_train=1,
    ... )
    >>> path = write_recording(tempfile.mkdtemp() + "/rec.h5", rec)
    >>> read_recording(path).labels.tolist()
    [0, 1]
    """
    check_recording(rec)
    out = Path(path)
    with atomic_path(out, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as f:
            n, m, t = rec.pads.shape
            chunk = max(1, min(n, 256))
            _dataset(f, "pads", rec.pads, chunks=(chunk, m, t))
            _dataset(f, "input", rec.input, chunks=(chunk, t))
            _dataset(f, "labels", rec.labels)
            for name in OPTIONAL_SERIES:
                value = getattr(rec, name)
                if value is not None:
                    _dataset(f, name, value, chunks=(chunk, t))
            if rec.stream is not None:
                _dataset(f, "stream", rec.stream)
            write_header(f, rec, rec.n_train)
    logger.info("wrote recording of %d samples to %s", n, out)
    return out


class Header(Protocol):
    """What the root attributes of a recording are written from."""

    @property
    def kind(self) -> str: ...
    @property
    def dt_s(self) -> float: ...
    @property
    def pad_numbers(self) -> tuple[int, ...]: ...
    @property
    def source_pad(self) -> int: ...
    @property
    def drain_pads(self) -> tuple[int, ...]: ...
    @property
    def v_min(self) -> float: ...
    @property
    def v_max(self) -> float: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def device(self) -> dict[str, Any]: ...
    @property
    def instrument(self) -> dict[str, Any]: ...


def write_header(f: h5py.File, header: Header, n_train: int) -> None:
    """Write the recording header into an open HDF5 file.

    The root attributes, the ``device`` and ``instrument`` groups, and a ``units``
    attribute on every dataset of the schema that the file holds.
    """
    f.attrs["format"] = FORMAT
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["kind"] = header.kind
    f.attrs["dt_s"] = float(header.dt_s)
    f.attrs["n_train"] = int(n_train)
    f.attrs["pad_numbers"] = np.asarray(header.pad_numbers, dtype=np.int64)
    f.attrs["source_pad"] = int(header.source_pad)
    f.attrs["drain_pads"] = np.asarray(header.drain_pads, dtype=np.int64)
    f.attrs["v_min"] = float(header.v_min)
    f.attrs["v_max"] = float(header.v_max)
    f.attrs["config"] = json.dumps(header.config)
    for name in ("device", "instrument"):
        group = f.require_group(name)
        for key, value in getattr(header, name).items():
            group.attrs[key] = value
    for name, units in UNITS.items():
        if name in f:
            f[name].attrs["units"] = units


def _dataset(
    f: h5py.File, name: str, data: NDArray[Any], chunks: tuple[int, ...] | None = None
) -> None:
    ds = f.create_dataset(name, data=data, chunks=chunks)
    ds.attrs["units"] = UNITS[name]


def is_recording(path: str | Path) -> bool:
    """Whether ``path`` is an HDF5 file in the recording schema."""
    try:
        with h5py.File(path, "r") as f:
            return bool(f.attrs.get("format") == FORMAT)
    except OSError:
        return False


def read_recording(path: str | Path, *, series: bool = True) -> Recording:
    """Read a recording written by :func:`write_recording`.

    Parameters
    ----------
    path : path
    series : bool
        Read the optional per-step series (source current, conductance, stimulus);
        skip them to save memory when only the readouts are needed.

    Raises
    ------
    DataError
        If the file is missing, is not a recording, is of a newer format version,
        lacks a required dataset, or its parts disagree in shape.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"no recording at {p}; give the path of an HDF5 recording")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise DataError(f"{p} is not a readable HDF5 file ({exc})") from exc
    with f:
        attrs = dict(f.attrs)
        if attrs.get("format") != FORMAT:
            raise DataError(
                f"{p} is not an nwnrc recording (no format={FORMAT!r} attribute); "
                "import instrument files with `nwnrc import`"
            )
        version = int(attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise DataError(
                f"{p} is a recording of format version {version}; this nwnrc reads "
                f"up to {FORMAT_VERSION}: upgrade nwnrc"
            )
        for name in ("pads", "input", "labels"):
            if name not in f:
                raise DataError(f"{p} lacks the required dataset {name!r}")
        for key in ("dt_s", "n_train", "pad_numbers"):
            if key not in attrs:
                raise DataError(f"{p} lacks the required attribute {key!r}")
        optional: dict[str, Any] = {}
        if series:
            for name in OPTIONAL_SERIES:
                if name in f:
                    optional[name] = f[name][()]
        if "stream" in f:
            optional["stream"] = f["stream"][()]
        return Recording(
            pads=f["pads"][()],
            input=f["input"][()],
            labels=f["labels"][()],
            dt_s=float(attrs["dt_s"]),
            pad_numbers=tuple(int(x) for x in np.atleast_1d(attrs["pad_numbers"])),
            n_train=int(attrs["n_train"]),
            source_pad=int(attrs.get("source_pad", -1)),
            drain_pads=tuple(
                int(x) for x in np.atleast_1d(attrs.get("drain_pads", []))
            ),
            kind=str(attrs.get("kind", "recorded")),
            v_min=float(attrs.get("v_min", math.nan)),
            v_max=float(attrs.get("v_max", math.nan)),
            device=_metadata(f, "device"),
            instrument=_metadata(f, "instrument"),
            config=_config(attrs.get("config")),
            **optional,
        )


def _metadata(f: h5py.File, name: str) -> dict[str, Any]:
    if name not in f:
        return {}
    return {key: _plain(value) for key, value in f[name].attrs.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _config(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    data = json.loads(raw)
    return dict(data) if isinstance(data, Mapping) else {}
