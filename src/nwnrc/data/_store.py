"""On-disk store of device readouts, filled piece by piece and resumable.

A stream of tens of thousands of samples through a device takes minutes to hours, so
its readouts go to disk as they come. While the stream runs, each finished piece is one
small ``.npz`` file (readouts of its samples and the filament states after it), written
atomically; a run killed at any moment loses at most the piece in flight, and a new run
continues from the filament states of the last finished piece. When every piece is in,
they are gathered into one chunked HDF5 file, ``features.h5``, readable by any HDF5
tool:

- ``pads``: float32, shape (samples, readout pads, steps), readout pad voltages, V;
- ``conductance``: float32, shape (samples, steps), network conductance, S;
- ``labels``: int64, shape (samples,);
- attributes ``pad_numbers``, ``dt_s``, ``n_train`` (the first ``n_train`` samples are
  the training stream, the rest the test stream) and ``config`` (JSON).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from nwnrc._atomic import atomic_path, write_npz
from nwnrc.errors import DataError

logger = logging.getLogger(__name__)

_PIECE = re.compile(r"^piece-(\d{6})\.npz$")
FEATURES_FILE = "features.h5"


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
        """
        write_npz(
            self.pieces_dir / f"piece-{piece:06d}.npz",
            indices=np.asarray(indices, dtype=np.int64),
            pads=np.asarray(pads, dtype=np.float32),
            conductance=np.asarray(conductance, dtype=np.float32),
            state=np.asarray(state, dtype=np.float64),
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
        attrs: dict[str, Any],
    ) -> Path:
        """Gather every piece into ``features.h5`` (atomically), then drop the pieces.

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
                dcond = f.create_dataset(
                    "conductance",
                    (n_samples, n_steps),
                    dtype="f4",
                    chunks=(chunk, n_steps),
                )
                f.create_dataset("labels", data=np.asarray(labels, dtype=np.int64))
                for path in pieces:
                    with np.load(path) as data:
                        idx = data["indices"]
                        order = np.argsort(idx)
                        idx = idx[order]
                        if idx.size:
                            dpads[idx] = data["pads"][order]
                            dcond[idx] = data["conductance"][order]
                            seen[idx] = True
                if not np.all(seen):
                    missing = int(np.nonzero(~seen)[0][0])
                    raise DataError(
                        f"sample {missing} of the stream is in no piece under "
                        f"{self.pieces_dir}; delete the folder and stream again"
                    )
                f.attrs["n_train"] = int(n_train)
                for key, value in attrs.items():
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
