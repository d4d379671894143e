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

On a recording (``run_mnist(..., recording=path)``, ``nwnrc mnist --recording``), the
device stream is not run: the readouts, labels, training count and input stream of an
``nwnrc`` recording (a measured device, or an exported simulated run) stand in for
the simulated ones. The device stream is itself written as a recording
(``stream/features.h5``), and both routes go through one readout stage
(:func:`readout_data` and the learners), so a run and a run on its exported
recording give the same metrics.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import write_json
from nwnrc._progress import no_progress
from nwnrc.errors import ConfigError, DataError
from nwnrc.experiments._config import (
    DEVICE_FIELDS,
    ConfigDict,
    check_input_voltages,
    simulated_device,
)
from nwnrc.network._mea import N_PADS

if TYPE_CHECKING:
    from nwnrc.recording import Recording

logger = logging.getLogger(__name__)

STEPS_PER_DIGIT = 784
N_CLASSES = 10
#: File in a run folder that names the recording the run was made from.
RECORDING_STAMP = "recording.json"
#: Config fields that a recording's own config (an exported simulated run) supplies
#: to a run on it, besides the header's input encoding and time step.
RECORDING_FIELDS = (*DEVICE_FIELDS, "eval_split")


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
        check_input_voltages(self.v_min, self.v_max)
        if self.shuffles < 1:
            raise ConfigError(f"shuffles must be at least 1, got {self.shuffles}")
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise ConfigError(
                f"channels must be distinct pad numbers, got {self.channels}"
            )
        self._check_pads()
        bad = [m for m in self.methods if m not in ("online", "batch", "ridge")]
        if bad:
            raise ConfigError(
                f"methods must be among 'online', 'batch', 'ridge'; got {bad}"
            )

    def _check_pads(self) -> None:
        """Refuse pads off the array, a source equal to the drain, driven readouts."""
        last = N_PADS - 1
        for name in ("source_pad", "drain_pad"):
            pad = getattr(self, name)
            if not 0 <= pad <= last:
                raise ConfigError(
                    f"{name} must be a pad number in 0..{last}, got {pad}; pads "
                    "are numbered row-major from the top-left of the 4 x 4 array"
                )
        off = [p for p in self.channels if not 0 <= p <= last]
        if off:
            raise ConfigError(
                f"channels must be pad numbers in 0..{last}, got {list(self.channels)} "
                f"(pad(s) {off} are not on the 4 x 4 array); pads are numbered "
                "row-major from the top-left"
            )
        if self.source_pad == self.drain_pad:
            raise ConfigError(
                f"source_pad and drain_pad must differ, both are {self.source_pad}: "
                "choose another drain_pad"
            )
        driven = {self.source_pad: "source_pad", self.drain_pad: "drain_pad"}
        clash = [p for p in self.channels if p in driven]
        if clash:
            which = ", ".join(f"{p} ({driven[p]})" for p in clash)
            raise ConfigError(
                f"channels {list(self.channels)} include the driven pad(s) {which}, "
                "whose voltage the source or the drain sets, not the network: leave "
                "them out of channels"
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
    from nwnrc.data._store import FeatureStore, StreamHeader
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

    description = device.describe()

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
            current = piece.output.source_current.reshape(r, k, STEPS_PER_DIGIT)
            valid = piece.indices >= 0
            store.write_piece(
                piece.piece,
                piece.indices[valid],
                pads[valid].transpose(0, 2, 1),
                cond[valid],
                piece.output.state,
                input_volts=volts(piece.indices[valid]),
                source_current=current[valid],
            )
            bar.update(1)
    elapsed = time.perf_counter() - t0
    logger.info("streamed %d digits in %.1f s", n, elapsed)
    return store.gather(
        n,
        labels,
        n_train=config.n_train,
        header=StreamHeader(
            dt_s=config.dt,
            pad_numbers=tuple(config.channels),
            source_pad=config.source_pad,
            drain_pads=(config.drain_pad,),
            v_min=config.v_min,
            v_max=config.v_max,
            config=config.stream_dict(),
            device=simulated_metadata(description),
        ),
    )


def simulated_metadata(description: dict[str, Any]) -> dict[str, Any]:
    """Device metadata of a recording made by the simulator, from its description.

    Parameters
    ----------
    description : dict
        :meth:`~nwnrc.device.SimulatedDevice.describe` of the device.

    Returns
    -------
    dict
        ``simulator`` (the nwnrc version) and the description as flat keys.

    Examples
    --------
    >>> meta = simulated_metadata({"junction": {"b": 10.0}})
    >>> meta["junction.b"], meta["simulator"].startswith("nwnrc")
    (10.0, True)
    """
    from nwnrc import __version__
    from nwnrc.data._store import flat_metadata

    return {"simulator": f"nwnrc {__version__}", **flat_metadata(description)}


def _simulated_stream(
    config: MnistConfig,
    out: Path,
    data_path: str | Path | None,
    cache_dir: str | Path | None,
    progress: ProgressFactory,
) -> tuple[Recording, Path, bool, str]:
    """Stream the digits (or find the finished stream); return it as a recording.

    Returns the recording, the path of ``features.h5``, whether the stream was
    already complete, and the data source.
    """
    from nwnrc.data import encode_images, load_mnist
    from nwnrc.data._store import FeatureStore, is_legacy_store, legacy_recording

    mnist = load_mnist(cache_dir=cache_dir, path=data_path)
    logger.info("MNIST from %s", mnist.source)
    test_images = mnist.test_images if config.eval_split == "test" else mnist.val_images
    test_labels = mnist.test_labels if config.eval_split == "test" else mnist.val_labels
    # a small local data file may hold fewer digits than asked: say so before streaming
    for what, have, want in (
        ("training", len(mnist.train_images), config.n_train),
        (f"{config.eval_split} split", len(test_images), config.n_test),
    ):
        if want > have:
            raise ConfigError(
                f"asked for {want} {what} digits but {mnist.source} holds {have}; "
                "ask for fewer (--train/--test) or give a larger data set"
            )
    images = np.concatenate(
        [mnist.train_images[: config.n_train], test_images[: config.n_test]]
    )
    labels = np.concatenate(
        [mnist.train_labels[: config.n_train], test_labels[: config.n_test]]
    )
    was_complete = FeatureStore(out / "stream").is_complete()
    features = stream_digits(config, out, images, labels, progress)
    if is_legacy_store(features):
        # a store written before the input was kept: the input is rebuilt from the
        # digits that made it, and the pixels are the baseline's data values
        pixels = encode_images(images, 0.0, 1.0)
        rec = legacy_recording(
            features,
            config.v_min + (config.v_max - config.v_min) * pixels,
            v_min=config.v_min,
            v_max=config.v_max,
            stimulus=pixels,
        )
        if not np.array_equal(rec.labels, labels):
            raise DataError(
                f"{features} holds other labels than the digits of this config; "
                "delete the folder and stream again"
            )
    else:
        rec = read_for_readouts(features)
    return rec, features, was_complete, mnist.source


def read_for_readouts(path: str | Path) -> Recording:
    """Read a recording for the readout stage: without the per-step series that it
    does not use (conductance, source current), with the stimulus where stored.

    Parameters
    ----------
    path : path
        An ``nwnrc`` recording, or the ``features.h5`` of a run.

    Returns
    -------
    Recording

    Raises
    ------
    DataError
        If the file is missing or not a recording.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from nwnrc.recording import Recording, write_recording
    >>> path = write_recording(tempfile.mkdtemp() + "/r.h5", Recording(
    ...     pads=np.ones((2, 1, 3)), input=np.ones((2, 3)), labels=[0, 1],
    ...     dt_s=1e-3, pad_numbers=(2,), n_train=1, conductance=np.ones((2, 3))))
    >>> rec = read_for_readouts(path)
    >>> rec.conductance is None, rec.n_samples
    (True, 2)
    """
    import h5py

    from nwnrc.recording import read_recording

    rec = read_recording(path, series=False)
    with h5py.File(path, "r") as f:
        if "stimulus" in f:
            rec = replace(rec, stimulus=f["stimulus"][()])
    return rec


def open_recording(path: str | Path) -> tuple[Recording, dict[str, Any]]:
    """Open and validate a recording for the MNIST readouts; return it and its stamp.

    Parameters
    ----------
    path : path
        An ``nwnrc`` recording (HDF5).

    Returns
    -------
    Recording
        Without the per-step series that the readouts do not use.
    dict
        The stamp that names the file in a run folder: ``path`` (absolute),
        ``size_bytes``, ``sha256``, ``kind`` and ``samples``.

    Raises
    ------
    DataError
        If the file is not a readable recording, fails validation
        (:func:`nwnrc.recording.validate_recording`), has samples of other than 784
        steps, a label outside 0..9, or no training or no test stream.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from nwnrc.recording import Recording, write_recording
    >>> rng = np.random.default_rng(0)
    >>> path = write_recording(tempfile.mkdtemp() + "/r.h5", Recording(
    ...     pads=rng.random((2, 1, 784)), input=rng.random((2, 784)), labels=[0, 1],
    ...     dt_s=1e-3, pad_numbers=(2,), n_train=1))
    >>> rec, stamp = open_recording(path)
    >>> stamp["samples"], len(stamp["sha256"])
    (2, 64)
    """
    p = Path(path)
    rec = read_for_readouts(p)
    _validate(rec)
    if rec.n_steps != STEPS_PER_DIGIT:
        raise DataError(
            f"{p} has samples of {rec.n_steps} steps; an MNIST digit streams as "
            f"{STEPS_PER_DIGIT} steps (one per pixel): give a recording of MNIST "
            "digits, or cut its samples at the digit boundaries when importing"
        )
    _check_labels(rec.labels, str(p))
    if not 1 <= rec.n_train < rec.n_samples:
        raise DataError(
            f"{p} has n_train={rec.n_train} of {rec.n_samples} samples; the readouts "
            "need a training stream and a test stream (1 <= n_train < samples): set "
            "n_train when importing"
        )
    stamp = {
        "path": str(p.resolve()),
        "size_bytes": p.stat().st_size,
        "sha256": file_sha256(p),
        "kind": rec.kind,
        "samples": rec.n_samples,
    }
    return rec, stamp


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex.

    Parameters
    ----------
    path : path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _validate(rec: Recording) -> None:
    """Refuse what would give wrong results; warn of suspect data."""
    from nwnrc.recording import check_recording

    module = importlib.import_module("nwnrc.recording")
    validate = getattr(module, "validate_recording", None)
    if validate is None:
        check_recording(rec)
        return
    validate(rec).raise_errors()


def _check_labels(labels: NDArray[np.int64], where: str) -> None:
    bad = np.flatnonzero((labels < 0) | (labels >= N_CLASSES))
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"{where}: sample {i} has label {int(labels[i])}, outside the digit "
            f"classes 0..{N_CLASSES - 1} ({bad.size} such sample(s)); label every "
            "sample with its digit"
        )


