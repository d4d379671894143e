"""Sequence memory: recall an earlier digit from the readouts of the digits after it.

The sequence-memory task of Zhu et al. (online dynamical learning with neuromorphic
nanowire networks), in simulation:

1. A digit sequence (``"14751479"`` by default) is repeated; every occurrence is a
   fresh MNIST digit of its class, drawn without replacement (seeded) from the
   training split for the training streams and from the test split for the held-out
   streams. Each stream is encoded pixel by pixel (784 steps of 1 ms per digit) and
   driven through one device with no reset. Streams are independent runs of the same
   network, advanced together as the lanes of one :class:`SimulatedDevice`.
2. Per digit the device gives the voltage of the feature pads (pad 7 by default),
   the voltage of the exclusion pad (13) and the network conductance G (log10 G,
   scaled to [0, 1] by its range on the training streams). Each series is laid out
   as a 28 x 28 image in the order the pixels were streamed (step ``28 r + c`` is
   row r, column c), so that column c of a digit holds the readouts taken while the
   input scanned column c of each pixel row.
3. A window of L digits: the first is the target (784 pixels in [0, 1]); the input of
   the reconstructor is the column images of the L - 1 digits after it, side by side
   (28 rows x 28 (L - 1) columns per channel). A linear map learnt online by
   recursive least squares (:class:`nwnrc.learn.RLSRegressor`) along the training
   streams turns them into the target; the reconstructions of the held-out
   repetitions are scored by SSIM (:mod:`nwnrc.analysis._ssim`), per position in the
   sequence and per L.
4. Memory exclusion: at one window length, the first n conductance columns are
   replaced by the exclusion pad's voltage columns, n = 0, 14, 28, ... up to all.
5. Controls that separate memory from context: the same reconstructor fed with the
   voltages of two pads (all conductance columns replaced), with the conductance
   images shuffled among the windows of the same sequence position (context kept,
   the trace of the particular target instance destroyed), or with the input pixels
   of the following digits (context only, no device); and the mean training image of
   the target's class, the best a reconstructor can do with perfect context and no
   memory of the instance (for squared error).

Every stage resumes after an interruption: the device stream from its last finished
piece, the readouts from their last finished fit.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import write_json, write_npz
from nwnrc._progress import no_progress
from nwnrc.errors import ConfigError
from nwnrc.experiments._config import DEVICE_FIELDS, ConfigDict, simulated_device

logger = logging.getLogger(__name__)

STEPS_PER_DIGIT = 784
IMAGE_SIDE = 28

ProgressFactory = Callable[..., Any]


# ----------------------------------------------------------------------- config
@dataclass(frozen=True)
class SequenceConfig(ConfigDict):
    """Everything that defines a sequence-memory run; saved with its results.

    Parameters
    ----------
    sequence : str
        The repeated digit sequence, at least two digits 0-9.
    repeats : int
        Repetitions of the sequence in each stream (washout included).
    train_streams, test_streams : int
        Independent streams (device lanes) of training-split and of test-split
        digits. The reconstructor learns from every training stream and is scored on
        every test stream.
    washout_repeats : int
        Repetitions at the start of each stream whose digits are streamed but never
        used as targets or features: the network forms its first conducting paths
        there (about 30 digits at the default amplitude).
    max_window : int
        Largest window length L (the target and the L - 1 digits after it). Windows
        run from 2 to ``max_window``; the target's own readouts (L = 1 in the sense
        of "no later digit") are scored apart as a reference.
    n_wires, network_seed, chip_size_um, length_mean_um, length_std_um, pad_size_um
        The nanowire network (see :class:`nwnrc.network.NetworkParams`).
    source_pad, drain_pad : int
        Driven pads.
    feature_pads : tuple of int
        Pads whose voltages enter the features beside the conductance.
    exclusion_pad : int
        Pad whose voltage columns replace conductance columns in the exclusion
        experiment and in the voltage-only control.
    junction : str
        Junction preset (see :class:`nwnrc.device.JunctionParams`).
    v_min, v_max : float
        Source voltage of a black and of a white pixel, V. With ``slow_decay`` and
        the default network, 0.9 V scored best of 0.6, 0.75, 0.9 and 1.2 V and
        keeps a digit's ink visible in the conductance for three to four digits
        (``docs/sequence.md``).
    dt : float
        Time step (one pixel), s.
    piece_repeats : int
        Repetitions per checkpointed piece of the device stream.
    rls_delta : float
        RLS regularisation per following digit: the reconstructor of window L starts
        from ``P0 = I / (rls_delta * (L - 1))`` (``rls_delta`` for the target's own
        readouts), so that the penalty keeps pace with the number of features.
    rls_forgetting : float
        RLS forgetting factor (1 for a stationary stream).
    update_windows : int
        Windows per RLS update; the learning curve has one point per update.
    exclusion_window : int
        Window length of the memory-exclusion experiment.
    exclusion_step : int
        Conductance columns replaced per step of the exclusion experiment.
    control_windows : tuple of int
        Window lengths at which the controls are scored.
    ssim_win_size : int
        Side of the SSIM window, pixels (odd).
    examples : int
        Held-out repetitions whose reconstructions are kept for the figure.
    relax_s : float
        Length of the relaxation record (no input) after the stream, s.
    seed : int
        Seed of the digit draw and of the conductance shuffle.
    """

    sequence: str = "14751479"
    repeats: int = 60
    train_streams: int = 3
    test_streams: int = 1
    washout_repeats: int = 5
    max_window: int = 8
    n_wires: int = 500
    network_seed: int = 0
    chip_size_um: float = 78.0
    length_mean_um: float = 12.0
    length_std_um: float = 2.0
    pad_size_um: float = 4.5
    source_pad: int = 4
    drain_pad: int = 11
    feature_pads: tuple[int, ...] = (7,)
    exclusion_pad: int = 13
    junction: str = "slow_decay"
    v_min: float = 0.0
    v_max: float = 0.9
    dt: float = 1e-3
    piece_repeats: int = 5
    rls_delta: float = 15.0
    rls_forgetting: float = 1.0
    update_windows: int = 200
    exclusion_window: int = 5
    exclusion_step: int = 14
    control_windows: tuple[int, ...] = (2, 5)
    ssim_win_size: int = 7
    examples: int = 2
    relax_s: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        seq = self.sequence
        if not (isinstance(seq, str) and len(seq) >= 2 and seq.isdigit()):
            raise ConfigError(
                f"sequence must be a string of at least two digits 0-9, got {seq!r}"
            )
        ints = {
            "repeats": 1,
            "train_streams": 1,
            "test_streams": 1,
            "washout_repeats": 0,
            "max_window": 2,
            "piece_repeats": 1,
            "update_windows": 1,
            "exclusion_step": 1,
            "examples": 0,
            "n_wires": 1,
        }
        for name, low in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.train_streams + self.test_streams > 64:
            raise ConfigError(
                "train_streams + test_streams must be at most 64 (device lanes), got "
                f"{self.train_streams + self.test_streams}"
            )
        usable = self.targets_per_stream
        if usable < len(seq):
            need = self.washout_repeats + 1 + -(-(self.max_window - 1) // len(seq))
            raise ConfigError(
                f"repeats={self.repeats} leaves {usable} target digits per stream "
                f"after a washout of {self.washout_repeats} repetitions and a window "
                f"of {self.max_window}; need at least {len(seq)} (one per position): "
                f"raise repeats to {need} or more"
            )
        if not 2 <= self.exclusion_window <= self.max_window:
            raise ConfigError(
                f"exclusion_window must lie in 2..max_window={self.max_window}, got "
                f"{self.exclusion_window}"
            )
        bad = [w for w in self.control_windows if not 2 <= w <= self.max_window]
        if bad or len(set(self.control_windows)) != len(self.control_windows):
            raise ConfigError(
                f"control_windows must be distinct lengths in 2..{self.max_window}, "
                f"got {self.control_windows}"
            )
        pads = [*self.feature_pads, self.exclusion_pad]
        if not self.feature_pads or len(set(pads)) != len(pads):
            raise ConfigError(
                f"feature_pads {self.feature_pads} must be distinct, non-empty and "
                f"exclude exclusion_pad={self.exclusion_pad}"
            )
        driven = {self.source_pad, self.drain_pad}
        for p in pads:
            if not (isinstance(p, int) and 0 <= p <= 15) or p in driven:
                raise ConfigError(
                    f"readout pad {p!r} must be a pad 0..15 other than the source "
                    f"({self.source_pad}) and the drain ({self.drain_pad})"
                )
        if not (
            math.isfinite(self.v_min)
            and math.isfinite(self.v_max)
            and self.v_max > 0
            and self.v_min < self.v_max
        ):
            raise ConfigError(
                "need finite voltages with v_max > 0 and v_min < v_max, got "
                f"v_min={self.v_min!r}, v_max={self.v_max!r}"
            )
        for name in ("rls_delta", "dt", "relax_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive number, got {value!r}")
        if not 0 < self.rls_forgetting <= 1:
            raise ConfigError(
                f"rls_forgetting must lie in (0, 1], got {self.rls_forgetting!r}"
            )
        w = self.ssim_win_size
        if not (isinstance(w, int) and w >= 3 and w % 2 == 1 and w <= IMAGE_SIDE):
            raise ConfigError(
                f"ssim_win_size must be an odd integer in 3..{IMAGE_SIDE}, got {w!r}"
            )

    # ----------------------------------------------------------- derived sizes
    @property
    def digits(self) -> tuple[int, ...]:
        """The sequence as integers."""
        return tuple(int(c) for c in self.sequence)

    @property
    def n_streams(self) -> int:
        """Device lanes: training streams first, then test streams."""
        return self.train_streams + self.test_streams

    @property
    def digits_per_stream(self) -> int:
        """Digits streamed per lane."""
        return self.repeats * len(self.sequence)

    @property
    def targets_per_stream(self) -> int:
        """Target digits per stream: after the washout, with room for every window."""
        n = len(self.sequence)
        return (self.repeats - self.washout_repeats) * n - (self.max_window - 1)

    @property
    def windows(self) -> tuple[int, ...]:
        """Window lengths scored: 2 .. max_window."""
        return tuple(range(2, self.max_window + 1))

    def exclusion_columns(self) -> list[int]:
        """Conductance columns replaced at each step of the exclusion experiment."""
        full = IMAGE_SIDE * (self.exclusion_window - 1)
        cols = list(range(0, full, self.exclusion_step))
        return [*cols, full]

    def digit_keys(self) -> list[str]:
        """Keys of the sequence positions: ``"position:digit"``, e.g. ``"7:9"``."""
        return [f"{p}:{c}" for p, c in enumerate(self.sequence)]

    def stream_dict(self) -> dict[str, Any]:
        """The part of the config that determines the device stream."""
        keys = (
            "sequence",
            "repeats",
            "train_streams",
            "test_streams",
            "feature_pads",
            "exclusion_pad",
            "piece_repeats",
            "seed",
            *DEVICE_FIELDS,
        )
        return self.subset(keys)


# ----------------------------------------------------------------------- layout
def digit_images(series: NDArray[Any]) -> NDArray[Any]:
    """Lay a readout series out as one 28 x 28 image per digit.

    Parameters
    ----------
    series : ndarray, shape (..., n_digits * 784)
        A readout sampled once per pixel, digits one after another, each digit's
        pixels in the row-major order in which they were streamed.

    Returns
    -------
    ndarray, shape (..., n_digits, 28, 28)
        Element ``[..., d, r, c]`` is the readout at step ``784 d + 28 r + c``: the
        readout taken while pixel (r, c) of digit d was on the source pad.

    Raises
    ------
    ConfigError
        If the last axis is not a whole number of digits.

    Examples
    --------
    >>> import numpy as np
    >>> img = digit_images(np.arange(2 * 784))
    >>> img.shape, int(img[1, 2, 3])  # step 784 + 28 * 2 + 3
    ((2, 28, 28), 843)
    """
    a = np.asarray(series)
    if a.ndim < 1 or a.shape[-1] % STEPS_PER_DIGIT:
        raise ConfigError(
            f"a readout series must hold a whole number of {STEPS_PER_DIGIT}-step "
            f"digits on its last axis, got shape {a.shape}"
        )
    n = a.shape[-1] // STEPS_PER_DIGIT
    return a.reshape((*a.shape[:-1], n, IMAGE_SIDE, IMAGE_SIDE))


def window_images(
    images: NDArray[Any], targets: NDArray[np.int64], window: int
) -> NDArray[Any]:
    """The column images of the digits that follow each target, side by side.

    Parameters
    ----------
    images : ndarray, shape (n_digits, 28, 28)
        One channel's readouts laid out by :func:`digit_images`.
    targets : ndarray of int, shape (n,)
        Index of each window's target digit.
    window : int
        Window length L >= 1. For L >= 2 the result holds the digits
        ``target + 1 .. target + L - 1``; for L = 1 the target's own image.

    Returns
    -------
    ndarray, shape (n, 28, 28 * max(L - 1, 1))
        Columns ``28 j .. 28 j + 27`` are the columns of digit ``target + 1 + j``.

    Raises
    ------
    ConfigError
        If ``window`` is below 1 or a window runs past the last digit.

    Examples
    --------
    >>> import numpy as np
    >>> imgs = digit_images(np.arange(3 * 784))
    >>> w = window_images(imgs, np.array([0]), 3)
    >>> w.shape, int(w[0, 0, 28]), int(w[0, 1, 0])  # digit 2 col 0; digit 1 row 1
    ((1, 28, 56), 1568, 812)
    """
    if not (isinstance(window, int | np.integer) and window >= 1):
        raise ConfigError(f"window must be an integer >= 1, got {window!r}")
    t = np.asarray(targets, dtype=np.int64)
    if window == 1:
        return images[t]
    last = int(t.max()) + window - 1 if t.size else 0
    if t.size and (t.min() < 0 or last >= images.shape[0]):
        raise ConfigError(
            f"a window of {window} digits after target {int(t.max())} runs past the "
            f"last of {images.shape[0]} digits"
        )
    idx = t[:, None] + np.arange(1, window)[None, :]
    stacked = images[idx]  # (n, L - 1, 28, 28)
    n = t.size
    return stacked.transpose(0, 2, 1, 3).reshape(n, IMAGE_SIDE, -1)


def replace_columns(
    conductance: NDArray[Any], voltage: NDArray[Any], n_columns: int
) -> NDArray[Any]:
    """Replace the first ``n_columns`` columns of conductance windows by voltage ones.

    Parameters
    ----------
    conductance, voltage : ndarray, shape (n, 28, W)
        Window images (:func:`window_images`) of two channels.
    n_columns : int
        Columns replaced, counted from the first following digit, 0..W.

    Returns
    -------
    ndarray, shape (n, 28, W)
        A copy of ``conductance`` whose first ``n_columns`` columns are those of
        ``voltage``.

    Examples
    --------
    >>> import numpy as np
    >>> out = replace_columns(np.zeros((1, 28, 56)), np.ones((1, 28, 56)), 14)
    >>> int(out[0, 0].sum()), int(out[0, :, 13].sum()), int(out[0, :, 14].sum())
    (14, 28, 0)
    """
    if conductance.shape != voltage.shape:
        raise ConfigError(
            f"conductance windows {conductance.shape} and voltage windows "
            f"{voltage.shape} must have the same shape"
        )
    width = conductance.shape[-1]
    if not 0 <= n_columns <= width:
        raise ConfigError(f"n_columns must lie in 0..{width}, got {n_columns}")
    out = conductance.copy()
    out[..., :n_columns] = voltage[..., :n_columns]
    return out


# ----------------------------------------------------------------------- digits
def draw_sequence_digits(
    config: SequenceConfig,
    train_labels: NDArray[np.int64],
    test_labels: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Index of the MNIST digit at every place of every stream.

    Training streams draw from the training split, test streams from the test split.
    Each class's digits are used in a seeded random order without replacement
    within a split, so that no instance appears twice in the training streams or
    twice in the test streams.

    Returns
    -------
    ndarray of int, shape (n_streams, digits_per_stream)
        Row s indexes the training split for s < ``train_streams``, the test split
        after.

    Raises
    ------
    ConfigError
        If a split has too few digits of a class in the sequence.
    """
    rng = np.random.default_rng(config.seed)
    seq = np.asarray(config.digits)
    out = np.empty((config.n_streams, config.digits_per_stream), dtype=np.int64)
    plan = (
        ("training", train_labels, range(config.train_streams)),
        ("test", test_labels, range(config.train_streams, config.n_streams)),
    )
    for split, labels, rows in plan:
        labels = np.asarray(labels)
        places = np.tile(seq, config.repeats)
        for c in np.unique(seq):
            pool = rng.permutation(np.flatnonzero(labels == c))
            per_stream = int(np.sum(places == c))
            need = per_stream * len(rows)
            if need > pool.size:
                raise ConfigError(
                    f"the sequence needs {need} digits of class {c} from the {split} "
                    f"split and it has {pool.size}; lower repeats or the number of "
                    "streams"
                )
            for j, s in enumerate(rows):
                out[s, places == c] = pool[j * per_stream : (j + 1) * per_stream]
    return out


