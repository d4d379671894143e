"""A simulated MNIST run, exported as a recording and learned from again.

One small run on a tiny network (120 wires) and synthetic digits is exported with
``export_run``; the readout stage run on that recording must give the run's
metrics and MI exactly (the same numbers, not close ones), since the recording holds
the same float32 readouts and input and both routes share one readout stage. The
values checked independently: the stored input is the encoding of the digits that
went in, the source current is conductance times input voltage (Kirchhoff), the
junction parameters are the published preset's, the stamp's digest is the file's
SHA-256 computed here.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nwnrc.analysis import analyse_mi
from nwnrc.cli import main
from nwnrc.data._store import FeatureStore, StreamHeader, is_legacy_store
from nwnrc.errors import ConfigError, DataError, DataWarning
from nwnrc.experiments import MnistConfig, run_mnist
from nwnrc.experiments._mnist import (
    config_on_recording,
    read_for_readouts,
    readout_data,
    recording_config,
)
from nwnrc.recording import Recording, read_recording, write_recording
from nwnrc.recording._export import export_run
from synthetic_digits import write_digit_set

N_TRAIN, N_TEST = 60, 30
CFG = {
    "n_train": N_TRAIN,
    "n_test": N_TEST,
    "shuffles": 2,
    "channels": [1, 12],
    "n_wires": 120,
    "chip_size_um": 40.0,
    "replicas": 4,
    "piece_samples": 5,
    "gd_epochs": 3,
    "gd_batch_size": 20,
    "update_samples": 20,
}
#: keys of metrics.json that name where the data came from
SOURCE_KEYS = ("data_source", "recording")
#: keys of mi/metrics.json that name the run folder and the file read
MI_SOURCE_KEYS = ("run_dir", "features", "recording")


def _without(d: dict[str, Any], keys: tuple[str, ...]) -> str:
    return json.dumps({k: v for k, v in d.items() if k not in keys}, sort_keys=True)


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    d = write_digit_set(path, (200, 40, 40), (11, 12, 13))
    images = np.concatenate([d["x_train"][:N_TRAIN], d["x_test"][:N_TEST]])
    labels = np.concatenate([d["y_train"][:N_TRAIN], d["y_test"][:N_TEST]])
    return {"path": path, "images": images, "labels": labels}


@pytest.fixture(scope="module")
def sim_run(digits: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "run"
    run_mnist(MnistConfig.from_dict(CFG), out, data_path=digits["path"], figures=False)
    return out


@pytest.fixture(scope="module")
def exported(sim_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_run(sim_run, tmp_path_factory.mktemp("export") / "run.h5")


@pytest.fixture(scope="module")
def rec_run(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onrec") / "run"
    run_mnist(MnistConfig.from_dict(CFG), out, recording=exported, figures=False)
    return out


def _metrics(run: Path) -> dict[str, Any]:
    return json.loads((run / "metrics.json").read_text())


# -- the store and the export ------------------------------------------------------


def test_the_feature_store_is_a_recording(
    sim_run: Path, digits: dict[str, Any]
) -> None:
    rec = read_recording(sim_run / "stream" / "features.h5")
    assert rec.kind == "simulated"
    assert rec.pads.shape == (N_TRAIN + N_TEST, 2, 784)
    assert rec.pad_numbers == (1, 12)
    assert (rec.source_pad, rec.drain_pads) == (4, (11,))
    assert (rec.v_min, rec.v_max, rec.dt_s, rec.n_train) == (0.0, 2.0, 1e-3, N_TRAIN)
    np.testing.assert_array_equal(rec.labels, digits["labels"])
    # the input is the digits' encoding: 0 V for black, 2 V for white, row-major
    pixels = digits["images"].reshape(len(digits["images"]), -1) / 255.0
    np.testing.assert_array_equal(rec.input, (2.0 * pixels).astype(np.float32))
    np.testing.assert_array_equal(rec.input_values(), pixels.astype(np.float32))
    # Kirchhoff: the current into the network is its conductance times the
    # source voltage
    assert rec.source_current is not None and rec.conductance is not None
    lit = rec.input > 0
    np.testing.assert_allclose(
        rec.source_current[lit], (rec.conductance * rec.input)[lit], rtol=1e-5
    )
    assert np.all(rec.source_current[~lit] == 0)
    # the device metadata is the published preset (Hochstetter et al. 2021)
    assert rec.device["junction.v_set"] == 0.01
    assert rec.device["junction.r_on"] == 12900.0
    assert rec.config["n_wires"] == 120
    with h5py.File(sim_run / "stream" / "features.h5") as f:
        assert f["pads"].attrs["units"] == "V"
        assert f["source_current"].attrs["units"] == "A"
        assert f["conductance"].attrs["units"] == "S"


def test_the_export_holds_the_run(sim_run: Path, exported: Path) -> None:
    rec = read_recording(exported)
    store = read_recording(sim_run / "stream" / "features.h5")
    for name in ("pads", "input", "labels", "source_current", "conductance"):
        np.testing.assert_array_equal(getattr(rec, name), getattr(store, name))
    assert rec.config == json.loads((sim_run / "run-config.json").read_text())
    assert rec.device == store.device
    assert rec.kind == "simulated"


def test_export_refuses_what_it_cannot_write(
    sim_run: Path, exported: Path, rec_run: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="exists"):
        export_run(sim_run, exported)
    with pytest.raises(ConfigError, match=r"\.h5"):
        export_run(sim_run, tmp_path / "run.csv")
    with pytest.raises(DataError, match="already its recording"):
        export_run(rec_run, tmp_path / "again.h5")
    with pytest.raises(DataError, match="not a finished run folder"):
        export_run(tmp_path, tmp_path / "none.h5")
    assert not (tmp_path / "again.h5").exists()


# -- the run on the recording ------------------------------------------------------


def test_a_run_on_its_export_gives_identical_metrics(
    sim_run: Path, rec_run: Path
) -> None:
    sim, rec = _metrics(sim_run), _metrics(rec_run)
    assert _without(rec, SOURCE_KEYS) == _without(sim, SOURCE_KEYS)
    # and they are results, not a copy of nothing: five fits per method and set
    assert sim["ridge_accuracy"]["2"]["mean"] > 0.5
    for name in ("online", "batch", "ridge"):
        a = (sim_run / "readouts" / f"{name}-2-0.json").read_text()
        b = (rec_run / "readouts" / f"{name}-2-0.json").read_text()
        assert a == b


def test_the_run_names_its_recording(rec_run: Path, exported: Path) -> None:
    m = _metrics(rec_run)
    digest = hashlib.sha256(exported.read_bytes()).hexdigest()
    assert m["recording"]["sha256"] == digest
    assert m["recording"]["size_bytes"] == exported.stat().st_size
    assert m["recording"]["kind"] == "simulated"
    assert m["recording"]["device"]["junction.v_set"] == 0.01
    assert digest[:16] in m["data_source"]
    stamp = json.loads((rec_run / "recording.json").read_text())
    assert stamp["sha256"] == digest
    assert not (rec_run / "stream").exists()


def test_mi_on_the_recording_run_equals_mi_on_the_run(
    sim_run: Path, rec_run: Path
) -> None:
    a = analyse_mi(sim_run, figures=False)
    b = analyse_mi(rec_run, figures=False)
    assert _without(b, MI_SOURCE_KEYS) == _without(a, MI_SOURCE_KEYS)
    assert a["channels"] == ["1", "12", "conductance", "input"]
    assert b["estimator"]["input"] == "the input voltages stored with the readouts"
    # pad 1 and pad 12 carry information about the class beyond the bias floor
    for pad in ("1", "12"):
        assert a["mi_bits"][pad] > a["mi_shuffle_bits"][pad]


def test_fewer_samples_and_other_channels_from_a_recording(
    exported: Path, tmp_path: Path
) -> None:
    cfg = MnistConfig.from_dict(
        {**CFG, "n_train": 40, "n_test": 20, "channels": [12], "shuffles": 1}
    )
    cfg = replace(cfg, methods=("ridge",))
    m = run_mnist(cfg, tmp_path / "part", recording=exported, figures=False)
    assert set(m["ridge_accuracy"]) == {"1"}
    # the first 40 training and the first 20 test samples, pad 12 only
    rec = read_recording(exported)
    pred = json.loads((tmp_path / "part" / "readouts" / "ridge-1-0.json").read_text())
    y_test = rec.labels[N_TRAIN : N_TRAIN + 20]
    assert len(pred["predictions"]) == 20
    assert m["ridge_accuracy"]["1"]["mean"] == pytest.approx(
        np.mean(np.asarray(pred["predictions"]) == y_test)
    )
    X, inputs, y = readout_data(read_for_readouts(exported), cfg)
    np.testing.assert_array_equal(
        y, np.r_[rec.labels[:40], rec.labels[N_TRAIN : N_TRAIN + 20]]
    )
    np.testing.assert_array_equal(X[:40], rec.pads[:40, 1] / np.float32(2.0))
    np.testing.assert_array_equal(inputs[40:], rec.input[N_TRAIN:][:20] / 2)

    too_many = replace(cfg, n_train=61)
    with pytest.raises(ConfigError, match=r"n_train=61.*holds 60 training"):
        run_mnist(too_many, tmp_path / "big", recording=exported)
    wrong_pad = replace(cfg, channels=(13,))
    with pytest.raises(ConfigError, match=r"pad\(s\) \[13\].*\[1, 12\]"):
        run_mnist(wrong_pad, tmp_path / "pad", recording=exported)


def test_a_folder_refuses_other_data(
    sim_run: Path, rec_run: Path, exported: Path, digits: dict[str, Any]
) -> None:
    other = exported.with_name("other.h5")
    rec = read_recording(exported)
    rec.pads = rec.pads * np.float32(1.01)
    write_recording(other, rec)
    before = (rec_run / "metrics.json").read_text()
    cfg = MnistConfig.from_dict(CFG)
    with pytest.raises(ConfigError, match="another recording"):
        run_mnist(cfg, rec_run, recording=other)
    with pytest.raises(ConfigError, match="simulated device"):
        run_mnist(cfg, sim_run, recording=exported)
    with pytest.raises(ConfigError, match="holds a run on the recording"):
        run_mnist(cfg, rec_run, data_path=digits["path"])
    assert (rec_run / "metrics.json").read_text() == before


def test_mi_finds_a_moved_recording_only_if_it_is_the_same(
    rec_run: Path, exported: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(rec_run, run)
    stamp = json.loads((run / "recording.json").read_text())
    stamp["path"] = str(tmp_path / "gone.h5")
    (run / "recording.json").write_text(json.dumps(stamp))
    with pytest.raises(DataError, match="--recording"):
        analyse_mi(run, figures=False)
    moved = tmp_path / "moved.h5"
    shutil.copyfile(exported, moved)
    m = analyse_mi(run, figures=False, recording=moved)
    assert m["features"] == str(moved)
    with h5py.File(moved, "r+") as f:
        f["pads"][0, 0, 0] += 1.0
    with pytest.raises(DataError, match="not the recording"):
        analyse_mi(run, figures=False, recording=moved)


# -- broken recordings -------------------------------------------------------------


def _small(**changes: Any) -> Recording:
    rng = np.random.default_rng(5)
    n, steps = 12, changes.pop("steps", 784)
    base: dict[str, Any] = {
        "pads": rng.random((n, 2, steps)),
        "input": rng.random((n, steps)),
        "labels": np.arange(n) % 10,
        "dt_s": 1e-3,
        "pad_numbers": (1, 12),
        "n_train": 8,
        "v_min": 0.0,
        "v_max": 1.0,
    }
    base.update(changes)
    return Recording(**base)


def test_labels_that_disagree_with_the_samples_are_refused(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.h5", _small())
    with h5py.File(path, "r+") as f:
        del f["labels"]
        f["labels"] = np.arange(11)  # one fewer than the 12 samples
    cfg = MnistConfig(n_train=8, n_test=4, channels=(1, 12))
    with pytest.raises(DataError, match=r"one entry per sample \(12\)"):
        run_mnist(cfg, tmp_path / "run", recording=path)
    assert not (tmp_path / "run" / "recording.json").exists()


def test_samples_of_the_wrong_length_are_refused(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.h5", _small(steps=392))
    cfg = MnistConfig(n_train=8, n_test=4, channels=(1, 12))
    with pytest.raises(DataError, match=r"392 steps.*784"):
        run_mnist(cfg, tmp_path / "run", recording=path)


def test_a_label_outside_the_digits_is_refused(tmp_path: Path) -> None:
    labels = np.arange(12) % 10
    labels[9] = 12
    path = write_recording(tmp_path / "r.h5", _small(labels=labels))
    cfg = MnistConfig(n_train=8, n_test=4, channels=(1, 12))
    with pytest.raises(DataError, match="sample 9 has label 12"):
        run_mnist(cfg, tmp_path / "run", recording=path)


def test_a_recording_without_a_test_stream_is_refused(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.h5", _small(n_train=12))
    cfg = MnistConfig(n_train=8, n_test=4, channels=(1, 12))
    with pytest.raises(DataError, match="n_train=12 of 12"):
        run_mnist(cfg, tmp_path / "run", recording=path)


def test_a_nan_stretch_is_refused_by_the_validator(tmp_path: Path) -> None:
    rec = _small()
    rec.pads[3, 1, 100:140] = np.nan
    path = write_recording(tmp_path / "r.h5", rec)
    cfg = MnistConfig(n_train=8, n_test=4, channels=(1, 12))
    with pytest.raises(DataError, match="sample 3, pad 12"):
        run_mnist(cfg, tmp_path / "run", recording=path)


# -- the older layout --------------------------------------------------------------


def _legacy_copy(sim_run: Path, dest: Path) -> Path:
    """The run's stream as a store of the layout before the input was kept."""
    (dest / "stream").mkdir(parents=True)
    shutil.copyfile(
        sim_run / "stream" / "stream-config.json",
        dest / "stream" / "stream-config.json",
    )
    shutil.copyfile(sim_run / "run-config.json", dest / "run-config.json")
    with (
        h5py.File(sim_run / "stream" / "features.h5", "r") as src,
        h5py.File(dest / "stream" / "features.h5", "w") as f,
    ):
        for name in ("pads", "conductance", "labels"):
            f.create_dataset(name, data=src[name][()])
        f.attrs["n_train"] = src.attrs["n_train"]
        f.attrs["pad_numbers"] = src.attrs["pad_numbers"]
        f.attrs["dt_s"] = src.attrs["dt_s"]
        f.attrs["config"] = json.dumps({"source_pad": 4, "junction": {"v_set": 0.01}})
    return dest


