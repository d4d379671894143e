"""Import CSV and NumPy exports of an instrument.

Three layouts are read:

- **CSV** with a header row of channel names; a unit may follow a name in brackets
  (``pad12 [mV]``, ``I (nA)``). A time column (named ``time``, ``t``, ``time_s`` or
  ``timestamp``, or given) is optional; its unit is s unless stated (``ms``, ``us``).
- **.npy**: one array of shape (values, channels) or (channels, values); channels
  are named by their index (``"0"``, ``"1"``, ...).
- **.npz**: one 1-D array per channel, named by its key (a ``time`` key is the time
  axis), or a single 2-D array read like a .npy file.
"""

from __future__ import annotations

import csv
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import DataError, DataWarning
from nwnrc.recording._assemble import (
    ChannelMap,
    assemble_recording,
    is_number,
    to_amps,
    to_volts,
)
from nwnrc.recording._schema import Recording
from nwnrc.recording._validate import ValidationReport, check_channel_lengths

logger = logging.getLogger(__name__)

__all__ = ["import_table"]

TIME_NAMES = ("time", "t", "time_s", "timestamp")
TIME_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6, "µs": 1e6, "μs": 1e6}
#: a median time step at least this long (s) is suspect: a time column in ms
#: read as s
SLOW_STEP_S = 0.1
_UNIT = re.compile(r"^(.*?)\s*[\[(]\s*([^\])]*?)\s*[\])]\s*$")


