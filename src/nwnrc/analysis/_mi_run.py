"""Mutual information between digit class and device readouts, for an MNIST run.

Reads a run folder written by ``nwnrc mnist`` (``stream/features.h5`` and, where
present, ``metrics.json``) and measures, in bits, with the binned estimator of
:mod:`nwnrc.analysis._information`:

1. along the training stream: I(class; channel value at step t), averaged over the
   784 steps of a digit, after the first n digits in the order in which the online
   learner saw them (shuffle 0), at log-spaced n from 10 to the whole training
   stream; beside it, the same estimate on permuted labels (the bias floor), and the
   learner's mean |dW| from ``metrics.json``;
2. after the whole training stream: the per-step MI map and the specific
   information of every class (28 x 28 maps per class and channel), the total per
   class, and its correlation with the per-class accuracy;
3. the paper's three findings, each as held / not held / not tested, with the
   numbers and the criterion used; where a class has fewer than
   :data:`MIN_DIGITS_PER_CLASS` training digits, each finding is marked as too few
   digits to judge (its status is still computed and given).

The channels are the readout pads (keyed by pad number), the network conductance
(where the readouts hold it) and the input voltage stream: the one stored with the
readouts, or for a run folder written before the store kept it, rebuilt from MNIST.

A run made from a recording (``nwnrc mnist --recording``) is read from that
recording, which the folder names with its size and SHA-256 (``recording.json``):
the first ``n_train`` training and ``n_test`` test samples of the run's config, its
channels, and the recording's input stream. A run and a run on its exported
recording give the same MI.

The counts are gathered in two passes over ``features.h5`` in chunks of rows (a
first for the per-cell ranges that fix the bins, a second for the counts), so memory
does not grow with the length of the stream. Every learner checkpoint is one group
of :class:`~nwnrc.analysis._information.StreamingMI`: a digit's counts go to the group
of its position in the learner's order, and the estimate after n digits comes from
the cumulative sum of the groups.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import write_json, write_npz
from nwnrc._progress import no_progress
from nwnrc.analysis._information import (
    DEFAULT_BINNING,
    DEFAULT_BINS,
    DEFAULT_RANGE_QUANTILE,
    StreamingMI,
    bin_edges,
    binned_mutual_information,
    class_entropy_bits,
    ksg_mutual_information,
)
from nwnrc.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

__all__ = ["MiSettings", "analyse_mi", "mi_checkpoints"]

STEPS_PER_DIGIT = 784
N_CLASSES = 10
_SIDE = 28
_DW_WINDOW_DECADES = 0.1

ProgressFactory = Callable[..., Any]


@dataclass(frozen=True)
class MiSettings:
    """Settings of the MI analysis of a run; saved with its results.

    Parameters
    ----------
    n_bins : int
        Bins per (channel, step).
    binning : {"quantile", "width"}
        Equal-frequency bins (edges at the k / n_bins quantiles of the cell's values
        over the training stream) or equal-width bins (see ``range_quantile``); see
        :func:`~nwnrc.analysis.bin_edges`.
    range_quantile : float
        Equal-width bins span the [q, 1 - q] quantiles of the cell's values over
        the training stream (the extremes where those coincide); 0: the extremes.
    range_samples : int
        Training digits (evenly spaced in the stream) from which the quantiles are
        taken.
    per_decade : int
        Checkpoints of the MI curve per decade of digits seen.
    first_checkpoint : int
        Digits seen at the first checkpoint.
    shuffle_seed : int
        Seed of the label permutation of the bias floor.
    chunk_rows : int
        Digits read from ``features.h5`` at a time.
    saturation_level : float
        The MI curve saturates where its excess over the bias floor stays at or
        above this fraction of its final value.
    dw_fade_fraction : float
        Mean |dW| has faded where it first falls below this fraction of its peak
        (after the peak).
    coincidence_decades : float
        MI saturation and |dW| fading coincide when their sample counts differ by
        at most this many decades.
    alpha : float
        Significance level of the MI-accuracy correlation.
    ksg : bool
        Also run the nearest-neighbour (KSG-type) cross-check.
    ksg_samples : int
        Training digits (the first of the learner's order) for the cross-check.
    ksg_step_stride : int
        Cross-check every this many steps of a digit.
    ksg_k : int
        Neighbours of the KSG estimator.
    """

    n_bins: int = DEFAULT_BINS
    binning: str = DEFAULT_BINNING
    range_quantile: float = DEFAULT_RANGE_QUANTILE
    range_samples: int = 5000
    per_decade: int = 5
    first_checkpoint: int = 10
    shuffle_seed: int = 1
    chunk_rows: int = 512
    saturation_level: float = 0.95
    dw_fade_fraction: float = 0.1
    coincidence_decades: float = 0.5
    alpha: float = 0.05
    ksg: bool = False
    ksg_samples: int = 2000
    ksg_step_stride: int = 8
    ksg_k: int = 3

    def __post_init__(self) -> None:
        if not 2 <= self.n_bins <= 255:
            raise ConfigError(f"n_bins must be in 2..255, got {self.n_bins}")
        for name in (
            "per_decade",
            "first_checkpoint",
            "chunk_rows",
            "range_samples",
            "ksg_samples",
            "ksg_step_stride",
            "ksg_k",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"{name} must be at least 1, got {getattr(self, name)}"
                )
        for name in ("saturation_level", "dw_fade_fraction", "alpha"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ConfigError(
                    f"{name} must lie strictly between 0 and 1, got "
                    f"{getattr(self, name)}"
                )
        if self.binning not in ("quantile", "width"):
            raise ConfigError(
                f"binning must be 'quantile' or 'width', got {self.binning!r}"
            )
        if not 0.0 <= self.range_quantile < 0.5:
            raise ConfigError(
                f"range_quantile must lie in [0, 0.5), got {self.range_quantile}"
            )
        if not self.coincidence_decades > 0:
            raise ConfigError(
                f"coincidence_decades must be positive, got {self.coincidence_decades}"
            )


def mi_checkpoints(n: int, per_decade: int = 5, start: int = 10) -> list[int]:
    """Log-spaced counts of digits seen, from ``start`` to ``n`` (both included).

    Parameters
    ----------
    n : int
        Digits in the training stream.
    per_decade : int
        Points per decade.
    start : int
        First count (``n`` alone if ``n <= start``).

    Returns
    -------
    list of int
        Increasing, distinct.

    Examples
    --------
    >>> mi_checkpoints(1000, per_decade=2)
    [10, 32, 100, 316, 1000]
    >>> mi_checkpoints(50_000)[-5:]
    [6310, 10000, 15849, 25119, 50000]
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1, got {n}")
    if n <= start:
        return [n]
    # a fixed grid start * 10**(k / per_decade), so that runs of any length share
    # their checkpoints, closed by n itself (which replaces a grid point less than
    # half a step below it)
    k = np.arange(math.floor(per_decade * math.log10(n / start)) + 1)
    pts = np.round(start * 10.0 ** (k / per_decade)).astype(int)
    near = n / 10.0 ** (0.5 / per_decade)
    return sorted({int(p) for p in pts if start <= p <= near or p == start} | {n})


# ---------------------------------------------------------------------------------
# reading a run


@dataclass
class _Run:
    root: Path
    features: Path
    n_train: int
    n_samples: int
    pad_numbers: list[int]
    labels: NDArray[np.int64]
    config: dict[str, Any]
    config_source: str
    metrics: dict[str, Any]
    pad_positions: list[int]
    has_conductance: bool
    has_input: bool
    recording: dict[str, Any] | None


def _run_features(
    run_dir: Path, recording: str | Path | None
) -> tuple[Path, dict[str, Any] | None]:
    """The readouts of a run folder: its stream, or the recording it was made from."""
    from nwnrc.experiments._mnist import RECORDING_STAMP, file_sha256

    stamp_path = run_dir / RECORDING_STAMP
    if not stamp_path.exists():
        if recording is not None:
            raise ConfigError(
                f"{run_dir} was not made from a recording (no {RECORDING_STAMP}); "
                "leave out --recording"
            )
        features = run_dir / "stream" / "features.h5"
        if not features.exists():
            raise DataError(
                f"no device stream at {features}; run `nwnrc mnist --out {run_dir}` "
                "first, or give the folder of a finished run"
            )
        return features, None
    stamp = json.loads(stamp_path.read_text())
    features = Path(recording if recording is not None else stamp["path"])
    if not features.is_file():
        raise DataError(
            f"{run_dir} was made from the recording {stamp['path']}, which is not at "
            f"{features}; give its present path with --recording"
        )
    size = features.stat().st_size
    if size != stamp.get("size_bytes") or file_sha256(features) != stamp.get("sha256"):
        raise DataError(
            f"{features} is not the recording that {run_dir} was made from (its size "
            f"or SHA-256 differs from {RECORDING_STAMP}); give that recording"
        )
    return features, stamp


def _read_run(run_dir: Path, recording: str | Path | None = None) -> _Run:
    import h5py

    features, stamp = _run_features(run_dir, recording)
    with h5py.File(features, "r") as f:
        for key in ("pads", "labels"):
            if key not in f:
                raise DataError(f"{features} has no '{key}' dataset; not a run store")
        if stamp is None and "conductance" not in f:
            raise DataError(f"{features} has no 'conductance' dataset; not a run store")
        n_samples, n_pads, n_steps = f["pads"].shape
        if n_steps != STEPS_PER_DIGIT:
            raise DataError(
                f"{features}: pads have {n_steps} steps per digit, expected "
                f"{STEPS_PER_DIGIT} (MNIST)"
            )
        labels = np.asarray(f["labels"][...], dtype=np.int64)
        n_train = int(f.attrs.get("n_train", n_samples))
        pads = [int(p) for p in np.asarray(f.attrs.get("pad_numbers", range(n_pads)))]
        has_conductance = "conductance" in f
        has_input = "input" in f
    if not 1 <= n_train <= n_samples:
        raise DataError(f"{features}: n_train={n_train} outside 1..{n_samples}")

    metrics: dict[str, Any] = {}
    metrics_path = run_dir / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text())
    if "config" in metrics:
        config, source = dict(metrics["config"]), "metrics.json"
    elif (run_dir / "stream" / "stream-config.json").exists():
        config = json.loads((run_dir / "stream" / "stream-config.json").read_text())
        source = "stream/stream-config.json (no metrics.json config)"
    else:
        config, source = {}, "none found"
    positions = list(range(len(pads)))
    if stamp is not None:
        # the run took the first n_train training and n_test test samples of the
        # recording, and the pads of its channels
        try:
            run_train, run_test = int(config["n_train"]), int(config["n_test"])
            channels = [int(p) for p in config["channels"]]
        except KeyError as exc:
            raise DataError(
                f"{run_dir}: a run on a recording needs its config (n_train, n_test, "
                f"channels) in metrics.json; {exc} is missing: finish the run first"
            ) from None
        if (
            run_train > n_train
            or run_test > n_samples - n_train
            or not set(channels) <= set(pads)
        ):
            raise DataError(
                f"{run_dir}: its config (n_train={run_train}, n_test={run_test}, "
                f"channels {channels}) does not fit {features} ({n_train} training, "
                f"{n_samples - n_train} test samples, pads {pads})"
            )
        labels = np.concatenate(
            [labels[:run_train], labels[n_train : n_train + run_test]]
        )
        positions = [pads.index(p) for p in channels]
        pads, n_train, n_samples = channels, run_train, run_train + run_test
    elif int(config.get("n_train", n_train)) != n_train:
        raise DataError(
            f"{run_dir}: the config says n_train={config['n_train']} but the stream "
            f"holds {n_train} training digits; the folder is inconsistent"
        )
    if labels.min() < 0 or labels.max() >= N_CLASSES:
        raise DataError(f"{features}: labels outside 0..9")
    return _Run(
        run_dir,
        features,
        n_train,
        n_samples,
        pads,
        labels,
        config,
        source,
        metrics,
        positions,
        has_conductance,
        has_input,
        stamp,
    )


