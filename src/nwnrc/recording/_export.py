"""Export a finished run as a recording: simulated readouts in the recording schema.

A recording stands wherever a device's readouts do, so the readouts of a simulated
run, written as a recording, can be handed to anything that reads recordings (the
experiments with ``--recording``, other tools, another lab) and give the same results
there as in the run itself.

- An MNIST run folder (``run-config.json``, ``stream/features.h5``): its feature
  store, which is already in the recording schema, is copied with the run's whole
  configuration as the recording's ``config``; the device metadata is the simulated
  network's description. A store written before the input stream was kept gets its
  input rebuilt from MNIST (checked against the stored labels) and the pixel values
  as ``stimulus``.
- A sequence run folder (``config.json`` with a ``"sequence"`` key): the sequence
  experiment turns it into a recording
  (``nwnrc.experiments._sequence.sequence_recording``).

The file is written atomically: a failed export leaves no partial file.
"""

from __future__ import annotations

import importlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from nwnrc._atomic import atomic_path
from nwnrc.errors import ConfigError, DataError
from nwnrc.recording._schema import (
    FORMAT,
    Recording,
    read_recording,
    write_recording,
)

logger = logging.getLogger(__name__)

__all__ = ["export_run"]

_SUFFIXES = (".h5", ".hdf5")


