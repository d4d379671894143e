"""Save and load nanowire networks as HDF5 files.

Layout (format ``nwnrc.network``, version 1), readable by any HDF5 tool:

- root attributes ``format``, ``format_version`` and one attribute per
  :class:`NetworkParams` field (``n_wires``, ``chip_size_um``, ..., ``seed``);
- datasets ``centres`` (N, 2), ``angles`` (N,), ``lengths`` (N,) in micrometres and
  radians; ``junction_wires`` (J, 2) int64 and ``junction_points`` (J, 2);
- pad contacts in compressed-row form: ``pad_wire_indices`` (int64) holds the wires
  of pad p at ``pad_wire_indices[pad_wire_offsets[p]:pad_wire_offsets[p + 1]]``,
  ``pad_wire_offsets`` (17,) int64.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import fields
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nwnrc.errors import ConfigError, DataError, NetworkError
from nwnrc.network._geometry import NetworkParams
from nwnrc.network._mea import N_PADS

if TYPE_CHECKING:
    from nwnrc.network._network import NanowireNetwork

logger = logging.getLogger(__name__)

FORMAT_NAME = "nwnrc.network"
FORMAT_VERSION = 1

_ARRAYS = ("centres", "angles", "lengths", "junction_wires", "junction_points")


def save_network(network: NanowireNetwork, path: str | PathLike[str]) -> None:
    """Write ``network`` to ``path`` (HDF5), atomically.

    The file is written to a temporary file in the same folder and moved over
    ``path`` only when complete, so a crash never leaves a half-written network.

    Raises
    ------
    DataError
        If the folder does not exist or cannot be written.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataError(
            f"cannot save the network to {str(target)!r}: folder {str(folder)!r} "
            "does not exist; create it first"
        )
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=folder, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise DataError(
            f"cannot save the network to {str(target)!r}: {exc}; check permissions"
        ) from exc
    os.close(fd)
    import h5py

    try:
        with h5py.File(tmp_name, "w") as h5:
            h5.attrs["format"] = FORMAT_NAME
            h5.attrs["format_version"] = FORMAT_VERSION
            for name, value in network.params.as_dict().items():
                h5.attrs[name] = value
            for name in _ARRAYS:
                h5.create_dataset(name, data=getattr(network, name))
            counts = [len(w) for w in network.pad_wires]
            offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
            indices = np.concatenate(network.pad_wires).astype(np.int64)
            h5.create_dataset("pad_wire_indices", data=indices)
            h5.create_dataset("pad_wire_offsets", data=offsets)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    logger.info("saved network (%d wires) to %s", network.n_wires, target)


def load_network(path: str | PathLike[str]) -> NanowireNetwork:
    """Read a network written by :func:`save_network`.

    Raises
    ------
    DataError
        If the file is missing, not HDF5, of another format or version, or its
        contents are inconsistent.
    """
    import h5py

    from nwnrc.network._network import NanowireNetwork

    target = Path(path)
    if not target.is_file():
        raise DataError(
            f"network file {str(target)!r} does not exist; build one with "
            "'nwnrc network build'"
        )
    try:
        with h5py.File(target, "r") as h5:
            fmt = h5.attrs.get("format")
            version = h5.attrs.get("format_version")
            if fmt != FORMAT_NAME or version != FORMAT_VERSION:
                raise DataError(
                    f"{str(target)!r} is not an nwnrc network file of version "
                    f"{FORMAT_VERSION} (format {fmt!r}, version {version!r}); "
                    "rebuild it with 'nwnrc network build'"
                )
            values = {}
            for f in fields(NetworkParams):
                if f.name not in h5.attrs:
                    raise DataError(
                        f"{str(target)!r} lacks the parameter {f.name!r}; "
                        "rebuild the file"
                    )
                raw = h5.attrs[f.name]
                values[f.name] = int(raw) if f.type in (int, "int") else float(raw)
            arrays = {name: h5[name][()] for name in _ARRAYS}
            indices = h5["pad_wire_indices"][()]
            offsets = h5["pad_wire_offsets"][()]
    except (OSError, KeyError) as exc:
        raise DataError(
            f"cannot read the network file {str(target)!r}: {exc}; rebuild it"
        ) from exc

    if len(offsets) != N_PADS + 1 or offsets[-1] != len(indices):
        raise DataError(
            f"{str(target)!r} has malformed pad contacts (offsets {offsets.tolist()}); "
            "rebuild the file"
        )
    pad_wires = [indices[offsets[p] : offsets[p + 1]] for p in range(N_PADS)]
    try:
        params = NetworkParams(**values)  # type: ignore[arg-type]
        network = NanowireNetwork(params, pad_wires=pad_wires, **arrays)
    except (ConfigError, NetworkError) as exc:
        raise DataError(f"{str(target)!r} holds an invalid network: {exc}") from exc
    if network.n_wires != params.n_wires:
        raise DataError(
            f"{str(target)!r} holds {network.n_wires} wires but its parameters say "
            f"n_wires={params.n_wires}; rebuild the file"
        )
    logger.info("loaded network (%d wires) from %s", network.n_wires, target)
    return network
