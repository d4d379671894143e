"""Import National Instruments TDMS files (as NI-DAQmx logging writes them).

NI-DAQmx logs an acquisition task to a TDMS file as one group per task and one
channel per analog input. Each channel carries the waveform properties
``wf_increment`` (the time step, s), ``wf_start_offset`` (s), ``wf_start_time`` (the
absolute start), ``wf_samples`` and ``unit_string``, and ``NI_ChannelName`` (the
physical or virtual channel, such as ``Dev1/ai0``). The file is read with npTDMS,
which also applies the scaling of raw DAQmx data.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.errors import DataError
from nwnrc.recording._assemble import (
    ChannelMap,
    assemble_recording,
    check_distinct_channels,
    plain_metadata,
    to_amps,
    to_volts,
)
from nwnrc.recording._schema import Recording
from nwnrc.recording._validate import ValidationReport, check_channel_lengths

logger = logging.getLogger(__name__)

__all__ = ["import_tdms"]

INSTALL_HINT = 'pip install "nwnrc[recordings]"'


def import_tdms(
    path: str | Path,
    *,
    input_channel: str,
    pad_channels: Mapping[str, int],
    labels: str | Path | ArrayLike,
    current_channel: str | None = None,
    current_gain_v_per_a: float | None = None,
    units: Mapping[str, str] | None = None,
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
    """Read a TDMS file of an NI DAQ into a validated recording.

    Parameters
    ----------
    path : path
        The TDMS file.
    input_channel : str
        The channel that recorded the source-pad voltage. A channel is named by its
        TDMS name (``"ai0"``), by ``"group/channel"``, or by its ``NI_ChannelName``
        (``"Dev1/ai0"``).
    pad_channels : mapping of str to int
        Readout channels and the pad (0..15) each one reads.
    labels : path or array_like
        One class label per sample (.npy, or .txt/.csv with one a line).
    current_channel : str, optional
        The channel that recorded the current into the network: in A (mA, uA, nA,
        pA scaled), or in V with ``current_gain_v_per_a``.
    current_gain_v_per_a : float, optional
        Transimpedance gain of the current amplifier, V/A; negative for an
        inverting one (the current is the voltage divided by the gain).
    units : mapping of str to str, optional
        Unit of a mapped channel (``{"ai1": "mV"}``, the channel named as for the
        roles), in place of its ``unit_string``: for a file whose unit is wrong,
        missing or unusual. Units are V, mV, uV, kV and A, mA, uA, nA, pA; the
        unprefixed unit also spelt ``volt``/``volts``/``amps`` in any case, but a
        prefix is case-sensitive.
    steps : int, optional
        Input steps per sample; taken from the stimulus where given.
    offset : int
        Index of the first sample's first value (with ``steps``).
    starts : path or array_like of int, optional
        Index of each sample's first value (instead of ``offset``).
    find_boundaries : bool
        Find the samples in the input channel: by cross-correlation with the
        stimulus where given, else from the input's onset.
    stimulus : path or array_like, optional
        The data values that were played, (samples, steps) or (samples, 28, 28), in
        [0, 1] or 8-bit; needs ``v_min`` and ``v_max``. Stored in the recording, and
        every sample's input is checked against it.
    v_min, v_max : float, optional
        Voltages of data values 0 and 1 of the input encoding, V.
    dt_s : float, optional
        The expected time step of one input step, s: checked against the file's
        ``wf_increment`` times ``samples_per_step``; used where the file has none.
    samples_per_step : int
        DAQ values per input step, averaged to one step.
    n_train : int, optional
        The first ``n_train`` samples are the training stream (all by default).
    source_pad, drain_pads : int, sequence of int
        The pads driven and grounded (stored as metadata).
    drop_incomplete : bool
        Drop a final sample that the file cuts short (warning) instead of raising.
    drop_unlabelled : bool
        Drop samples after the last label (warning) instead of raising.
    device, instrument : mapping, optional
        Metadata to store (user values win over those read from the file).
    validate : bool
        Run :func:`~nwnrc.recording.validate_recording` (errors raise, warnings
        warn).

    Returns
    -------
    Recording
        Pads and input in V, the current in A, ``dt_s`` the input step. The file's
        root properties and the properties of the groups read become instrument
        metadata (``tdms.KEY``, ``tdms.GROUP.KEY``).

    Raises
    ------
    DataError
        If npTDMS is not installed, the file is unreadable, a mapped channel is
        absent (the message lists the channels present) or ambiguous, the channels
        differ in time step, length or start (the message names the channel), a
        unit is not a voltage (or current), or the recording fails validation.

    Notes
    -----
    Limitations: a TDMS channel holds one start time and one time step, so a pause
    of the acquisition inside a channel is not visible in the file; channels of
    different tasks must start together (they are not realigned).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from nptdms import ChannelObject, TdmsWriter
    >>> path = tempfile.mkdtemp() + "/run.tdms"
    >>> wf = {"wf_increment": 1e-3, "wf_start_offset": 0.0, "unit_string": "V"}
    >>> x = np.tile([0.0, 1.0, 1.0, 0.0], 3)
    >>> with TdmsWriter(path) as w:
    ...     w.write_segment([ChannelObject("Task", "ai0", x, wf),
    ...                      ChannelObject("Task", "ai1", x / 2, wf)])
    >>> rec = import_tdms(path, input_channel="ai0", pad_channels={"ai1": 3},
    ...                   labels=[1, 2, 3], steps=4)
    >>> rec.pads.shape, rec.dt_s, rec.pads[0, 0].tolist()
    ((3, 1, 4), 0.001, [0.0, 0.5, 0.5, 0.0])
    """
    try:
        from nptdms import TdmsFile
    except ModuleNotFoundError as exc:
        raise DataError(
            f"reading TDMS files needs the npTDMS package: {INSTALL_HINT}"
        ) from exc

    p = Path(path)
    if not p.is_file():
        raise DataError(f"no TDMS file at {p}")
    roles = ChannelMap(
        input_channel, pad_channels, current_channel, current_gain_v_per_a
    )
    try:
        tdms = TdmsFile.read(p)
    except Exception as exc:  # npTDMS raises many kinds on a corrupt file
        raise DataError(f"{p} is not a readable TDMS file ({exc})") from exc

    entries = [(g.name, c) for g in tdms.groups() for c in g.channels()]
    found = {name: _resolve(entries, name, p) for name in roles.channels()}
    check_distinct_channels(
        roles, {name: f"{g}/{c.name}" for name, (g, c) in found.items()}
    )
    given_units = _units_by_role(units or {}, found, entries, p)

    data: dict[str, NDArray[np.float64]] = {}
    dts: dict[str, float] = {}
    starts_s: dict[str, float] = {}
    unit_of: dict[str, str | None] = {}
    times = [_start_time(ch.properties) for _, ch in found.values()]
    ref = next((t for t in times if t is not None), None)
    for name, (_, ch) in found.items():
        props = ch.properties
        data[name] = np.asarray(ch[:], dtype=np.float64)
        if "wf_increment" in props:
            dts[name] = float(props["wf_increment"])
        starts_s[name] = _start_seconds(props, ref)
        unit = given_units.get(name, props.get("unit_string"))
        unit_of[name] = None if unit is None else str(unit)
    report = ValidationReport(
        check_channel_lengths({k: v.size for k, v in data.items()}, dts)
    )
    report.raise_errors()
    raw_dt = next(iter(dts.values()), None)
    _check_starts(starts_s, raw_dt)

    for name, unit in unit_of.items():
        if unit is None and name != roles.current:
            logger.info("channel %r has no unit_string; taken as V", name)
    input_v = to_volts(data[roles.input], unit_of[roles.input], roles.input)
    pads_v = [to_volts(data[ch], unit_of[ch], ch) for ch in roles.pads]
    current_a = None
    if roles.current is not None:
        current_a = to_amps(
            data[roles.current],
            unit_of[roles.current],
            roles.current,
            roles.current_gain_v_per_a,
        )

    meta: dict[str, Any] = {"file_format": "tdms", "source_file": p.name}
    for key, value in tdms.properties.items():
        meta[f"tdms.{_key(key)}"] = plain_metadata(value)
    for group in sorted({g for g, _ in found.values()}):
        for key, value in tdms[group].properties.items():
            meta[f"tdms.{_key(group)}.{_key(key)}"] = plain_metadata(value)
    for name, (_, ch) in found.items():
        ni_name = ch.properties.get("NI_ChannelName")
        if ni_name is not None:
            meta[f"ni_channel.{_key(name)}"] = plain_metadata(ni_name)
        if unit_of[name] is not None:
            meta[f"unit.{_key(name)}"] = unit_of[name]
    meta.update(instrument or {})

    logger.info(
        "read %s: %d values a channel, dt %s s, channels %s",
        p,
        input_v.size,
        raw_dt,
        {n: f"{g}/{c.name}" for n, (g, c) in found.items()},
    )
    return assemble_recording(
        input_v=input_v,
        pads_v=pads_v,
        roles=roles,
        current_a=current_a,
        raw_dt_s=raw_dt,
        time_s=None,
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
        config={"import": {"format": "tdms", "file": p.name}},
        validate=validate,
    )


def _resolve(entries: list[tuple[str, Any]], name: str, path: Path) -> tuple[str, Any]:
    """The (group, channel) a user's channel name means."""
    hits = {}
    for group, ch in entries:
        full = f"{group}/{ch.name}"
        if name in (ch.name, full, ch.properties.get("NI_ChannelName")):
            hits[full] = (group, ch)
    if len(hits) == 1:
        return next(iter(hits.values()))
    if hits:
        raise DataError(
            f"channel {name!r} is ambiguous in {path}: {sorted(hits)}; name it as "
            "'group/channel'"
        )
    present = ", ".join(_describe(g, c) for g, c in entries) or "none"
    raise DataError(f"no channel {name!r} in {path}; channels present: {present}")


