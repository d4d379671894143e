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

On a recording (:class:`nwnrc.recording.Recording`, ``run_sequence(...,
recording=path)``) the recorded readouts stand in for the device stream and steps 2-5
run unchanged; :func:`sequence_recording` turns a finished simulated run into such a
recording.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import write_json, write_npz
from nwnrc._progress import no_progress
from nwnrc.errors import ConfigError, DataError, DataWarning
from nwnrc.experiments._config import (
    DEVICE_FIELDS,
    ConfigDict,
    check_input_voltages,
    simulated_device,
)

if TYPE_CHECKING:
    from nwnrc.recording import Recording

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
        every test stream. A simulated run needs a test stream; ``test_streams = 0``
        describes a recording of one stream whose held-out windows lie in the same
        stream after its training part.
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
            "test_streams": 0,
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
                f"repeats={self.repeats} leaves {max(usable, 0)} target digits per "
                f"stream after a washout of {self.washout_repeats} repetitions and a "
                f"window of {self.max_window}; need at least {len(seq)} (one per "
                "position): "
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
        for name in ("source_pad", "drain_pad"):
            # -1: not known, for the driven pads of a recording
            if not -1 <= getattr(self, name) <= 15:
                raise ConfigError(
                    f"{name} must be a pad number in 0..15 (or -1 where a recording "
                    f"does not name it), got {getattr(self, name)}"
                )
        if self.source_pad == self.drain_pad != -1:
            raise ConfigError(
                f"source_pad and drain_pad must differ, both are {self.source_pad}: "
                "choose another drain_pad"
            )
        driven = {self.source_pad, self.drain_pad}
        for p in pads:
            if not (isinstance(p, int) and 0 <= p <= 15) or p in driven:
                raise ConfigError(
                    f"readout pad {p!r} must be a pad 0..15 other than the source "
                    f"({self.source_pad}) and the drain ({self.drain_pad})"
                )
        check_input_voltages(self.v_min, self.v_max)
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
    state : ndarray, shape (streams, junctions), or None
        Filament states after the last step, V s; None on a recording.
    """

    pad_voltages: NDArray[np.float32]
    source_current: NDArray[np.float32]
    conductance: NDArray[np.float32]
    volts: NDArray[np.float32]
    state: NDArray[np.float64] | None


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

    Notes
    -----
    The digits go to ``out_dir/stream/digits.npz`` beside the pieces, so that the
    finished run can be turned into a recording (:func:`sequence_recording`).
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
    if not (stream_dir / DIGITS_FILE).exists():
        write_npz(stream_dir / DIGITS_FILE, images=images.astype(np.float32))

    n_pieces = _n_pieces(config)
    flat = images.reshape(config.n_streams, config.digits_per_stream, -1)
    piece_digits = config.piece_repeats * len(config.sequence)

    def piece_path(k: int) -> Path:
        return _piece_path(stream_dir, k)

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
    return _load_stream(config, stream_dir, images)


DIGITS_FILE = "digits.npz"


def _n_pieces(config: SequenceConfig) -> int:
    piece_digits = config.piece_repeats * len(config.sequence)
    return -(-config.digits_per_stream // piece_digits)


def _piece_path(stream_dir: Path, k: int) -> Path:
    return stream_dir / f"piece-{k:05d}.npz"


def _load_stream(
    config: SequenceConfig, stream_dir: Path, images: NDArray[np.float32]
) -> SequenceStream:
    """The finished stream of a run folder, laid out per digit."""
    from nwnrc.data import encode_images

    pads, current, cond = [], [], []
    n_pieces = _n_pieces(config)
    for k in range(n_pieces):
        with np.load(_piece_path(stream_dir, k)) as z:
            pads.append(z["pad_voltages"])
            current.append(z["source_current"])
            cond.append(z["conductance"])
            if k == n_pieces - 1:
                final = z["state"]
    s, d = config.n_streams, config.digits_per_stream
    flat = images.reshape(s, d, -1)
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


#: Measurements that probe the simulated device itself (its conductance with no
#: filament and with every junction formed, its final filament states, the relaxation
#: once the input stops, its junction model): skipped on a recording.
DEVICE_PROBES = (
    "conductance_dynamic_range.g_pristine_s",
    "conductance_dynamic_range.g_all_formed_s",
    "conductance_dynamic_range.steady_state_max_fraction_of_scale",
    "conductance_dynamic_range.final_fraction_junctions_formed",
    "conductance_dynamic_range.final_fraction_junctions_at_lambda_max",
    "memory.junction_forgetting_time_s",
    "memory.relaxation",
)


def _memory_measurements(
    config: SequenceConfig,
    stream: SequenceStream,
    images: NDArray[np.float32],
    layout: _Layout,
    device: Any = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, NDArray[Any]]]:
    """Dynamic range, saturation and memory of the conductance; relaxation record.

    Measured on the training part of the stream (the training streams; on a
    one-stream recording, its digits before the held-out part). Without a
    ``device`` (a recording) the :data:`DEVICE_PROBES` are left out.
    """
    from nwnrc.device import JunctionParams

    train = list(layout.train_streams)
    first = config.washout_repeats * len(config.sequence)
    log_g = np.log10(stream.conductance[train, : layout.train_end].astype(np.float64))
    steady = log_g[:, first:]

    if device is not None:
        # the two ends of the conductance scale: no filament anywhere, every one
        # formed
        junction = JunctionParams.preset(config.junction)
        probe = np.zeros((2, 1))
        ends = np.zeros((2, device.n_junctions))
        ends[1] = junction.lambda_max
        g_ends = device.run(probe, ends).conductance[:, 0]
        g_off, g_formed = float(g_ends[0]), float(g_ends[1])

        # relaxation: the first training stream's final state, no input
        n_relax = round(config.relax_s / config.dt)
        assert stream.state is not None  # a simulated stream ends in a state
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
    dynamic: dict[str, Any] = {
        "g_min_s": float(10 ** log_g.min()),
        "g_max_s": float(10 ** log_g.max()),
        "whole_stream_decades": float(log_g.max() - log_g.min()),
        "steady_state_decades": float(steady.max() - steady.min()),
        "steady_state_p1_p99_decades": float(
            np.percentile(steady, 99) - np.percentile(steady, 1)
        ),
        "within_digit_median_decades": float(np.median(within)),
    }
    if device is not None and stream.state is not None:
        state = stream.state[train]
        dynamic |= {
            "g_pristine_s": g_off,
            "g_all_formed_s": g_formed,
            "steady_state_max_fraction_of_scale": float(
                (steady.max() - math.log10(g_off)) / math.log10(g_formed / g_off)
            ),
            "final_fraction_junctions_formed": float(
                np.mean(np.abs(state) >= junction.lambda_crit)
            ),
            "final_fraction_junctions_at_lambda_max": float(
                np.mean(np.abs(state) >= junction.lambda_max * (1 - 1e-9))
            ),
        }
    dynamic["note"] = (
        "training streams (on a one-stream recording: its digits before the "
        "held-out part); steady state = after the washout repetitions; scale = "
        "pristine network (no filament) to every junction formed (lambda = "
        "lambda_max), simulated runs only"
    )
    period = len(config.sequence)
    ink = images[train, : layout.train_end].reshape(len(train), -1, STEPS_PER_DIGIT)
    ink = ink.mean(axis=2)
    start_row = log_g[:, :, :IMAGE_SIDE].mean(axis=2)
    digit_mean = log_g.mean(axis=2)
    memory: dict[str, Any] = {}
    if device is not None:
        memory["junction_forgetting_time_s"] = junction.forgetting_time_s
    memory |= {
        "lags": list(range(5)),
        "ink_corr_first_row_log10_g": ink_lag_correlation(
            ink.astype(np.float64), start_row, period, first
        ),
        "ink_corr_digit_mean_log10_g": ink_lag_correlation(
            ink.astype(np.float64), digit_mean, period, first
        ),
    }
    relax_record: dict[str, NDArray[Any]] = {}
    if device is not None:
        memory["relaxation"] = {
            "t_s": sample_t,
            "log10_g": [float(log_relax[round(t / config.dt) - 1]) for t in sample_t],
            "log10_g_at_stop": g0,
            "one_decade_s": float(t_relax[below[0]]) if below.size else None,
            "to_pristine_s": float(t_relax[to_off[0]]) if to_off.size else None,
        }
        relax_record = {"relax_t_s": t_relax[::10], "relax_log10_g": log_relax[::10]}
    memory["note"] = (
        "ink_corr_*: correlation across repetitions, at a fixed sequence "
        "position, between the mean pixel value of digit k and log10 G of digit "
        "k + lag (its first pixel row, or its whole 784 steps); mean over positions. "
        "relaxation (simulated runs only): the first training stream's final state "
        "with 0 V input."
    )
    return dynamic, memory, relax_record


# ----------------------------------------------------------------------- readouts
@dataclass(frozen=True)
class _Layout:
    """Which windows train the reconstructors and which score them.

    ``train_targets`` and ``test_targets`` are the digit indices (within a stream) of
    the windows' targets, the same in every stream of the split; the training digits
    of a training stream are those before ``train_end``.
    """

    n_streams: int
    digits_per_stream: int
    train_streams: tuple[int, ...]
    test_streams: tuple[int, ...]
    train_targets: NDArray[np.int64]
    test_targets: NDArray[np.int64]
    train_end: int
    held_out_from: int | None = None

    @classmethod
    def of_streams(cls, config: SequenceConfig) -> _Layout:
        """Whole streams: the first ``train_streams`` train, the others score."""
        first = config.washout_repeats * len(config.sequence)
        targets = np.arange(first, first + config.targets_per_stream)
        return cls(
            n_streams=config.n_streams,
            digits_per_stream=config.digits_per_stream,
            train_streams=tuple(range(config.train_streams)),
            test_streams=tuple(range(config.train_streams, config.n_streams)),
            train_targets=targets,
            test_targets=targets,
            train_end=config.digits_per_stream,
        )

    @classmethod
    def within_stream(cls, config: SequenceConfig, held_out_from: int) -> _Layout:
        """One stream cut at digit ``held_out_from``; windows never straddle it."""
        first = config.washout_repeats * len(config.sequence)
        reach = config.max_window - 1
        d = config.digits_per_stream
        return cls(
            n_streams=1,
            digits_per_stream=d,
            train_streams=(0,),
            test_streams=(0,),
            train_targets=np.arange(first, max(first, held_out_from - reach)),
            test_targets=np.arange(held_out_from, max(held_out_from, d - reach)),
            train_end=held_out_from,
            held_out_from=held_out_from,
        )

    def order(self, split: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(stream, target) of every window of a split, interleaved in time."""
        if split == "train":
            streams, targets = self.train_streams, self.train_targets
        else:
            streams, targets = self.test_streams, self.test_targets
        s = np.tile(np.asarray(streams, dtype=np.int64), targets.size)
        t = np.repeat(targets, len(streams))
        return s, t

    def describe(self) -> dict[str, Any]:
        """The split, for metrics.json."""
        if self.held_out_from is None:
            rule = (
                "whole streams: the reconstructors learn from the training streams "
                "and are scored on the held-out streams"
            )
        else:
            rule = (
                "one stream: training windows lie wholly before digit "
                f"{self.held_out_from} (the recording's n_train), held-out windows "
                "wholly from it on; windows that would straddle it are not used"
            )
        return {
            "streams": self.n_streams,
            "digits_per_stream": self.digits_per_stream,
            "train_streams": list(self.train_streams),
            "test_streams": list(self.test_streams),
            "held_out_from_digit": self.held_out_from,
            "train_targets": [int(self.train_targets[0]), int(self.train_targets[-1])],
            "test_targets": [int(self.test_targets[0]), int(self.test_targets[-1])],
            "rule": rule,
        }


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
        layout: _Layout | None = None,
    ) -> None:
        self.config = config
        self.layout = layout = layout or _Layout.of_streams(config)
        self.targets = layout.train_targets
        first = config.washout_repeats * len(config.sequence)

        # log10 G scaled to [0, 1] by its range over the training streams' targets
        # and windows (after the washout)
        log_g = np.log10(stream.conductance.astype(np.float64))
        train_part = log_g[list(layout.train_streams), first : layout.train_end]
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

    def order(self, split: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(stream, target) of every window of a split, interleaved in time."""
        return self.layout.order(split)

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


# ----------------------------------------------------------------------- recordings
#: Where a recording has the source current but no conductance, G = I / V is defined
#: at the steps whose input is at least this fraction of the encoding's full-scale
#: voltage (``max(|v_min|, |v_max|)``); elsewhere G holds its last defined value.
G_MIN_INPUT_FRACTION = 0.01

#: Share of undefined conductance steps above which a DataWarning is issued.
G_CARRIED_WARN_FRACTION = 0.5


def conductance_from_current(
    current: NDArray[Any], volts: NDArray[Any], min_volts: float
) -> tuple[NDArray[np.float64], int]:
    """Network conductance ``G = I / V`` of streams whose input is sometimes ~0 V.

    Parameters
    ----------
    current, volts : ndarray, shape (streams, steps)
        Current into the source pad (A) and the voltage on it (V), each stream in
        time order.
    min_volts : float
        ``I / V`` is taken where ``|V| >= min_volts``. At the other steps G is
        undefined (measured current noise over a vanishing voltage); it holds the
        last defined value of its stream, and the steps before the first defined
        one take that first value.

    Returns
    -------
    conductance : ndarray, shape (streams, steps), float64
        G, S.
    n_carried : int
        Steps whose G was carried from another step.

    Raises
    ------
    DataError
        If a stream has no step with ``|V| >= min_volts``.

    Notes
    -----
    Carrying G over a stretch of ~0 V input treats the network as unchanged there.
    In the junction model a filament decays at 0 V (by ``b V_reset`` V s per second,
    0.01 V s/s for ``slow_decay``: 1 % of ``lambda_max`` over a 100 ms stretch), so
    the carried value slightly over-states G over long dark stretches.

    Examples
    --------
    >>> import numpy as np
    >>> g, n = conductance_from_current(
    ...     np.array([[0.0, 2e-6, 0.0, 0.0, 6e-6]]),
    ...     np.array([[0.0, 1.0, 0.0, 0.0, 2.0]]),
    ...     min_volts=0.01,
    ... )
    >>> g.tolist(), n
    ([[2e-06, 2e-06, 2e-06, 2e-06, 3e-06]], 3)
    """
    i = np.asarray(current, dtype=np.float64)
    v = np.asarray(volts, dtype=np.float64)
    if i.shape != v.shape or i.ndim != 2:
        raise DataError(
            f"current {i.shape} and volts {v.shape} must both have shape "
            "(streams, steps)"
        )
    defined = np.abs(v) >= min_volts
    steps = np.arange(v.shape[1])
    out = np.empty_like(v)
    for s in range(v.shape[0]):
        ok = np.flatnonzero(defined[s])
        if ok.size == 0:
            raise DataError(
                f"stream {s} has no step with |input| >= {min_volts:g} V, where "
                "source current / input defines the conductance; record the "
                "conductance, or encode with a v_min away from 0 V"
            )
        last = np.maximum.accumulate(np.where(defined[s], steps, -1))
        last[last < 0] = ok[0]
        out[s] = i[s, last] / v[s, last]
    return out, int(np.sum(~defined))


@dataclass(frozen=True)
class _Source:
    """A recording read for the sequence task: the stream and how to split it."""

    config: SequenceConfig
    stream: SequenceStream
    images: NDArray[np.float32]
    layout: _Layout
    info: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _validated(rec: Recording) -> None:
    """Refuse what would give wrong results; warn of suspect data."""
    from nwnrc import recording as recording_module

    validate = getattr(recording_module, "validate_recording", None)
    if validate is None:
        recording_module.check_recording(rec)
        return
    validate(rec).raise_errors()


def _recording_source(config: SequenceConfig, path: str | Path) -> _Source:
    """Read a recording as the device stream of the sequence task (see run_sequence)."""
    from nwnrc.recording import read_recording

    path = Path(path)
    rec = read_recording(path)
    _validated(rec)
    seq = config.sequence
    period = len(seq)
    n = rec.n_samples
    if rec.n_steps != STEPS_PER_DIGIT:
        raise DataError(
            f"the sequence task needs samples of {STEPS_PER_DIGIT} steps (one per "
            f"pixel of a 28 x 28 digit); {path} has {rec.n_steps} steps per sample"
        )

    # streams: equal lengths of whole repetitions
    ids = rec.stream if rec.stream is not None else np.zeros(n, dtype=np.int32)
    counts = np.bincount(ids)
    if np.any(counts == 0):
        raise DataError(
            f"{path} numbers its streams with gaps (no sample in stream "
            f"{int(np.flatnonzero(counts == 0)[0])}); number them 0, 1, 2, ..."
        )
    n_streams = counts.size
    d = int(counts[0])
    if np.any(counts != d):
        raise DataError(
            f"the streams of {path} differ in length ({counts.tolist()} digits); "
            "the sequence task needs streams of equal length: cut them to a common "
            f"length of whole repetitions of {seq!r}"
        )
    if d % period:
        raise DataError(
            f"each stream of {path} holds {d} digits, not a whole number of "
            f"repetitions of the {period}-digit sequence {seq!r}; cut every stream "
            f"to {d - d % period} digits (or record whole repetitions)"
        )

    # labels: the sequence repeated from the start of every stream
    expected = np.tile(np.asarray(config.digits, dtype=np.int64), n // period)
    bad = np.flatnonzero(rec.labels != expected)
    if bad.size:
        k = int(bad[0])
        j = k - int(ids[k]) * d
        raise DataError(
            f"sample {k} (stream {int(ids[k])}, digit {j}) is labelled "
            f"{int(rec.labels[k])} where the sequence {seq!r} repeated from the "
            f"start of its stream has {int(expected[k])} (position {j % period}); "
            "give --sequence as recorded, or fix the labels"
        )

    # readout pads
    wanted = (*config.feature_pads, config.exclusion_pad)
    for pad in wanted:
        if pad not in rec.pad_numbers:
            role = "exclusion pad" if pad == config.exclusion_pad else "feature pad"
            raise DataError(
                f"{role} {pad} is not in {path}, whose readout pads are "
                f"{list(rec.pad_numbers)}; choose --feature-pads and --exclusion-pad "
                "among them"
            )
    channels = [rec.pad_numbers.index(p) for p in wanted]

    # the split: whole streams, or one stream cut at n_train
    n_train = rec.n_train
    if not 0 < n_train < n:
        raise DataError(
            f"{path} has n_train = {n_train} of {n} samples: the sequence task needs "
            "training digits and held-out digits; set n_train on import"
        )
    if n_streams > 1:
        if n_train % d:
            s = n_train // d
            raise DataError(
                f"n_train = {n_train} falls inside stream {s} (samples {s * d}.."
                f"{(s + 1) * d - 1}) of {path}; with several streams the training "
                f"streams must be whole: set n_train to {s * d} or {(s + 1) * d}"
            )
        n_tr, n_te = n_train // d, n_streams - n_train // d
    else:
        n_tr, n_te = 1, 0

    v_min, v_max = rec.v_min, rec.v_max
    if not (math.isfinite(v_min) and math.isfinite(v_max)):
        v_min, v_max = float(rec.input.min()), float(rec.input.max())
    derived: dict[str, Any] = {
        "repeats": d // period,
        "train_streams": n_tr,
        "test_streams": n_te,
        "v_min": float(v_min),
        "v_max": float(v_max),
        "dt": float(rec.dt_s),
        "source_pad": rec.source_pad,
        "drain_pad": rec.drain_pads[0] if rec.drain_pads else -1,
    }
    changed = {
        k: v for k, v in derived.items() if getattr(config, k) != v
    }  # the stream's own settings replace the configured ones
    if changed:
        logger.info("settings taken from the recording: %s", changed)
    config = replace(config, **derived)
    if n_streams > 1:
        layout = _Layout.of_streams(config)
    else:
        layout = _Layout.within_stream(config, n_train)
    for name, targets in (
        ("training", layout.train_targets),
        ("held-out", layout.test_targets),
    ):
        missing = sorted(set(range(period)) - set((targets % period).tolist()))
        if missing:
            raise DataError(
                f"the {name} part of the one stream in {path} (n_train = {n_train} "
                f"of {n} digits) has {targets.size} windows of {config.max_window} "
                f"digits after a washout of {config.washout_repeats} repetitions, "
                f"none at sequence position {missing[0]}; every position needs one: "
                "move n_train, or lower max_window or washout_repeats"
            )

    # the conductance: recorded, or source current over input
    volts = rec.input.reshape(n_streams, -1)
    g_note = "recorded"
    if rec.conductance is not None:
        g = rec.conductance.reshape(n_streams, -1).astype(np.float64)
    elif rec.source_current is not None:
        min_volts = G_MIN_INPUT_FRACTION * max(abs(v_min), abs(v_max))
        g, carried = conductance_from_current(
            rec.source_current.reshape(n_streams, -1), volts, min_volts
        )
        share = carried / volts.size
        g_note = (
            f"source current / input where |input| >= {min_volts:.4g} V; "
            f"{carried} steps ({share:.1%}) below it hold the last defined value"
        )
        if share > G_CARRIED_WARN_FRACTION:
            warnings.warn(
                f"{share:.0%} of the steps of {path} have |input| below "
                f"{min_volts:.4g} V, where source current / input does not define "
                "the conductance; G holds its last defined value over them. A v_min "
                "away from 0 V in the encoding, or a recorded conductance, defines G "
                "at every step",
                DataWarning,
                stacklevel=3,
            )
    else:
        raise DataError(
            f"the sequence task needs the network conductance: {path} has neither "
            "conductance nor source_current; record the current into the source pad"
        )
    bad_g = np.flatnonzero(~(np.isfinite(g) & (g > 0)))
    if bad_g.size:
        s, k = divmod(int(bad_g[0]), g.shape[1])
        sample, step = s * d + k // STEPS_PER_DIGIT, k % STEPS_PER_DIGIT
        raise DataError(
            f"conductance {g[s, k]:.4g} S at sample {sample}, step {step} of {path}: "
            "the features use log10 G, which needs G > 0 at every step; correct the "
            f"sign of the current or the conductance ({bad_g.size} such steps)"
        )
    current = rec.source_current if rec.source_current is not None else g * volts
    shape = (n_streams, d, STEPS_PER_DIGIT)
    stream = SequenceStream(
        pad_voltages=np.ascontiguousarray(
            rec.pads[:, channels].reshape(n_streams, d, len(wanted), STEPS_PER_DIGIT)
        ),
        source_current=np.asarray(current, dtype=np.float32).reshape(shape),
        conductance=g.astype(np.float32).reshape(shape),
        volts=rec.input.reshape(shape),
        state=None,
    )
    images = rec.input_values().reshape(n_streams, d, IMAGE_SIDE, IMAGE_SIDE)
    info = {
        "path": str(path),
        "sha256": _sha256(path),
        "kind": rec.kind,
        "samples": n,
        "streams": n_streams,
        "pads": list(rec.pad_numbers),
        "conductance": g_note,
        "targets": "stimulus" if rec.stimulus is not None else "input_values()",
        "device": rec.device,
        "instrument": rec.instrument,
    }
    logger.info(
        "recording %s (%s): %d streams x %d digits, pads %s",
        path,
        rec.kind,
        n_streams,
        d,
        list(rec.pad_numbers),
    )
    return _Source(config, stream, images.astype(np.float32), layout, info)


def sequence_recording(run_dir: str | Path) -> Recording:
    """A finished simulated sequence run as a recording.

    Parameters
    ----------
    run_dir : path
        The run folder of :func:`run_sequence` (its ``config.json`` and finished
        ``stream/``).

    Returns
    -------
    Recording
        Every digit of every stream in stream order (stream 0 first; ``stream``
        holds the stream of each sample): the voltages of the feature pads and the
        exclusion pad (``pad_numbers``), the encoded input voltages, the digit pixels
        as ``stimulus``, the digit classes as ``labels``, the source current and the
        network conductance; ``n_train`` counts the digits of the training streams;
        ``kind`` is ``"simulated"`` and ``config`` the run's configuration.

    Raises
    ------
    DataError
        If ``run_dir`` is not a sequence run, ran on a recording, or its stream is
        unfinished or lacks its digits.

    Examples
    --------
    >>> from nwnrc.recording import write_recording
    >>> rec = sequence_recording("runs/sequence")  # doctest: +SKIP
    >>> write_recording("sequence.h5", rec)  # doctest: +SKIP
    """
    from nwnrc.recording import Recording

    run = Path(run_dir)
    stamp = run / "config.json"
    try:
        data = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{run} is not a sequence run folder ({stamp} unreadable: {exc})"
        ) from None
    if not (isinstance(data, dict) and "sequence" in data):
        raise DataError(f"{stamp} is not the configuration of a sequence run")
    if (run / RECORDING_STAMP).exists():
        raise DataError(
            f"{run} ran on a recording and has no stream of its own; use the "
            "recording itself"
        )
    try:
        config = SequenceConfig.from_dict(data)
    except ConfigError as exc:
        raise DataError(
            f"{stamp} is not a valid sequence configuration: {exc}"
        ) from None
    stream_dir = run / "stream"
    missing = [
        _piece_path(stream_dir, k).name
        for k in range(_n_pieces(config))
        if not _piece_path(stream_dir, k).exists()
    ]
    if missing:
        raise DataError(
            f"the stream of {run} is unfinished ({len(missing)} of "
            f"{_n_pieces(config)} pieces missing, first {missing[0]}); rerun "
            "`nwnrc sequence` with the same --out to finish it"
        )
    stream_stamp = stream_dir / "stream-config.json"
    if json.loads(stream_stamp.read_text()) != config.stream_dict():
        raise DataError(f"{stream_stamp} does not match {stamp}; the folder is mixed")
    digits = stream_dir / DIGITS_FILE
    if not digits.exists():
        raise DataError(
            f"{run} lacks {digits.name} (the digits that were streamed); rerun "
            "`nwnrc sequence` with the same --out and --data to write it (the "
            "stream and the fits are reused)"
        )
    with np.load(digits) as z:
        images = z["images"]
    stream = _load_stream(config, stream_dir, images)

    n_s, d = config.n_streams, config.digits_per_stream
    total = n_s * d
    n_pads = len(config.feature_pads) + 1
    return Recording(
        pads=stream.pad_voltages.reshape(total, n_pads, STEPS_PER_DIGIT),
        input=stream.volts.reshape(total, STEPS_PER_DIGIT),
        labels=np.tile(np.asarray(config.digits, dtype=np.int64), n_s * config.repeats),
        dt_s=config.dt,
        pad_numbers=(*config.feature_pads, config.exclusion_pad),
        n_train=config.train_streams * d,
        source_pad=config.source_pad,
        drain_pads=(config.drain_pad,),
        kind="simulated",
        v_min=config.v_min,
        v_max=config.v_max,
        source_current=stream.source_current.reshape(total, STEPS_PER_DIGIT),
        conductance=stream.conductance.reshape(total, STEPS_PER_DIGIT),
        stimulus=images.reshape(total, STEPS_PER_DIGIT),
        stream=np.repeat(np.arange(n_s, dtype=np.int32), d),
        device={
            "model": "simulated nanowire network",
            "n_wires": config.n_wires,
            "network_seed": config.network_seed,
            "chip_size_um": config.chip_size_um,
            "junction": config.junction,
        },
        config=config.to_dict(),
    )


RECORDING_STAMP = "recording.json"


def recording_sequence_config(path: str | Path) -> dict[str, Any]:
    """The sequence settings a recording carries ({} if none).

    A recording exported from a sequence run (:func:`sequence_recording`) stores
    that run's :class:`SequenceConfig`; the ``sequence --recording`` command starts
    from it, so that the run on the recording repeats the simulated one unless told
    otherwise. Any other ``config`` (or an unreadable file, which
    :func:`run_sequence` then reports) gives {}.
    """
    from dataclasses import fields

    import h5py

    from nwnrc.recording import is_recording

    if not is_recording(path):
        return {}
    with h5py.File(path, "r") as f:
        raw = f.attrs.get("config")
    try:
        data = json.loads(raw) if raw is not None else {}
    except (TypeError, json.JSONDecodeError):
        return {}
    known = {f.name for f in fields(SequenceConfig)}
    if isinstance(data, dict) and "sequence" in data and set(data) <= known:
        return dict(data)
    return {}


def _stamp_run(
    out: Path,
    config: SequenceConfig,
    source: dict[str, Any] | None,
    *,
    write: bool = True,
) -> None:
    """Refuse a run folder of another configuration or data source; stamp it.

    With ``write=False`` only the refusal: a run stamps its folder once its device
    is built, so that a configuration that cannot make a device does not lock it.
    """
    stamp = out / "config.json"
    rec_stamp = out / RECORDING_STAMP
    if stamp.exists() and json.loads(stamp.read_text()) != config.to_dict():
        raise ConfigError(
            f"{out} holds a run with a different configuration; use another --out "
            "folder or delete it"
        )
    if source is None and rec_stamp.exists():
        raise ConfigError(
            f"{out} holds a run on a recording; use another --out folder for a "
            "simulated run"
        )
    if source is not None:
        if (out / "stream").exists():
            raise ConfigError(
                f"{out} holds a simulated run; use another --out folder for a run on "
                "a recording"
            )
        if rec_stamp.exists():
            before = json.loads(rec_stamp.read_text())
            if before.get("sha256") != source["sha256"]:
                raise ConfigError(
                    f"{out} holds a run on another recording ({before.get('path')}); "
                    "use another --out folder or delete it"
                )
    if not write:
        return
    out.mkdir(parents=True, exist_ok=True)
    if source is not None:
        write_json(rec_stamp, {"path": source["path"], "sha256": source["sha256"]})
    write_json(stamp, config.to_dict())


# ----------------------------------------------------------------------- run
def run_sequence(
    config: SequenceConfig,
    out_dir: str | Path,
    *,
    data_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFactory | None = None,
    figures: bool = True,
    recording: str | Path | None = None,
) -> dict[str, Any]:
    """Run the sequence-memory experiment end to end; write ``out_dir/metrics.json``.

    Parameters
    ----------
    config : SequenceConfig
    out_dir : path
        Run folder. A run interrupted in the same folder with the same configuration
        (and recording) resumes where it stopped; a different one is refused.
    data_path, cache_dir : path, optional
        Passed to :func:`nwnrc.data.load_mnist` (not used with ``recording``).
    progress : callable, optional
        A ``tqdm``-like factory for progress bars; silent by default.
    figures : bool
        Write the figures beside metrics.json.
    recording : path, optional
        An HDF5 recording (:mod:`nwnrc.recording`) whose readouts stand in for the
        simulated device stream (see Notes).

    Returns
    -------
    dict
        The metrics, as written to metrics.json.

    Raises
    ------
    ConfigError
        If ``out_dir`` holds a run of another configuration or data source, or a
        split lacks digits.
    DataError
        If the recording is broken or does not fit the task (see Notes).

    Notes
    -----
    On a recording, the readouts are read as follows (a :class:`DataError` names
    what does not fit):

    - Samples are digits of 784 steps. The ``stream`` ids give the streams (none:
      one stream); the streams must be of equal length, whole repetitions of
      ``config.sequence``, and the labels must follow the sequence repeated from
      the start of every stream.
    - Several streams: ``n_train`` must end a stream; the streams before it train,
      the others are held out, exactly as the lanes of a simulated run. One stream:
      the training windows are those whose ``max_window`` digits all lie before
      digit ``n_train`` (after the washout), the held-out windows those that start
      at ``n_train`` or later; the windows that would straddle ``n_train`` are not
      used, so no held-out digit enters a training window. Every sequence position
      needs a window in both parts.
    - ``feature_pads`` and ``exclusion_pad`` are looked up in ``pad_numbers``.
    - The conductance is the recorded one; else ``source_current / input`` where
      ``|input| >= G_MIN_INPUT_FRACTION * max(|v_min|, |v_max|)``, the last
      defined value held over the other steps (:func:`conductance_from_current`;
      a :class:`DataWarning` when that is most steps). It must be positive.
    - The targets are the ``stimulus`` where stored, else ``input_values()``.
    - ``repeats``, ``train_streams``, ``test_streams`` (0 for one stream),
      ``v_min``, ``v_max`` (the input's range where the recording gives none),
      ``dt``, ``source_pad`` and ``drain_pad`` (-1 where unknown) are taken from the
      recording; the network fields of ``config`` describe no recorded device and
      are not used.
    - The measurements that probe the simulated device itself
      (:data:`DEVICE_PROBES`: the ends of its conductance scale, its final filament
      states, its relaxation after the stream, its junction forgetting time) are
      skipped; ``metrics["device_probes"]`` lists them. Everything else (the
      reconstructors, exclusion, controls, conductance range and ink correlations)
      runs the same code on the same arrays, so a simulated run and the run on its
      exported recording (:func:`sequence_recording`) give identical metrics
      apart from those and the data source (``data_source``, ``recording``).

    Limitations: the simulated streams are independent runs of one simulated
    network, not one stream cut into pieces, so the training windows come from
    ``train_streams`` separate histories. The RLS reconstructor keeps a square
    matrix of the feature count (``(len(feature_pads) + 1) * 784 * (L - 1)``,
    10,976 at L = 8 with one feature pad: about 1 GB in float64); the work per
    window grows with its square. On a recording, streams of unequal length and a
    split inside one of several streams are refused rather than handled.
    """
    from nwnrc.analysis._ssim import ssim_batch

    progress = progress or no_progress
    out = Path(out_dir)
    t_start = time.perf_counter()
    device = None
    source: _Source | None = None
    if recording is None:
        if config.test_streams < 1:
            raise ConfigError(
                f"test_streams must be at least 1 for a simulated run (the held-out "
                f"streams), got {config.test_streams}"
            )
        _stamp_run(out, config, None, write=False)
        from nwnrc.data import load_mnist

        mnist = load_mnist(cache_dir=cache_dir, path=data_path)
        logger.info("MNIST from %s", mnist.source)
        data_source = mnist.source
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
        _stamp_run(out, config, None)
        stream = stream_sequence(config, out, images, progress, device=device)
        layout = _Layout.of_streams(config)
    else:
        # 1. the recorded stream
        source = _recording_source(config, recording)
        config, stream, images, layout = (
            source.config,
            source.stream,
            source.images,
            source.layout,
        )
        _stamp_run(out, config, source.info)
        data_source = f"recording {source.info['path']}"
    t_stream = time.perf_counter() - t_start
    dynamic, memory, relax_record = _memory_measurements(
        config, stream, images, layout, device
    )

    # 2. the reconstructors
    period = len(config.sequence)
    channels = _Channels(config, stream, images, layout)
    y_test, pos_test = channels.targets_of("test")
    y_train, pos_train = channels.targets_of("train")
    class_means = np.stack(
        [y_train[pos_train == p].mean(axis=0) for p in range(period)]
    )
    class_mean_ssim = ssim_batch(
        y_test.reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
        class_means[pos_test].reshape(-1, IMAGE_SIDE, IMAGE_SIDE),
        win_size=config.ssim_win_size,
    )
    # examples: the first repetitions of the first held-out stream from a first
    # sequence position on (test windows of several streams are interleaved in time)
    s_test, t_test = channels.order("test")
    s_ex = layout.test_streams[0]
    rows = np.flatnonzero(s_test == s_ex)
    starts = rows[t_test[rows] % period == 0]
    rows = rows[rows >= starts[0]]
    example_rows = rows[: config.examples * period]
    test_first = int(t_test[starts[0]])

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
    metrics["split"] = layout.describe()
    metrics["config"] = config.to_dict()
    metrics["data_source"] = data_source
    if source is not None:
        metrics["recording"] = source.info
        metrics["device_probes"] = {
            "skipped": list(DEVICE_PROBES),
            "reason": "they probe the simulated device itself (its conductance with "
            "no filament and with every junction formed, its final filament states, "
            "its relaxation once the input stops, its junction model); a recording "
            "holds only the readouts of the stream",
        }
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
    reps = min(3, (layout.digits_per_stream - test_first) // period)
    span = slice(test_first, test_first + reps * period)
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
