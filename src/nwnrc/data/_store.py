"""On-disk store of device readouts, filled piece by piece and resumable.

A stream of tens of thousands of samples through a device takes minutes to hours, so
its readouts go to disk as they come. While the stream runs, each finished piece is one
small ``.npz`` file (readouts of its samples and the filament states after it), written
atomically; a run killed at any moment loses at most the piece in flight, and a new run
continues from the filament states of the last finished piece. When every piece is in,
they are gathered into one chunked HDF5 file, ``features.h5``, readable by any HDF5
tool and written in the recording schema of :mod:`nwnrc.recording` (format
``nwnrc-recording``, kind ``"simulated"``), so that ``read_recording`` opens it:

- ``pads``: float32, shape (samples, readout pads, steps), readout pad voltages, V;
- ``input``: float32, shape (samples, steps), the source-pad voltage, V (the encoded
  samples);
- ``source_current``: float32, shape (samples, steps), current into the network, A;
- ``conductance``: float32, shape (samples, steps), network conductance, S;
- ``labels``: int64, shape (samples,);
- the recording header: ``format``, ``format_version``, ``kind``, ``dt_s``,
  ``n_train`` (the first ``n_train`` samples are the training stream, the rest the
  test stream), ``pad_numbers``, ``source_pad``, ``drain_pads``, ``v_min``, ``v_max``,
  ``config`` (JSON: the settings that made the stream) and the ``device`` group (the
  simulated network's description).

Stores written before the input stream was kept (``pads``, ``conductance`` and
``labels`` with the attributes ``pad_numbers``, ``dt_s``, ``n_train`` and ``config``,
no header) still read: :func:`read_rows` and the experiments take both layouts, and
:func:`is_legacy_store` tells them apart. A stream resumed from pieces of such a store
is gathered in that older layout, since its first pieces lack the input.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import atomic_path, write_npz
from nwnrc.errors import DataError
from nwnrc.recording._schema import FORMAT, Recording, write_header

logger = logging.getLogger(__name__)

_PIECE = re.compile(r"^piece-(\d{6})\.npz$")
FEATURES_FILE = "features.h5"


@dataclass(frozen=True)
class StreamHeader:
    """The recording header of a simulated stream (see :mod:`nwnrc.recording`).

    Parameters
    ----------
    dt_s : float
        Time step, s.
    pad_numbers : tuple of int
        Pad of each readout channel, in the order of the ``pads`` axis.
    source_pad : int
        Pad driven by the input.
    drain_pads : tuple of int
        Grounded pads.
    v_min, v_max : float
        Voltages of data values 0 and 1 in the input, V.
    config : dict
        Settings that made the stream (JSON-serialisable).
    device : dict
        Description of the simulated device (str, int, float or bool values; see
        :func:`flat_metadata`).
    instrument : dict
        Instrument metadata (none for the simulator).
    kind : str
        ``"simulated"``.

    Examples
    --------
    >>> h = StreamHeader(1e-3, (1, 2), 4, (11,), 0.0, 2.0)
    >>> h.kind, h.pad_numbers
    ('simulated', (1, 2))
    """

    dt_s: float
    pad_numbers: tuple[int, ...]
    source_pad: int
    drain_pads: tuple[int, ...]
    v_min: float
    v_max: float
    config: dict[str, Any] = field(default_factory=dict)
    device: dict[str, Any] = field(default_factory=dict)
    instrument: dict[str, Any] = field(default_factory=dict)
    kind: str = "simulated"


def write_stream_header(f: h5py.File, header: StreamHeader, n_train: int) -> None:
    """Write the recording header of a simulated stream into an open HDF5 file.

    See :func:`nwnrc.recording._schema.write_header`.

    Examples
    --------
    >>> import tempfile, h5py
    >>> path = tempfile.mkdtemp() + "/f.h5"
    >>> with h5py.File(path, "w") as f:
    ...     write_stream_header(f, StreamHeader(1e-3, (1,), 4, (11,), 0.0, 2.0), 3)
    ...     print(f.attrs["format"], int(f.attrs["n_train"]))
    nwnrc-recording 3
    """
    write_header(f, header, n_train)


def flat_metadata(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metadata as flat ``a.b`` keys with str, int, float or bool values.

    The metadata groups of a recording hold scalars only: nested mappings become
    dotted keys, lists and other values JSON text, None the text ``"null"``.

    Parameters
    ----------
    data : mapping
    prefix : str
        Put before every key.

    Returns
    -------
    dict

    Examples
    --------
    >>> flat_metadata({"junction": {"v_set": 0.01}, "pads": [1, 2], "dt_s": 1e-3})
    {'junction.v_set': 0.01, 'pads': '[1, 2]', 'dt_s': 0.001}
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_metadata(value, prefix=f"{name}."))
        elif isinstance(value, bool | int | str) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            out[name] = value
        elif isinstance(value, np.generic):
            out[name] = value.item()
        else:
            out[name] = json.dumps(value, default=str)
    return out


def is_legacy_store(path: str | Path) -> bool:
    """Whether ``path`` is a feature store of the layout without the input stream.

    Such stores (``pads``, ``conductance``, ``labels``, no recording header) were
    written before the store kept the input; the experiments rebuild their input
    from the data set.

    Parameters
    ----------
    path : path

    Examples
    --------
    >>> import tempfile, h5py, numpy as np
    >>> path = tempfile.mkdtemp() + "/features.h5"
    >>> with h5py.File(path, "w") as f:
    ...     _ = f.create_dataset("pads", data=np.zeros((1, 1, 4)))
    >>> is_legacy_store(path)
    True
    """
    with h5py.File(path, "r") as f:
        return "pads" in f and f.attrs.get("format") != FORMAT


class FeatureStore:
    """Readouts of one device stream, kept in a folder.

    Parameters
    ----------
    root : path
        The folder; created when needed.

    Examples
    --------
    >>> import tempfile
    >>> store = FeatureStore(tempfile.mkdtemp())
    >>> store.finished_pieces()
    0
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.pieces_dir = self.root / "pieces"

    @property
    def features_path(self) -> Path:
        """Path of the gathered HDF5 file."""
        return self.root / FEATURES_FILE

    def is_complete(self) -> bool:
        """Whether the gathered HDF5 file exists."""
        return self.features_path.exists()

    def finished_pieces(self) -> int:
        """Number of consecutive finished pieces from piece 0."""
        if not self.pieces_dir.exists():
            return 0
        done = set()
        for path in self.pieces_dir.iterdir():
            m = _PIECE.match(path.name)
            if m:
                done.add(int(m.group(1)))
        n = 0
        while n in done:
            n += 1
        return n

    def write_piece(
        self,
        piece: int,
        indices: NDArray[np.int64],
        pads: NDArray[np.floating[Any]],
        conductance: NDArray[np.floating[Any]],
        state: NDArray[np.float64],
        *,
        input_volts: NDArray[np.floating[Any]] | None = None,
        source_current: NDArray[np.floating[Any]] | None = None,
    ) -> None:
        """Store one finished piece (atomically).

        Parameters
        ----------
        piece : int
        indices : ndarray of int64, shape (n,)
            Stream position of each sample of the piece.
        pads : ndarray, shape (n, readout pads, steps)
        conductance : ndarray, shape (n, steps)
        state : ndarray, shape (replicas, junctions)
            Filament states after the piece.
        input_volts : ndarray, shape (n, steps), optional
            Source-pad voltage of each sample, V.
        source_current : ndarray, shape (n, steps), optional
            Current into the network, A.
        """
        extra: dict[str, NDArray[np.float32]] = {}
        if input_volts is not None:
            extra["input"] = np.asarray(input_volts, dtype=np.float32)
        if source_current is not None:
            extra["source_current"] = np.asarray(source_current, dtype=np.float32)
        write_npz(
            self.pieces_dir / f"piece-{piece:06d}.npz",
            indices=np.asarray(indices, dtype=np.int64),
            pads=np.asarray(pads, dtype=np.float32),
            conductance=np.asarray(conductance, dtype=np.float32),
            state=np.asarray(state, dtype=np.float64),
            **extra,
        )

    def piece_state(self, piece: int) -> NDArray[np.float64]:
        """Filament states saved after ``piece``."""
        with np.load(self.pieces_dir / f"piece-{piece:06d}.npz") as data:
            return np.array(data["state"])

    def gather(
        self,
        n_samples: int,
        labels: NDArray[np.int64],
        n_train: int,
        attrs: Mapping[str, Any] | None = None,
        *,
        header: StreamHeader | None = None,
    ) -> Path:
        """Gather every piece into ``features.h5`` (atomically), then drop the pieces.

        Parameters
        ----------
        n_samples : int
            Samples of the stream.
        labels : ndarray of int, shape (n_samples,)
        n_train : int
            The first ``n_train`` samples are the training stream.
        attrs : mapping, optional
            Further root attributes (dicts are written as JSON).
        header : StreamHeader, optional
            The recording header. With it, and with the input stream in every
            piece, the file is a recording (``nwnrc.recording.read_recording``
            opens it); pieces without the input (left by an older nwnrc) give the
            older layout, with the header's pad numbers, time step and config as
            plain attributes.

        Returns
        -------
        Path
            The path of ``features.h5``.

        Raises
        ------
        DataError
            If a sample of the stream is missing from the pieces.
        """
        pieces = sorted(self.pieces_dir.glob("piece-*.npz"))
        if not pieces:
            raise DataError(f"no stream pieces under {self.pieces_dir}; run the stream")
        with np.load(pieces[0]) as first:
            _, n_pads, n_steps = first["pads"].shape
        series = ["conductance"]
        if header is not None:
            optional = ("input", "source_current")
            have = []
            for path in pieces:
                with np.load(path) as data:
                    have.append(set(data.files))
            if all("input" in h for h in have):
                series += [name for name in optional if all(name in h for h in have)]
            else:
                logger.info(
                    "pieces under %s lack the input stream (an older stream): "
                    "gathering the older layout without the recording header",
                    self.pieces_dir,
                )
        seen = np.zeros(n_samples, dtype=bool)
        with atomic_path(self.features_path, suffix=".h5") as tmp:
            with h5py.File(tmp, "w") as f:
                chunk = max(1, min(n_samples, 256))
                dpads = f.create_dataset(
                    "pads",
                    (n_samples, n_pads, n_steps),
                    dtype="f4",
                    chunks=(chunk, n_pads, n_steps),
                )
                dseries = {
                    name: f.create_dataset(
                        name, (n_samples, n_steps), dtype="f4", chunks=(chunk, n_steps)
                    )
                    for name in series
                }
                f.create_dataset("labels", data=np.asarray(labels, dtype=np.int64))
                for path in pieces:
                    with np.load(path) as data:
                        idx = data["indices"]
                        order = np.argsort(idx)
                        idx = idx[order]
                        if idx.size:
                            dpads[idx] = data["pads"][order]
                            for name, dset in dseries.items():
                                dset[idx] = data[name][order]
                            seen[idx] = True
                if not np.all(seen):
                    missing = int(np.nonzero(~seen)[0][0])
                    raise DataError(
                        f"sample {missing} of the stream is in no piece under "
                        f"{self.pieces_dir}; delete the folder and stream again"
                    )
                f.attrs["n_train"] = int(n_train)
                if header is not None:
                    if "input" in series:
                        write_stream_header(f, header, n_train)
                    else:
                        f.attrs["pad_numbers"] = np.asarray(header.pad_numbers)
                        f.attrs["dt_s"] = float(header.dt_s)
                        f.attrs["config"] = json.dumps(header.config)
                for key, value in (attrs or {}).items():
                    f.attrs[key] = (
                        json.dumps(value) if isinstance(value, dict) else value
                    )
        shutil.rmtree(self.pieces_dir, ignore_errors=True)
        logger.info("gathered %d samples into %s", n_samples, self.features_path)
        return self.features_path


