"""End-to-end tests of the MNIST experiment on a small synthetic digit set.

The digits are ten stroke patterns (class c: a bar whose position and direction are set
by c, drawn with random shifts and noise), small enough to stream in seconds yet only
separable by a readout that sees where the strokes are.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from nwnrc.cli import main
from nwnrc.data._store import FeatureStore
from nwnrc.errors import ConfigError, DataError, NetworkError
from nwnrc.experiments import MnistConfig, run_mnist
from synthetic_digits import synthetic_digits, write_digit_set


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    write_digit_set(path, (600, 100, 100), (1, 2, 3))
    return path


SMALL = {
    "n_train": 120,
    "n_test": 40,
    "shuffles": 2,
    "n_wires": 200,
    "chip_size_um": 49.0,
    "replicas": 4,
    "piece_samples": 5,
    "gd_epochs": 5,
    "gd_batch_size": 20,
    "update_samples": 20,
}


@pytest.fixture(scope="module")
def small_run(digits_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    run_mnist(MnistConfig.from_dict(SMALL), out, data_path=digits_npz)
    return out


def test_metrics_have_the_promised_shape(small_run: Path) -> None:
    m = json.loads((small_run / "metrics.json").read_text())
    for key in ("online_accuracy", "batch_accuracy", "ridge_accuracy"):
        assert set(m[key]) == {"1", "2", "3", "4", "5"}
        for v in m[key].values():
            assert set(v) == {"mean", "std", "runs"}
            assert 0.0 <= v["mean"] <= 1.0
    assert len(m["online_accuracy"]["5"]["runs"]) == 2
    assert len(m["ridge_accuracy"]["5"]["runs"]) == 1  # ridge ignores the order
    assert set(m["input_channel_accuracy"]) == {"online", "batch", "ridge"}
    conf = np.asarray(m["confusion_matrix"])
    assert conf.shape == (10, 10)
    assert conf.sum() == SMALL["n_test"]
    assert len(m["per_class_accuracy"]) == 10
    lc = m["learning_curve"]
    assert lc["samples"][-1] == SMALL["n_train"]
    assert len(lc["samples"]) == len(lc["accuracy"])
    dw = m["mean_abs_dw"]
    assert dw["samples"][-1] == SMALL["n_train"]
    assert all(v >= 0 for v in dw["value"])
    assert m["config"]["n_train"] == SMALL["n_train"]


def test_confusion_matrix_matches_the_stored_predictions(small_run: Path) -> None:
    m = json.loads((small_run / "metrics.json").read_text())
    pred = np.asarray(
        json.loads((small_run / "readouts" / "online-5-0.json").read_text())[
            "predictions"
        ]
    )
    _, y_test = synthetic_digits(100, 3)
    y = y_test[: SMALL["n_test"]]
    conf = np.zeros((10, 10), dtype=int)
    for t, p in zip(y, pred, strict=True):
        conf[t, p] += 1
    assert conf.tolist() == m["confusion_matrix"]
    assert m["online_accuracy"]["5"]["runs"][0] == pytest.approx(np.mean(pred == y))


def test_readouts_learn_the_patterns(small_run: Path) -> None:
    # Ten classes: chance is 10 %. Bars in distinct places are linearly separable
    # from the readouts, so the ridge readout must do far better than chance.
    m = json.loads((small_run / "metrics.json").read_text())
    assert m["ridge_accuracy"]["5"]["mean"] > 0.6
    assert m["online_accuracy"]["5"]["mean"] > 0.6


def test_feature_store_holds_the_stream(small_run: Path) -> None:
    path = small_run / "stream" / "features.h5"
    with h5py.File(path, "r") as f:
        n = SMALL["n_train"] + SMALL["n_test"]
        assert f["pads"].shape == (n, 5, 784)
        assert f["conductance"].shape == (n, 784)
        assert f.attrs["n_train"] == SMALL["n_train"]
        assert list(f.attrs["pad_numbers"]) == [1, 2, 12, 13, 15]
        # a black pixel puts 0 V on the source, so every floating pad reads 0 V
        pads = np.asarray(f["pads"][:4])
        assert np.all(pads[:, :, :28] == 0.0)
        assert np.all(np.asarray(f["conductance"][:]) > 0)
    assert not (small_run / "stream" / "pieces").exists()


def test_figures_are_written(small_run: Path) -> None:
    for name in (
        "learning_curve",
        "accuracy_vs_channels",
        "confusion_matrix",
        "mean_abs_dw",
        "readouts",
    ):
        png = small_run / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_reuses_finished_work(small_run: Path, digits_npz: Path) -> None:
    before = (small_run / "metrics.json").read_text()
    stamp = (small_run / "stream" / "features.h5").stat().st_mtime_ns
    run_mnist(
        MnistConfig.from_dict(SMALL), small_run, data_path=digits_npz, figures=False
    )
    assert (small_run / "stream" / "features.h5").stat().st_mtime_ns == stamp
    assert (small_run / "metrics.json").read_text() == before


def test_a_different_stream_config_in_the_same_folder_is_refused(
    small_run: Path, digits_npz: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    cfg = MnistConfig.from_dict({**SMALL, "n_train": 30, "n_test": 10})
    store = FeatureStore(out / "stream")
    store.write_piece(
        0, np.array([0]), np.zeros((1, 5, 784)), np.ones((1, 784)), np.zeros((2, 3))
    )
    (out / "stream" / "stream-config.json").write_text(
        json.dumps({**cfg.stream_dict(), "v_max": 9.0})
    )
    with pytest.raises(ConfigError, match=r"other settings.*v_max"):
        run_mnist(cfg, out, data_path=digits_npz)


def test_gather_refuses_a_stream_with_a_missing_sample(tmp_path: Path) -> None:
    store = FeatureStore(tmp_path)
    store.write_piece(
        0, np.array([0, 2]), np.zeros((2, 1, 784)), np.ones((2, 784)), np.zeros((1, 3))
    )
    with pytest.raises(DataError, match="sample 1"):
        store.gather(3, np.zeros(3, dtype=np.int64), 2, {})
    assert not store.features_path.exists()


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("n_train", 0, "n_train"),
        ("n_test", 20_000, "n_test"),
        ("eval_split", "train", "eval_split"),
        ("channels", (1, 1), "distinct"),
        (
            "channels",
            (1, 99),
            r"channels must be pad numbers in 0\.\.15, got \[1, 99\]",
        ),
        ("channels", (-1,), r"in 0\.\.15, got \[-1\]"),
        ("channels", (1, 4), r"driven pad\(s\) 4 \(source_pad\)"),
        ("channels", (11, 2), r"driven pad\(s\) 11 \(drain_pad\)"),
        ("source_pad", 16, r"source_pad must be a pad number in 0\.\.15, got 16"),
        ("drain_pad", -1, r"drain_pad must be a pad number in 0\.\.15, got -1"),
        ("drain_pad", 4, "source_pad and drain_pad must differ, both are 4"),
        ("methods", ("online", "svm"), "methods"),
        ("shuffles", 0, "shuffles"),
    ],
)
def test_bad_config_is_a_typed_error(field: str, value: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        MnistConfig.from_dict({field: value})


def test_unknown_config_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="n_trian"):
        MnistConfig.from_dict({"n_trian": 5})


def test_cli_runs_and_prints_a_summary(
    digits_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(
        json.dumps(
            {
                k: v
                for k, v in SMALL.items()
                if k not in ("n_train", "n_test", "shuffles")
            }
        )
    )
    code = main(
        [
            "mnist",
            "--config",
            str(cfg),
            "--train",
            "40",
            "--test",
            "20",
            "--shuffles",
            "1",
            "--methods",
            "ridge",
            "--data",
            str(digits_npz),
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
            "--no-figures",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "ridge" in text and "raw pixels" in text
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert set(m["ridge_accuracy"]) == {"1", "2", "3", "4", "5"}
    assert "online_accuracy" not in m


KILL_SCRIPT = """
import sys
from nwnrc.experiments import MnistConfig, run_mnist
cfg = MnistConfig.from_dict({cfg})
run_mnist(cfg, sys.argv[1], data_path=sys.argv[2], figures=False)
"""


def test_a_run_killed_mid_stream_resumes_to_the_same_metrics(
    digits_npz: Path, tmp_path: Path
) -> None:
    cfg = {
        **SMALL,
        "n_train": 160,
        "n_test": 40,
        "piece_samples": 1,
        "methods": ["online", "ridge"],
        "shuffles": 1,
    }
    script = KILL_SCRIPT.format(cfg=repr(cfg))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    # an uninterrupted run for reference
    ref = tmp_path / "ref"
    subprocess.run(
        [sys.executable, "-c", script, str(ref), str(digits_npz)],
        check=True,
        env=env,
        timeout=600,
    )

    # the same run, killed once a few pieces of the stream are on disk
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(out), str(digits_npz)], env=env
    )
    pieces = out / "stream" / "pieces"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if pieces.exists() and len(list(pieces.glob("piece-*.npz"))) >= 3:
            break
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (out / "metrics.json").exists()
    n_before = len(list(pieces.glob("piece-*.npz")))
    assert 3 <= n_before < 40

    subprocess.run(
        [sys.executable, "-c", script, str(out), str(digits_npz)],
        check=True,
        env=env,
        timeout=600,
    )
    assert (out / "metrics.json").read_text() == (ref / "metrics.json").read_text()
    with (
        h5py.File(out / "stream" / "features.h5") as a,
        h5py.File(ref / "stream" / "features.h5") as b,
    ):
        np.testing.assert_array_equal(a["pads"][:], b["pads"][:])


def test_a_finished_run_folder_refuses_other_settings(
    small_run: Path, digits_npz: Path
) -> None:
    before = (small_run / "metrics.json").read_text()
    changed = MnistConfig.from_dict({**SMALL, "v_max": 1.0, "ridge_alpha": 5.0})
    with pytest.raises(ConfigError, match="ridge_alpha, v_max"):
        run_mnist(changed, small_run, data_path=digits_npz)
    assert (small_run / "metrics.json").read_text() == before


def test_a_refused_config_leaves_the_folder_usable(
    digits_npz: Path, tmp_path: Path
) -> None:
    # ten wires leave the source pad untouched: refused when the network is built
    bad = MnistConfig.from_dict({**SMALL, "n_wires": 10})
    with pytest.raises(NetworkError, match=r"pad 4 \(source_pad\) touches no wire"):
        run_mnist(bad, tmp_path, data_path=digits_npz)
    assert not (tmp_path / "stream" / "stream-config.json").exists()
    assert not (tmp_path / "run-config.json").exists()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"n_train": "20"}, "n_train must be of type int"),
        ({"v_max": True}, "v_max must be of type float"),
        ({"channels": 3}, "channels must be a list"),
        ([1, 2], "JSON object"),
    ],
)
def test_config_values_of_the_wrong_type_are_typed_errors(
    data: object, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        MnistConfig.from_dict(data)  # type: ignore[arg-type]


def test_cli_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{n_train: 20")
    a_file = tmp_path / "afile"
    a_file.write_text("")
    for argv in (
        ["mnist", "--config", str(bad_json)],
        ["mnist", "--config", str(tmp_path / "missing.json")],
        ["mnist", "--out", str(a_file), "--no-progress"],
    ):
        assert main(argv) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("nwnrc: error:") and "\n" not in err


def test_absurd_voltages_are_refused() -> None:
    with pytest.raises(ConfigError, match="within"):
        MnistConfig(v_max=1e9)


def test_more_digits_than_the_data_holds_is_refused_before_streaming(
    digits_npz: Path, tmp_path: Path
) -> None:
    # the file holds 600 training and 100 test digits
    config = MnistConfig.from_dict({**SMALL, "n_train": 601})
    with pytest.raises(ConfigError, match="asked for 601 training digits but"):
        run_mnist(config, tmp_path / "run", data_path=digits_npz, figures=False)
    config = MnistConfig.from_dict({**SMALL, "n_test": 101})
    with pytest.raises(ConfigError, match="asked for 101 test split digits"):
        run_mnist(config, tmp_path / "run", data_path=digits_npz, figures=False)
    assert not (tmp_path / "run" / "stream").exists()