def config_on_recording(
    config: MnistConfig, rec: Recording, path: str | Path = "the recording"
) -> MnistConfig:
    """The config of a run on a recording, as the run uses it.

    The recording's header replaces the input encoding (``v_min``, ``v_max``; where
    the header does not know them, the least input voltage and the largest input
    magnitude), the time step and the driven pads; the network fields and the
    evaluation split come from the recording's own config where it has them (an
    exported simulated run). The channels and sample counts stay those of
    ``config`` and must fit the recording.

    Parameters
    ----------
    config : MnistConfig
    rec : Recording
    path : path
        Named in error messages.

    Returns
    -------
    MnistConfig

    Raises
    ------
    ConfigError
        If ``config`` asks for a pad the recording does not read, or more training
        or test samples than it holds.
    DataError
        If the recording has no test stream (all its samples are training
        samples) or no training stream.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.recording import Recording
    >>> rec = Recording(pads=np.zeros((5, 2, 784)), input=np.ones((5, 784)),
    ...                 labels=[1, 2, 3, 4, 5], dt_s=2e-3, pad_numbers=(7, 3),
    ...                 n_train=3, v_min=0.0, v_max=1.5)
    >>> cfg = config_on_recording(MnistConfig(n_train=3, n_test=2, channels=(3,)), rec)
    >>> cfg.v_max, cfg.dt, cfg.channels
    (1.5, 0.002, (3,))
    """
    missing = [p for p in config.channels if p not in rec.pad_numbers]
    if missing:
        raise ConfigError(
            f"channels {list(config.channels)} ask for pad(s) {missing} that "
            f"{path} does not read; its readout pads are {list(rec.pad_numbers)}: "
            "choose --channels among them"
        )
    n_test = rec.n_samples - rec.n_train
    _check_split(path, rec.n_samples, rec.n_train)
    if config.n_train > rec.n_train:
        raise ConfigError(
            f"n_train={config.n_train} but {path} holds {rec.n_train} training "
            f"samples; ask for at most {rec.n_train} (--train)"
        )
    if config.n_test > n_test:
        raise ConfigError(
            f"n_test={config.n_test} but {path} holds {n_test} test samples; ask "
            f"for at most {n_test} (--test)"
        )
    d = config.to_dict()
    for key in RECORDING_FIELDS:
        if key in rec.config:
            d[key] = rec.config[key]
    if math.isfinite(rec.v_min) and math.isfinite(rec.v_max):
        d["v_min"], d["v_max"] = float(rec.v_min), float(rec.v_max)
    else:
        d["v_min"] = float(rec.input.min())
        d["v_max"] = float(np.abs(rec.input).max())
        logger.info(
            "%s does not give the input encoding; features scaled by the largest "
            "input magnitude, %g V",
            path,
            d["v_max"],
        )
    d["dt"] = float(rec.dt_s)
    d["source_pad"], d["drain_pad"] = _driven_pads(
        rec.source_pad, rec.drain_pads, config.channels, config
    )
    try:
        effective = MnistConfig.from_dict(d)
    except ConfigError as exc:
        raise DataError(
            f"{path}: its header and config do not make an MNIST configuration ({exc})"
        ) from None
    changed = sorted(k for k in d if d[k] != config.to_dict()[k])
    if changed:
        logger.info("from the recording: %s", ", ".join(changed))
    return effective


