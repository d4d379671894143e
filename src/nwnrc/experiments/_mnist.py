"""Online MNIST classification from the readouts of a simulated nanowire network.

The experiment of Zhu et al. (online dynamical learning with neuromorphic nanowire
networks), in simulation:

1. Every digit becomes a 784-step voltage pulse train (row-major, one pixel per time
   step) on the source pad. The training digits, then the test digits, stream through
   one device with no reset; replicas of the device share the stream (see
   :mod:`nwnrc.device._stream`) and the readouts go to an on-disk feature store.
2. The readouts of the first m readout pads (m = 1 .. 5, pads in the paper's order) are
   the features of a digit: m x 784 voltages.
3. Three linear readouts learn the digit class from them: recursive least squares
   online, in one pass over the training stream (the paper's method); softmax
   regression by mini-batch gradient descent (the paper's batch baseline); and
   closed-form ridge regression (a stronger batch reference). The input stream itself,
   under the same readouts, is the baseline that the device must beat.

Shuffles: the device streams the training digits once, in the order of the data set.
Each shuffle is a seeded permutation of that training set, the order in which the
online learner sees the stored readouts (and the seed of gradient descent's epochs).
The readouts of a digit depend on the digit before it in the device stream (memory of
the junctions), and not on any earlier one for the default preset and amplitudes (see
``docs/mnist.md``); a shuffle changes the learner's order, not the device's.

Every stage can be interrupted and resumed: the stream from its last finished piece,
the readouts from their last finished (method, channels, shuffle) result.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import write_json
from nwnrc._progress import no_progress
from nwnrc.errors import ConfigError
from nwnrc.experiments._config import DEVICE_FIELDS, ConfigDict, simulated_device

logger = logging.getLogger(__name__)

STEPS_PER_DIGIT = 784
#: Largest input voltage a config accepts, V.
MAX_VOLTS = 100.0
N_CLASSES = 10


@dataclass(frozen=True)
class MnistConfig(ConfigDict):
    """Everything that defines an MNIST run; saved with its results.

    Parameters
    ----------
    n_train, n_test : int
        Training digits (from the 50,000 of the training split, in order) and test
        digits (from the 10,000 of the test split, or of the validation split when
        ``eval_split`` is ``"val"``).
    eval_split : {"test", "val"}
        Score on the test split, or on the validation split (for tuning).
    shuffles : int
        Orders of the training stream for the learners; results are mean and std.
    channels : tuple of int
        Readout pads, in the order in which channel sets grow.
    n_wires, network_seed, chip_size_um, length_mean_um, length_std_um, pad_size_um
        The nanowire network (see :class:`nwnrc.network.NetworkParams`).
    source_pad, drain_pad : int
        Driven pads.
    junction : str
        Junction preset (see :class:`nwnrc.device.JunctionParams`).
    v_min, v_max : float
        Voltage of a black and of a white pixel, V.
    dt : float
        Time step (one pixel), s.
    replicas, warmup_samples, piece_samples : int
        Replica streaming: number of replicas, digits of warm-up before each chunk,
        digits per replica in one checkpointed piece.
    rls_delta, rls_forgetting : float
        RLS regularisation (P0 = I / delta) and forgetting factor. With forgetting 1,
        RLS after n digits equals ridge with alpha = delta on them. The default 300
        was the best ridge alpha on the validation split (10,000 training digits,
        features scaled to [0, 1]; ``scripts/mnist_tuning.py``).
    update_samples : int
        Most digits per RLS update call; calls start at one digit and grow to a tenth
        of the digits seen, up to this. The mean |dW| curve has one point per call.
    gd_epochs, gd_batch_size, gd_learning_rate : int, int, float
        The batch baseline (the paper's 100 epochs, batch 100, rate 0.1).
    ridge_alpha : float
        Ridge regularisation.
    seed : int
        Seed of the shuffles (shuffle k uses ``seed + k``).
    """

    n_train: int = 10_000
    n_test: int = 2_000
    eval_split: str = "test"
    shuffles: int = 2
    channels: tuple[int, ...] = (1, 2, 12, 13, 15)
    n_wires: int = 500
    network_seed: int = 0
    chip_size_um: float = 78.0
    length_mean_um: float = 12.0
    length_std_um: float = 2.0
    pad_size_um: float = 4.5
    source_pad: int = 4
    drain_pad: int = 11
    junction: str = "hochstetter2021"
    v_min: float = 0.0
    v_max: float = 2.0
    dt: float = 1e-3
    replicas: int = 64
    warmup_samples: int = 2
    piece_samples: int = 8
    rls_delta: float = 300.0
    rls_forgetting: float = 1.0
    update_samples: int = 100
    gd_epochs: int = 100
    gd_batch_size: int = 100
    gd_learning_rate: float = 0.1
    ridge_alpha: float = 300.0
    seed: int = 0
    methods: tuple[str, ...] = field(default=("online", "batch", "ridge"))

    def __post_init__(self) -> None:
        if not 1 <= self.n_train <= 50_000:
            raise ConfigError(f"n_train must be in 1..50000, got {self.n_train}")
        if not 1 <= self.n_test <= 10_000:
            raise ConfigError(f"n_test must be in 1..10000, got {self.n_test}")
        if self.eval_split not in ("test", "val"):
            raise ConfigError(
                f"eval_split must be 'test' or 'val', got {self.eval_split!r}"
            )
        if not (
            np.isfinite(self.v_max)
            and np.isfinite(self.v_min)
            and self.v_max > 0
            and self.v_min < self.v_max
        ):
            raise ConfigError(
                "need finite voltages with v_max > 0 and v_min < v_max, got "
                f"v_min={self.v_min!r}, v_max={self.v_max!r}"
            )
        if max(abs(self.v_min), abs(self.v_max)) > MAX_VOLTS:
            raise ConfigError(
                f"input voltages must lie within +-{MAX_VOLTS:g} V, got v_min="
                f"{self.v_min!r}, v_max={self.v_max!r}; the junction model's "
                "thresholds are millivolts and its useful range a few volts"
            )
        if self.shuffles < 1:
            raise ConfigError(f"shuffles must be at least 1, got {self.shuffles}")
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise ConfigError(
                f"channels must be distinct pad numbers, got {self.channels}"
            )
        bad = [m for m in self.methods if m not in ("online", "batch", "ridge")]
        if bad:
            raise ConfigError(
                f"methods must be among 'online', 'batch', 'ridge'; got {bad}"
            )

    @classmethod
    def full(cls, **overrides: Any) -> MnistConfig:
        """The paper's protocol: 50,000 / 10,000 digits, 5 shuffles."""
        return replace(cls(n_train=50_000, n_test=10_000, shuffles=5), **overrides)

    def stream_dict(self) -> dict[str, Any]:
        """The part of the config that determines the device stream."""
        keys = (
            "n_train",
            "n_test",
            "eval_split",
            "channels",
            "replicas",
            "warmup_samples",
            "piece_samples",
            *DEVICE_FIELDS,
        )
        return self.subset(keys)


ProgressFactory = Callable[..., Any]


def build_device(config: MnistConfig) -> Any:
    """The simulated device of a config."""
    return simulated_device(config, config.channels, lanes=32)


def stream_digits(
    config: MnistConfig,
    out_dir: Path,
    images: NDArray[np.float32],
    labels: NDArray[np.int64],
    progress: ProgressFactory = no_progress,
) -> Path:
    """Stream digits through the device into ``out_dir/stream/features.h5``.

    ``images`` holds the whole stream in order (training digits, then test digits).
    Resumes from the last finished piece; returns at once if the store is complete.
    """
    from nwnrc.data import encode_images
    from nwnrc.data._store import FeatureStore
    from nwnrc.device._stream import ReplicaPlan, stream_pieces

    store = FeatureStore(out_dir / "stream")
    stamp = out_dir / "stream" / "stream-config.json"
    _check_stamp(stamp, config.stream_dict(), "a stream")
    if store.is_complete():
        logger.info("stream already complete: %s", store.features_path)
        return store.features_path

    # build (and so validate) the device before stamping the folder
    device = build_device(config)
    logger.info("device: %s", device.describe())
    write_json(stamp, config.stream_dict())
    n = images.shape[0]
    flat = images.reshape(n, -1)
    plan = ReplicaPlan.split(n, config.replicas, config.warmup_samples)
    n_pieces = plan.n_pieces(config.piece_samples)
    start = store.finished_pieces()
    state = store.piece_state(start - 1) if start > 0 else None

    def volts(idx: NDArray[np.int64]) -> NDArray[np.float64]:
        return encode_images(flat[idx], config.v_min, config.v_max)

    t0 = time.perf_counter()
    bar = progress(total=n_pieces, initial=start, desc="device stream", unit="piece")
    if start:
        logger.info("resuming the stream at piece %d of %d", start, n_pieces)
        bar.set_postfix_str(f"resumed at piece {start}")
    with bar:
        for piece in stream_pieces(
            device,
            volts,
            STEPS_PER_DIGIT,
            plan,
            config.piece_samples,
            start_piece=start,
            state=state,
        ):
            r, k = piece.indices.shape
            pads = piece.output.pad_voltages.reshape(r, k, STEPS_PER_DIGIT, -1)
            cond = piece.output.conductance.reshape(r, k, STEPS_PER_DIGIT)
            valid = piece.indices >= 0
            store.write_piece(
                piece.piece,
                piece.indices[valid],
                pads[valid].transpose(0, 2, 1),
                cond[valid],
                piece.output.state,
            )
            bar.update(1)
    elapsed = time.perf_counter() - t0
    logger.info("streamed %d digits in %.1f s", n, elapsed)
    return store.gather(
        n,
        labels,
        n_train=config.n_train,
        attrs={
            "pad_numbers": np.asarray(config.channels),
            "dt_s": config.dt,
            "config": device.describe(),
        },
    )


def _check_stamp(stamp: Path, expected: dict[str, Any], what: str) -> None:
    """Refuse a folder whose saved configuration differs from ``expected``."""
    if not stamp.exists():
        return
    saved = json.loads(stamp.read_text())
    if saved != expected:
        changed = sorted(
            k for k in set(saved) | set(expected) if saved.get(k) != expected.get(k)
        )
        raise ConfigError(
            f"{stamp.parent} holds {what} made with other settings (they differ in "
            f"{', '.join(changed)}); use another --out folder, or delete this one"
        )


def log_checkpoints(n: int, per_decade: int = 6, start: int = 10) -> list[int]:
    """Log-spaced sample counts from ``start`` to ``n`` (both included)."""
    if n <= start:
        return [n]
    pts = np.unique(
        np.round(np.logspace(np.log10(start), np.log10(n), per_decade * 5)).astype(int)
    )
    pts = pts[(pts >= start) & (pts <= n)]
    return sorted(set(pts.tolist()) | {n})


def run_online(
    X_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
    X_test: NDArray[np.float32],
    y_test: NDArray[np.int64],
    order: NDArray[np.int64],
    config: MnistConfig,
) -> dict[str, Any]:
    """One pass of RLS over the training stream in ``order``.

    Returns the test accuracy, predictions, the learning curve (test accuracy at
    log-spaced counts of digits seen) and mean |dW| per digit for every update.
    """
    from nwnrc.learn import RLSClassifier

    clf = RLSClassifier(
        delta=config.rls_delta, forgetting=config.rls_forgetting, n_classes=N_CLASSES
    )
    checkpoints = log_checkpoints(order.size)
    curve_n: list[int] = []
    curve_acc: list[float] = []
    dw_n: list[int] = []
    dw: list[float] = []
    seen = 0
    for cp in checkpoints:
        while seen < cp:
            # updates grow with the stream (one digit at first, then about a tenth of
            # the digits seen, at most update_samples): fine resolution of |dW| where
            # it changes fast, BLAS-3 block updates where the stream is long
            step = max(1, min(config.update_samples, seen // 10))
            stop = min(cp, seen + step)
            rows = order[seen:stop]
            clf.partial_fit(X_train[rows], y_train[rows])
            dw_n.append(stop)
            dw.append(clf.last_dw_abs_mean_ / (stop - seen))
            seen = stop
        curve_n.append(seen)
        curve_acc.append(float(np.mean(clf.predict(X_test) == y_test)))
    pred = clf.predict(X_test)
    return {
        "accuracy": float(np.mean(pred == y_test)),
        "predictions": pred.tolist(),
        "learning_curve": {"samples": curve_n, "accuracy": curve_acc},
        "mean_abs_dw": {"samples": dw_n, "value": dw},
    }


def run_batch(
    X_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
    X_test: NDArray[np.float32],
    y_test: NDArray[np.int64],
    seed: int,
    config: MnistConfig,
) -> dict[str, Any]:
    """The paper's batch baseline: softmax regression by mini-batch GD."""
    from nwnrc.learn import SoftmaxGDClassifier

    clf = SoftmaxGDClassifier(
        epochs=config.gd_epochs,
        batch_size=config.gd_batch_size,
        learning_rate=config.gd_learning_rate,
        seed=seed,
        n_classes=N_CLASSES,
        dtype=np.float32,
    ).fit(X_train, y_train)
    pred = clf.predict(X_test)
    return {
        "accuracy": float(np.mean(pred == y_test)),
        "predictions": pred.tolist(),
        "loss_curve": [float(x) for x in clf.loss_curve_],
    }


def run_ridge(
    X_train: NDArray[np.float32],
    y_train: NDArray[np.int64],
    X_test: NDArray[np.float32],
    y_test: NDArray[np.int64],
    config: MnistConfig,
) -> dict[str, Any]:
    """Closed-form ridge regression on one-hot targets."""
    from nwnrc.learn import RidgeClassifier

    clf = RidgeClassifier(alpha=config.ridge_alpha, n_classes=N_CLASSES)
    for start in range(0, X_train.shape[0], 5000):
        clf.partial_fit(X_train[start : start + 5000], y_train[start : start + 5000])
    pred = clf.predict(X_test)
    return {"accuracy": float(np.mean(pred == y_test)), "predictions": pred.tolist()}


def _summary(values: list[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "runs": [float(v) for v in arr],
    }


def run_mnist(
    config: MnistConfig,
    out_dir: str | Path,
    *,
    data_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFactory = no_progress,
    figures: bool = True,
) -> dict[str, Any]:
    """Run the MNIST experiment end to end; write ``out_dir/metrics.json``.

    Parameters
    ----------
    config : MnistConfig
    out_dir : path
        Run folder. An interrupted run in the same folder with the same configuration
        resumes where it stopped.
    data_path, cache_dir : path, optional
        Passed to :func:`nwnrc.data.load_mnist`.
    progress : callable, optional
        A ``tqdm``-like factory for progress bars; silent by default.
    figures : bool
        Write the figures beside metrics.json.

    Returns
    -------
    dict
        The metrics (as written to metrics.json).
    """
    from nwnrc.data import encode_images, load_mnist
    from nwnrc.data._store import FeatureStore, read_rows

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the run")
    out.mkdir(parents=True, exist_ok=True)
    # the whole configuration is stamped: finished readouts are reused only for the
    # settings that made them
    run_stamp = out / "run-config.json"
    _check_stamp(run_stamp, config.to_dict(), "a run")
    mnist = load_mnist(cache_dir=cache_dir, path=data_path)
    logger.info("MNIST from %s", mnist.source)
    test_images = mnist.test_images if config.eval_split == "test" else mnist.val_images
    test_labels = mnist.test_labels if config.eval_split == "test" else mnist.val_labels
    images = np.concatenate(
        [mnist.train_images[: config.n_train], test_images[: config.n_test]]
    )
    labels = np.concatenate(
        [mnist.train_labels[: config.n_train], test_labels[: config.n_test]]
    )

    # 1. the device stream
    t0 = time.perf_counter()
    stream_was_complete = FeatureStore(out / "stream").is_complete()
    features = stream_digits(config, out, images, labels, progress)
    write_json(run_stamp, config.to_dict())
    stream_seconds = time.perf_counter() - t0

    # 2. the readouts
    n_tr = config.n_train
    y_train = labels[:n_tr]
    y_test = labels[n_tr:]
    results_dir = out / "readouts"
    n_channels = len(config.channels)
    # Readout voltages are divided by the white-pixel voltage and the input baseline
    # is the pixel values: every feature set lies in about [0, 1], so that one
    # regularisation (rls_delta, ridge_alpha) means the same at every amplitude.
    all_rows = read_rows(features, slice(None))
    all_rows *= np.float32(1.0 / config.v_max)
    input_rows = encode_images(images, 0.0, 1.0).astype(np.float32)
    feature_sets: list[tuple[str, NDArray[np.float32]]] = [
        (str(m), all_rows[:, : m * STEPS_PER_DIGIT]) for m in range(1, n_channels + 1)
    ]
    feature_sets.append(("input", input_rows))
    orders = [
        np.random.default_rng(config.seed + k).permutation(n_tr)
        for k in range(config.shuffles)
    ]
    jobs = [
        (method, name, k)
        for name, _ in feature_sets
        for method in config.methods
        for k in (range(1) if method == "ridge" else range(config.shuffles))
    ]
    results: dict[tuple[str, str, int], dict[str, Any]] = {}
    fits_run = 0
    t0 = time.perf_counter()
    with progress(total=len(jobs), desc="readouts", unit="fit") as bar:
        for method, name, k in jobs:
            path = results_dir / f"{method}-{name}-{k}.json"
            if path.exists():
                results[(method, name, k)] = json.loads(path.read_text())
                bar.update(1)
                continue
            fits_run += 1
            X = dict(feature_sets)[name]
            X_train, X_test = X[:n_tr], X[n_tr:]
            bar.set_postfix_str(f"{method} {name} ch, shuffle {k}")
            if method == "online":
                res = run_online(X_train, y_train, X_test, y_test, orders[k], config)
            elif method == "batch":
                res = run_batch(
                    X_train[orders[k]],
                    y_train[orders[k]],
                    X_test,
                    y_test,
                    config.seed + k,
                    config,
                )
            else:
                res = run_ridge(X_train, y_train, X_test, y_test, config)
            write_json(path, res)
            results[(method, name, k)] = res
            bar.update(1)
    readout_seconds = time.perf_counter() - t0

    metrics = _metrics(config, results, y_test, feature_sets, mnist.source)
    write_json(out / "metrics.json", metrics)
    # wall times vary from run to run; kept apart so that metrics.json is repeatable,
    # and a rerun that reused a finished stage keeps that stage's first timing
    timing_path = out / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.exists() else {}
    if not stream_was_complete:
        timing["stream_s"] = round(stream_seconds, 1)
    if fits_run:
        timing["readouts_s"] = round(readout_seconds, 1)
        timing["readout_fits_run"] = fits_run
    write_json(timing_path, timing)
    if figures:
        from nwnrc.report import write_mnist_figures

        write_mnist_figures(metrics, out, features_path=features)
    return metrics


def _metrics(
    config: MnistConfig,
    results: dict[tuple[str, str, int], dict[str, Any]],
    y_test: NDArray[np.int64],
    feature_sets: list[tuple[str, Any]],
    data_source: str,
) -> dict[str, Any]:
    names = [name for name, _ in feature_sets if name != "input"]
    largest = names[-1]
    key_of = {
        "online": "online_accuracy",
        "batch": "batch_accuracy",
        "ridge": "ridge_accuracy",
    }
    metrics: dict[str, Any] = {}
    for method in config.methods:
        n_runs = 1 if method == "ridge" else config.shuffles
        metrics[key_of[method]] = {
            name: _summary(
                [results[(method, name, k)]["accuracy"] for k in range(n_runs)]
            )
            for name in names
        }
    metrics["input_channel_accuracy"] = {
        method: _summary(
            [
                results[(method, "input", k)]["accuracy"]
                for k in range(1 if method == "ridge" else config.shuffles)
            ]
        )
        for method in config.methods
    }

    if "online" in config.methods:
        preds = [
            np.asarray(results[("online", largest, k)]["predictions"])
            for k in range(config.shuffles)
        ]
        per_class = np.mean(
            [
                [
                    np.mean(p[y_test == c] == c) if np.any(y_test == c) else np.nan
                    for c in range(N_CLASSES)
                ]
                for p in preds
            ],
            axis=0,
        )
        conf = np.zeros((N_CLASSES, N_CLASSES), dtype=np.int64)
        np.add.at(conf, (y_test, preds[0]), 1)
        metrics["per_class_accuracy"] = [float(x) for x in per_class]
        metrics["confusion_matrix"] = conf.tolist()
        metrics["confusion_matrix_note"] = (
            f"counts of shuffle 0, online readout, {largest} channels; rows true, "
            "columns predicted"
        )
        curves = [
            results[("online", largest, k)]["learning_curve"]
            for k in range(config.shuffles)
        ]
        metrics["learning_curve"] = {
            "samples": curves[0]["samples"],
            "accuracy": np.mean([c["accuracy"] for c in curves], axis=0).tolist(),
            "accuracy_std": np.std([c["accuracy"] for c in curves], axis=0).tolist(),
            "channels": int(largest),
        }
        metrics["learning_curves"] = {
            name: {
                "samples": results[("online", name, 0)]["learning_curve"]["samples"],
                "accuracy": np.mean(
                    [
                        results[("online", name, k)]["learning_curve"]["accuracy"]
                        for k in range(config.shuffles)
                    ],
                    axis=0,
                ).tolist(),
            }
            for name in [*names, "input"]
        }
        dws = [
            results[("online", largest, k)]["mean_abs_dw"]
            for k in range(config.shuffles)
        ]
        metrics["mean_abs_dw"] = {
            "samples": dws[0]["samples"],
            "value": np.mean([d["value"] for d in dws], axis=0).tolist(),
            "note": "mean |W_after - W_before| per weight, divided by the digits in "
            "the update (1 at first, growing to a tenth of the digits seen, at most "
            f"{config.update_samples}), mean over shuffles",
        }
    metrics["config"] = config.to_dict()
    metrics["data_source"] = data_source
    return metrics