def test_an_older_store_still_reads(
    sim_run: Path, digits: dict[str, Any], tmp_path: Path
) -> None:
    old = _legacy_copy(sim_run, tmp_path / "old")
    assert is_legacy_store(old / "stream" / "features.h5")
    shutil.copytree(sim_run / "readouts", old / "readouts")
    for path in (old / "readouts").glob("ridge-*.json"):
        path.unlink()  # the ridge fits are made again from the older store

    # the run resumes: no stream, the ridge readouts learn from the older store
    m = run_mnist(
        MnistConfig.from_dict(CFG), old, data_path=digits["path"], figures=False
    )
    assert not (old / "stream" / "pieces").exists()
    for path in (sim_run / "readouts").glob("ridge-*.json"):
        assert (old / "readouts" / path.name).read_text() == path.read_text()
    assert _without(m, SOURCE_KEYS) == _without(_metrics(sim_run), SOURCE_KEYS)

    # MI rebuilds the input from the digits, and gets the stored input's numbers
    a = analyse_mi(sim_run, figures=False)
    b = analyse_mi(old, figures=False, data_path=digits["path"])
    assert b["mi_bits"] == a["mi_bits"]
    assert b["mi_curve"] == a["mi_curve"]
    assert "pixels from MNIST" in b["estimator"]["input"]

    # the export rebuilds the input as well, and keeps the pixels
    rec = read_recording(export_run(old, tmp_path / "old.h5", data_path=digits["path"]))
    store = read_recording(sim_run / "stream" / "features.h5")
    np.testing.assert_array_equal(rec.input, store.input)
    np.testing.assert_array_equal(rec.input_values(), store.input_values())
    assert rec.source_current is None
    assert rec.device["junction.v_set"] == 0.01


