"""``nwnrc import``: instrument files into the recording schema, and their checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nwnrc.errors import ConfigError, DataError


def register(subparsers: Any) -> None:
    """Add the ``import`` command group (``tdms``, ``csv``, ``check``)."""
    p = subparsers.add_parser(
        "import",
        help="import instrument recordings (TDMS, CSV, NumPy) and check them",
        description=(
            "Turn the files of an instrument into an nwnrc recording (HDF5), which "
            "`nwnrc mnist --recording`, `nwnrc analyse mi` and `nwnrc sequence "
            "--recording` read; or check an existing recording."
        ),
    )
    sub = p.add_subparsers(dest="import_kind", metavar="KIND")
    p.set_defaults(handler=lambda _args: _help(p))

    tdms = sub.add_parser(
        "tdms",
        help="import a National Instruments TDMS file (needs npTDMS)",
        description=(
            "Import a TDMS file as NI-DAQmx logs it (a group per task, a channel per "
            "analog input, waveform properties wf_increment and wf_start_offset). "
            "Channels are named as in the file ('ai0'), as 'group/channel', or by "
            "their NI_ChannelName ('Dev1/ai0')."
        ),
    )
    _add_common(tdms)
    tdms.set_defaults(handler=_import_tdms)

    table = sub.add_parser(
        "csv",
        help="import a CSV export (header row) or a .npy/.npz array",
        description=(
            "Import a CSV file with a header row of channel names (a unit may follow "
            "a name in brackets: 'pad12 [mV]'; a time column is optional), a .npy "
            "array (values, channels) or (channels, values) whose channels are "
            "named by index ('0', '1', ...), or a .npz archive of one 1-D array per "
            "channel."
        ),
    )
    _add_common(table)
    table.add_argument(
        "--time", metavar="COL", help="time column, s (default: a column named time)"
    )
    table.add_argument("--delimiter", help="CSV delimiter (default: from the header)")
    table.add_argument(
        "--channels-axis",
        type=int,
        choices=(0, 1),
        help="axis of a 2-D array that indexes channels (default: the shorter)",
    )
    table.set_defaults(handler=_import_table)

    check = sub.add_parser(
        "check",
        help="validate a recording and list its findings",
        description=(
            "Run the validator on a recording (NaN stretches, clipping, drifting "
            "baselines, wrong dt, missing labels, input against stimulus) and print "
            "the findings as a table; exit status 1 if there is an error."
        ),
    )
    check.add_argument("recording", type=Path, metavar="REC.h5")
    check.add_argument("--dt", type=float, metavar="S", help="expected time step, s")
    check.set_defaults(handler=_check)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, metavar="FILE", help="the instrument's file")
    p.add_argument(
        "--input", required=True, metavar="CH", help="channel of the input voltage"
    )
    p.add_argument(
        "--pad",
        action="append",
        required=True,
        metavar="CH=PAD",
        help="a readout channel and the pad (0..15) it reads; repeat for each",
    )
    p.add_argument(
        "--current",
        metavar="CH[:GAIN]",
        help="channel of the source current; GAIN (V/A) where it recorded the "
        "voltage of a transimpedance amplifier (negative for an inverting one)",
    )
    p.add_argument(
        "--labels",
        required=True,
        type=Path,
        metavar="FILE",
        help="one label per sample (.npy, or .txt/.csv with one a line)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--boundaries",
        type=Path,
        metavar="FILE",
        help="index of each sample's first value, one a line (.npy/.txt)",
    )
    where.add_argument(
        "--find-boundaries",
        action="store_true",
        help="find the samples in the input: by correlation with --stimulus, else "
        "from the input's onset",
    )
    p.add_argument("--steps", type=int, metavar="N", help="input steps per sample")
    p.add_argument(
        "--offset",
        type=int,
        default=0,
        metavar="N",
        help="index of the first sample's first value (with --steps; default 0)",
    )
    p.add_argument(
        "--stimulus",
        type=Path,
        metavar="FILE",
        help="the data values played (.npy/.npz, (samples, steps) or (samples, 28, "
        "28), in [0, 1] or 8-bit)",
    )
    p.add_argument("--v-min", type=float, metavar="V", help="voltage of data value 0")
    p.add_argument("--v-max", type=float, metavar="V", help="voltage of data value 1")
    p.add_argument(
        "--dt",
        type=float,
        metavar="S",
        help="time step of one input step, s (checked against the file's)",
    )
    p.add_argument(
        "--samples-per-step",
        type=int,
        default=1,
        metavar="M",
        help="instrument values per input step, averaged (default 1)",
    )
    p.add_argument(
        "--n-train",
        type=int,
        metavar="N",
        help="the first N samples are the training stream (default all)",
    )
    p.add_argument("--source-pad", type=int, default=-1, metavar="P")
    p.add_argument("--drain-pad", type=int, action="append", default=[], metavar="P")
    p.add_argument(
        "--drop-incomplete",
        action="store_true",
        help="drop a final sample the file cuts short (with a warning)",
    )
    p.add_argument(
        "--drop-unlabelled",
        action="store_true",
        help="drop the samples after the last label (with a warning)",
    )
    p.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata: device.KEY=VALUE or instrument.KEY=VALUE (KEY=VALUE is "
        "device metadata; split at the first '='); instrument.range_min_v/"
        "range_max_v give the input range for the clipping check. A value is a "
        "number or true/false only where it reads back as the same text (007 "
        "stays text)",
    )
    p.add_argument(
        "--unit",
        action="append",
        default=[],
        metavar="CH=UNIT",
        help="unit of a mapped channel, in place of the file's (TDMS unit_string, "
        "CSV header): V, mV, uV, kV, A, mA, uA, nA, pA (V also as volt/volts, A as "
        "amps, in any case; prefixes are case-sensitive); default the file's, else "
        "V (A for a CSV current)",
    )
    p.add_argument("--out", required=True, type=Path, metavar="REC.h5")
    p.add_argument(
        "--force",
        "--overwrite",
        dest="force",
        action="store_true",
        help="overwrite an existing --out (never one of the files read)",
    )


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _pairs(items: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise DataError(f"{what} must look like NAME=VALUE, got {item!r}")
        out.append((key, value))
    return out


def _value(text: str) -> str | int | float | bool:
    """A --meta value: a number or bool only where it reads back as the same text.

    ``true``/``false`` are bools, ``12``/``-3`` ints, ``0.5``/``-10.0`` floats; the
    rest stays text, so a chip ``007``, a version ``1.10`` or ``1e3`` keep their
    spelling.
    """
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        if str(number) == text:
            return number
    return text


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links and relative parts too)."""
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out that is one of the files read, and an existing one."""
    out = Path(args.out)
    read = [("the instrument file", args.file), ("--labels", args.labels)]
    read += [("--stimulus", args.stimulus), ("--boundaries", args.boundaries)]
    for what, path in read:
        if path is not None and _same_file(out, Path(path)):
            raise ConfigError(
                f"--out {out} is {what} ({path}); the import would overwrite what "
                "it reads (even with --force): give another --out"
            )
    if out.exists() and not args.force:
        raise ConfigError(f"{out} exists; give another --out or --force")


def _common_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    pads: dict[str, int] = {}
    for channel, pad in _pairs(args.pad, "--pad"):
        if channel in pads:
            raise ConfigError(
                f"--pad {channel}={pad}: channel {channel!r} is already mapped to pad "
                f"{pads[channel]}; map each channel once"
            )
        try:
            pads[channel] = int(pad)
        except ValueError:
            raise DataError(
                f"--pad {channel}={pad}: the pad must be a number 0..15"
            ) from None
    current, gain = None, None
    if args.current:
        name, sep, tail = args.current.rpartition(":")
        try:
            gain = float(tail) if sep else None
        except ValueError:
            gain = None
        current = name if gain is not None else args.current
    device, instrument = _metadata(args.meta)
    _check_out(args)
    return {
        "input_channel": args.input,
        "pad_channels": pads,
        "labels": args.labels,
        "current_channel": current,
        "current_gain_v_per_a": gain,
        "steps": args.steps,
        "offset": args.offset,
        "starts": args.boundaries,
        "find_boundaries": args.find_boundaries,
        "stimulus": args.stimulus,
        "v_min": args.v_min,
        "v_max": args.v_max,
        "dt_s": args.dt,
        "samples_per_step": args.samples_per_step,
        "n_train": args.n_train,
        "source_pad": args.source_pad,
        "drain_pads": tuple(args.drain_pad),
        "drop_incomplete": args.drop_incomplete,
        "drop_unlabelled": args.drop_unlabelled,
        "device": device,
        "instrument": instrument,
    }


def _metadata(items: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Device and instrument metadata of the --meta options.

    A key is ``device.KEY``, ``instrument.KEY`` or a bare ``KEY`` (device); a key
    with a dot in another group is refused (a misspelt group would hide a range
    from the clipping check), and so is one key given twice.
    """
    groups: dict[str, dict[str, Any]] = {"device": {}, "instrument": {}}
    spelt: dict[tuple[str, str], str] = {}
    for key, value in _pairs(items, "--meta"):
        group, dot, name = key.partition(".")
        if not dot:
            group, name = "device", key
        elif group not in groups or not name:
            raise ConfigError(
                f"--meta {key}={value}: {group!r} is not a metadata group; a key is "
                "device.KEY or instrument.KEY (a bare KEY is device metadata)"
            )
        if (group, name) in spelt:
            raise ConfigError(
                f"--meta {key}={value}: the key {group}.{name} is already given "
                f"(--meta {spelt[group, name]}); give each key once"
            )
        spelt[group, name] = f"{key}={value}"
        groups[group][name] = _value(value)
    instrument = groups["instrument"]
    for lo, hi in (("range_min_v", "range_max_v"), ("range_min_a", "range_max_a")):
        if (lo in instrument) != (hi in instrument):
            have, lack = (lo, hi) if lo in instrument else (hi, lo)
            raise ConfigError(
                f"--meta instrument.{have} is given without instrument.{lack}: the "
                "range needs both ends for the clipping check; give both"
            )
    return groups["device"], instrument


