"""One channel under two names, units the file gets wrong, metadata keys that would
be lost, and a sample rate read back as written. Every case writes the instrument's
file (TDMS in the NI-DAQmx layout, or CSV) and runs ``nwnrc import`` on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daq_files import GAIN, JUNK, STEPS, raw_channels, simulated, write_daq_tdms
from nwnrc.cli import main
from nwnrc.errors import DataError, DataWarning
from nwnrc.recording import import_table, read_recording
from nwnrc.recording._assemble import parse_unit

SIM = simulated()
GROUP = "Dev1 task"  # the group write_daq_tdms uses


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(str(x) for x in SIM.labels))
    return {
        "tdms": write_daq_tdms(tmp_path / "run.tdms", raw_channels(SIM)),
        "labels": labels,
        "out": tmp_path / "rec.h5",
    }


def tdms_argv(files: dict[str, Path], *roles: str, path: Path | None = None):
    argv = ["import", "tdms", str(path or files["tdms"]), *roles]
    argv += ["--labels", str(files["labels"]), "--steps", str(STEPS)]
    return [*argv, "--offset", str(JUNK), "--out", str(files["out"])]


# ------------------------------------------- 1: one channel, two roles or pads
@pytest.mark.parametrize(
    ("roles", "first", "second", "channel"),
    [
        # the same channel as two pads, by its TDMS name and its NI name
        (
            ["--input", "Dev1/ai0", "--pad", "ai1=1", "--pad", "Dev1/ai1=2"],
            "'ai1' as pad 1",
            "'Dev1/ai1' as pad 2",
            f"{GROUP}/ai1",
        ),
        # ... and by group/channel
        (
            ["--input", "ai0", "--pad", "ai1=1", "--pad", f"{GROUP}/ai1=2"],
            "'ai1' as pad 1",
            f"'{GROUP}/ai1' as pad 2",
            f"{GROUP}/ai1",
        ),
        # the input recorded as a pad too
        (
            ["--input", "Dev1/ai0", "--pad", "ai0=1"],
            "'Dev1/ai0' as the input",
            "'ai0' as pad 1",
            f"{GROUP}/ai0",
        ),
        # the current channel as a pad
        (
            ["--input", "ai0", "--pad", "Dev1/ai4=1", "--current", f"ai4:{GAIN:g}"],
            "'Dev1/ai4' as pad 1",
            "'ai4' as the current",
            f"{GROUP}/ai4",
        ),
    ],
)
def test_one_channel_under_two_spellings_is_refused(
    files: dict[str, Path], capsys, roles, first, second, channel
) -> None:
    assert main(tdms_argv(files, *roles)) == 1
    err = capsys.readouterr().err
    assert f"channel '{channel}' is given two roles: {first} and {second}" in err
    assert not files["out"].exists()


def test_each_spelling_alone_reads_its_own_channel(files: dict[str, Path]) -> None:
    # the check refuses only one channel twice: distinct channels under mixed
    # spellings import to the simulator's arrays
    roles = ["--input", "Dev1/ai0", "--pad", "ai1=1", "--pad", f"{GROUP}/ai2=2"]
    assert main(tdms_argv(files, *roles)) == 0
    rec = read_recording(files["out"])
    np.testing.assert_array_equal(rec.pads[:, 0], SIM.pads[:, 0].astype(np.float32))
    np.testing.assert_array_equal(rec.pads[:, 1], SIM.pads[:, 1].astype(np.float32))


def test_a_csv_time_column_may_not_play_a_role(tmp_path: Path) -> None:
    x = np.tile([0.0, 1.0, 1.0, 0.0], 3)
    path = tmp_path / "run.csv"
    np.savetxt(path, np.c_[x, x / 2], delimiter=",", header="in,out", comments="")
    with pytest.raises(DataError, match="'in' is given as the time column and as a"):
        import_table(
            path,
            input_channel="in",
            pad_channels={"out": 3},
            time_channel="in",
            labels=[1, 2, 3],
            steps=4,
            dt_s=1e-3,
        )


# ------------------------------------------------------- 2: --unit for TDMS
def test_tdms_unit_overrides_a_wrong_unit_string(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    channels = raw_channels(SIM)
    # pad 12 is recorded in mV (values 1000x), but the file says V
    channels["ai3"] = (channels["ai3"][0], "V")
    path = write_daq_tdms(tmp_path / "wrong.tdms", channels)
    roles = ["--input", "ai0", "--pad", "ai1=1", "--pad", "ai3=12"]
    # by another spelling of the channel than its role's
    assert main(tdms_argv(files, *roles, "--unit", "Dev1/ai3=mV", path=path)) == 0
    rec = read_recording(files["out"])
    np.testing.assert_allclose(rec.pads[:, 1], SIM.pads[:, 2], rtol=1e-6, atol=1e-9)
    assert rec.instrument["unit.ai3"] == "mV"


@pytest.mark.parametrize("spelling", ["Volt", "volts", "VOLT", "v"])
def test_spelt_out_volts_are_read_as_volts(
    tmp_path: Path, files: dict[str, Path], spelling: str
) -> None:
    channels = raw_channels(SIM)
    channels["ai1"] = (channels["ai1"][0], spelling)
    path = write_daq_tdms(tmp_path / "volt.tdms", channels)
    roles = ["--input", "ai0", "--pad", "ai1=1"]
    assert main(tdms_argv(files, *roles, path=path)) == 0
    rec = read_recording(files["out"])
    np.testing.assert_array_equal(rec.pads[:, 0], SIM.pads[:, 0].astype(np.float32))


def test_prefixes_keep_their_case() -> None:
    assert parse_unit("mV") == ("V", 1e3)
    assert parse_unit("mv") == ("V", 1e3)  # m is milli in any case of the V
    assert parse_unit("MV") is None  # mega, not milli
    assert parse_unit("uA") == ("A", 1e6)
    assert parse_unit("Amps") == ("A", 1.0)
    assert parse_unit("NA") is None


@pytest.mark.parametrize("where", ["file", "flag"])
def test_an_unknown_unit_says_so_and_how_to_override(
    tmp_path: Path, files: dict[str, Path], capsys, where: str
) -> None:
    channels = raw_channels(SIM)
    extra: list[str] = []
    if where == "file":
        channels["ai3"] = (channels["ai3"][0], "MV")
    else:
        extra = ["--unit", "ai3=MV"]
    path = write_daq_tdms(tmp_path / "odd.tdms", channels)
    roles = ["--input", "ai0", "--pad", "ai3=12", *extra]
    assert main(tdms_argv(files, *roles, path=path)) == 1
    err = capsys.readouterr().err
    assert "channel 'ai3' has the unit 'MV', which is not recognised" in err
    assert "V, mV, uV" in err and "--unit ai3=V" in err
    assert "map a voltage channel" not in err
    assert not files["out"].exists()


def test_a_unit_for_an_unmapped_channel_is_refused(
    files: dict[str, Path], capsys
) -> None:
    roles = ["--input", "ai0", "--pad", "ai1=1", "--unit", "ai2=mV"]
    assert main(tdms_argv(files, *roles)) == 1
    assert "'ai2' (--unit ai2=mV), which is not mapped" in capsys.readouterr().err


# ---------------------------------------------------------------- 3: --meta
def csv_argv(tmp_path: Path, *extra: str, n: int = 3) -> list[str]:
    x = np.tile([0.0, 2.0, 2.0, 0.0], n)
    path = tmp_path / "run.csv"
    rows = np.c_[np.arange(x.size) * 1e-3, x, x / 2]
    np.savetxt(path, rows, delimiter=",", header="time,in,out", comments="")
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(str(i % 10) for i in range(n)))
    argv = ["import", "csv", str(path), "--input", "in", "--pad", "out=3"]
    argv += ["--labels", str(labels), "--steps", "4"]
    return [*argv, "--out", str(tmp_path / "rec.h5"), *extra]


def test_a_misspelt_metadata_group_is_refused(tmp_path: Path, capsys) -> None:
    meta = ["--meta", "instrument.range_min_v=-10"]
    meta += ["--meta", "instrumnet.range_max_v=10"]
    assert main(csv_argv(tmp_path, *meta)) == 1
    err = capsys.readouterr().err
    assert "'instrumnet' is not a metadata group" in err
    assert "device.KEY or instrument.KEY" in err
    assert not (tmp_path / "rec.h5").exists()


@pytest.mark.parametrize("key", ["range_max_v", "range_min_a"])
def test_a_range_with_one_end_is_refused(tmp_path: Path, capsys, key: str) -> None:
    assert main(csv_argv(tmp_path, "--meta", f"instrument.{key}=10")) == 1
    err = capsys.readouterr().err
    assert f"instrument.{key} is given without" in err and "both ends" in err


def test_a_range_with_one_end_warns_through_the_api(tmp_path: Path) -> None:
    argv = csv_argv(tmp_path)
    path, labels = Path(argv[2]), Path(argv[argv.index("--labels") + 1])
    with pytest.warns(DataWarning, match="range_max_v without range_min_v"):
        import_table(
            path,
            input_channel="in",
            pad_channels={"out": 3},
            labels=labels,
            steps=4,
            instrument={"range_max_v": 10.0},
        )


def test_a_metadata_key_given_twice_is_refused(tmp_path: Path, capsys) -> None:
    meta = ["--meta", "chip=007", "--meta", "device.chip=008"]
    assert main(csv_argv(tmp_path, *meta)) == 1
    err = capsys.readouterr().err
    assert "the key device.chip is already given (--meta chip=007)" in err


def test_both_groups_and_bare_keys_are_kept(tmp_path: Path) -> None:
    meta = ["--meta", "chip=007", "--meta", "instrument.chip=NI-1"]
    meta += ["--meta", "instrument.range_min_v=-10"]
    meta += ["--meta", "instrument.range_max_v=10"]
    assert main(csv_argv(tmp_path, *meta)) == 0
    rec = read_recording(tmp_path / "rec.h5")
    assert rec.device == {"chip": "007"}
    assert rec.instrument["chip"] == "NI-1"
    assert (rec.instrument["range_min_v"], rec.instrument["range_max_v"]) == (-10, 10)


# ------------------------------------------------------------ 4: sample rate
def test_a_rate_from_time_stamps_is_rounded(tmp_path: Path) -> None:
    argv = csv_argv(tmp_path, n=12)
    # the median step of these 48 stamps of 1 ms is 0.0010000000000000009 s
    stamps = np.loadtxt(argv[2], delimiter=",", skiprows=1)[:, 0]
    assert 1 / float(np.median(np.diff(stamps))) == 999.9999999999991
    assert main(argv) == 0
    rec = read_recording(tmp_path / "rec.h5")
    assert rec.instrument["sample_rate_hz"] == 1000.0