def test_pieces_without_the_input_gather_in_the_older_layout(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    pads = np.arange(2 * 1 * 4, dtype=np.float32).reshape(2, 1, 4)
    store.write_piece(0, np.array([0, 1]), pads, np.ones((2, 4)), np.zeros((1, 3)))
    header = StreamHeader(1e-3, (2,), 4, (11,), 0.0, 2.0, config={"a": 1})
    path = store.gather(2, np.array([3, 4]), 1, header=header)
    assert is_legacy_store(path)
    with h5py.File(path) as f:
        assert "input" not in f
        assert list(f.attrs["pad_numbers"]) == [2]
        np.testing.assert_array_equal(f["pads"][()], pads)


def test_pieces_with_the_input_gather_a_recording(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    volts = np.array([[0.0, 1.0, 2.0, 0.5], [2.0, 2.0, 0.0, 0.0]])
    for piece, i in enumerate((1, 0)):  # written out of order
        store.write_piece(
            piece,
            np.array([i]),
            np.full((1, 1, 4), i, np.float32),
            np.full((1, 4), 1e-4),
            np.zeros((1, 3)),
            input_volts=volts[i : i + 1],
            source_current=1e-4 * volts[i : i + 1],
        )
    header = StreamHeader(1e-3, (2,), 4, (11,), 0.0, 2.0, config={"a": 1})
    rec = read_recording(store.gather(2, np.array([3, 4]), 1, header=header))
    np.testing.assert_array_equal(rec.input, volts.astype(np.float32))
    np.testing.assert_array_equal(rec.pads[:, 0, 0], [0.0, 1.0])
    np.testing.assert_allclose(rec.input_values(), volts / 2)
    assert (rec.kind, rec.config, rec.source_pad) == ("simulated", {"a": 1}, 4)


# -- through an instrument file and the command line -------------------------------


def test_round_trip_through_a_numpy_export_and_the_importer(
    sim_run: Path, exported: Path, tmp_path: Path
) -> None:
    tabular = pytest.importorskip("nwnrc.recording._tabular")
    rec = read_recording(exported)
    # the instrument's view: one continuous channel per pad, the input and the
    # current, sample after sample
    npz = tmp_path / "daq.npz"
    np.savez(
        npz,
        ai0=rec.input.ravel(),
        ai1=rec.pads[:, 0].ravel(),
        ai2=rec.pads[:, 1].ravel(),
        ai3=rec.source_current.ravel(),
    )
    imported = tabular.import_table(
        npz,
        input_channel="ai0",
        pad_channels={"ai1": 1, "ai2": 12},
        current_channel="ai3",
        labels=rec.labels,
        steps=784,
        dt_s=1e-3,
        v_min=0.0,
        v_max=2.0,
        n_train=N_TRAIN,
        source_pad=4,
        drain_pads=(11,),
    )
    for name in ("pads", "input", "labels", "source_current"):
        np.testing.assert_array_equal(getattr(imported, name), getattr(rec, name))
    path = write_recording(tmp_path / "imported.h5", imported)
    cfg = replace(MnistConfig.from_dict(CFG), methods=("ridge",))
    run_mnist(cfg, tmp_path / "run", recording=path, figures=False)
    for ch in ("1", "2", "input"):
        a = (sim_run / "readouts" / f"ridge-{ch}-0.json").read_text()
        assert (tmp_path / "run" / "readouts" / f"ridge-{ch}-0.json").read_text() == a


def test_the_commands_export_learn_and_analyse(
    sim_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.h5"
    assert main(["export", str(sim_run), "--out", str(out)]) == 0
    assert "simulated recording of 90 samples" in capsys.readouterr().out
    run = tmp_path / "run"
    argv = ["mnist", "--recording", str(out), "--out", str(run), "--no-progress"]
    argv += ["--shuffles", "1", "--methods", "ridge", "--no-figures"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "exported from the simulator" in text and "readouts from recording" in text
    m = _metrics(run)
    # the whole recording by default: its 60 training and 30 test samples
    assert (m["config"]["n_train"], m["config"]["n_test"]) == (N_TRAIN, N_TEST)
    assert m["config"]["channels"] == [1, 12]
    a = (sim_run / "readouts" / "ridge-2-0.json").read_text()
    assert (run / "readouts" / "ridge-2-0.json").read_text() == a
    assert main(["analyse", "mi", str(run), "--no-figures", "--no-progress"]) == 0
    assert "pad 12" in capsys.readouterr().out

    assert main([*argv, "--wires", "300"]) == 1
    err = capsys.readouterr().err
    assert "--wires cannot be used with --recording" in err
    assert main(["mnist", "--recording", str(out), "--train", "500"]) == 1
    assert "holds 60 training samples" in capsys.readouterr().err
    # a config file that sets the device is refused as the flags are
    config = tmp_path / "config.json"
    config.write_text('{"v_max": 3.0, "shuffles": 1}')
    assert main([*argv, "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "v_max (in --config) cannot be used with --recording" in err


def test_a_sequence_run_without_its_converter_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nwnrc.experiments._sequence as sequence

    monkeypatch.delattr(sequence, "sequence_recording", raising=False)
    (tmp_path / "config.json").write_text(json.dumps({"sequence": [1, 4, 7]}))
    with pytest.raises(DataError, match=r"sequence run.*sequence_recording"):
        export_run(tmp_path, tmp_path / "seq.h5")


def test_a_sequence_run_exports_through_its_converter(tmp_path: Path) -> None:
    from nwnrc.experiments._sequence import (
        SequenceConfig,
        run_sequence,
        sequence_recording,
    )

    write_digit_set(tmp_path / "digits.npz", (200, 20, 100), (1, 2, 3))
    tiny = {
        "n_wires": 150,
        "chip_size_um": 44.0,
        "repeats": 3,
        "washout_repeats": 1,
        "train_streams": 1,
        "test_streams": 1,
        "max_window": 2,
        "exclusion_window": 2,
        "control_windows": [2],
        "piece_repeats": 2,
        "update_windows": 20,
        "relax_s": 1.0,
    }
    run = tmp_path / "seq"
    run_sequence(
        SequenceConfig.from_dict(tiny),
        run,
        data_path=tmp_path / "digits.npz",
        figures=False,
    )
    out = tmp_path / "seq.h5"
    assert main(["export", str(run), "--out", str(out)]) == 0
    rec, direct = read_recording(out), sequence_recording(run)
    assert rec.kind == "simulated"
    assert rec.n_samples == 2 * 3 * 8  # two streams of three repeats of 8 digits
    for name in ("pads", "input", "labels", "stream"):
        np.testing.assert_array_equal(getattr(rec, name), getattr(direct, name))


def test_mi_on_a_recording_without_conductance(
    sim_run: Path, exported: Path, tmp_path: Path
) -> None:
    from nwnrc.analysis import MiSettings

    rec = read_recording(exported)
    rec.conductance = None
    rec.source_current = None
    path = write_recording(tmp_path / "pads-only.h5", rec)
    cfg = replace(MnistConfig.from_dict(CFG), methods=("ridge",), shuffles=1)
    run_mnist(cfg, tmp_path / "run", recording=path, figures=False)
    settings = MiSettings(ksg=True, ksg_samples=N_TRAIN)
    m = analyse_mi(tmp_path / "run", figures=False, settings=settings)
    assert m["channels"] == ["1", "12", "input"]
    # each channel's estimate is its own: the same as with the conductance beside it
    full = analyse_mi(sim_run, figures=False)
    for name in m["channels"]:
        assert m["mi_bits"][name] == full["mi_bits"][name]
    assert set(m["ksg_check"]["ksg_bits"]) == {"1", "12", "input"}
    assert m["per_class_accuracy"]["source"].startswith("readouts/ridge-2-")


@pytest.mark.parametrize(
    "module",
    [
        "nwnrc.data._store",
        "nwnrc.experiments._config",
        "nwnrc.experiments._mnist",
        "nwnrc.recording._export",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(importlib.import_module(module), optionflags=flags)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("n_train", "match"),
    [
        (12, r"no test stream: all 12 samples are training .*--n-train N"),
        (0, r"no training stream: all 12 samples are test .*--n-train N"),
    ],
)
def test_the_cli_says_a_recording_lacks_a_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], n_train: int, match: str
) -> None:
    path = write_recording(tmp_path / "r.h5", _small(n_train=n_train))
    argv = ["mnist", "--recording", str(path), "--out", str(tmp_path / "run")]
    assert main([*argv, "--no-progress", "--no-figures"]) == 1
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert not (tmp_path / "run").exists()


def test_flat_channels_draw_their_figures_without_a_warning(tmp_path: Path) -> None:
    # both pads dead: every feature is 0, so the online learner never changes its
    # weights and its mean |dW| is 0 throughout, which a log axis cannot show
    rng = np.random.default_rng(2)
    n = 60
    rec = Recording(
        pads=np.zeros((n, 2, 784)),
        input=rng.random((n, 784)),
        labels=np.arange(n) % 10,
        dt_s=1e-3,
        pad_numbers=(1, 12),
        n_train=40,
        v_min=0.0,
        v_max=1.0,
    )
    path = write_recording(tmp_path / "flat.h5", rec)
    run = tmp_path / "run"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = run_mnist(recording_config(path, shuffles=1), run, recording=path)
        mi = analyse_mi(run, recording=path)
    assert [str(w.message) for w in caught if w.category is not DataWarning] == []
    assert sum(w.category is DataWarning for w in caught) >= 2  # the two dead pads
    assert max(metrics["mean_abs_dw"]["value"]) == 0.0
    for name in ("mean_abs_dw.png", "readouts.png", "mi/mi_curve.png"):
        assert (run / name).stat().st_size > 0
    second = mi["findings"]["saturation_with_dw_fade"]
    assert second["status"] == "not tested"
    assert "never changed its weights" in second["reason"]


def test_a_recording_that_reads_the_default_driven_pads_still_configures(
    tmp_path: Path,
) -> None:
    # no source or drain named: the config's driven pads (4, 11) must not be
    # taken for two of the recording's readout pads
    path = write_recording(tmp_path / "r.h5", _small(pad_numbers=(4, 11)))
    cfg = recording_config(path, shuffles=1)
    assert cfg.channels == (4, 11)
    assert {cfg.source_pad, cfg.drain_pad} == {0, 1}
    named = _small(pad_numbers=(4, 11), source_pad=2, drain_pads=(3,))
    path = write_recording(tmp_path / "named.h5", named)
    cfg = recording_config(path, shuffles=1)
    assert (cfg.source_pad, cfg.drain_pad) == (2, 3)
    # and the run on it takes the same pads
    rec = read_recording(path)
    assert config_on_recording(cfg, rec).source_pad == 2