def recording_config(recording: str | Path, **fields: Any) -> MnistConfig:
    """A config for a run on the whole of a recording.

    ``n_train``, ``n_test`` and ``channels`` default to the recording's training
    and test streams and its readout pads, in their order; other fields (and these,
    to take fewer samples or other pads) are given as keywords.

    Parameters
    ----------
    recording : path
        An ``nwnrc`` recording.
    **fields
        :class:`MnistConfig` fields.

    Returns
    -------
    MnistConfig

    Raises
    ------
    DataError
        If the file is not a recording, or has no test stream (all its samples
        are training samples: import it with ``--n-train``) or no training
        stream.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from nwnrc.recording import Recording, write_recording
    >>> path = write_recording(tempfile.mkdtemp() + "/r.h5", Recording(
    ...     pads=np.zeros((5, 2, 784)), input=np.zeros((5, 784)),
    ...     labels=[1, 2, 3, 4, 5], dt_s=1e-3, pad_numbers=(7, 3), n_train=3))
    >>> cfg = recording_config(path, shuffles=1)
    >>> cfg.n_train, cfg.n_test, cfg.channels, cfg.shuffles
    (3, 2, (7, 3), 1)
    """
    import h5py

    from nwnrc.recording import is_recording, read_recording

    if not is_recording(recording):
        read_recording(recording)  # raises the DataError that says why
    with h5py.File(recording, "r") as f:
        n = int(f["pads"].shape[0]) if "pads" in f else 0
        n_train = int(f.attrs.get("n_train", 0))
        pads = [int(p) for p in np.atleast_1d(f.attrs.get("pad_numbers", []))]
        source = int(f.attrs.get("source_pad", -1))
        drains = tuple(int(p) for p in np.atleast_1d(f.attrs.get("drain_pads", [])))
    _check_split(recording, n, n_train)
    d: dict[str, Any] = {"n_train": n_train, "n_test": n - n_train, "channels": pads}
    d.update(fields)
    if "source_pad" not in fields and "drain_pad" not in fields:
        d["source_pad"], d["drain_pad"] = _driven_pads(
            source, drains, d["channels"], MnistConfig
        )
    return MnistConfig.from_dict(d)