def _units(items: list[str]) -> dict[str, str]:
    units: dict[str, str] = {}
    for channel, unit in _pairs(items, "--unit"):
        if channel in units:
            raise ConfigError(
                f"--unit {channel}={unit}: channel {channel!r} already has the unit "
                f"{units[channel]!r}; give each channel one unit"
            )
        units[channel] = unit
    return units


def _import_tdms(args: argparse.Namespace) -> int:
    from nwnrc.recording._tdms import import_tdms

    kwargs = _common_kwargs(args)
    units = _units(args.unit)
    return _run_import(lambda: import_tdms(args.file, units=units, **kwargs), args.out)


def _import_table(args: argparse.Namespace) -> int:
    from nwnrc.recording._tabular import import_table

    kwargs = _common_kwargs(args)
    units = _units(args.unit)
    return _run_import(
        lambda: import_table(
            args.file,
            time_channel=args.time,
            units=units,
            delimiter=args.delimiter,
            channels_axis=args.channels_axis,
            **kwargs,
        ),
        args.out,
    )


def _run_import(read: Any, out: Path) -> int:
    import warnings

    from nwnrc.errors import DataWarning
    from nwnrc.recording._schema import write_recording

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            rec = read()
        except DataError as exc:
            report = getattr(exc, "report", None)
            if report is None:
                raise
            # the whole table, then a one-line error that points at it
            print(report.table(), file=sys.stderr)
            errors = report.errors
            first = f"{errors[0].where()}: {errors[0].message}"
            more = f"; and {len(errors) - 1} more (table above)" if errors[1:] else ""
            raise DataError(
                f"the recording has {len(errors)} error(s), nothing written: "
                f"{first}{more}"
            ) from None
    n_warned = 0
    for w in caught:
        if issubclass(w.category, DataWarning):
            print(f"nwnrc: warning: {w.message}", file=sys.stderr)
            n_warned += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    write_recording(out, rec)
    pads = ", ".join(str(p) for p in rec.pad_numbers)
    current = " and the source current" if rec.source_current is not None else ""
    print(
        f"wrote {out}: {rec.n_samples} samples ({rec.n_train} training) x "
        f"{rec.n_channels} pad channels (pads {pads}){current} x {rec.n_steps} "
        "steps of "
        f"{rec.dt_s:g} s" + (f"; {n_warned} warning(s)" if n_warned else ""),
        file=sys.stdout,
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from nwnrc.recording._schema import read_recording
    from nwnrc.recording._validate import validate_recording

    rec = read_recording(args.recording)
    report = validate_recording(rec, expected_dt_s=args.dt)
    print(
        f"{args.recording}: {rec.kind}, {rec.n_samples} samples x {rec.n_channels} "
        f"channels x {rec.n_steps} steps of {rec.dt_s:g} s",
        file=sys.stdout,
    )
    print(report.table(), file=sys.stdout)
    return 0 if report.ok else 1