def read_rows(
    path: str | Path,
    rows: NDArray[np.int64] | slice,
    channels: Iterable[int] | None = None,
    *,
    with_conductance: bool = False,
) -> NDArray[np.float32]:
    """Read features of some samples as flat rows, shape (n, channels * steps).

    Parameters
    ----------
    path : path to ``features.h5``
    rows : slice or sorted int array
    channels : positions along the readout-pad axis (not pad numbers); all if None
    with_conductance : bool
        Append the conductance series (in S, scaled to microsiemens so that its
        magnitude is near the voltages').
    """
    with h5py.File(path, "r") as f:
        pads = f["pads"]
        sel = list(range(pads.shape[1])) if channels is None else list(channels)
        block = pads[rows][:, sel, :]
        out = block.reshape(block.shape[0], -1)
        if with_conductance:
            g = f["conductance"][rows] * np.float32(1e6)
            out = np.concatenate([out, g], axis=1)
    return np.ascontiguousarray(out, dtype=np.float32)


def legacy_recording(
    path: str | Path,
    input_volts: NDArray[np.floating[Any]],
    *,
    v_min: float,
    v_max: float,
    stimulus: NDArray[np.floating[Any]] | None = None,
) -> Recording:
    """A store of the older layout (no input stream) as a :class:`Recording`.

    Parameters
    ----------
    path : path
        ``features.h5`` without the recording header.
    input_volts : ndarray, shape (samples, steps)
        The input stream that made the store, rebuilt from its data, V.
    v_min, v_max : float
        Voltages of data values 0 and 1, V.
    stimulus : ndarray, shape (samples, steps), optional
        The data values behind the input (pixels in [0, 1]).

    Returns
    -------
    Recording
        Kind ``"simulated"``, with the store's pads, conductance, labels, pad
        numbers, time step and training count; the ``config`` attribute of the store
        (the device description) becomes the device metadata.

    Raises
    ------
    DataError
        If the file lacks a dataset of the layout or the input has another shape.

    Examples
    --------
    >>> import tempfile, h5py, numpy as np
    >>> path = tempfile.mkdtemp() + "/features.h5"
    >>> with h5py.File(path, "w") as f:
    ...     _ = f.create_dataset("pads", data=np.ones((2, 1, 3), np.float32))
    ...     _ = f.create_dataset("conductance", data=np.ones((2, 3), np.float32))
    ...     _ = f.create_dataset("labels", data=np.array([4, 2]))
    ...     f.attrs.update(n_train=1, pad_numbers=[2], dt_s=1e-3)
    >>> rec = legacy_recording(path, np.zeros((2, 3)), v_min=0.0, v_max=2.0)
    >>> rec.kind, rec.pad_numbers, rec.labels.tolist()
    ('simulated', (2,), [4, 2])
    """
    with h5py.File(path, "r") as f:
        for name in ("pads", "labels"):
            if name not in f:
                raise DataError(f"{path} lacks the dataset {name!r} of a feature store")
        n, m, t = f["pads"].shape
        if np.shape(input_volts) != (n, t):
            raise DataError(
                f"the input stream for {path} must have shape (samples, steps) = "
                f"{(n, t)}, got {np.shape(input_volts)}"
            )
        raw = f.attrs.get("config")
        described = json.loads(raw) if raw is not None else {}
        return Recording(
            pads=f["pads"][()],
            input=np.asarray(input_volts, dtype=np.float32),
            labels=f["labels"][()],
            dt_s=float(f.attrs.get("dt_s", 1e-3)),
            pad_numbers=tuple(
                int(p) for p in np.atleast_1d(f.attrs.get("pad_numbers", range(m)))
            ),
            n_train=int(f.attrs.get("n_train", n)),
            kind="simulated",
            v_min=float(v_min),
            v_max=float(v_max),
            conductance=f["conductance"][()] if "conductance" in f else None,
            stimulus=None if stimulus is None else np.asarray(stimulus, np.float32),
            device=flat_metadata(described) if isinstance(described, dict) else {},
        )