def _input_pixels(
    run: _Run,
    images: Any,
    data_path: str | Path | None,
    cache_dir: str | Path | None,
) -> tuple[NDArray[np.float32] | None, str]:
    """Pixels of the whole stream in stored order, (samples, 784) in [0, 1].

    None where the readouts hold the input stream and no images are given.
    """
    if images is not None:
        pix = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
        if pix.shape != (run.n_samples, STEPS_PER_DIGIT):
            raise DataError(
                f"images must hold the whole stream, ({run.n_samples}, 784) pixels "
                f"(or 28 x 28), got {np.shape(images)}"
            )
        return pix, "given"
    if run.has_input:
        return None, f"the input stream stored with the readouts ({run.features})"
    from nwnrc.data import load_mnist

    cfg = run.config
    if "eval_split" not in cfg:
        raise DataError(
            f"{run.root}: no config to rebuild the input stream from (needs n_train, "
            "n_test, eval_split); pass the images explicitly"
        )
    mnist = load_mnist(cache_dir=cache_dir, path=data_path)
    n_test = run.n_samples - run.n_train
    split = cfg["eval_split"]
    test_images = mnist.test_images if split == "test" else mnist.val_images
    test_labels = mnist.test_labels if split == "test" else mnist.val_labels
    pix = np.concatenate(
        [mnist.train_images[: run.n_train], test_images[:n_test]]
    ).reshape(run.n_samples, -1)
    labels = np.concatenate([mnist.train_labels[: run.n_train], test_labels[:n_test]])
    if pix.shape[0] != run.n_samples or not np.array_equal(labels, run.labels):
        raise DataError(
            f"MNIST from {mnist.source} does not give the labels of the stream in "
            f"{run.features}: the run used other data; pass its images explicitly"
        )
    return np.asarray(pix, dtype=np.float32), f"MNIST ({mnist.source})"


