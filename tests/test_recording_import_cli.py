"""``nwnrc import tdms|csv|check`` on simulated readouts written as a DAQ writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daq_files import (
    DT,
    GAIN,
    JUNK,
    N_DIGITS,
    PADS,
    STEPS,
    raw_channels,
    simulated,
    write_daq_tdms,
)
from nwnrc.cli import main
from nwnrc.recording import Recording, read_recording, write_recording

SIM = simulated()
PAD_ARGS = ["--pad", "ai1=1", "--pad", "Dev1/ai2=2", "--pad", "ai3=12"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(str(x) for x in SIM.labels))
    images = np.round(SIM.stimulus * 255).astype(np.uint8).reshape(N_DIGITS, 28, 28)
    stimulus = tmp_path / "digits.npy"
    np.save(stimulus, images)
    return {
        "tdms": write_daq_tdms(tmp_path / "run.tdms", raw_channels(SIM)),
        "labels": labels,
        "stimulus": stimulus,
        "out": tmp_path / "rec.h5",
    }


def assert_is_the_simulation(rec: Recording) -> None:
    np.testing.assert_array_equal(rec.pads, SIM.pads.astype(np.float32))
    np.testing.assert_array_equal(rec.input, SIM.input.astype(np.float32))
    assert rec.source_current is not None
    np.testing.assert_array_equal(rec.source_current, SIM.current.astype(np.float32))
    np.testing.assert_array_equal(rec.labels, SIM.labels)
    assert rec.pad_numbers == PADS
    assert rec.dt_s == DT


def test_import_tdms_with_fixed_steps(files: dict[str, Path], capsys) -> None:
    argv = ["import", "tdms", str(files["tdms"]), "--input", "ai0", *PAD_ARGS]
    argv += ["--current", f"ai4:{GAIN:g}", "--labels", str(files["labels"])]
    argv += ["--steps", str(STEPS), "--offset", str(JUNK), "--dt", "0.001"]
    argv += ["--n-train", "9", "--source-pad", "4", "--drain-pad", "11"]
    argv += ["--meta", "material=Ag2Se", "--meta", "device.chip=7"]
    argv += ["--meta", "instrument.model=NI USB-6363", "--out", str(files["out"])]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.startswith(f"wrote {files['out']}: 12 samples (9 training) x 3 ")
    rec = read_recording(files["out"])
    assert_is_the_simulation(rec)
    assert (rec.n_train, rec.source_pad, rec.drain_pads) == (9, 4, (11,))
    assert rec.device == {"material": "Ag2Se", "chip": 7}
    assert rec.instrument["model"] == "NI USB-6363"
    assert rec.instrument["tdms.author"] == "device lab"


def test_import_tdms_finding_the_boundaries(files: dict[str, Path]) -> None:
    argv = ["import", "tdms", str(files["tdms"]), "--input", "Dev1/ai0", *PAD_ARGS]
    argv += ["--current", f"ai4:{GAIN:g}", "--labels", str(files["labels"])]
    argv += ["--find-boundaries", "--stimulus", str(files["stimulus"])]
    argv += ["--v-min", "0", "--v-max", "2", "--out", str(files["out"])]
    assert main(argv) == 0
    rec = read_recording(files["out"])
    assert_is_the_simulation(rec)
    assert rec.config["boundaries"]["first_value"] == JUNK
    assert (rec.v_min, rec.v_max) == (0.0, 2.0)


def test_import_csv_and_npy(tmp_path: Path, files: dict[str, Path]) -> None:
    ch = raw_channels(SIM)
    cols = [ch[k][0] for k in ("ai0", "ai1", "ai2", "ai3", "ai4")]
    csv = tmp_path / "run.csv"
    np.savetxt(
        csv,
        np.column_stack(cols),
        delimiter=",",
        comments="",
        fmt="%.17g",
        header="in,a,b,c,amp",
    )
    npy = tmp_path / "run.npy"
    np.save(npy, np.column_stack(cols))
    for path, names in ((csv, "in a b c amp"), (npy, "0 1 2 3 4")):
        i, a, b, c, amp = names.split()
        out = tmp_path / f"{path.suffix[1:]}.h5"
        argv = ["import", "csv", str(path), "--input", i, "--pad", f"{a}=1"]
        argv += ["--pad", f"{b}=2", "--pad", f"{c}=12", "--unit", f"{c}=mV"]
        argv += ["--current", f"{amp}:{GAIN:g}", "--labels", str(files["labels"])]
        argv += ["--steps", "784", "--offset", str(JUNK), "--dt", "1e-3"]
        assert main([*argv, "--out", str(out)]) == 0
        assert_is_the_simulation(read_recording(out))


def test_errors_are_one_line(files: dict[str, Path], capsys) -> None:
    argv = ["import", "tdms", str(files["tdms"]), "--input", "ai0", "--pad", "ai7=3"]
    argv += ["--labels", str(files["labels"]), "--steps", "784"]
    assert main([*argv, "--out", str(files["out"])]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nwnrc: error: no channel 'ai7' in ")
    assert err.count("\n") == 1
    assert not files["out"].exists()

    argv = ["import", "tdms", str(files["tdms"]), "--input", "ai0", "--pad", "ai1"]
    assert main([*argv, "--labels", "x", "--out", str(files["out"])]) == 1
    assert "--pad must look like NAME=VALUE, got 'ai1'" in capsys.readouterr().err


def test_warnings_are_printed_and_out_is_kept(
    tmp_path: Path, files: dict[str, Path], capsys
) -> None:
    end = JUNK + 11 * STEPS + 500
    channels = {k: (v[:end], u) for k, (v, u) in raw_channels(SIM).items()}
    cut = write_daq_tdms(tmp_path / "cut.tdms", channels)
    argv = ["import", "tdms", str(cut), "--input", "ai0", *PAD_ARGS]
    argv += ["--labels", str(files["labels"]), "--steps", "784"]
    argv += ["--offset", str(JUNK), "--out", str(files["out"])]
    assert main(argv) == 1
    assert "ends inside sample 11, which has 500 of its 784" in capsys.readouterr().err
    assert main([*argv, "--drop-incomplete"]) == 0
    out = capsys.readouterr()
    assert out.err.startswith("nwnrc: warning: the recording ends inside sample 11")
    assert "11 samples" in out.out and "1 warning(s)" in out.out
    assert read_recording(files["out"]).n_samples == 11
    # an existing recording is not overwritten unless asked
    assert main([*argv, "--drop-incomplete"]) == 1
    assert "exists; give another --out or --force" in capsys.readouterr().err
    assert main([*argv, "--drop-incomplete", "--force"]) == 0


def test_check_prints_the_findings(tmp_path: Path, capsys) -> None:
    rec = Recording(
        pads=SIM.pads,
        input=SIM.input,
        labels=SIM.labels,
        dt_s=DT,
        pad_numbers=PADS,
        n_train=12,
    )
    good = write_recording(tmp_path / "good.h5", rec)
    assert main(["import", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "recorded, 12 samples x 3 channels x 784 steps of 0.001 s" in out
    assert "no findings" in out
    assert main(["import", "check", str(good), "--dt", "0.002"]) == 1
    assert "time step is 0.001 s, expected 0.002 s" in capsys.readouterr().out

    rec.pads[3, 1, 100:120] = np.nan
    bad = write_recording(tmp_path / "bad.h5", rec)
    assert main(["import", "check", str(bad)]) == 1
    rows = capsys.readouterr().out.splitlines()
    assert any(
        r.split()[:6] == ["error", "nonfinite", "3", "pad", "2", "100-119"]
        for r in rows
    )
    assert rows[-1] == "1 error(s), 0 warning(s)"

    assert main(["import", "check", str(tmp_path / "absent.h5")]) == 1
    assert "no recording at" in capsys.readouterr().err
