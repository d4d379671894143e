"""What a first-time user of ``nwnrc import`` runs into: flags that would overwrite
the data, scale it wrongly or be ignored, files in other encodings, and the errors
that must say what is really wrong. Every case writes its files as an instrument or a
user would and runs the command line (or the importer) on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwnrc.cli import main
from nwnrc.errors import DataWarning
from nwnrc.recording import import_table, read_recording

STEPS = 8
N = 6
DT = 1e-3
#: the input of every sample: a pulse of 2 V in its middle steps
PULSE = np.array([0, 0, 2, 2, 2, 2, 0, 0], dtype=float)


def table(n: int = N, gain: float = 0.5) -> dict[str, np.ndarray]:
    """Time, input and two readouts of ``n`` samples: a resistive divider of the
    input, so each pad lies between 0 V and the input."""
    x = np.tile(PULSE, n)
    return {
        "time": np.arange(x.size) * DT,
        "in": x,
        "pad1": gain * x,
        "pad12": 0.25 * x,
    }


def write_csv(path: Path, cols: dict[str, np.ndarray], header: str | None = None):
    names = header or ",".join(cols)
    rows = np.column_stack(list(cols.values()))
    np.savetxt(path, rows, delimiter=",", header=names, comments="")
    return path


@pytest.fixture
def run(tmp_path: Path) -> dict[str, Path]:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(str(i % 10) for i in range(N)))
    return {
        "csv": write_csv(tmp_path / "run.csv", table()),
        "labels": labels,
        "out": tmp_path / "rec.h5",
    }


def argv(run: dict[str, Path], *extra: str) -> list[str]:
    out = ["import", "csv", str(run["csv"]), "--input", "in", "--pad", "pad1=1"]
    out += ["--pad", "pad12=12", "--labels", str(run["labels"])]
    out += ["--steps", str(STEPS)]
    return [*out, *extra]


# ----------------------------------------------------------------- 1: --out
@pytest.mark.parametrize("force", [[], ["--force"]])
def test_out_may_not_be_a_file_that_is_read(
    run: dict[str, Path], tmp_path: Path, capsys, force: list[str]
) -> None:
    raw = run["csv"].read_bytes()
    labels = run["labels"].read_bytes()
    # the instrument file, by the same path and by another spelling of it
    other = tmp_path / "sub" / ".." / "run.csv"
    (tmp_path / "sub").mkdir()
    for out in (run["csv"], other):
        assert main(argv(run, "--out", str(out), *force)) == 1
        err = capsys.readouterr().err
        assert "is the instrument file" in err and "another --out" in err
    assert main(argv(run, "--out", str(run["labels"]), *force)) == 1
    assert "is --labels" in capsys.readouterr().err
    assert run["csv"].read_bytes() == raw
    assert run["labels"].read_bytes() == labels


def test_out_may_not_be_the_tdms_file_read(tmp_path: Path, capsys) -> None:
    from nptdms import ChannelObject, TdmsWriter

    path = tmp_path / "copy.tdms"
    wf = {"wf_increment": DT, "wf_start_offset": 0.0, "unit_string": "V"}
    x = np.tile(PULSE, N)
    with TdmsWriter(path) as w:
        w.write_segment(
            [ChannelObject("T", "ai0", x, wf), ChannelObject("T", "ai1", x / 2, wf)]
        )
    raw = path.read_bytes()
    labels = tmp_path / "l.txt"
    labels.write_text("1\n" * N)
    args = ["import", "tdms", str(path), "--input", "ai0", "--pad", "ai1=1"]
    args += ["--labels", str(labels), "--steps", str(STEPS), "--out", str(path)]
    assert main([*args, "--force"]) == 1
    assert "is the instrument file" in capsys.readouterr().err
    assert path.read_bytes() == raw


def test_overwrite_is_force(run: dict[str, Path], capsys) -> None:
    assert main(argv(run, "--out", str(run["out"]))) == 0
    assert main(argv(run, "--out", str(run["out"]))) == 1
    assert "exists" in capsys.readouterr().err
    assert main(argv(run, "--out", str(run["out"]), "--overwrite")) == 0
    assert read_recording(run["out"]).n_samples == N


# ----------------------------------------------------------------- 2: scaling
def test_a_unit_for_an_absent_or_unmapped_channel_is_an_error(
    run: dict[str, Path], capsys
) -> None:
    assert main(argv(run, "--unit", "Pad12=mV", "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert "'Pad12' (--unit Pad12=mV), which is not in" in err
    assert "the channels present 'time', 'in', 'pad1', 'pad12'" in err
    assert not run["out"].exists()
    cols = table()
    cols["spare"] = cols["pad1"]
    write_csv(run["csv"], cols)
    assert main(argv(run, "--unit", "spare=mV", "--out", str(run["out"]))) == 1
    assert "which is not mapped to a role" in capsys.readouterr().err


def test_a_pad_logged_in_millivolts_read_as_volts_is_refused(
    run: dict[str, Path], capsys
) -> None:
    cols = table()
    cols["pad12"] = 1e3 * cols["pad12"]  # 0.5 V at the top, written as 500 (mV)
    write_csv(run["csv"], cols)
    assert main(argv(run, "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert "pad 12 reads 500 V at sample 0, step 2, outside 0..2 V" in err
    assert main(argv(run, "--unit", "pad12=mV", "--out", str(run["out"]))) == 0
    rec = read_recording(run["out"])
    np.testing.assert_allclose(rec.pads[:, 1], 0.25 * np.tile(PULSE, (N, 1)))


# ----------------------------------------------------- 3, 7, 9: one-line errors
@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (
            ["instrument.range_min_v=abc", "instrument.range_max_v=10"],
            "range_min_v='abc' is not a number",
        ),
        (
            ["instrument.range_min_v=10", "instrument.range_max_v=-10"],
            "range_min_v=10 is not below range_max_v=-10",
        ),
    ],
)
def test_instrument_range_that_is_no_range(
    run: dict[str, Path], capsys, meta: list[str], message: str
) -> None:
    extra = [x for m in meta for x in ("--meta", m)]
    assert main(argv(run, *extra, "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert err.startswith("nwnrc: error: ") and message in err
    assert err.count("\n") == 1


def test_a_windows_export_in_cp1252_reads_its_units(run: dict[str, Path]) -> None:
    cols = table()
    cols["pad12"] = 1e6 * cols["pad12"]  # µV
    text = "time,in,pad1,pad12 [µV]\n" + "\n".join(
        ",".join(f"{v:.9g}" for v in row)
        for row in np.column_stack(list(cols.values()))
    )
    run["csv"].write_bytes(text.encode("cp1252"))
    assert b"\xb5V" in run["csv"].read_bytes()  # one byte for µ, not UTF-8
    rec = import_table(
        run["csv"],
        input_channel="in",
        pad_channels={"pad1": 1, "pad12": 12},
        labels=run["labels"],
        steps=STEPS,
    )
    np.testing.assert_allclose(rec.pads[:, 1], 0.25 * np.tile(PULSE, (N, 1)))
    assert rec.instrument["unit.pad12"] == "µV"


def test_a_utf8_bom_does_not_hide_the_time_column(run: dict[str, Path]) -> None:
    cols = table()
    cols["time"] = cols["time"] * 2  # a 2 ms step, seen only through the column
    write_csv(run["csv"], cols)
    run["csv"].write_bytes(b"\xef\xbb\xbf" + run["csv"].read_bytes())
    rec = import_table(
        run["csv"],
        input_channel="in",
        pad_channels={"pad1": 1},
        labels=run["labels"],
        steps=STEPS,
    )
    assert rec.dt_s == pytest.approx(2e-3)
    assert rec.instrument["channel_time"] == "time"


def test_a_binary_file_is_not_a_text_table(run: dict[str, Path], capsys) -> None:
    run["csv"].write_bytes(bytes(range(256)) * 4)
    assert main(argv(run, "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert "is not a text table (it holds binary data)" in err
    assert err.count("\n") == 1


def test_a_time_column_in_ms_read_as_s_warns(run: dict[str, Path]) -> None:
    cols = table()
    cols["time"] = np.arange(cols["in"].size, dtype=float)  # 1 ms steps, in ms
    write_csv(run["csv"], cols)
    kwargs = {"input_channel": "in", "pad_channels": {"pad1": 1}}
    kwargs |= {"labels": run["labels"], "steps": STEPS}
    with pytest.warns(DataWarning, match=r"'time' .* steps by 1 s.*'time \[ms\]'"):
        rec = import_table(run["csv"], **kwargs)
    assert rec.dt_s == 1.0
    rec = import_table(run["csv"], units={"time": "ms"}, **kwargs)
    assert rec.dt_s == pytest.approx(1e-3)


# ----------------------------------------------------------------- 4: gain
def test_an_inverting_current_amplifier(run: dict[str, Path], capsys) -> None:
    # 2 V across a 1 MΩ network: 2 µA in; an inverting 10 kV/A amplifier writes
    # -20 mV for it
    cols = table()
    cols["amp"] = -1e4 * cols["in"] / 1e6
    write_csv(run["csv"], cols)
    assert main(argv(run, "--current", "amp:-1e4", "--out", str(run["out"]))) == 0
    rec = read_recording(run["out"])
    assert rec.source_current is not None
    np.testing.assert_allclose(rec.source_current[0], PULSE * 1e-6, rtol=1e-6)
    assert rec.source_current.max() == pytest.approx(2e-6)
    for gain in ("0", "inf"):
        assert main(argv(run, "--current", f"amp:{gain}", "--out", "x.h5")) == 1
        assert "finite, non-zero number of V/A" in capsys.readouterr().err


# ----------------------------------------------------------------- 5: order
def test_a_dt_that_is_a_multiple_of_the_files_step(run: dict[str, Path], capsys):
    # 1 ms a value in the file, 2 ms an input step: 2 values a step
    assert main(argv(run, "--dt", "2e-3", "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert "time step is 0.001 s" in err and "--dt is 0.002 s" in err
    assert "give --samples-per-step 2 " in err
    # 2 ms a value in the file, 1 ms a step: no averaging helps
    cols = table()
    cols["time"] = 2 * cols["time"]
    write_csv(run["csv"], cols)
    assert main(argv(run, "--dt", "1e-3", "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert "sampled slower than one input step" in err
    assert "--samples-per-step cannot help" in err


def test_rows_missing_inside_a_sample_are_named_before_the_truncation(
    run: dict[str, Path], capsys
) -> None:
    # three rows of sample 4 (values 35-37, its steps 3-5) are not in the file
    cols = {k: np.delete(v, [35, 36, 37]) for k, v in table().items()}
    write_csv(run["csv"], cols)
    assert main(argv(run, "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert err.startswith("nwnrc: error: the time stamps jump by 0.004 s (3 values")
    assert "after value 34 (t = 0.034 s) (sample 4, step 3," in err
    assert "--drop-incomplete" not in err


def test_onset_boundaries_that_cut_a_sample_do_not_suggest_dropping(
    run: dict[str, Path], capsys
) -> None:
    # 20 idle values, then the samples; their pulse starts at step 2, so the onset
    # (value 22) puts every sample two values late and cuts the last short
    cols = {k: np.r_[np.zeros(20), v] for k, v in table().items()}
    cols["time"] = np.arange(cols["in"].size) * DT
    write_csv(run["csv"], cols)
    assert main(argv(run, "--find-boundaries", "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert "ends inside sample 5, which has 6 of its 8 steps" in err
    assert "found from the input's onset (value 22) may be wrong" in err
    assert "--stimulus" in err and "--drop-incomplete" not in err


def test_a_short_stimulus_is_blamed_not_the_labels(
    run: dict[str, Path], tmp_path: Path, capsys
) -> None:
    stimulus = tmp_path / "stim.npy"
    np.save(stimulus, np.tile(PULSE / 2, (N - 2, 1)))  # 4 of the 6 samples
    extra = ["--find-boundaries", "--stimulus", str(stimulus), "--v-min", "0"]
    extra += ["--v-max", "2", "--out", str(run["out"])]
    assert main(argv(run, *extra)) == 1
    err = capsys.readouterr().err
    assert "the stimulus has 4 samples, but the recording holds 6 and there are " in err
    assert "6 labels; give the stimulus of every sample" in err


# ----------------------------------------------------------------- 6: findings
def test_a_refused_import_prints_its_findings(run: dict[str, Path], capsys) -> None:
    # NaN dropouts on pad 1 in samples 1 and 4, and pad 12 far out in sample 3
    cols = table()
    cols["pad1"][[9, 10, 35]] = np.nan
    cols["pad12"][3 * STEPS + 4] = 400.0
    write_csv(run["csv"], cols)
    assert main(argv(run, "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("nwnrc: error: the recording has 3 error(s), nothing ")
    assert err[-1].endswith("; and 2 more (table above)")
    assert len(err[-1]) < 400
    assert err[-2] == "3 error(s), 0 warning(s)"
    rows = [r.split()[:6] for r in err[:-2]]
    assert ["error", "nonfinite", "1", "pad", "1", "1-2"] in rows
    assert ["error", "nonfinite", "4", "pad", "1", "3-3"] in rows
    assert ["error", "range", "3", "pad", "12", "4-4"] in rows
    assert not run["out"].exists()


# ----------------------------------------------------------------- 8: flags
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--pad", "pad1=3"], "channel 'pad1' is already mapped to pad 1"),
        (["--pad", "in=12"], "each pad can be read by one channel only"),
        (["--source-pad", "4", "--drain-pad", "4"], "pad 4 is both the source pad"),
    ],
)
def test_flags_that_contradict_each_other(
    run: dict[str, Path], capsys, flags: list[str], message: str
) -> None:
    assert main(argv(run, *flags, "--out", str(run["out"]))) == 1
    assert message in capsys.readouterr().err
    assert not run["out"].exists()


def test_meta_values_keep_their_spelling(run: dict[str, Path]) -> None:
    meta = ["note=a=b", "chip=007", "batch=1e3", "version=1.10", "wires=120"]
    meta += ["density=0.5", "annealed=true", "instrument.range_min_v=-10"]
    meta += ["instrument.range_max_v=10.0"]
    extra = [x for m in meta for x in ("--meta", m)]
    assert main(argv(run, *extra, "--out", str(run["out"]))) == 0
    rec = read_recording(run["out"])
    assert rec.device == {
        "note": "a=b",
        "chip": "007",
        "batch": "1e3",
        "version": "1.10",
        "wires": 120,
        "density": 0.5,
        "annealed": True,
    }
    assert (rec.instrument["range_min_v"], rec.instrument["range_max_v"]) == (-10, 10)


# ----------------------------------------------------------------- 10: labels
@pytest.mark.parametrize("line", ["3,1,4,1,5,9", "3 1 4 1 5 9", "3, 1, 4, 1, 5, 9\n"])
def test_labels_on_one_line(run: dict[str, Path], line: str) -> None:
    run["labels"].write_text(line)
    assert main(argv(run, "--out", str(run["out"]))) == 0
    assert read_recording(run["out"]).labels.tolist() == [3, 1, 4, 1, 5, 9]


def test_label_messages(run: dict[str, Path], capsys) -> None:
    run["labels"].write_text("label\n1\n2\nseven\n4\n5\n6\n")
    assert main(argv(run, "--out", str(run["out"]))) == 1
    err = capsys.readouterr().err
    assert f"each label must be an integer: {run['labels']} line 4 holds 'seven'" in err
    run["labels"].write_text("1\n2\n3\n4\n5\n")  # 5 labels for 6 samples
    assert main(argv(run, "--out", str(run["out"]))) == 1
    assert "sample 5 has no label" in capsys.readouterr().err


# ----------------------------------------------------------------- 11: wording
def test_the_summary_counts_pad_channels_and_the_current(
    run: dict[str, Path], capsys
) -> None:
    cols = table()
    cols["amp"] = 1e4 * cols["in"] / 1e6
    write_csv(run["csv"], cols)
    assert main(argv(run, "--current", "amp:1e4", "--out", str(run["out"]))) == 0
    out = capsys.readouterr().out
    assert "6 samples (6 training) x 2 pad channels (pads 1, 12) and the " in out
    assert "source current x 8 steps of 0.001 s" in out


def test_a_flat_pad_is_named_once(run: dict[str, Path], capsys) -> None:
    cols = table()
    cols["pad12"][:] = 0.0
    write_csv(run["csv"], cols)
    assert main(argv(run, "--out", str(run["out"]))) == 0
    err = capsys.readouterr().err
    assert "nwnrc: warning: pad 12: holds 0 throughout" in err


def test_a_nan_in_the_input_while_finding_boundaries(
    run: dict[str, Path], tmp_path: Path, capsys
) -> None:
    cols = table()
    cols["in"][21] = np.nan
    write_csv(run["csv"], cols)
    stimulus = tmp_path / "stim.npy"
    np.save(stimulus, np.tile(PULSE / 2, (N, 1)))
    extra = ["--find-boundaries", "--stimulus", str(stimulus), "--v-min", "0"]
    extra += ["--v-max", "2", "--out", str(run["out"])]
    assert main(argv(run, *extra)) == 1
    err = capsys.readouterr().err
    assert "the recorded input holds nan at value 21 (t = 0.021 s in the file" in err