# ---------------------------------------------------------------------------------
# the analysis


def analyse_mi(
    run_dir: str | Path,
    *,
    settings: MiSettings | None = None,
    images: Any = None,
    data_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFactory = no_progress,
    figures: bool = True,
    recording: str | Path | None = None,
) -> dict[str, Any]:
    """Measure I(class; readout) of an MNIST run; write ``RUN_DIR/mi/``.

    Parameters
    ----------
    run_dir : path
        A run folder of ``nwnrc mnist`` (``stream/features.h5`` at least, or for a
        run on a recording ``recording.json`` and ``metrics.json``).
    settings : MiSettings, optional
        Estimator and analysis settings (defaults: 16 bins, no KSG).
    images : array_like, optional
        Pixels in [0, 1] of every digit of the stream, in stored order,
        (samples, 784) or (samples, 28, 28); the input channel is then
        ``v_min + (v_max - v_min) * pixel``. Default: the input stream stored
        with the readouts, or where the store predates it, rebuilt from MNIST as
        ``nwnrc mnist`` built the stream.
    data_path, cache_dir : path, optional
        Passed to :func:`nwnrc.data.load_mnist` when the images are rebuilt.
    progress : callable, optional
        A ``tqdm``-like factory for progress bars; silent by default.
    figures : bool
        Write the PNG figures.
    recording : path, optional
        For a run on a recording that has moved since: its present path (it must
        have the size and SHA-256 that the run folder names).

    Returns
    -------
    dict
        The metrics, as written to ``RUN_DIR/mi/metrics.json``: ``mi_bits`` (per
        channel: pad number, ``"conductance"``, ``"input"``), ``mi_shuffle_bits``,
        ``mi_curve``, ``saturation``, ``mean_abs_dw``, ``per_class_mi``,
        ``per_class_accuracy``, ``mi_accuracy_correlation``, ``findings``,
        ``estimator``, ``figures`` and (on request) ``ksg_check``.

    Raises
    ------
    DataError
        If the folder holds no stream, MNIST does not give the stream's labels, or
        the recording of a run on a recording is not where the folder says (or is
        another file).

    Notes
    -----
    The MI curve follows shuffle 0's order, ``default_rng(seed).permutation``
    of the training digits with the run's ``seed`` (0 where the folder does not
    say). A folder without ``metrics.json`` (or one without mean |dW| or per-class
    accuracy) gets everything that can be computed without them; per-class accuracy
    then comes from stored readout predictions where there are some.

    Limitations: the bins are fixed by the range of the whole training stream, also
    for the early checkpoints; with few digits the estimate is dominated by bias,
    which the label-shuffle floor shows and the saturation measure subtracts.
    """
    settings = settings or MiSettings()
    root = Path(run_dir)
    t_start = time.perf_counter()
    run = _read_run(root, recording)
    pixels, input_source = _input_pixels(run, images, data_path, cache_dir)
    v_min = float(run.config.get("v_min", 0.0))
    v_max = float(run.config.get("v_max", 1.0))
    seed = int(run.config.get("seed", 0))
    logger.info(
        "MI analysis of %s: %d training digits, pads %s, %d bins, input from %s",
        root,
        run.n_train,
        run.pad_numbers,
        settings.n_bins,
        input_source,
    )

    names = [str(p) for p in run.pad_numbers]
    names += ["conductance"] if run.has_conductance else []
    names += ["input"]
    n_ch = len(names)
    n_pads = len(run.pad_numbers)
    all_pads = run.pad_positions == list(range(n_pads))

    def input_volts(f: Any, rows: slice | NDArray[np.int64]) -> NDArray[np.float64]:
        if pixels is None:
            return np.asarray(f["input"][rows], dtype=np.float64)
        return v_min + (v_max - v_min) * pixels[rows].astype(np.float64)

    def pad_values(f: Any, rows: slice | NDArray[np.int64]) -> NDArray[Any]:
        block = f["pads"][rows]
        return block if all_pads else block[:, run.pad_positions]

    n_tr = run.n_train
    order = np.random.default_rng(seed).permutation(n_tr)
    rank = np.empty(n_tr, dtype=np.int64)
    rank[order] = np.arange(n_tr)
    checkpoints = mi_checkpoints(n_tr, settings.per_decade, settings.first_checkpoint)
    groups = np.searchsorted(np.asarray(checkpoints), rank, side="right")
    y = run.labels[:n_tr]
    y_shuffled = y[np.random.default_rng(settings.shuffle_seed).permutation(n_tr)]

    est = StreamingMI(settings.n_bins, N_CLASSES, n_groups=len(checkpoints))
    floor = StreamingMI(settings.n_bins, N_CLASSES, n_groups=len(checkpoints))

    def chunks(desc: str) -> Any:
        import h5py

        with (
            h5py.File(run.features, "r") as f,
            progress(total=n_tr, desc=desc, unit="digit") as bar,
        ):
            for a in range(0, n_tr, settings.chunk_rows):
                b = min(n_tr, a + settings.chunk_rows)
                out = np.empty((b - a, n_ch, STEPS_PER_DIGIT), dtype=np.float64)
                out[:, :n_pads] = pad_values(f, slice(a, b))
                if run.has_conductance:
                    out[:, n_pads] = f["conductance"][a:b]
                out[:, n_ch - 1] = input_volts(f, slice(a, b))
                yield a, b, out
                bar.update(b - a)

    # pass 1: the bin edges of every cell, from evenly spaced training digits (and,
    # for equal widths, the extremes over all of them). Readouts are float32 on
    # disk, so their sample is kept as float32 without loss; the input's is kept in
    # float64, as pass 2 sees it (rebuilt from pixels where it is not stored).
    stride = max(1, math.ceil(n_tr / settings.range_samples))
    picked = []
    picked_input = []
    lo_all = np.full((n_ch, STEPS_PER_DIGIT), np.inf)
    hi_all = np.full((n_ch, STEPS_PER_DIGIT), -np.inf)
    for a, _, values in chunks("MI: bins"):
        np.minimum(lo_all, values.min(axis=0), out=lo_all)
        np.maximum(hi_all, values.max(axis=0), out=hi_all)
        picked.append(values[(-a) % stride :: stride, : n_ch - 1].astype(np.float32))
        picked_input.append(values[(-a) % stride :: stride, n_ch - 1])
    sample = np.concatenate(picked)
    input_sample = np.concatenate(picked_input)
    del picked, picked_input
    edges = np.empty((n_ch, STEPS_PER_DIGIT, settings.n_bins - 1))
    for i in range(n_ch):
        edges[i] = bin_edges(
            sample[:, i] if i < n_ch - 1 else input_sample,
            settings.n_bins,
            settings.binning,
            range_quantile=settings.range_quantile,
            fallback=(lo_all[i], hi_all[i]),
        )
    del sample, input_sample
    est.set_edges(edges)
    floor.set_edges(edges)

    # pass 2: the counts, each digit in the group of its position in the learner's
    # order
    for a, b, values in chunks("MI: counts"):
        bins = est.bin_indices(values)
        est.count_bins(bins, y[a:b], groups[a:b])
        floor.count_bins(bins, y_shuffled[a:b], groups[a:b])

    curve = est.mutual_information_curve()  # (checkpoints, channels, steps)
    curve_floor = floor.mutual_information_curve()
    mi_steps = curve[-1]
    specific = est.specific_information()  # (channels, steps, classes)
    specific_floor = floor.specific_information()
    h_class = class_entropy_bits(y)
    counts_per_class = np.bincount(y, minlength=N_CLASSES)

    metrics: dict[str, Any] = {
        "run_dir": str(root),
        "features": str(run.features),
        **({"recording": run.recording} if run.recording is not None else {}),
        "n_train": n_tr,
        "channels": names,
        "class_entropy_bits": h_class,
        "class_counts": counts_per_class.tolist(),
        "mi_bits": _by_channel(names, mi_steps.mean(axis=1)),
        "mi_shuffle_bits": _by_channel(names, curve_floor[-1].mean(axis=1)),
        "mi_peak_step_bits": _by_channel(names, mi_steps.max(axis=1)),
        "mi_curve": {
            "samples": checkpoints,
            "bits": {n: curve[:, i].mean(axis=1).tolist() for i, n in enumerate(names)},
            "shuffle_bits": {
                n: curve_floor[:, i].mean(axis=1).tolist() for i, n in enumerate(names)
            },
            "excess_bits": {
                n: (curve[:, i] - curve_floor[:, i]).mean(axis=1).tolist()
                for i, n in enumerate(names)
            },
            "note": "mean over the 784 steps of I(class; value at the step) after the "
            "first n training digits in shuffle 0's order; shuffle_bits: the same "
            "estimate with permuted labels (the bias floor); excess_bits: bits minus "
            "shuffle_bits",
        },
    }
    excess = (curve - curve_floor).mean(axis=2)  # (checkpoints, channels)
    readout_excess = excess[:, :n_pads].mean(axis=1)
    metrics["saturation"] = {
        "level": settings.saturation_level,
        "samples": {
            **{
                n: _saturation(checkpoints, excess[:, i], settings.saturation_level)
                for i, n in enumerate(names)
            },
            "readouts": _saturation(
                checkpoints, readout_excess, settings.saturation_level
            ),
        },
        "note": "first digits-seen count from which the MI in excess of the bias "
        f"floor stays at or above {settings.saturation_level:.0%} of its final "
        "value; 'readouts' is the mean over the readout pads",
    }
    metrics["mean_abs_dw"] = _dw_summary(_dw_source(run), settings.dw_fade_fraction)

    per_class = specific.mean(axis=1)  # (channels, classes)
    readout_class_mi = per_class[:n_pads].mean(axis=0)
    metrics["per_class_mi"] = {
        "classes": list(range(N_CLASSES)),
        "bits": _by_channel(names, per_class),
        "shuffle_bits": _by_channel(names, specific_floor.mean(axis=1)),
        "readouts": readout_class_mi.tolist(),
        "note": "specific surprise i(c) = sum_x p(x|c) log2(p(x|c)/p(x)), Miller-"
        "Madow corrected, mean over the 784 steps; 'readouts' is the mean over the "
        "readout pads",
    }
    accuracy = _per_class_accuracy(run)
    metrics["per_class_accuracy"] = accuracy
    metrics["mi_accuracy_correlation"] = _correlation(
        readout_class_mi, accuracy, settings.alpha
    )
    if accuracy is not None:
        metrics["input_mi_accuracy_correlation"] = _correlation(
            per_class[n_ch - 1], accuracy, settings.alpha
        )
    if settings.ksg:
        metrics["ksg_check"] = _ksg_check(
            run, order, names, settings, mi_steps, progress, pad_values, input_volts
        )
    metrics["findings"] = _findings(metrics, names, n_pads, settings)
    metrics["estimator"] = {
        "name": "binned plug-in, Miller-Madow corrected, clipped to [0, H(class)]",
        "binning_rule": settings.binning,
        "bins": settings.n_bins,
        "binning": (
            "equal frequency: edges at the k/n_bins quantiles of each (channel, "
            f"step) over every {stride}-th training digit"
            if settings.binning == "quantile"
            else "equal width over the [q, 1 - q] quantiles of each (channel, step) "
            f"with q = {settings.range_quantile}, from every {stride}-th training "
            "digit (the minimum to maximum over the training stream where the "
            "quantiles coincide)"
        )
        + "; values beyond the edges fall in the end bins",
        "units": "bits",
        "bias_floor": "the same estimator on labels permuted with seed "
        f"{settings.shuffle_seed}",
        "specific_information": "specific surprise (DeWeese & Meister 1999), "
        "Miller-Madow corrected, clipped to [0, log2(1/p(c))]",
        "order": f"shuffle 0: numpy default_rng({seed}).permutation(n_train)",
        "order_seed_from": run.config_source if "seed" in run.config else "default 0",
        "input": (
            "the input voltages stored with the readouts"
            if pixels is None
            else f"v_min + (v_max - v_min) * pixel with v_min={v_min}, "
            f"v_max={v_max}; pixels from {input_source}"
        ),
        "settings": asdict(settings),
    }

    out = root / "mi"
    write_npz(
        out / "maps.npz",
        channels=np.asarray(names),
        mi=mi_steps.reshape(n_ch, _SIDE, _SIDE),
        specific=specific.transpose(0, 2, 1).reshape(n_ch, N_CLASSES, _SIDE, _SIDE),
        checkpoints=np.asarray(checkpoints),
        curve=curve.mean(axis=2),
        curve_shuffle=curve_floor.mean(axis=2),
    )
    if figures:
        from nwnrc.report._mi_figures import write_mi_figures

        paths = write_mi_figures(
            metrics,
            mi_steps.reshape(n_ch, _SIDE, _SIDE),
            specific.transpose(0, 2, 1).reshape(n_ch, N_CLASSES, _SIDE, _SIDE),
            out,
        )
        metrics["figures"] = [p.name for p in paths]
    else:
        metrics["figures"] = []
    write_json(out / "metrics.json", metrics)
    write_json(
        out / "timing.json", {"total_s": round(time.perf_counter() - t_start, 1)}
    )
    return metrics