def import_table(
    path: str | Path,
    *,
    input_channel: str,
    pad_channels: Mapping[str, int],
    labels: str | Path | ArrayLike,
    current_channel: str | None = None,
    current_gain_v_per_a: float | None = None,
    time_channel: str | None = None,
    units: Mapping[str, str] | None = None,
    channels_axis: int | None = None,
    delimiter: str | None = None,
    steps: int | None = None,
    offset: int = 0,
    starts: str | Path | ArrayLike | None = None,
    find_boundaries: bool = False,
    stimulus: str | Path | ArrayLike | None = None,
    v_min: float | None = None,
    v_max: float | None = None,
    dt_s: float | None = None,
    samples_per_step: int = 1,
    n_train: int | None = None,
    source_pad: int = -1,
    drain_pads: Sequence[int] = (),
    drop_incomplete: bool = False,
    drop_unlabelled: bool = False,
    device: Mapping[str, Any] | None = None,
    instrument: Mapping[str, Any] | None = None,
    validate: bool = True,
) -> Recording:
    """Read a CSV, .npy or .npz export into a validated recording.

    Parameters
    ----------
    path : path
        A ``.csv`` (or ``.txt``/``.tsv``), ``.npy`` or ``.npz`` file.
    input_channel, pad_channels, labels, current_channel, current_gain_v_per_a
        As for :func:`~nwnrc.recording.import_tdms`; channels are column names
        (CSV), keys (.npz) or indices (``"0"``, ``"1"``, ... in a .npy file or a
        headerless 2-D array).
    time_channel : str, optional
        The column of time stamps; found by name when not given. The time step is
        their median difference, and every difference is checked (gaps are errors).
    units : mapping of str to str, optional
        Unit of a channel (``{"pad12": "mV"}``); else the unit in the header, else V
        (A for the current).
    channels_axis : {0, 1}, optional
        The axis of a 2-D array that indexes channels; by default the shorter one.
    delimiter : str, optional
        CSV delimiter; by default a tab, a semicolon or a comma, from the header.
    steps, offset, starts, find_boundaries, stimulus, v_min, v_max, dt_s
        As for :func:`~nwnrc.recording.import_tdms`; ``dt_s`` is required where the
        file has no time column.
    samples_per_step, n_train, source_pad, drain_pads, drop_incomplete
        As for :func:`~nwnrc.recording.import_tdms`.
    drop_unlabelled, device, instrument, validate
        As for :func:`~nwnrc.recording.import_tdms`.

    Returns
    -------
    Recording

    Raises
    ------
    DataError
        If the file is unreadable, a mapped channel is absent (the message lists
        the channels present), channels differ in length, the time column is not
        uniform, a unit is not a voltage (or current), or the recording fails
        validation.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> path = tempfile.mkdtemp() + "/run.csv"
    >>> x = np.tile([0.0, 1.0, 1.0, 0.0], 3)
    >>> rows = np.c_[np.arange(12) * 1e-3, x, 1000 * x / 2]
    >>> np.savetxt(path, rows, delimiter=",", header="time,in,out [mV]",
    ...            comments="")
    >>> rec = import_table(path, input_channel="in", pad_channels={"out": 3},
    ...                    labels=[1, 2, 3], steps=4)
    >>> rec.pads.shape, rec.dt_s, rec.pads[0, 0].tolist()
    ((3, 1, 4), 0.001, [0.0, 0.5, 0.5, 0.0])
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"no file at {p}")
    roles = ChannelMap(
        input_channel, pad_channels, current_channel, current_gain_v_per_a
    )
    columns, header_units = _read(p, delimiter, channels_axis)

    if time_channel is None:
        time_channel = next(
            (
                n
                for n in columns
                if n.lower() in TIME_NAMES and n not in roles.channels()
            ),
            None,
        )
    if time_channel is not None and time_channel in roles.channels():
        raise DataError(
            f"channel {time_channel!r} is given as the time column and as a role "
            f"(input={roles.input!r}, pads={dict(roles.pads)}, "
            f"current={roles.current!r}); give the time its own column"
        )
    wanted = roles.channels() + ([time_channel] if time_channel else [])
    missing = [n for n in wanted if n not in columns]
    if missing:
        raise DataError(
            f"no channel {missing[0]!r} in {p}; channels present: "
            f"{', '.join(repr(n) for n in columns)}"
        )
    unmapped = [n for n in (units or {}) if n not in wanted]
    if unmapped:
        raise DataError(
            f"a unit is given for channel {unmapped[0]!r} (--unit "
            f"{unmapped[0]}={(units or {})[unmapped[0]]}), which is "
            + ("not mapped to a role" if unmapped[0] in columns else f"not in {p}")
            + f"; the mapped channels are {', '.join(repr(n) for n in wanted)}, the "
            f"channels present {', '.join(repr(n) for n in columns)}"
        )
    report = ValidationReport(
        check_channel_lengths({n: columns[n].size for n in wanted})
    )
    report.raise_errors()

    unit_of = {**header_units, **(units or {})}
    raw_dt = None
    time_s = None
    if time_channel is not None:
        time_s = _seconds(columns[time_channel], unit_of.get(time_channel), p)
        raw_dt = float(np.median(np.diff(time_s))) if time_s.size > 1 else None
        if raw_dt is not None and not raw_dt > 0:
            raise DataError(
                f"the time column {time_channel!r} of {p} does not increase "
                f"(median step {raw_dt} s)"
            )
        if raw_dt is not None and raw_dt >= SLOW_STEP_S:
            stated = unit_of.get(time_channel)
            how = f"in {stated!r}" if stated else "without a unit, taken as s"
            warnings.warn(
                f"the time column {time_channel!r} of {p} ({how}) steps by "
                f"{raw_dt:g} s, slow for a DAQ; if its values are ms, say so in the "
                f"header ('{time_channel} [ms]') or with --unit {time_channel}=ms",
                DataWarning,
                stacklevel=2,
            )
    input_v = to_volts(columns[roles.input], unit_of.get(roles.input), roles.input)
    pads_v = [to_volts(columns[ch], unit_of.get(ch), ch) for ch in roles.pads]
    current_a = None
    if roles.current is not None:
        unit = unit_of.get(roles.current)
        if unit is None and roles.current_gain_v_per_a is None:
            unit = "A"
        current_a = to_amps(
            columns[roles.current], unit, roles.current, roles.current_gain_v_per_a
        )

    meta: dict[str, Any] = {"file_format": p.suffix.lstrip("."), "source_file": p.name}
    if time_channel is not None:
        meta["channel_time"] = time_channel
    for name in wanted:
        if unit_of.get(name):
            meta[f"unit.{name}"] = unit_of[name]
    meta.update(instrument or {})
    logger.info(
        "read %s: %d values a channel, channels %s", p, input_v.size, list(columns)
    )
    return assemble_recording(
        input_v=input_v,
        pads_v=pads_v,
        roles=roles,
        current_a=current_a,
        raw_dt_s=raw_dt,
        time_s=time_s,
        labels=labels,
        steps=steps,
        offset=offset,
        starts=starts,
        find=find_boundaries,
        stimulus=stimulus,
        v_min=v_min,
        v_max=v_max,
        dt_s=dt_s,
        samples_per_step=samples_per_step,
        n_train=n_train,
        source_pad=source_pad,
        drain_pads=drain_pads,
        drop_incomplete=drop_incomplete,
        drop_unlabelled=drop_unlabelled,
        device=device,
        instrument=meta,
        config={"import": {"format": meta["file_format"], "file": p.name}},
        validate=validate,
    )


def _read(
    p: Path, delimiter: str | None, channels_axis: int | None
) -> tuple[dict[str, NDArray[np.float64]], dict[str, str]]:
    """Channels of a file by name, and the units its header states."""
    suffix = p.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{p} is not a readable .npy file ({exc})") from exc
        return _split(arr, channels_axis, p), {}
    if suffix == ".npz":
        try:
            archive = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{p} is not a readable .npz file ({exc})") from exc
        with archive:
            arrays = {k: archive[k] for k in archive.files}
        if len(arrays) == 1 and next(iter(arrays.values())).ndim == 2:
            return _split(next(iter(arrays.values())), channels_axis, p), {}
        bad = [k for k, a in arrays.items() if a.ndim != 1]
        if bad:
            raise DataError(
                f"{p} must hold one 1-D array per channel (or one 2-D array); "
                f"{bad[0]!r} has shape {arrays[bad[0]].shape}"
            )
        return {k: _numeric(a, k, p) for k, a in arrays.items()}, {}
    return _read_csv(p, delimiter)


def _split(
    arr: NDArray[Any], channels_axis: int | None, p: Path
) -> dict[str, NDArray[np.float64]]:
    if arr.ndim != 2:
        raise DataError(
            f"{p} must hold a 2-D array (values, channels) or (channels, values), "
            f"got shape {arr.shape}"
        )
    if channels_axis is None:
        if arr.shape[0] == arr.shape[1]:
            raise DataError(
                f"{p} holds a square array {arr.shape}: say which axis indexes the "
                "channels (channels_axis, --channels-axis)"
            )
        channels_axis = 0 if arr.shape[0] < arr.shape[1] else 1
    if channels_axis not in (0, 1):
        raise DataError(f"channels_axis must be 0 or 1, got {channels_axis!r}")
    by_channel = arr if channels_axis == 0 else arr.T
    return {str(i): _numeric(a, str(i), p) for i, a in enumerate(by_channel)}


def _numeric(a: NDArray[Any], name: str, p: Path) -> NDArray[np.float64]:
    if a.dtype.kind not in "biuf":
        raise DataError(f"channel {name!r} of {p} is not numeric (dtype {a.dtype})")
    return np.asarray(a, dtype=np.float64)


def _read_csv(
    p: Path, delimiter: str | None
) -> tuple[dict[str, NDArray[np.float64]], dict[str, str]]:
    encoding, first = _header(p)
    if not first.strip():
        raise DataError(f"{p} is empty or lacks a header row of channel names")
    if delimiter is None:
        delimiter = next((d for d in ("\t", ";") if d in first), ",")
    header = next(csv.reader([first], delimiter=delimiter))
    names: list[str] = []
    units: dict[str, str] = {}
    for cell in header:
        cell = cell.strip()
        match = _UNIT.match(cell)
        name = match.group(1) if match else cell
        if match:
            units[name] = match.group(2)
        names.append(name)
    if len(set(names)) != len(names):
        raise DataError(f"{p} names a column twice: {names}")
    if all(is_number(n) for n in names):
        raise DataError(f"{p} has no header row; its first line must name the columns")
    try:
        data = np.loadtxt(
            p, delimiter=delimiter, skiprows=1, ndmin=2, encoding=encoding
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{p} is not a table of numbers under its header ({exc}); write missing "
            "values as nan"
        ) from exc
    if data.shape[1] != len(names):
        raise DataError(
            f"{p} has {len(names)} column names but {data.shape[1]} columns of data"
        )
    return {n: data[:, i] for i, n in enumerate(names)}, units


def _header(p: Path) -> tuple[str, str]:
    """The text encoding of a CSV file and its first line.

    UTF-8 (a byte-order mark is dropped); where the file is not UTF-8, Windows-1252
    (as spreadsheet programs on Windows export: ``pad12 [µV]``), else Latin-1. A
    file with NUL bytes is binary, not a text table.
    """
    with p.open("rb") as fh:
        head = fh.read(1 << 16)
        first = head.split(b"\n", 1)[0]
    if b"\x00" in head:
        raise DataError(
            f"{p} is not a text table (it holds binary data); give a CSV export, or "
            "a .npy/.npz/.tdms file with its own suffix"
        )
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return encoding, first.decode(encoding).rstrip("\r")
        except UnicodeDecodeError:
            continue
    raise DataError(f"{p} is not a text table")  # latin-1 decodes every byte


def _seconds(t: NDArray[np.float64], unit: str | None, p: Path) -> NDArray[np.float64]:
    u = (unit or "s").strip()
    if u not in TIME_UNITS:
        raise DataError(
            f"the time column of {p} is in {u!r}; use one of {', '.join(TIME_UNITS)}"
        )
    return t / TIME_UNITS[u] if TIME_UNITS[u] != 1.0 else t
