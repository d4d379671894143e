"""The sequence-memory task on recordings.

A tiny simulated run (150 wires, two training streams and one held-out stream of four
repetitions of the sequence, synthetic bar digits) is turned into a recording; the
recording must hold exactly what the run streamed, and the task run on it must give
the simulated run's metrics. One-stream splits, the conductance from source current
over input, and every refusal are checked on variations of that recording.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nwnrc.cli import main
from nwnrc.errors import ConfigError, DataError, DataWarning
from nwnrc.experiments._sequence import (
    DEVICE_PROBES,
    G_MIN_INPUT_FRACTION,
    SequenceConfig,
    conductance_from_current,
    run_sequence,
    sequence_recording,
)
from nwnrc.recording import Recording, read_recording, write_recording
from synthetic_digits import write_digit_set

SEQ = "14751479"
TINY = {
    "n_wires": 150,
    "chip_size_um": 44.0,
    "repeats": 4,
    "washout_repeats": 1,
    "train_streams": 2,
    "test_streams": 1,
    "max_window": 3,
    "exclusion_window": 3,
    "control_windows": [2],
    "piece_repeats": 2,
    "update_windows": 20,
    "relax_s": 1.0,
}
DIGITS = 4 * 8  # per stream


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("seqrec")
    write_digit_set(root / "digits.npz", (400, 20, 200), (1, 2, 3))
    config = SequenceConfig.from_dict(TINY)
    metrics = run_sequence(
        config, root / "sim", data_path=root / "digits.npz", figures=False
    )
    return root / "sim", metrics


@pytest.fixture(scope="module")
def rec(sim_run: tuple[Path, dict[str, Any]]) -> Recording:
    return sequence_recording(sim_run[0])


@pytest.fixture(scope="module")
def rec_file(rec: Recording, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_recording(tmp_path_factory.mktemp("rec") / "sequence.h5", rec)


def _written(rec: Recording, path: Path, **changes: Any) -> Path:
    return write_recording(path, dataclasses.replace(rec, **changes))


def _without(metrics: dict[str, Any], dotted: tuple[str, ...]) -> dict[str, Any]:
    out = json.loads(json.dumps(metrics))
    for key in dotted:
        head, tail = key.split(".")
        del out[head][tail]
    return out


# ----------------------------------------------------------------- the export
def test_recording_holds_what_the_run_streamed(
    sim_run: tuple[Path, dict[str, Any]], rec: Recording
) -> None:
    run, _ = sim_run
    assert rec.n_samples == 3 * DIGITS and rec.n_steps == 784
    assert rec.pad_numbers == (7, 13)
    assert rec.kind == "simulated"
    assert rec.n_train == 2 * DIGITS
    assert rec.source_pad == 4 and rec.drain_pads == (11,)
    assert (rec.v_min, rec.v_max, rec.dt_s) == (0.0, 0.9, 1e-3)
    assert rec.stream is not None
    assert rec.stream.tolist() == [0] * DIGITS + [1] * DIGITS + [2] * DIGITS
    assert rec.labels.tolist() == [int(c) for c in SEQ] * 12
    assert rec.config == SequenceConfig.from_dict(TINY).to_dict()

    # the pieces on disk, read here without the code under test: piece k holds
    # (lanes, steps, pads) for repetitions 2k, 2k + 1 of every lane
    pads = np.concatenate(
        [
            np.load(run / "stream" / f"piece-{k:05d}.npz")["pad_voltages"]
            for k in (0, 1)
        ],
        axis=1,
    )
    cond = np.concatenate(
        [np.load(run / "stream" / f"piece-{k:05d}.npz")["conductance"] for k in (0, 1)],
        axis=1,
    )
    # sample 40 = lane 1, digit 8; pad 13 is the second channel
    np.testing.assert_array_equal(rec.pads[40, 1], pads[1, 8 * 784 : 9 * 784, 1])
    np.testing.assert_array_equal(rec.pads[95, 0], pads[2, 31 * 784 :, 0])
    assert rec.conductance is not None
    np.testing.assert_array_equal(rec.conductance[40], cond[1, 8 * 784 : 9 * 784])

    # the encoding: V = 0.9 V x pixel; the pixels are bars of 0 and 1
    assert rec.stimulus is not None
    np.testing.assert_allclose(rec.input, 0.9 * rec.stimulus, atol=1e-7)
    assert set(np.unique(rec.stimulus).tolist()) == {0.0, 1.0}
    # the conductance is the source current over the input wherever V > 0
    assert rec.source_current is not None
    on = rec.input > 0.5
    np.testing.assert_allclose(
        rec.source_current[on] / rec.input[on], rec.conductance[on], rtol=1e-5
    )


def test_the_recording_survives_the_file(rec: Recording, rec_file: Path) -> None:
    back = read_recording(rec_file)
    for name in ("pads", "input", "conductance", "source_current", "stimulus"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rec, name))
    assert back.config == rec.config


# ----------------------------------------------------------------- round trip
@pytest.fixture(scope="module")
def rec_run(
    rec_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("on-recording") / "run"
    config = SequenceConfig.from_dict(TINY)
    return out, run_sequence(config, out, recording=rec_file, figures=True)


def test_run_on_the_exported_recording_repeats_the_metrics(
    sim_run: tuple[Path, dict[str, Any]],
    rec_run: tuple[Path, dict[str, Any]],
    rec_file: Path,
    tmp_path: Path,
) -> None:
    _, sim = sim_run
    out, got = rec_run
    got = json.loads(json.dumps(got))
    config = SequenceConfig.from_dict(TINY)

    # every recall metric identical; the device probes skipped and said so
    assert got["device_probes"]["skipped"] == list(DEVICE_PROBES)
    for key in DEVICE_PROBES:
        head, tail = key.split(".")
        assert tail in sim[head] and tail not in got[head]
    assert got["data_source"] == f"recording {rec_file}"
    assert got["recording"]["kind"] == "simulated"
    assert got["recording"]["conductance"] == "recorded"
    expected = _without(sim, DEVICE_PROBES)
    del expected["data_source"]
    for key in ("data_source", "recording", "device_probes"):
        del got[key]
    assert got == expected
    assert json.loads((out / "metrics.json").read_text())["recording"]["samples"] == 96
    for name in ("conductance.png", "reconstructions.png", "ssim_vs_window.png"):
        assert (out / name).stat().st_size > 1000

    # another recording in the same folder is refused
    other = tmp_path / "other.h5"
    shutil.copy(rec_file, other)
    with open(other, "r+b") as f:  # the same readouts, another file content
        f.seek(0, 2)
        f.write(b"\0")
    with pytest.raises(ConfigError, match="holds a run on another recording"):
        run_sequence(config, out, recording=other, figures=False)


def test_run_folders_of_the_two_routes_do_not_mix(
    sim_run: tuple[Path, dict[str, Any]], rec_file: Path, tmp_path: Path
) -> None:
    run, _ = sim_run
    config = SequenceConfig.from_dict(TINY)
    with pytest.raises(ConfigError, match="holds a simulated run"):
        run_sequence(config, run, recording=rec_file, figures=False)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "recording.json").write_text("{}")
    (tmp_path / "r" / "config.json").write_text(json.dumps(config.to_dict()))
    with pytest.raises(ConfigError, match="holds a run on a recording"):
        run_sequence(config, tmp_path / "r", figures=False)
    with pytest.raises(DataError, match="ran on a recording"):
        sequence_recording(tmp_path / "r")


def test_without_a_current_channel_the_current_is_g_times_v(
    rec: Recording, tmp_path: Path
) -> None:
    from nwnrc.experiments._sequence import _recording_source

    assert rec.conductance is not None
    path = _written(rec, tmp_path / "no-current.h5", source_current=None)
    source = _recording_source(SequenceConfig.from_dict(TINY), path)
    current = source.stream.source_current.reshape(96, 784)
    np.testing.assert_allclose(current, rec.conductance * rec.input, rtol=1e-6)
    # lane 1, digit 3 is sample 35; the readouts keep their lane and place
    np.testing.assert_array_equal(source.stream.pad_voltages[1, 3], rec.pads[35])


# ----------------------------------------------------------------- one stream
def test_one_stream_is_split_at_n_train(rec: Recording, tmp_path: Path) -> None:
    # the held-out lane alone, as one stream of 32 digits, with no recorded
    # conductance: G = I / V where V >= 1 % of 0.9 V, held over the dark steps
    lane = slice(2 * DIGITS, 3 * DIGITS)
    assert rec.source_current is not None and rec.stimulus is not None
    one = Recording(
        pads=rec.pads[lane],
        input=rec.input[lane],
        labels=rec.labels[lane],
        dt_s=rec.dt_s,
        pad_numbers=rec.pad_numbers,
        n_train=20,
        source_pad=4,
        drain_pads=(11,),
        v_min=0.0,
        v_max=0.9,
        source_current=rec.source_current[lane],
        stimulus=rec.stimulus[lane],
    )
    path = write_recording(tmp_path / "one.h5", one)
    config = SequenceConfig.from_dict(TINY)
    with pytest.warns(DataWarning, match="does not define the conductance"):
        m = run_sequence(config, tmp_path / "run", recording=path, figures=False)

    # washout 8 digits, window 3: training targets 8..17 (digits up to 19),
    # held-out targets 20..29 (digits up to 31); positions of 20..29 are
    # 4 5 6 7 0 1 2 3 4 5: one window at position 0
    assert m["n_windows"] == {"train": 10, "test": 10, "test_per_position": 1}
    assert m["split"]["held_out_from_digit"] == 20
    assert m["split"]["train_targets"] == [8, 17]
    assert m["split"]["test_targets"] == [20, 29]
    assert m["config"]["train_streams"] == 1 and m["config"]["test_streams"] == 0
    assert m["config"]["repeats"] == 4

    # the feature scale of log10 G: its range over the training digits 8..19,
    # G from a step-by-step loop that carries the last I / V with V >= 9 mV
    v = one.input.ravel().astype(np.float64)
    i = rec.source_current[lane].ravel().astype(np.float64)
    g = np.empty_like(v)
    last = None
    for k in range(v.size):
        if abs(v[k]) >= G_MIN_INPUT_FRACTION * 0.9:
            last = i[k] / v[k]
        g[k] = last if last is not None else np.nan
    assert not np.isnan(g[8 * 784 :]).any()
    part = np.log10(g[8 * 784 : 20 * 784])
    lo, hi = m["conductance_log10_range_for_features"]
    assert lo == pytest.approx(part.min(), abs=1e-6)
    assert hi == pytest.approx(part.max(), abs=1e-6)
    assert "hold the last defined value" in m["recording"]["conductance"]


def test_a_one_stream_split_without_every_position_is_refused(
    rec: Recording, tmp_path: Path
) -> None:
    # n_train = 14: training targets 8..11 cover positions 0..3 only
    lane = slice(0, DIGITS)
    path = _written(
        rec,
        tmp_path / "short.h5",
        pads=rec.pads[lane],
        input=rec.input[lane],
        labels=rec.labels[lane],
        conductance=None if rec.conductance is None else rec.conductance[lane],
        source_current=None,
        stimulus=None if rec.stimulus is None else rec.stimulus[lane],
        stream=None,
        n_train=14,
    )
    with pytest.raises(
        DataError, match=r"training part .* none at sequence position 4"
    ):
        run_sequence(SequenceConfig.from_dict(TINY), tmp_path / "x", recording=path)


# ----------------------------------------------------------------- refusals
def _broken(rec: Recording, case: str) -> dict[str, Any]:
    assert rec.conductance is not None and rec.stream is not None
    if case == "labels":
        labels = rec.labels.copy()
        labels[37] = 9
        return {"labels": labels}
    if case == "mid-stream":
        return {"n_train": 40}
    if case == "no conductance":
        return {"conductance": None, "source_current": None}
    if case == "negative conductance":
        cond = rec.conductance.copy()
        cond[40, 100] = -1e-6
        return {"conductance": cond}
    if case == "unequal streams":
        stream = rec.stream.copy()
        stream[32:40] = 0
        return {"stream": stream}
    if case == "nan":
        pads = rec.pads.copy()
        pads[50, 1, 200:230] = np.nan
        return {"pads": pads}
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("labels", r"sample 37 \(stream 1, digit 5\) is labelled 9 .* has 4"),
        ("mid-stream", r"n_train = 40 falls inside stream 1 \(samples 32..63\)"),
        ("no conductance", "neither conductance nor source_current"),
        ("negative conductance", r"-1e-06 S at sample 40, step 100"),
        ("unequal streams", r"differ in length \(\[40, 24, 32\] digits\)"),
        ("nan", "sample 50, pad 13, steps 200-229"),
    ],
)
def test_a_recording_that_does_not_fit_is_refused(
    rec: Recording, tmp_path: Path, case: str, message: str
) -> None:
    path = _written(rec, tmp_path / "broken.h5", **_broken(rec, case))
    config = SequenceConfig.from_dict(TINY)
    with pytest.raises(DataError, match=message):
        run_sequence(config, tmp_path / "run", recording=path, figures=False)
    assert not (tmp_path / "run").exists()  # refused before the folder is made


def test_a_pad_missing_from_the_recording_is_named(
    rec_file: Path, tmp_path: Path
) -> None:
    config = SequenceConfig.from_dict({**TINY, "feature_pads": [7], "exclusion_pad": 2})
    with pytest.raises(DataError, match=r"exclusion pad 2 .* pads are \[7, 13\]"):
        run_sequence(config, tmp_path / "run", recording=rec_file)


def test_samples_of_another_length_are_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rec = Recording(
        pads=rng.uniform(0.1, 0.5, (16, 2, 392)).astype(np.float32),
        input=rng.uniform(0.0, 0.9, (16, 392)).astype(np.float32),
        labels=np.array([int(c) for c in SEQ] * 2),
        dt_s=1e-3,
        pad_numbers=(7, 13),
        n_train=8,
        conductance=rng.uniform(1e-6, 2e-6, (16, 392)).astype(np.float32),
    )
    path = write_recording(tmp_path / "half.h5", rec)
    with pytest.raises(DataError, match=r"samples of 784 steps .* 392 steps"):
        run_sequence(SequenceConfig.from_dict(TINY), tmp_path / "run", recording=path)


# ----------------------------------------------------------------- conductance
def test_conductance_from_current_holds_the_last_defined_value() -> None:
    # stream 0: undefined, 2 uA at 1 V, undefined x2, 6 uA at 2 V, undefined
    # stream 1: 1 nA at -0.5 V (G = -2 nS: the sign is the data's), then undefined
    current = np.array([[0.0, 2e-6, 1e-9, 0.0, 6e-6, 3e-9], [1e-9, 0.0, 0, 0, 0, 0]])
    volts = np.array([[0.0, 1.0, 0.005, 0.0, 2.0, 0.0], [-0.5, 0.0, 0, 0, 0, 0]])
    g, carried = conductance_from_current(current, volts, min_volts=0.01)
    np.testing.assert_allclose(
        g,
        [
            [2e-6, 2e-6, 2e-6, 2e-6, 3e-6, 3e-6],
            [-2e-9, -2e-9, -2e-9, -2e-9, -2e-9, -2e-9],
        ],
    )
    assert carried == 4 + 5
    with pytest.raises(DataError, match=r"stream 1 has no step with \|input\| >= 0.01"):
        conductance_from_current(current, np.array([volts[0], np.zeros(6)]), 0.01)


# ----------------------------------------------------------------- exports
def test_only_a_finished_sequence_run_exports(
    sim_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    run, _ = sim_run
    with pytest.raises(DataError, match="is not a sequence run folder"):
        sequence_recording(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"n_train": 10}))
    with pytest.raises(DataError, match="not the configuration of a sequence run"):
        sequence_recording(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(run / "stream", copy / "stream")
    shutil.copy(run / "config.json", copy / "config.json")
    (copy / "stream" / "piece-00001.npz").unlink()
    with pytest.raises(DataError, match=r"unfinished \(1 of 2 pieces missing"):
        sequence_recording(copy)
    shutil.copy(run / "stream" / "piece-00001.npz", copy / "stream")
    (copy / "stream" / "digits.npz").unlink()
    with pytest.raises(DataError, match=r"lacks digits\.npz"):
        sequence_recording(copy)


# ----------------------------------------------------------------- command line
def test_cli_runs_on_a_recording_with_its_settings(
    sim_run: tuple[Path, dict[str, Any]],
    rec_run: tuple[Path, dict[str, Any]],
    rec_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, sim = sim_run
    out = tmp_path / "cli"
    # a copy of the run on the recording, less its last fit: the command resumes
    # it only if it derives the same configuration from the file (no --config:
    # the exported recording carries the simulated run's settings)
    shutil.copytree(rec_run[0], out)
    (out / "readouts" / "input-L2.json").unlink()
    (out / "metrics.json").unlink()
    argv = ["sequence", "--recording", str(rec_file), "--out", str(out)]
    code = main([*argv, "--no-progress", "--no-figures"])
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["config"] == sim["config"]
    assert m["control"] == sim["control"]
    assert "skipped the device probes" in capsys.readouterr().out

    code = main([*argv, "--wires", "100", "--repeats", "3"])
    assert code == 1
    err = capsys.readouterr().err
    assert "--repeats, --wires set(s) up a simulated stream" in err
    # a config file that sets the stream is refused as the flags are
    config = tmp_path / "config.json"
    config.write_text('{"v_max": 2.0, "repeats": 3}')
    assert main([*argv, "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "--config sets v_max, repeats, which the recording fixes" in err


def test_a_simulated_run_needs_a_held_out_stream(tmp_path: Path) -> None:
    # test_streams = 0 describes a one-stream recording; the simulator has no
    # n_train to split a stream at
    config = SequenceConfig.from_dict({**TINY, "test_streams": 0})
    with pytest.raises(ConfigError, match="test_streams must be at least 1 for a sim"):
        run_sequence(config, tmp_path / "run", figures=False)
    assert not (tmp_path / "run").exists()