def _by_channel(names: list[str], values: NDArray[np.float64]) -> dict[str, Any]:
    return {
        n: (v.tolist() if isinstance(v, np.ndarray) else float(v))
        for n, v in zip(names, values, strict=True)
    }


def _saturation(
    samples: list[int], excess: NDArray[np.float64], level: float
) -> int | None:
    """First count from which ``excess`` stays at or above level x its last value."""
    final = float(excess[-1])
    if not final > 0:
        return None
    ok = excess >= level * final
    below = np.flatnonzero(~ok)
    first = 0 if below.size == 0 else int(below[-1]) + 1
    return int(samples[first])


def _dw_source(run: _Run) -> dict[str, Any]:
    """Mean |dW| from metrics.json, or else from the stored online readout of shuffle 0.

    Returns a dict with ``mean_abs_dw`` (when found) and ``source``.
    """
    if run.metrics.get("mean_abs_dw"):
        return {
            "mean_abs_dw": run.metrics["mean_abs_dw"],
            "source": "metrics.json (mean over shuffles, largest channel set)",
        }
    found = {}
    for path in (run.root / "readouts").glob("online-*-0.json"):
        m_ch = path.stem.split("-")[1]
        if m_ch.isdigit():
            found[int(m_ch)] = path
    if found:
        path = found[max(found)]
        data = json.loads(path.read_text())
        if data.get("mean_abs_dw"):
            return {
                "mean_abs_dw": data["mean_abs_dw"],
                "source": f"readouts/{path.name} (shuffle 0)",
            }
    return {}