#: how metrics name the kind of a recording
_KIND_WORDS = {"recorded": "a device", "simulated": "exported from the simulator"}


def _driven_pads(
    source: int, drains: tuple[int, ...], channels: Any, default: Any
) -> tuple[int, int]:
    """The config's driven pads for a recording: its own where it names them.

    A recording that does not name its source pad (``-1``) or a single drain pad
    leaves the config's; where those are among the recording's readout channels,
    the config gets the lowest pads that are not (a stand-in: a run on a
    recording drives nothing, and its summary reports the recording's own).
    """
    chosen = [
        source if source >= 0 else None,
        drains[0] if len(drains) == 1 else None,
    ]
    fallbacks = (default.source_pad, default.drain_pad)
    out: list[int] = []
    for i, pad in enumerate(chosen):
        if pad is None:
            taken = {*channels, *out, *(p for p in chosen if p is not None)}
            pad = fallbacks[i]
            if pad in taken:
                pad = next((p for p in range(N_PADS) if p not in taken), pad)
        out.append(pad)
    return out[0], out[1]


def _check_split(path: str | Path, n_samples: int, n_train: int) -> None:
    """Refuse a recording whose samples are all training or all test samples."""
    if n_samples <= 0:
        raise DataError(f"{path} holds no samples: import a recording of MNIST digits")
    if n_train >= n_samples:
        raise DataError(
            f"{path} has no test stream: all {n_samples} samples are training "
            "samples (it was imported without --n-train). Re-import it with "
            "`nwnrc import KIND ... --n-train N`, N below "
            f"{n_samples}, so that the samples after the first N are the test "
            "stream; --train and --test then choose within the two streams"
        )
    if n_train <= 0:
        raise DataError(
            f"{path} has no training stream: all {n_samples} samples are test "
            "samples (n_train=0). Re-import it with `nwnrc import KIND ... "
            f"--n-train N`, N from 1 to {n_samples - 1}, so that the first N "
            "samples are the training stream"
        )