def _units_by_role(
    units: Mapping[str, str],
    found: Mapping[str, tuple[str, Any]],
    entries: list[tuple[str, Any]],
    path: Path,
) -> dict[str, str]:
    """Given units keyed by the role names of their channels (any spelling)."""
    by_channel = {f"{g}/{c.name}": name for name, (g, c) in found.items()}
    out: dict[str, str] = {}
    spelt: dict[str, str] = {}
    for key, unit in units.items():
        group, ch = _resolve(entries, key, path)
        full = f"{group}/{ch.name}"
        role = by_channel.get(full)
        if role is None:
            raise DataError(
                f"a unit is given for channel {key!r} (--unit {key}={unit}), which is "
                f"not mapped to a role; the mapped channels are "
                f"{', '.join(repr(n) for n in found)}"
            )
        if role in out:
            raise DataError(
                f"two units are given for channel {full!r}: {spelt[role]}={out[role]} "
                f"and {key}={unit}; give one"
            )
        out[role] = unit
        spelt[role] = key
    return out


def _describe(group: str, ch: Any) -> str:
    ni = ch.properties.get("NI_ChannelName")
    return f"{group}/{ch.name}" + (f" ({ni})" if ni and ni != ch.name else "")


def _start_seconds(props: Mapping[str, Any], ref: np.datetime64 | None) -> float:
    """Start of a waveform in seconds after ``ref`` (or its offset alone)."""
    offset = float(props.get("wf_start_offset", 0.0))
    t0 = _start_time(props)
    if t0 is None or ref is None:
        return offset
    ns = int((t0 - ref).astype("timedelta64[ns]").astype(np.int64))
    return ns / 1e9 + offset


def _start_time(props: Mapping[str, Any]) -> np.datetime64 | None:
    t0 = props.get("wf_start_time")
    if t0 is None:
        return None
    try:
        return np.datetime64(t0, "ns")
    except (TypeError, ValueError):
        return None


def _check_starts(starts_s: Mapping[str, float], dt: float | None) -> None:
    names = list(starts_s)
    if len(names) < 2:
        return
    ref = names[0]
    tol = 0.5 * dt if dt else 1e-9
    for name in names[1:]:
        diff = starts_s[name] - starts_s[ref]
        if abs(diff) > tol:
            steps = f" ({diff / dt:+.1f} steps)" if dt else ""
            raise DataError(
                f"channel {name!r} starts {diff:+.6g} s{steps} from channel {ref!r} "
                "(wf_start_time + wf_start_offset); record the channels in one task "
                "or one synchronised start so that they align"
            )
    if not all(math.isfinite(starts_s[n]) for n in names):
        raise DataError("a channel's wf_start_offset is not finite")


def _key(text: str) -> str:
    return str(text).replace("/", "_")