def _dw_summary(metrics: dict[str, Any], fade_fraction: float) -> dict[str, Any]:
    """Peak and fading of the learner's mean |dW|, on a curve smoothed in log n.

    Early updates are single digits and their |dW| jumps from digit to digit, so
    the peak and the fading point are read from the mean over a window of
    +-0.1 decade of digits seen around each point.
    """
    dw = metrics.get("mean_abs_dw") or {}
    if len(dw.get("samples", ())) == 0:
        return {
            "available": False,
            "reason": "no mean_abs_dw in metrics.json or readouts/online-*-0.json "
            "(a run without the online learner)",
        }
    s = np.asarray(dw["samples"], dtype=float)
    v = np.asarray(dw["value"], dtype=float)
    log_s = np.log10(np.maximum(s, 1.0))
    lo = np.searchsorted(log_s, log_s - _DW_WINDOW_DECADES, side="left")
    hi = np.searchsorted(log_s, log_s + _DW_WINDOW_DECADES, side="right")
    csum = np.r_[0.0, np.cumsum(v)]
    smooth = (csum[hi] - csum[lo]) / (hi - lo)
    i = int(np.argmax(smooth))
    after = np.flatnonzero(
        (np.arange(v.size) > i) & (smooth < fade_fraction * smooth[i])
    )
    return {
        "available": True,
        "source": metrics.get("source", "given"),
        "samples": s.astype(int).tolist(),
        "value": v.tolist(),
        "smoothed": smooth.tolist(),
        "smoothing": f"mean over +-{_DW_WINDOW_DECADES} decade of digits seen",
        "peak_samples": int(s[i]),
        "peak_value": float(smooth[i]),
        "fade_fraction": fade_fraction,
        "fade_samples": int(s[after[0]]) if after.size else None,
        "final_over_peak": float(smooth[-1] / smooth[i]) if smooth[i] > 0 else None,
    }