def export_run(
    run_dir: str | Path,
    out: str | Path,
    *,
    data_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the readouts of a finished run as a recording; return its path.

    Parameters
    ----------
    run_dir : path
        A finished run folder of ``nwnrc mnist`` or ``nwnrc sequence``.
    out : path
        The recording to write (``.h5`` or ``.hdf5``).
    data_path, cache_dir : path, optional
        Where MNIST is (see :func:`nwnrc.data.load_mnist`), for an MNIST run whose
        store predates the stored input stream.
    overwrite : bool
        Replace an existing file at ``out``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    ConfigError
        If ``out`` has another suffix, exists (without ``overwrite``) or is the
        run's own store.
    DataError
        If the folder is not a finished run, was itself made from a recording, or
        (for an older store) MNIST does not give the stored labels.

    Notes
    -----
    The export of an MNIST run holds every sample of its stream, its pads in the
    run's channel order, the input stream, the source current and the network
    conductance where the store has them, and ``kind="simulated"``.

    Limitations: a store written before the input stream was kept has no source
    current; its export has none either.

    Examples
    --------
    >>> import tempfile
    >>> export_run(tempfile.mkdtemp(), tempfile.mkdtemp() + "/rec.h5")
    Traceback (most recent call last):
    ...
    nwnrc.errors.DataError: ... is not a finished run folder ...
    """
    root = Path(run_dir)
    dest = Path(out)
    if dest.suffix.lower() not in _SUFFIXES:
        raise ConfigError(
            f"--out {dest} must name an HDF5 file ending in .h5 or .hdf5, got the "
            f"suffix {dest.suffix!r}"
        )
    if dest.is_dir():
        raise ConfigError(f"--out {dest} is a folder; give the path of a .h5 file")
    if dest.exists() and not overwrite:
        raise ConfigError(
            f"{dest} exists; choose another --out, or pass --overwrite to replace it"
        )

    sequence_config = root / "config.json"
    if sequence_config.exists() and "sequence" in _json(sequence_config):
        rec = _sequence_recording(root)
        path = write_recording(dest, rec)
        logger.info("exported the sequence run %s to %s", root, path)
        return path
    if (root / "run-config.json").exists():
        return _export_mnist(root, dest, data_path, cache_dir)
    raise DataError(
        f"{root} is not a finished run folder (no run-config.json of an MNIST run, "
        "no config.json of a sequence run); give the --out folder of a finished "
        "`nwnrc mnist` or `nwnrc sequence` run"
    )


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} must hold a JSON object")
    return data


def _sequence_recording(root: Path) -> Recording:
    module = importlib.import_module("nwnrc.experiments._sequence")
    convert = getattr(module, "sequence_recording", None)
    if convert is None:
        raise DataError(
            f"{root} is a sequence run, and this nwnrc cannot export sequence runs "
            "yet (nwnrc.experiments._sequence has no sequence_recording); export "
            "an MNIST run, or update nwnrc"
        )
    rec = convert(root)
    if not isinstance(rec, Recording):
        raise DataError(
            f"sequence_recording({root}) gave a {type(rec).__name__}, not a Recording"
        )
    return rec


def _export_mnist(
    root: Path,
    dest: Path,
    data_path: str | Path | None,
    cache_dir: str | Path | None,
) -> Path:
    from nwnrc.data._store import StreamHeader, is_legacy_store, write_stream_header
    from nwnrc.experiments._mnist import RECORDING_STAMP

    config = _json(root / "run-config.json")
    if (root / RECORDING_STAMP).exists():
        made_from = _json(root / RECORDING_STAMP).get("path")
        raise DataError(
            f"{root} is a run on the recording {made_from}; that file is already "
            "its recording"
        )
    features = root / "stream" / "features.h5"
    if not features.is_file():
        raise DataError(
            f"{root} has no finished device stream ({features}); finish the run "
            f"with `nwnrc mnist --out {root}` first"
        )
    if dest.resolve() == features.resolve():
        raise ConfigError(f"--out {dest} is the run's own store; give another path")

    legacy = is_legacy_store(features)
    pixels = _pixels(features, config, data_path, cache_dir) if legacy else None
    with atomic_path(dest, suffix=".h5") as tmp:
        shutil.copyfile(features, tmp)
        with h5py.File(tmp, "r+") as f:
            if pixels is None:
                f.attrs["config"] = json.dumps(config)
            else:
                n, t = pixels.shape
                chunk = (max(1, min(n, 256)), t)
                v_min, v_max = float(config["v_min"]), float(config["v_max"])
                volts = v_min + (v_max - v_min) * pixels
                f.create_dataset("input", data=volts.astype(np.float32), chunks=chunk)
                f.create_dataset("stimulus", data=pixels, chunks=chunk)
                described = json.loads(f.attrs.get("config", "{}"))
                header = StreamHeader(
                    dt_s=float(f.attrs.get("dt_s", config.get("dt", 1e-3))),
                    pad_numbers=tuple(int(p) for p in f.attrs["pad_numbers"]),
                    source_pad=int(config["source_pad"]),
                    drain_pads=(int(config["drain_pad"]),),
                    v_min=v_min,
                    v_max=v_max,
                    config=config,
                    device=_simulated_metadata(described),
                )
                write_stream_header(f, header, int(f.attrs["n_train"]))
        # the file must open as a recording before it takes the place of ``dest``
        rec = read_recording(tmp, series=False)
    logger.info(
        "exported %d samples of the MNIST run %s to %s", rec.n_samples, root, dest
    )
    return dest


def _simulated_metadata(described: Any) -> dict[str, Any]:
    from nwnrc.experiments._mnist import simulated_metadata

    return simulated_metadata(described if isinstance(described, dict) else {})


def _pixels(
    features: Path,
    config: dict[str, Any],
    data_path: str | Path | None,
    cache_dir: str | Path | None,
) -> np.ndarray:
    """Pixels (float32 in [0, 1], one row per sample) of an older store's stream."""
    from nwnrc.data import load_mnist

    try:
        n_train, n_test = int(config["n_train"]), int(config["n_test"])
        split = str(config["eval_split"])
        for key in ("v_min", "v_max", "source_pad", "drain_pad"):
            float(config[key])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            f"the run config beside {features} lacks {exc} to rebuild the input stream"
        ) from None
    with h5py.File(features, "r") as f:
        if f.attrs.get("format") == FORMAT:
            raise DataError(f"{features} already holds its input stream")
        labels = np.asarray(f["labels"][()], dtype=np.int64)
    mnist = load_mnist(cache_dir=cache_dir, path=data_path)
    test_images = mnist.test_images if split == "test" else mnist.val_images
    test_labels = mnist.test_labels if split == "test" else mnist.val_labels
    images = np.concatenate([mnist.train_images[:n_train], test_images[:n_test]])
    want = np.concatenate([mnist.train_labels[:n_train], test_labels[:n_test]])
    if not np.array_equal(want, labels):
        raise DataError(
            f"MNIST from {mnist.source} does not give the labels stored in "
            f"{features}: the run used other digits; give them with --data"
        )
    return np.asarray(images, dtype=np.float32).reshape(len(images), -1)