# ----------------------------------------------------------------------- device
def build_device(config: SequenceConfig) -> Any:
    """The simulated device of a config, one lane per stream."""
    pads = (*config.feature_pads, config.exclusion_pad)
    return simulated_device(config, pads, lanes=config.n_streams)


@dataclass(frozen=True)
class SequenceStream:
    """The device readouts of every stream, laid out per digit.

    Attributes
    ----------
    pad_voltages : ndarray, shape (streams, digits, pads, 784), float32
        Voltages of the feature pads then the exclusion pad, V.
    source_current : ndarray, shape (streams, digits, 784), float32
        Current into the network, A.
    conductance : ndarray, shape (streams, digits, 784), float32
        Network conductance, S.
    volts : ndarray, shape (streams, digits, 784), float32
        The input voltage on the source pad, V.
    state : ndarray, shape (streams, junctions)
        Filament states after the last step, V s.
    """

    pad_voltages: NDArray[np.float32]
    source_current: NDArray[np.float32]
    conductance: NDArray[np.float32]
    volts: NDArray[np.float32]
    state: NDArray[np.float64]


def stream_sequence(
    config: SequenceConfig,
    out_dir: Path,
    images: NDArray[np.float32],
    progress: ProgressFactory | None = None,
    device: Any = None,
) -> SequenceStream:
    """Stream every lane through the device; checkpoint to ``out_dir/stream``.

    Parameters
    ----------
    config : SequenceConfig
    out_dir : path
        Run folder; pieces go to ``out_dir/stream/piece-NNNNN.npz``.
    images : ndarray, shape (n_streams, digits_per_stream, 28, 28)
        The digits of every stream, in stream order.
    progress : callable, optional
        A ``tqdm``-like factory; silent by default.
    device : SimulatedDevice, optional
        The device of ``config`` if already built.

    Returns
    -------
    SequenceStream
    """
    from nwnrc.data import encode_images

    progress = progress or no_progress
    stream_dir = Path(out_dir) / "stream"
    stamp = stream_dir / "stream-config.json"
    if stamp.exists() and json.loads(stamp.read_text()) != config.stream_dict():
        raise ConfigError(
            f"{stream_dir} holds a stream made with a different configuration; use "
            "another --out folder or delete it"
        )
    write_json(stamp, config.stream_dict())

    n_seq = len(config.sequence)
    piece_digits = config.piece_repeats * n_seq
    n_pieces = -(-config.digits_per_stream // piece_digits)
    flat = images.reshape(config.n_streams, config.digits_per_stream, -1)

    def piece_path(k: int) -> Path:
        return stream_dir / f"piece-{k:05d}.npz"

    start = 0
    while start < n_pieces and piece_path(start).exists():
        start += 1
    state = None
    if start > 0:
        with np.load(piece_path(start - 1)) as z:
            state = z["state"]
    if start < n_pieces:
        device = device if device is not None else build_device(config)
        logger.info("device: %s", device.describe())
        logger.info(
            "streaming %d lanes x %d digits (%d pieces, resuming at %d)",
            config.n_streams,
            config.digits_per_stream,
            n_pieces,
            start,
        )
    t0 = time.perf_counter()
    with progress(
        total=n_pieces, initial=start, desc="device stream", unit="piece"
    ) as bar:
        for k in range(start, n_pieces):
            lo = k * piece_digits
            hi = min(config.digits_per_stream, lo + piece_digits)
            volts = np.stack(
                [
                    encode_images(flat[s, lo:hi], config.v_min, config.v_max).ravel()
                    for s in range(config.n_streams)
                ]
            )
            out = device.run(volts, state)
            state = out.state
            write_npz(
                piece_path(k),
                pad_voltages=out.pad_voltages.astype(np.float32),
                source_current=out.source_current.astype(np.float32),
                conductance=out.conductance.astype(np.float32),
                state=out.state,
            )
            bar.update(1)
    if start < n_pieces:
        logger.info("streamed in %.1f s", time.perf_counter() - t0)

    pads, current, cond = [], [], []
    for k in range(n_pieces):
        with np.load(piece_path(k)) as z:
            pads.append(z["pad_voltages"])
            current.append(z["source_current"])
            cond.append(z["conductance"])
            if k == n_pieces - 1:
                final = z["state"]
    s, d = config.n_streams, config.digits_per_stream
    p = np.concatenate(pads, axis=1)  # (streams, steps, pads)
    volts_all = encode_images(
        flat.reshape(s * d, -1), config.v_min, config.v_max
    ).astype(np.float32)
    return SequenceStream(
        pad_voltages=np.ascontiguousarray(
            p.reshape(s, d, STEPS_PER_DIGIT, -1).transpose(0, 1, 3, 2)
        ),
        source_current=np.concatenate(current, axis=1).reshape(s, d, -1),
        conductance=np.concatenate(cond, axis=1).reshape(s, d, -1),
        volts=volts_all.reshape(s, d, -1),
        state=final,
    )


# ----------------------------------------------------------------------- memory
def ink_lag_correlation(
    ink: NDArray[np.float64],
    readout: NDArray[np.float64],
    period: int,
    first: int,
    max_lag: int = 4,
) -> list[float]:
    """How much a digit's ink still shows in a readout ``j`` digits later.

    For every sequence position p and lag j, the Pearson correlation across the
    repetitions between the ink of the digit at p (mean pixel value) and the readout
    of the digit j places later, both detrended linearly in the repetition index
    within each stream (a partial correlation that ignores a slow drift of the
    readout); the mean over positions (streams pooled) is returned for
    j = 0 .. max_lag. Fixing the position holds the classes of the digit and of its
    neighbours fixed, so what correlates is the particular instance.

    Parameters
    ----------
    ink : ndarray, shape (streams, digits)
    readout : ndarray, shape (streams, digits)
        One number per digit, e.g. the mean log10 conductance over its first row.
    period : int
        Length of the sequence.
    first : int
        First digit used (after the washout).
    max_lag : int
        Largest lag.

    Returns
    -------
    list of float
        Correlation at lags 0 .. max_lag.
    """
    n_streams, n_digits = ink.shape
    out = []
    for j in range(max_lag + 1):
        per_position = []
        for p in range(period):
            xs: list[NDArray[np.float64]] = []
            ys: list[NDArray[np.float64]] = []
            for s in range(n_streams):
                ks = np.arange(first + (p - first) % period, n_digits - j, period)
                if ks.size < 3:
                    continue
                a = np.column_stack([np.ones(ks.size), ks])
                for src, dest, shift in ((ink, xs, 0), (readout, ys, j)):
                    v = src[s, ks + shift].astype(np.float64)
                    dest.append(v - a @ np.linalg.lstsq(a, v, rcond=None)[0])
            if not xs:
                continue
            x, y = np.concatenate(xs), np.concatenate(ys)
            if x.std() > 0 and y.std() > 0:
                per_position.append(float(np.corrcoef(x, y)[0, 1]))
        out.append(float(np.mean(per_position)) if per_position else float("nan"))
    return out


def _memory_measurements(
    config: SequenceConfig,
    stream: SequenceStream,
    images: NDArray[np.float32],
    device: Any,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, NDArray[Any]]]:
    """Dynamic range, saturation and memory of the conductance; relaxation record."""
    from nwnrc.device import JunctionParams

    n_tr = config.train_streams
    first = config.washout_repeats * len(config.sequence)
    log_g = np.log10(stream.conductance[:n_tr].astype(np.float64))
    steady = log_g[:, first:]

    # the two ends of the conductance scale: no filament anywhere, every one formed
    junction = JunctionParams.preset(config.junction)
    probe = np.zeros((2, 1))
    ends = np.zeros((2, device.n_junctions))
    ends[1] = junction.lambda_max
    g_ends = device.run(probe, ends).conductance[:, 0]
    g_off, g_formed = float(g_ends[0]), float(g_ends[1])

    # relaxation: the first training stream's final state, no input
    n_relax = round(config.relax_s / config.dt)
    relax_state = stream.state[:1]
    relax = device.run(np.zeros((1, n_relax)), relax_state).conductance[0]
    t_relax = (np.arange(n_relax) + 1) * config.dt
    log_relax = np.log10(relax)
    g0 = float(np.log10(stream.conductance[0, -1, -1]))
    below = np.flatnonzero(log_relax <= g0 - 1.0)
    to_off = np.flatnonzero(log_relax <= math.log10(g_off) + 0.01)
    sample_t = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]
    sample_t = [t for t in sample_t if t <= config.relax_s]

    within = steady.max(axis=2) - steady.min(axis=2)
    dynamic = {
        "g_min_s": float(10 ** log_g.min()),
        "g_max_s": float(10 ** log_g.max()),
        "whole_stream_decades": float(log_g.max() - log_g.min()),
        "steady_state_decades": float(steady.max() - steady.min()),
        "steady_state_p1_p99_decades": float(
            np.percentile(steady, 99) - np.percentile(steady, 1)
        ),
        "within_digit_median_decades": float(np.median(within)),
        "g_pristine_s": g_off,
        "g_all_formed_s": g_formed,
        "steady_state_max_fraction_of_scale": float(
            (steady.max() - math.log10(g_off)) / math.log10(g_formed / g_off)
        ),
        "final_fraction_junctions_formed": float(
            np.mean(np.abs(stream.state[:n_tr]) >= junction.lambda_crit)
        ),
        "final_fraction_junctions_at_lambda_max": float(
            np.mean(np.abs(stream.state[:n_tr]) >= junction.lambda_max * (1 - 1e-9))
        ),
        "note": "training streams; steady state = after the washout repetitions; "
        "scale = pristine network (no filament) to every junction formed "
        "(lambda = lambda_max)",
    }
    ink = images[:n_tr].reshape(n_tr, config.digits_per_stream, -1).mean(axis=2)
    start_row = log_g[:, :, :IMAGE_SIDE].mean(axis=2)
    digit_mean = log_g.mean(axis=2)
    memory = {
        "junction_forgetting_time_s": junction.forgetting_time_s,
        "lags": list(range(5)),
        "ink_corr_first_row_log10_g": ink_lag_correlation(
            ink.astype(np.float64), start_row, len(config.sequence), first
        ),
        "ink_corr_digit_mean_log10_g": ink_lag_correlation(
            ink.astype(np.float64), digit_mean, len(config.sequence), first
        ),
        "relaxation": {
            "t_s": sample_t,
            "log10_g": [float(log_relax[round(t / config.dt) - 1]) for t in sample_t],
            "log10_g_at_stop": g0,
            "one_decade_s": float(t_relax[below[0]]) if below.size else None,
            "to_pristine_s": float(t_relax[to_off[0]]) if to_off.size else None,
        },
        "note": "ink_corr_*: correlation across repetitions, at a fixed sequence "
        "position, between the mean pixel value of digit k and log10 G of digit "
        "k + lag (its first pixel row, or its whole 784 steps); mean over positions. "
        "relaxation: the first training stream's final state with 0 V input.",
    }
    relax_record = {"relax_t_s": t_relax[::10], "relax_log10_g": log_relax[::10]}
    return dynamic, memory, relax_record