def _per_class_accuracy(run: _Run) -> dict[str, Any] | None:
    m = run.metrics
    if "per_class_accuracy" in m:
        channels = m.get("learning_curve", {}).get("channels")
        return {
            "values": [float(x) for x in m["per_class_accuracy"]],
            "source": "metrics.json: online RLS"
            + (f", {channels} channels" if channels else "")
            + ", mean over shuffles",
        }
    folder = run.root / "readouts"
    y_test = run.labels[run.n_train :]
    if not folder.exists() or y_test.size == 0:
        return None
    for method in ("online", "ridge", "batch"):
        found: dict[int, list[Path]] = {}
        for path in folder.glob(f"{method}-*-*.json"):
            parts = path.stem.split("-")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                found.setdefault(int(parts[1]), []).append(path)
        if not found:
            continue
        m_ch = max(found)
        rows = []
        for path in sorted(found[m_ch]):
            pred = np.asarray(json.loads(path.read_text())["predictions"])
            if pred.shape != y_test.shape:
                continue
            rows.append(
                [
                    float(np.mean(pred[y_test == c] == c))
                    if np.any(y_test == c)
                    else math.nan
                    for c in range(N_CLASSES)
                ]
            )
        if rows:
            return {
                "values": np.mean(rows, axis=0).tolist(),
                "source": f"readouts/{method}-{m_ch}-*.json predictions against "
                f"the stream's test labels ({len(rows)} file(s))",
            }
    return None


