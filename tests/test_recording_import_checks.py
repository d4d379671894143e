"""What a first-time user of ``nwnrc import`` runs into: flags that would overwrite
the data, scale it wrongly or be ignored, files in other encodings, and the errors
that must say what is really wrong. Every case writes its files as an instrument or a
user would and runs the command line (or the importer) on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwnrc.cli import main
from nwnrc.errors import ConfigError, DataError
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