def _check_source(out: Path, stamp: dict[str, Any] | None) -> None:
    """Refuse a folder whose run was made from other data than ``stamp`` names.

    ``stamp`` is None for the simulated device.
    """
    path = out / RECORDING_STAMP
    saved = json.loads(path.read_text()) if path.exists() else None
    if stamp is None:
        if saved is not None:
            raise ConfigError(
                f"{out} holds a run on the recording {saved.get('path')}; give "
                "--recording with that file, or use another --out folder"
            )
        return
    if (out / "stream").exists():
        raise ConfigError(
            f"{out} holds a run on the simulated device (stream/); a run on a "
            "recording needs another --out folder"
        )
    if saved is None:
        return
    if (saved.get("sha256"), saved.get("size_bytes")) != (
        stamp["sha256"],
        stamp["size_bytes"],
    ):
        raise ConfigError(
            f"{out} holds a run on another recording ({saved.get('path')}, sha256 "
            f"{str(saved.get('sha256'))[:16]}) than {stamp['path']} (sha256 "
            f"{stamp['sha256'][:16]}); use another --out folder, or delete this one"
        )
    if saved.get("path") != stamp["path"]:
        logger.info("the recording moved from %s to %s", saved["path"], stamp["path"])


def _recording_summary(rec: Recording, stamp: dict[str, Any]) -> dict[str, Any]:
    def finite(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    summary = {
        **stamp,
        "dt_s": rec.dt_s,
        "n_train": rec.n_train,
        "pad_numbers": list(rec.pad_numbers),
        "source_pad": rec.source_pad,
        "drain_pads": list(rec.drain_pads),
        "v_min": finite(rec.v_min),
        "v_max": finite(rec.v_max),
        "device": rec.device,
        "instrument": rec.instrument,
    }
    if not any(k in rec.config for k in DEVICE_FIELDS):
        summary["note"] = (
            "the network fields of config (n_wires ... junction) are not taken "
            "from the recording, which does not give them: they do not describe "
            "its device"
        )
    return summary


def readout_data(
    rec: Recording, config: MnistConfig
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.int64]]:
    """Features, raw-input baseline and labels of the readout stage.

    One code path for a simulated stream and a recording: the first
    ``config.n_train`` samples of the recording's training stream, then the first
    ``config.n_test`` of its test stream; the readouts of the pads
    ``config.channels`` (in that order) divided by the white-pixel voltage
    ``config.v_max``, flattened channel after channel; the input's data values
    (:meth:`~nwnrc.recording.Recording.input_values`, pixels in [0, 1]).

    Parameters
    ----------
    rec : Recording
        Its ``pads`` are scaled in place where no copy is needed (the whole
        recording, its channels in order): pass a recording that is not used
        afterwards.
    config : MnistConfig

    Returns
    -------
    features : ndarray of float32, shape (samples, channels * 784)
    inputs : ndarray of float32, shape (samples, 784)
    labels : ndarray of int64, shape (samples,)

    Raises
    ------
    ConfigError
        If a channel is not a pad of the recording, or the counts exceed it.
    DataError
        If a label is outside 0..9.

    Examples
    --------
    >>> import numpy as np
    >>> from nwnrc.recording import Recording
    >>> rec = Recording(pads=np.full((4, 2, 784), 3.0), input=np.ones((4, 784)),
    ...                 labels=[1, 2, 3, 4], dt_s=1e-3, pad_numbers=(7, 3),
    ...                 n_train=3, v_min=0.0, v_max=2.0)
    >>> cfg = MnistConfig(n_train=2, n_test=1, channels=(3,), v_max=2.0)
    >>> X, inputs, y = readout_data(rec, cfg)
    >>> X.shape, float(X[0, 0]), float(inputs[0, 0]), y.tolist()
    ((3, 784), 1.5, 0.5, [1, 2, 4])
    """
    positions = []
    for p in config.channels:
        if p not in rec.pad_numbers:
            raise ConfigError(
                f"channel {p} is not a readout pad of the recording (pads "
                f"{list(rec.pad_numbers)})"
            )
        positions.append(rec.pad_numbers.index(p))
    n_tr, n_te = config.n_train, config.n_test
    if n_tr > rec.n_train or n_te > rec.n_samples - rec.n_train:
        raise ConfigError(
            f"n_train={n_tr}, n_test={n_te} exceed the recording's {rec.n_train} "
            f"training and {rec.n_samples - rec.n_train} test samples"
        )
    rows: slice | NDArray[np.int64]
    if n_tr == rec.n_train and n_tr + n_te == rec.n_samples:
        rows = slice(None)
    else:
        rows = np.r_[0:n_tr, rec.n_train : rec.n_train + n_te].astype(np.int64)
    labels = np.asarray(rec.labels[rows], dtype=np.int64)
    _check_labels(labels, "the readout samples")
    pads = rec.pads[rows]
    if positions != list(range(rec.n_channels)):
        pads = pads[:, positions]
    features = np.ascontiguousarray(pads).reshape(pads.shape[0], -1)
    # Readout voltages are divided by the white-pixel voltage and the input baseline
    # is the pixel values: every feature set lies in about [0, 1], so that one
    # regularisation (rls_delta, ridge_alpha) means the same at every amplitude.
    features *= np.float32(1.0 / config.v_max)
    inputs = np.ascontiguousarray(rec.input_values()[rows], dtype=np.float32)
    return features, inputs, labels


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
    recording: str | Path | None = None,
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
    recording : path, optional
        An ``nwnrc`` recording (HDF5) to learn from instead of the simulated device
        (see :func:`recording_config` for a config that takes the whole recording).
        The first ``config.n_train`` samples of its training stream and the first
        ``config.n_test`` of its test stream are used, the channels
        ``config.channels`` (pad numbers of the recording). Its header gives the
        input encoding (``v_min``, ``v_max``), the time step, the driven pads and,
        for an exported simulated run, the network fields of the config; MNIST is
        not read.

    Returns
    -------
    dict
        The metrics (as written to metrics.json). A run on a recording adds
        ``recording`` (path, size, SHA-256, kind, device and instrument metadata)
        and names the file in ``data_source``.

    Raises
    ------
    ConfigError
        If the folder holds a run with other settings or on other data, or the
        config asks for more samples or other channels than the recording holds.
    DataError
        If the recording is broken (see :func:`nwnrc.recording.validate_recording`),
        its samples are not 784 steps long, or a label is outside 0..9.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the run")
    out.mkdir(parents=True, exist_ok=True)
    # the whole configuration is stamped: finished readouts are reused only for the
    # settings that made them
    run_stamp = out / "run-config.json"
    t0 = time.perf_counter()
    stream_was_complete = True
    rec: Recording
    if recording is None:
        _check_source(out, None)
        _check_stamp(run_stamp, config.to_dict(), "a run")
        rec, features_path, stream_was_complete, data_source = _simulated_stream(
            config, out, data_path, cache_dir, progress
        )
        write_json(run_stamp, config.to_dict())
        source_metrics: dict[str, Any] = {}
    else:
        rec, stamp = open_recording(recording)
        config = config_on_recording(config, rec, recording)
        _check_source(out, stamp)
        _check_stamp(run_stamp, config.to_dict(), "a run")
        write_json(out / RECORDING_STAMP, stamp)
        write_json(run_stamp, config.to_dict())
        features_path = Path(recording)
        data_source = (
            f"recording {stamp['path']} ({_KIND_WORDS.get(rec.kind, rec.kind)}, "
            f"sha256 {stamp['sha256'][:16]})"
        )
        source_metrics = {"recording": _recording_summary(rec, stamp)}
        logger.info("readouts from %s", data_source)
    stream_seconds = time.perf_counter() - t0

    # 2. the readouts
    n_tr = config.n_train
    all_rows, input_rows, labels = readout_data(rec, config)
    del rec
    y_train = labels[:n_tr]
    y_test = labels[n_tr:]
    results_dir = out / "readouts"
    n_channels = len(config.channels)
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

    metrics = _metrics(config, results, y_test, feature_sets, data_source)
    metrics.update(source_metrics)
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

        write_mnist_figures(metrics, out, features_path=features_path)
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