def _correlation(
    mi: NDArray[np.float64], accuracy: dict[str, Any] | None, alpha: float
) -> dict[str, Any]:
    from scipy import stats

    if accuracy is None:
        return {"available": False, "reason": "no per-class accuracy in the run"}
    acc = np.asarray(accuracy["values"], dtype=float)
    ok = np.isfinite(acc) & np.isfinite(mi)
    if ok.sum() < 3 or np.ptp(acc[ok]) == 0 or np.ptp(mi[ok]) == 0:
        return {
            "available": False,
            "reason": "fewer than 3 classes with both values, or a constant one",
        }
    pr = stats.pearsonr(mi[ok], acc[ok])
    sr = stats.spearmanr(mi[ok], acc[ok])
    return {
        "available": True,
        "classes": int(ok.sum()),
        "pearson": {"r": float(pr[0]), "p": float(pr[1])},
        "spearman": {"r": float(sr[0]), "p": float(sr[1])},
        "alpha": alpha,
        "highest_mi_class": int(np.nanargmax(np.where(ok, mi, np.nan))),
        "highest_accuracy_class": int(np.nanargmax(np.where(ok, acc, np.nan))),
        "lowest_mi_classes": np.argsort(np.where(ok, mi, np.inf))[:2].tolist(),
        "lowest_accuracy_classes": np.argsort(np.where(ok, acc, np.inf))[:2].tolist(),
    }


def _ksg_check(
    run: _Run,
    order: NDArray[np.int64],
    names: list[str],
    settings: MiSettings,
    mi_full: NDArray[np.float64],
    progress: ProgressFactory,
    pad_values: Callable[[Any, NDArray[np.int64]], NDArray[Any]],
    input_volts: Callable[[Any, NDArray[np.int64]], NDArray[np.float64]],
) -> dict[str, Any]:
    """KSG against binned, both on the same subsample, at every k-th step."""
    import h5py

    n = min(settings.ksg_samples, run.n_train)
    rows = np.sort(order[:n])
    steps = np.arange(0, STEPS_PER_DIGIT, settings.ksg_step_stride)
    parts = []
    with h5py.File(run.features, "r") as f:
        parts.append(np.asarray(pad_values(f, rows)[:, :, steps], dtype=np.float64))
        if run.has_conductance:
            cond = np.asarray(f["conductance"][rows][:, steps], dtype=np.float64)
            parts.append(cond[:, None])
        parts.append(input_volts(f, rows)[:, None, steps])
    values = np.concatenate(parts, axis=1)
    y = run.labels[rows]
    binned = binned_mutual_information(
        values,
        y,
        settings.n_bins,
        binning=settings.binning,
        range_quantile=settings.range_quantile,
        n_classes=N_CLASSES,
    )
    ksg = np.empty(values.shape[1:])
    with progress(total=ksg.size, desc="MI: KSG check", unit="cell") as bar:
        for i in range(values.shape[1]):
            for j in range(values.shape[2]):
                ksg[i, j] = ksg_mutual_information(
                    values[:, i, j], y, settings.ksg_k, seed=int(j)
                )
                bar.update(1)
    diff = ksg - binned
    return {
        "samples": int(n),
        "steps": steps.tolist(),
        "k": settings.ksg_k,
        "ksg_bits": _by_channel(names, ksg.mean(axis=1)),
        "binned_bits": _by_channel(names, binned.mean(axis=1)),
        "binned_full_stream_bits": _by_channel(names, mi_full[:, steps].mean(axis=1)),
        "max_abs_difference_bits": _by_channel(names, np.abs(diff).max(axis=1)),
        "rank_correlation": _by_channel(names, _spearman_rows(ksg, binned)),
        "note": "both estimators on the same first digits of shuffle 0's order, at "
        "every k-th step; KSG is unreliable for the input channel, whose pixels "
        "take few distinct values",
    }