# ----------------------------------------------------------------------- readouts
@dataclass(frozen=True)
class _Job:
    name: str
    window: int
    kind: str  # main | own | exclusion | voltage | shuffled | input
    columns: int = 0


def _jobs(config: SequenceConfig) -> list[_Job]:
    jobs = [_Job(f"main-L{w}", w, "main") for w in config.windows]
    jobs.append(_Job("own-L1", 1, "own"))
    lx = config.exclusion_window
    for c in config.exclusion_columns()[1:-1]:
        jobs.append(_Job(f"exclusion-L{lx}-c{c:03d}", lx, "exclusion", c))
    for w in sorted({*config.control_windows, lx}):
        jobs.append(_Job(f"voltage-L{w}", w, "voltage", IMAGE_SIDE * (w - 1)))
    for w in config.control_windows:
        jobs.append(_Job(f"shuffled-L{w}", w, "shuffled"))
        jobs.append(_Job(f"input-L{w}", w, "input"))
    return jobs


class _Channels:
    """Per-split channel images and the window features of every job."""

    def __init__(
        self,
        config: SequenceConfig,
        stream: SequenceStream,
        images: NDArray[np.float32],
    ) -> None:
        self.config = config
        n_tr = config.train_streams
        first = config.washout_repeats * len(config.sequence)
        self.targets = np.arange(first, first + config.targets_per_stream)
        self.positions = self.targets % len(config.sequence)

        # log10 G scaled to [0, 1] by its range over the training streams' targets
        # and windows (after the washout)
        log_g = np.log10(stream.conductance.astype(np.float64))
        train_part = log_g[:n_tr, first:]
        self.log_g_range = (float(train_part.min()), float(train_part.max()))
        lo, hi = self.log_g_range
        cond = (log_g - lo) / max(hi - lo, 1e-12)
        volts = stream.pad_voltages.astype(np.float64) / config.v_max
        n_fp = len(config.feature_pads)

        def imgs(a: NDArray[Any]) -> NDArray[Any]:
            return a.reshape(a.shape[0], a.shape[1], IMAGE_SIDE, IMAGE_SIDE)

        self.cond = imgs(cond)
        self.feature_v = [imgs(volts[:, :, i]) for i in range(n_fp)]
        self.exclusion_v = imgs(volts[:, :, n_fp])
        self.pixels = imgs(images.astype(np.float64))
        self.splits = {
            "train": list(range(n_tr)),
            "test": list(range(n_tr, config.n_streams)),
        }

    def order(self, split: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(stream, target) of every window of a split, interleaved in time."""
        streams = np.asarray(self.splits[split])
        s = np.repeat(streams[None, :], self.targets.size, axis=0).ravel()
        t = np.repeat(self.targets, streams.size)
        return s, t

    def targets_of(self, split: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        s, t = self.order(split)
        return self.pixels[s, t].reshape(t.size, -1), t % len(self.config.sequence)

    def features(self, job: _Job, split: str) -> NDArray[np.float64]:
        s, t = self.order(split)
        w = job.window
        cols = []

        def win(channel: NDArray[Any]) -> NDArray[Any]:
            out = np.empty((t.size, IMAGE_SIDE, IMAGE_SIDE * max(w - 1, 1)))
            for stream in np.unique(s):
                rows = s == stream
                out[rows] = window_images(channel[stream], t[rows], w)
            return out

        if job.kind == "input":
            return win(self.pixels).reshape(t.size, -1)
        for v in self.feature_v:
            cols.append(win(v))
        cond = win(self.cond)
        if job.kind in ("exclusion", "voltage"):
            cond = replace_columns(cond, win(self.exclusion_v), job.columns)
        elif job.kind == "shuffled":
            cond = self._shuffle(cond, t, split)
        cols.append(cond)
        return np.concatenate([c.reshape(t.size, -1) for c in cols], axis=1)

    def _shuffle(
        self, cond: NDArray[Any], t: NDArray[np.int64], split: str
    ) -> NDArray[Any]:
        # a permutation among the windows whose targets share a sequence position:
        # the classes of every digit in the window stay, the instances change
        rng = np.random.default_rng([self.config.seed, 1 if split == "test" else 0])
        period = len(self.config.sequence)
        out = np.empty_like(cond)
        pos = t % period
        for p in range(period):
            rows = np.flatnonzero(pos == p)
            out[rows] = cond[rng.permutation(rows)]
        return out


def _fit_and_score(
    job: _Job,
    channels: _Channels,
    config: SequenceConfig,
    example_rows: NDArray[np.int64],
) -> tuple[dict[str, Any], NDArray[np.float32]]:
    """Train one reconstructor along the training windows; score the test windows."""
    from nwnrc.analysis._ssim import ssim_batch
    from nwnrc.learn import RLSRegressor

    x_train = channels.features(job, "train")
    y_train, _ = channels.targets_of("train")
    x_test = channels.features(job, "test")
    y_test, pos_test = channels.targets_of("test")
    side = (IMAGE_SIDE, IMAGE_SIDE)
    truth = y_test.reshape(-1, *side)

    def score() -> NDArray[np.float64]:
        pred = model.predict(x_test).reshape(-1, *side)
        return ssim_batch(truth, pred, win_size=config.ssim_win_size)

    model = RLSRegressor(
        delta=config.rls_delta * max(job.window - 1, 1),
        forgetting=config.rls_forgetting,
        fit_intercept=True,
    )
    curve_n, curve_ssim = [], []
    n = x_train.shape[0]
    for lo in range(0, n, config.update_windows):
        hi = min(n, lo + config.update_windows)
        model.partial_fit(x_train[lo:hi], y_train[lo:hi])
        if job.kind == "main" or hi == n:
            curve_n.append(hi)
            curve_ssim.append(_position_mean(score(), pos_test) if hi < n else np.nan)
    pred = model.predict(x_test)
    values = ssim_batch(truth, pred.reshape(-1, *side), win_size=config.ssim_win_size)
    if curve_ssim:
        curve_ssim[-1] = _position_mean(values, pos_test)
    result = {
        "job": job.name,
        "window": job.window,
        "kind": job.kind,
        "columns_replaced": job.columns,
        "n_features": int(x_train.shape[1]),
        "n_train_windows": int(n),
        "ssim": [float(v) for v in values],
        "positions": [int(p) for p in pos_test],
        "learning_curve": {"windows": curve_n, "ssim_mean": curve_ssim},
    }
    return result, pred[example_rows].astype(np.float32)


# ----------------------------------------------------------------------- summary
def _by_position(
    values: NDArray[np.float64], positions: NDArray[np.int64], keys: list[str]
) -> tuple[dict[str, float], dict[str, float]]:
    mean, sem = {}, {}
    for p, key in enumerate(keys):
        v = values[positions == p]
        mean[key] = float(v.mean())
        sem[key] = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else 0.0
    return mean, sem


def _position_mean(values: NDArray[np.float64], positions: NDArray[np.int64]) -> float:
    """Mean over sequence positions of the mean over each position's windows."""
    return float(np.mean([values[positions == p].mean() for p in np.unique(positions)]))


def _by_class(
    values: NDArray[np.float64], positions: NDArray[np.int64], sequence: str
) -> dict[str, float]:
    digit_of = np.array([int(c) for c in sequence])[positions]
    return {c: float(values[digit_of == int(c)].mean()) for c in sorted(set(sequence))}


def _ranking(scores: dict[str, float]) -> list[str]:
    """Keys sorted from the highest score to the lowest."""
    return sorted(scores, key=lambda k: -scores[k])


def _summarise(
    config: SequenceConfig,
    results: dict[str, dict[str, Any]],
    class_mean_ssim: NDArray[np.float64],
    test_positions: NDArray[np.int64],
) -> dict[str, Any]:
    keys = config.digit_keys()

    def arr(name: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        r = results[name]
        return np.asarray(r["ssim"]), np.asarray(r["positions"])

    metrics: dict[str, Any] = {
        "ssim": {},
        "ssim_sem": {},
        "ssim_mean": {},
        "ssim_by_class": {},
    }
    for w in config.windows:
        v, p = arr(f"main-L{w}")
        mean, sem = _by_position(v, p, keys)
        metrics["ssim"][str(w)] = mean
        metrics["ssim_sem"][str(w)] = sem
        metrics["ssim_mean"][str(w)] = _position_mean(v, p)
        metrics["ssim_by_class"][str(w)] = _by_class(v, p, config.sequence)
    steps: dict[str, dict[str, dict[str, float]]] = {}
    for w in config.windows[:-1]:
        v0, p = arr(f"main-L{w}")
        v1, _ = arr(f"main-L{w + 1}")
        diff = v1 - v0  # the same test windows at both lengths: a paired difference
        steps[f"{w}->{w + 1}"] = {
            key: {
                "gain": float(diff[p == k].mean()),
                "sem": float(diff[p == k].std(ddof=1) / math.sqrt(np.sum(p == k)))
                if np.sum(p == k) > 1
                else 0.0,
            }
            for k, key in enumerate(keys)
        }
    metrics["ssim_steps"] = steps
    means = np.array([metrics["ssim_mean"][str(w)] for w in config.windows])
    gain = means.max() - means[0]
    reached = [
        w
        for w, m in zip(config.windows, means, strict=True)
        if m >= means[0] + 0.9 * gain
    ]
    metrics["findings"] = {
        "saturation_window": int(reached[0]) if gain > 0 else int(config.windows[0]),
        "saturation_rule": "smallest L whose mean SSIM reaches 90 % of the gain from "
        "the shortest window to the best one",
        "class_ranking": {
            str(w): _ranking(metrics["ssim_by_class"][str(w)]) for w in config.windows
        },
    }
    metrics["ssim_note"] = (
        "SSIM of the reconstruction (clipped to [0, 1]) against the target digit, "
        f"data_range 1, uniform {config.ssim_win_size}x{config.ssim_win_size} "
        "window; keyed by window length L, then by 'position:digit' in the sequence; "
        "mean over the held-out windows (ssim_sem: standard error of that mean); "
        "ssim_mean and every other *_mean: the mean of the positions' means"
    )
    v, p = arr("own-L1")
    metrics["ssim_own_features"] = {
        "ssim_mean": _position_mean(v, p),
        "ssim": _by_position(v, p, keys)[0],
        "note": "reference: the target reconstructed from its own readouts",
    }

    lx = config.exclusion_window
    ex_names = [f"main-L{lx}"]
    ex_names += [f"exclusion-L{lx}-c{c:03d}" for c in config.exclusion_columns()[1:-1]]
    ex_names.append(f"voltage-L{lx}")
    metrics["exclusion"] = {
        "window": lx,
        "columns": config.exclusion_columns(),
        "ssim": [_position_mean(*arr(n)) for n in ex_names],
        "ssim_by_digit": {
            key: [_by_position(*arr(n), keys)[0][key] for n in ex_names] for key in keys
        },
        "replacement_pad": config.exclusion_pad,
        "note": f"the first n of the {IMAGE_SIDE * (lx - 1)} conductance columns "
        f"(first following digit first) replaced by the voltage columns of pad "
        f"{config.exclusion_pad}",
    }

    control: dict[str, Any] = {"windows": list(config.control_windows)}
    for label, prefix in (
        ("with_conductance", "main"),
        ("voltage_only", "voltage"),
        ("shuffled_conductance", "shuffled"),
        ("input_only", "input"),
    ):
        control[label] = {
            "ssim_mean": {
                str(w): _position_mean(*arr(f"{prefix}-L{w}"))
                for w in config.control_windows
            },
            "ssim": {
                str(w): _by_position(*arr(f"{prefix}-L{w}"), keys)[0]
                for w in config.control_windows
            },
        }
    cm_mean, _ = _by_position(class_mean_ssim, test_positions, keys)
    control["class_mean"] = {
        "ssim_mean": _position_mean(class_mean_ssim, test_positions),
        "ssim": cm_mean,
    }
    pads = "+".join(str(p) for p in config.feature_pads)
    control["note"] = (
        f"with_conductance: pad {pads} voltages and conductance (the main features); "
        f"voltage_only: pads {pads} and {config.exclusion_pad}, no conductance; "
        "shuffled_conductance: conductance windows permuted among windows of the same "
        "sequence position (context kept, instance trace destroyed); input_only: the "
        "input pixels of the following digits (context, no device); class_mean: the "
        "mean training image of the target's class (perfect context, no memory)"
    )
    metrics["control"] = control
    return metrics


# ----------------------------------------------------------------------- run
def run_sequence(
    config: SequenceConfig,
    out_dir: str | Path,
    *,
    data_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFactory | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Run the sequence-memory experiment end to end; write ``out_dir/metrics.json``.

    Parameters
    ----------
    config : SequenceConfig
    out_dir : path
        Run folder. A run interrupted in the same folder with the same configuration
        resumes where it stopped; a different configuration is refused.
    data_path, cache_dir : path, optional
        Passed to :func:`nwnrc.data.load_mnist`.
    progress : callable, optional
        A ``tqdm``-like factory for progress bars; silent by default.
    figures : bool
        Write the figures beside metrics.json.

    Returns
    -------
    dict
        The metrics, as written to metrics.json.

    Raises
    ------
    ConfigError
        If ``out_dir`` holds a run of another configuration, or a split lacks digits.

    Notes
    -----
    Limitations: the streams are independent runs of one simulated network, not one
    stream cut into pieces, so the training windows come from ``train_streams``
    separate histories. The RLS reconstructor keeps a square matrix of the feature
    count (``(len(feature_pads) + 1) * 784 * (L - 1)``, 10,976 at L = 8 with one
    feature pad: about 1 GB in float64); the work per window grows with its square.
    """
    from nwnrc.analysis._ssim import ssim_batch
    from nwnrc.data import load_mnist

    progress = progress or no_progress
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / "config.json"
    if stamp.exists() and json.loads(stamp.read_text()) != config.to_dict():
        raise ConfigError(
            f"{out} holds a run with a different configuration; use another --out "
            "folder or delete it"
        )
    write_json(stamp, config.to_dict())
    t_start = time.perf_counter()

    mnist = load_mnist(cache_dir=cache_dir, path=data_path)
    logger.info("MNIST from %s", mnist.source)
    index = draw_sequence_digits(config, mnist.train_labels, mnist.test_labels)
    n_tr = config.train_streams
    images = np.concatenate(
        [mnist.train_images[index[:n_tr]], mnist.test_images[index[n_tr:]]]
    ).astype(np.float32)
    logger.info(
        "sequence %s: %d streams x %d repetitions, seed %d",
        config.sequence,
        config.n_streams,
        config.repeats,
        config.seed,
    )

    # 1. the device stream
    device = build_device(config)
    stream = stream_sequence(config, out, images, progress, device=device)
    t_stream = time.perf_counter() - t_start
    dynamic, memory, relax_record = _memory_measurements(config, stream, images, device)

    # 2. the reconstructors
    channels = _Channels(config, stream, images)
    y_test, pos_test = channels.targets_of("test")
    y_train, pos_train = channels.targets_of("train")
    class_means = np.stack(
        [y_train[pos_train == p].mean(axis=0) for p in range(len(config.sequence))]
    )
    class_mean_ssim = ssim_batch(
        y_test.reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
        class_means[pos_test].reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
        win_size=config.ssim_win_size,
    )
    # examples: the first repetitions of the first test stream (test windows of
    # several streams are interleaved in time)
    s_test, _ = channels.order("test")
    example_rows = np.flatnonzero(s_test == n_tr)[
        : config.examples * len(config.sequence)
    ]

    results: dict[str, dict[str, Any]] = {}
    examples: dict[str, NDArray[np.float32]] = {}
    jobs = _jobs(config)
    t0 = time.perf_counter()
    with progress(total=len(jobs), desc="reconstructors", unit="fit") as bar:
        for job in jobs:
            path = out / "readouts" / f"{job.name}.json"
            npz = path.with_suffix(".npz")
            if path.exists() and npz.exists():
                results[job.name] = json.loads(path.read_text())
                with np.load(npz) as z:
                    examples[job.name] = z["examples"]
                bar.update(1)
                continue
            bar.set_postfix_str(job.name)
            res, ex = _fit_and_score(job, channels, config, example_rows)
            write_npz(npz, examples=ex)
            write_json(path, res)
            results[job.name] = res
            examples[job.name] = ex
            bar.update(1)
    t_readouts = time.perf_counter() - t0

    metrics = _summarise(config, results, class_mean_ssim, pos_test)
    metrics["conductance_dynamic_range"] = dynamic
    metrics["memory"] = memory
    metrics["conductance_log10_range_for_features"] = list(channels.log_g_range)
    metrics["learning_curve"] = {
        str(w): results[f"main-L{w}"]["learning_curve"] for w in config.windows
    }
    metrics["n_windows"] = {
        "train": int(y_train.shape[0]),
        "test": int(y_test.shape[0]),
        "test_per_position": int(np.sum(pos_test == 0)),
    }
    metrics["config"] = config.to_dict()
    metrics["data_source"] = mnist.source
    write_json(out / "metrics.json", metrics)
    write_json(
        out / "timing.json",
        {
            "stream_s": round(t_stream, 1),
            "readouts_s": round(t_readouts, 1),
            "total_s": round(time.perf_counter() - t_start, 1),
        },
    )

    # figure data: kept small, beside metrics.json
    s_ex = n_tr  # the first test stream
    reps = min(3, config.repeats - config.washout_repeats)
    first = config.washout_repeats * len(config.sequence)
    span = slice(first, first + reps * len(config.sequence))
    ex_targets = y_test[example_rows].astype(np.float32)
    write_npz(
        out / "figure-data.npz",
        conductance_stream0=stream.conductance[0].ravel(),
        iv_volts=stream.volts[s_ex, span].ravel(),
        iv_current=stream.source_current[s_ex, span].ravel(),
        iv_conductance=stream.conductance[s_ex, span].ravel(),
        example_targets=ex_targets,
        example_positions=pos_test[example_rows],
        example_windows=np.array(config.windows),
        example_reconstructions=np.stack(
            [examples[f"main-L{w}"] for w in config.windows]
        ),
        **relax_record,
    )
    if figures:
        from nwnrc.report._sequence_figures import write_sequence_figures

        write_sequence_figures(metrics, out)
    return metrics
