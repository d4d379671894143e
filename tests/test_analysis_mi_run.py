"""The MI analysis of a run, on small synthetic run folders written here.

The folders have the layout of ``nwnrc mnist`` (``stream/features.h5``, and where a
test needs it ``metrics.json``, ``stream/stream-config.json`` and ``readouts/``);
the readouts are made so that their information is known:

- pad 3 reads the class itself (0 .. 9 volts): it carries H(class), and the specific
  information of class c is log2(N / n(c));
- pad 7 is noise, independent of everything: its information is the bias floor;
- the conductance is constant: exactly 0 bits;
- the input stream holds class-dependent pixels.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from scipy import stats

from nwnrc.analysis import (
    MiSettings,
    StreamingMI,
    analyse_mi,
    bin_edges,
    class_entropy_bits,
    mi_checkpoints,
)
from nwnrc.cli import main
from nwnrc.errors import ConfigError, DataError

N_TRAIN, N_TEST = 400, 100
PADS = (3, 7)
# digits per class in the training stream: unequal, none below 1/16 of the stream,
# so that every class holds one of the 16 equal-frequency edges of the class pad
TRAIN_COUNTS = np.array([64, 28, 48, 32, 40, 48, 28, 40, 28, 44])
CLASS_P = TRAIN_COUNTS / N_TRAIN


def _stream(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = N_TRAIN + N_TEST
    labels = np.concatenate(
        [
            rng.permutation(np.repeat(np.arange(10), TRAIN_COUNTS)),
            rng.permutation(np.repeat(np.arange(10), 10)),
        ]
    )
    ink = rng.random((10, 784)) ** 3  # chance of ink per class and pixel
    pixels = (rng.random((n, 784)) < ink[labels]) * rng.random((n, 784))
    pads = np.empty((n, len(PADS), 784), np.float32)
    pads[:, 0] = labels[:, None]
    pads[:, 1] = rng.normal(size=(n, 784))
    conductance = np.full((n, 784), 1.5e-4, np.float32)
    return {
        "labels": labels,
        "pixels": pixels.astype(np.float32),
        "pads": pads,
        "conductance": conductance,
    }


def _write_run(
    root: Path,
    data: dict[str, np.ndarray],
    *,
    metrics: dict[str, Any] | None = None,
    stream_config: dict[str, Any] | None = None,
) -> Path:
    (root / "stream").mkdir(parents=True)
    with h5py.File(root / "stream" / "features.h5", "w") as f:
        f.create_dataset("pads", data=data["pads"], chunks=(64, len(PADS), 784))
        f.create_dataset("conductance", data=data["conductance"], chunks=(64, 784))
        f.create_dataset("labels", data=data["labels"].astype(np.int64))
        f.attrs["n_train"] = N_TRAIN
        f.attrs["pad_numbers"] = np.asarray(PADS)
        f.attrs["dt_s"] = 1e-3
        f.attrs["config"] = "{}"
    if metrics is not None:
        (root / "metrics.json").write_text(json.dumps(metrics))
    if stream_config is not None:
        (root / "stream" / "stream-config.json").write_text(json.dumps(stream_config))
    return root


def _config(seed: int = 3) -> dict[str, Any]:
    return {
        "n_train": N_TRAIN,
        "n_test": N_TEST,
        "eval_split": "test",
        "v_min": 0.2,
        "v_max": 1.4,
        "seed": seed,
    }


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return _stream()


@pytest.fixture(scope="module")
def full_run(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, np.ndarray]
) -> tuple[Path, dict[str, Any]]:
    dw_samples = [10, 20, 50, 100, 200, 400]
    dw_values = [1.0, 3.0, 4.0, 2.0, 0.5, 0.1]  # peak at 50, below 10% from 400
    metrics = {
        "config": _config(),
        "per_class_accuracy": (1.0 - CLASS_P).tolist(),
        "learning_curve": {"channels": 2},
        "mean_abs_dw": {"samples": dw_samples, "value": dw_values},
    }
    root = _write_run(tmp_path_factory.mktemp("run") / "run", data, metrics=metrics)
    result = analyse_mi(root, images=data["pixels"], figures=False)
    return root, result


def test_known_channels_carry_known_information(
    full_run: tuple[Path, dict[str, Any]], data: dict[str, np.ndarray]
) -> None:
    _, m = full_run
    y = data["labels"][:N_TRAIN]
    h = class_entropy_bits(y)
    assert m["channels"] == ["3", "7", "conductance", "input"]
    assert m["class_entropy_bits"] == pytest.approx(h)
    # the class pad: H(class) at every step
    assert m["mi_bits"]["3"] == pytest.approx(h, abs=1e-12)
    # the constant conductance: exactly nothing, at every checkpoint
    assert m["mi_bits"]["conductance"] == 0.0
    assert set(m["mi_curve"]["bits"]["conductance"]) == {0.0}
    # the noise pad: at its own label-shuffle floor (means over 784 steps of
    # independent estimates differ by about 0.03 / sqrt(784) bits)
    assert m["mi_bits"]["7"] == pytest.approx(m["mi_shuffle_bits"]["7"], abs=0.01)
    # with 2.5 samples per (bin, class) the Miller-Madow correction cannot remove
    # all of the plug-in bias, (16 - 1)(10 - 1) / (2 N ln 2) = 0.24 bits, but most
    assert m["mi_bits"]["7"] < 0.5 * 135 / (2 * N_TRAIN * math.log(2))
    # the input carries some information, less than the class pad
    assert 0.05 < m["mi_bits"]["input"] < h


def test_specific_information_of_the_class_pad(
    full_run: tuple[Path, dict[str, Any]], data: dict[str, np.ndarray]
) -> None:
    root, m = full_run
    n_c = np.bincount(data["labels"][:N_TRAIN], minlength=10)
    expected = np.log2(N_TRAIN / n_c)  # p(x|c) sits where no other class is
    np.testing.assert_allclose(m["per_class_mi"]["bits"]["3"], expected, atol=1e-12)
    assert set(m["per_class_mi"]["bits"]["conductance"]) == {0.0}
    with np.load(root / "mi" / "maps.npz") as maps:
        assert maps["specific"].shape == (4, 10, 28, 28)
        np.testing.assert_allclose(
            maps["specific"][0], np.broadcast_to(expected[:, None, None], (10, 28, 28))
        )
        assert maps["mi"].shape == (4, 28, 28)
        assert np.all(maps["mi"][2] == 0.0)


def test_curve_follows_shuffle_zero_order(
    full_run: tuple[Path, dict[str, Any]], data: dict[str, np.ndarray]
) -> None:
    _, m = full_run
    samples = m["mi_curve"]["samples"]
    assert (
        samples == mi_checkpoints(N_TRAIN) == [10, 16, 25, 40, 63, 100, 158, 251, 400]
    )
    # independent: the first n digits of default_rng(seed=3).permutation(n_train),
    # with the equal-frequency edges of the whole training stream
    order = np.random.default_rng(3).permutation(N_TRAIN)
    noise = data["pads"][:N_TRAIN, 1].astype(np.float64)
    y = data["labels"][:N_TRAIN]
    edges = np.quantile(noise, np.arange(1, 16) / 16, axis=0).T
    np.testing.assert_array_equal(bin_edges(noise), edges)
    for k, n in enumerate(samples):
        est = StreamingMI().set_edges(edges)
        est.partial_fit(noise[order[:n]], y[order[:n]])
        assert m["mi_curve"]["bits"]["7"][k] == pytest.approx(
            float(est.mutual_information().mean()), abs=1e-12
        )
    # the storage order would give other values
    est = StreamingMI().set_edges(edges).partial_fit(noise[:10], y[:10])
    assert m["mi_curve"]["bits"]["7"][0] != pytest.approx(
        float(est.mutual_information().mean()), abs=1e-6
    )
    assert m["mi_curve"]["bits"]["7"][-1] == m["mi_bits"]["7"]


def test_dw_summary_and_findings(full_run: tuple[Path, dict[str, Any]]) -> None:
    _, m = full_run
    dw = m["mean_abs_dw"]
    assert (dw["peak_samples"], dw["fade_samples"]) == (50, 400)
    f = m["findings"]
    # the noise pad lies below the input: the first finding does not hold here
    first = f["input_below_readouts"]
    assert first["status"] == "not held"
    assert first["input_bits"] == m["mi_bits"]["input"]
    second = f["saturation_with_dw_fade"]
    sat = m["saturation"]["samples"]["readouts"]
    assert second["mi_saturation_samples"] == sat
    assert second["decades_apart"] == pytest.approx(abs(math.log10(sat / 400)))
    assert second["status"] == (
        "held" if second["decades_apart"] <= 0.5 else "not held"
    )
    third = f["class_mi_tracks_accuracy"]
    acc = 1.0 - CLASS_P
    r, p = stats.pearsonr(m["per_class_mi"]["readouts"], acc)
    assert third["pearson"]["r"] == pytest.approx(r)
    assert third["pearson"]["p"] == pytest.approx(p)
    # rarer classes have more specific information and (here) higher accuracy
    assert r > 0
    assert third["status"] == ("held" if p < 0.05 else "not held")
    assert m["per_class_accuracy"]["values"] == pytest.approx(acc.tolist())


def test_dw_peak_is_read_from_the_smoothed_curve() -> None:
    from nwnrc.analysis._mi_run import _dw_summary

    # a smooth rise and fall with its peak at 300 digits, and one noisy update at 30
    samples = np.unique(np.round(np.logspace(1, 4, 300)).astype(int))
    x = np.log10(samples / 300)
    value = np.exp(-(x**2) / 0.18)  # falls below 10 % of its peak 0.64 decades on
    value[np.searchsorted(samples, 30)] = 5.0
    dw = _dw_summary({"mean_abs_dw": {"samples": samples, "value": value}}, 0.1)
    assert dw["peak_samples"] == pytest.approx(300, rel=0.05)
    fade = 300 * 10 ** math.sqrt(0.18 * math.log(10))
    assert dw["fade_samples"] == pytest.approx(fade, rel=0.06)


def test_saturation_of_a_rising_curve() -> None:
    from nwnrc.analysis._mi_run import _saturation

    samples = [10, 100, 1000, 10000]
    assert _saturation(samples, np.array([0.1, 0.5, 0.96, 1.0]), 0.95) == 1000
    # a dip below 95% after reaching it resets the count
    assert _saturation(samples, np.array([0.97, 0.5, 0.96, 1.0]), 0.95) == 1000
    assert _saturation(samples, np.array([0.0, 0.0, 0.0, 0.0]), 0.95) is None


def test_chunk_size_does_not_change_the_result(
    tmp_path: Path, full_run: tuple[Path, dict[str, Any]], data: dict[str, np.ndarray]
) -> None:
    _, ref = full_run
    root = _write_run(tmp_path / "run", data, metrics={"config": _config()})
    m = analyse_mi(
        root,
        settings=MiSettings(chunk_rows=37),
        images=data["pixels"].reshape(-1, 28, 28),
        figures=False,
    )
    assert m["mi_bits"] == ref["mi_bits"]
    assert m["mi_curve"]["bits"] == ref["mi_curve"]["bits"]


def test_run_without_metrics_uses_stored_predictions(
    tmp_path: Path, data: dict[str, np.ndarray]
) -> None:
    root = _write_run(tmp_path / "run", data, stream_config=_config())
    y_test = data["labels"][N_TRAIN:]
    pred = np.where(y_test == 4, 0, y_test)  # every 4 taken for a 0
    (root / "readouts").mkdir()
    for m_ch, p in ((1, y_test * 0), (2, pred)):  # the 2-channel file is used
        (root / "readouts" / f"ridge-{m_ch}-0.json").write_text(
            json.dumps({"accuracy": 0.0, "predictions": p.tolist()})
        )
    m = analyse_mi(root, images=data["pixels"], figures=False)
    acc = m["per_class_accuracy"]
    assert "ridge-2" in acc["source"]
    expected = [1.0] * 10
    expected[4] = 0.0
    assert acc["values"] == expected
    assert m["mean_abs_dw"]["available"] is False
    assert m["findings"]["saturation_with_dw_fade"]["status"] == "not tested"

    # an online readout of shuffle 0 gives |dW| (and takes precedence for accuracy)
    dw = {"samples": [10, 100, 1000], "value": [1.0, 5.0, 0.2]}
    online_pred = np.where(y_test == 7, 1, y_test)  # every 7 taken for a 1
    (root / "readouts" / "online-2-0.json").write_text(
        json.dumps({"predictions": online_pred.tolist(), "mean_abs_dw": dw})
    )
    m = analyse_mi(root, images=data["pixels"], figures=False)
    assert m["mean_abs_dw"]["source"] == "readouts/online-2-0.json (shuffle 0)"
    assert (m["mean_abs_dw"]["peak_samples"], m["mean_abs_dw"]["fade_samples"]) == (
        100,
        1000,
    )
    assert "online-2" in m["per_class_accuracy"]["source"]
    assert m["per_class_accuracy"]["values"] == [1.0] * 7 + [0.0] + [1.0] * 2
    assert m["mi_accuracy_correlation"]["available"] is True
    # the seed of the order comes from the stream config
    assert "default_rng(3)" in m["estimator"]["order"]


def test_bare_stream_and_figures(tmp_path: Path, data: dict[str, np.ndarray]) -> None:
    root = _write_run(tmp_path / "run", data)
    m = analyse_mi(root, images=data["pixels"], figures=True)
    assert m["mi_accuracy_correlation"]["available"] is False
    assert m["findings"]["class_mi_tracks_accuracy"]["status"] == "not tested"
    assert "default 0" in m["estimator"]["order_seed_from"]
    assert m["figures"] == ["mi_curve.png", "mi_maps.png"]
    for name in m["figures"]:
        png = (root / "mi" / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert (
        json.loads((root / "mi" / "metrics.json").read_text())["mi_bits"]
        == (m["mi_bits"])
    )


def test_missing_or_mismatched_input_is_a_data_error(
    tmp_path: Path, data: dict[str, np.ndarray]
) -> None:
    with pytest.raises(DataError, match="no device stream"):
        analyse_mi(tmp_path / "nothing", images=data["pixels"])
    root = _write_run(tmp_path / "run", data)
    with pytest.raises(DataError, match="whole stream"):
        analyse_mi(root, images=data["pixels"][:10], figures=False)
    with pytest.raises(DataError, match="pass the images"):
        analyse_mi(root, figures=False)  # no config to rebuild MNIST from
    with pytest.raises(ConfigError, match="n_bins"):
        MiSettings(n_bins=1)


def _mnist_npz(path: Path, data: dict[str, np.ndarray], labels: np.ndarray) -> Path:
    x = data["pixels"].reshape(-1, 28, 28)
    np.savez(
        path,
        x_train=x[:N_TRAIN],
        y_train=labels[:N_TRAIN],
        x_val=x[:60],
        y_val=labels[:60],
        x_test=x[N_TRAIN:],
        y_test=labels[N_TRAIN:],
    )
    return path


def test_cli_rebuilds_the_input_from_mnist(
    tmp_path: Path,
    data: dict[str, np.ndarray],
    full_run: tuple[Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, ref = full_run
    root = _write_run(tmp_path / "run", data, metrics={"config": _config()})
    npz = _mnist_npz(tmp_path / "mnist.npz", data, data["labels"])
    argv = ["analyse", "mi", str(root), "--data", str(npz), "--bins", "16"]
    assert main([*argv, "--no-progress", "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "pad 3" in out and "[not held]" in out
    # 28 digits of the rarest class, below the 50 the findings need
    assert out.count("(too few digits to judge)") == 3
    assert "the fewest training digits of a class is 28, below 50" in out
    m = json.loads((root / "mi" / "metrics.json").read_text())
    assert all(f["too_few_digits"] for f in m["findings"].values())
    assert m["mi_bits"]["input"] == ref["mi_bits"]["input"]

    # MNIST that does not give the stream's labels is refused
    wrong = _mnist_npz(tmp_path / "wrong.npz", data, (data["labels"] + 1) % 10)
    argv[4] = str(wrong)
    assert main([*argv, "--no-progress", "--no-figures"]) == 1
    assert "does not give the labels" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("counts", "too_few"),
    [([50] * 10, False), ([50] * 9 + [49], True), ([4] * 10, True)],
)
def test_findings_are_marked_below_fifty_digits_a_class(
    counts: list[int], too_few: bool
) -> None:
    from nwnrc.analysis._mi_run import _findings

    metrics = {
        "class_counts": counts,
        "mi_bits": {"3": 0.3, "7": 0.35, "input": 0.08},
        "saturation": {"samples": {"readouts": 200}},
        "mean_abs_dw": {"available": False, "reason": "no learner"},
        "mi_accuracy_correlation": {"available": False, "reason": "no accuracy"},
    }
    findings = _findings(metrics, ["3", "7", "input"], 2, MiSettings())
    assert findings["input_below_readouts"]["status"] == "held"  # 0.08 < 0.3
    for finding in findings.values():
        assert finding.get("too_few_digits", False) is too_few
        assert ("caveat" in finding) is too_few