def _spearman_rows(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[Any]:
    from scipy import stats

    out = np.full(a.shape[0], np.nan)
    for i in range(a.shape[0]):
        if np.ptp(a[i]) > 0 and np.ptp(b[i]) > 0:
            out[i] = float(stats.spearmanr(a[i], b[i])[0])
    return out


#: Fewest training digits of every class for the findings to be judged. The plug-in
#: bias of the default 16-bin, 10-class table is 135 / (2 N ln 2) bits for N digits:
#: 2.4 bits (three quarters of H(class)) at N = 40, 0.19 at 50 per class (N = 500).
#: With few digits per table entry the Miller-Madow correction leaves about a quarter
#: of it (docs/information.md), 0.05 bits at N = 500, of the size of the per-step MI
#: itself (0.08-0.09 bits for the input and the pads of the full run). The findings
#: compare channels binned alike on the same digits, whose biases largely cancel, so
#: they stay readable there; with fewer digits the leftover bias and the scatter of
#: the floor swamp the values, and per-class MI rests on a handful of digits a class.
MIN_DIGITS_PER_CLASS = 50


def _findings(
    metrics: dict[str, Any], names: list[str], n_pads: int, settings: MiSettings
) -> dict[str, Any]:
    findings = _judged_findings(metrics, names, n_pads, settings)
    fewest = min(metrics["class_counts"])
    if fewest < MIN_DIGITS_PER_CLASS:
        caveat = (
            f"too few digits to judge: the fewest training digits of a class is "
            f"{fewest}, below {MIN_DIGITS_PER_CLASS} per class"
        )
        for finding in findings.values():
            finding["too_few_digits"] = True
            finding["caveat"] = caveat
    return findings


def _judged_findings(
    metrics: dict[str, Any], names: list[str], n_pads: int, settings: MiSettings
) -> dict[str, Any]:
    readouts = {n: metrics["mi_bits"][n] for n in names[:n_pads]}
    inp = metrics["mi_bits"]["input"]
    lowest = min(readouts.values())
    first = {
        "statement": "the MI of the input channel is below the MI of the readouts",
        "criterion": "input MI (mean over steps) below that of every readout pad",
        "status": "held" if inp < lowest else "not held",
        "input_bits": inp,
        "readout_bits": readouts,
        "lowest_readout_over_input": lowest / inp if inp > 0 else None,
    }

    sat = metrics["saturation"]["samples"]["readouts"]
    dw = metrics["mean_abs_dw"]
    second: dict[str, Any] = {
        "statement": "MI saturates where mean |dW| fades",
        "criterion": f"the readouts' MI reaches {settings.saturation_level:.0%} of "
        "its final excess over the bias floor within "
        f"{settings.coincidence_decades} decades of the digits-seen count where "
        f"mean |dW| (smoothed over +-{_DW_WINDOW_DECADES} decade) first falls below "
        f"{settings.dw_fade_fraction:.0%} of its peak",
        "mi_saturation_samples": sat,
    }
    if not dw.get("available"):
        second.update(status="not tested", reason=dw["reason"])
    else:
        second.update(
            dw_peak_samples=dw["peak_samples"], dw_fade_samples=dw["fade_samples"]
        )
        if not dw["peak_value"] > 0:
            second.update(
                status="not tested",
                reason="mean |dW| is 0 throughout: the learner never changed its "
                "weights (features without variation?)",
            )
        elif dw["fade_samples"] is None:
            second.update(
                status="not tested",
                reason="mean |dW| did not fall below "
                f"{settings.dw_fade_fraction:.0%} of its peak within the stream "
                f"(last value {dw['final_over_peak']:.2f} of the peak)",
            )
        elif sat is None:
            second.update(status="not held", reason="no MI above the bias floor")
        else:
            gap = abs(math.log10(sat / dw["fade_samples"]))
            second.update(
                decades_apart=gap,
                status="held" if gap <= settings.coincidence_decades else "not held",
            )

    corr = metrics["mi_accuracy_correlation"]
    third: dict[str, Any] = {
        "statement": "per-class MI correlates positively with per-class accuracy",
        "criterion": f"Pearson r > 0 with p < {settings.alpha} between the readouts' "
        "per-class specific information and per-class accuracy",
    }
    if not corr.get("available"):
        third.update(status="not tested", reason=corr["reason"])
    else:
        r, p = corr["pearson"]["r"], corr["pearson"]["p"]
        third.update(
            pearson=corr["pearson"],
            spearman=corr["spearman"],
            status="held" if (r > 0 and p < settings.alpha) else "not held",
        )
    return {
        "input_below_readouts": first,
        "saturation_with_dw_fade": second,
        "class_mi_tracks_accuracy": third,
    }
