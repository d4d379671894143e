"""Read and write IDX files, the format of the original MNIST distribution.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
data in C order, big-endian. The magic number is two zero bytes, a type code and the
number of dimensions:

========  =========
type code  data type
========  =========
0x08      uint8
0x09      int8
0x0B      int16
0x0C      int32
0x0D      float32
0x0E      float64
========  =========

Files may be gzip-compressed; that is recognised from the content, not the name.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from nwnrc.errors import DataError

logger = logging.getLogger(__name__)

__all__ = ["read_idx", "write_idx"]

_GZIP_MAGIC = b"\x1f\x8b"

_CODE_TO_DTYPE: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_KIND_TO_CODE = {(dt.kind, dt.itemsize): code for code, dt in _CODE_TO_DTYPE.items()}


def _read_bytes(path: Path) -> bytes:
    """Return the file content, decompressed if it is gzip."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(
            f"IDX file {str(path)!r} does not exist; check the path."
        ) from None
    except OSError as exc:
        raise DataError(f"IDX file {str(path)!r} cannot be read: {exc}") from exc
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"gzipped IDX file {str(path)!r} is truncated or corrupt ({exc}); "
            "download it again."
        ) from exc


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzipped or not) into an array.

    Parameters
    ----------
    path : str or path-like
        The file, e.g. ``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        An array of the stored shape in native byte order: ``uint8`` for the MNIST
        files, (n, 28, 28) for images and (n,) for labels.

    Raises
    ------
    DataError
        If the file is missing, shorter than its header says (truncated), longer
        (trailing bytes), has a wrong magic number or an unknown type code.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "labels-idx1-ubyte"
    ...     write_idx(path, np.array([5, 0, 4], np.uint8))
    ...     read_idx(path)
    array([5, 0, 4], dtype=uint8)
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(
            f"IDX file {str(path)!r} is truncated: {len(data)} bytes, shorter than "
            "the 4-byte magic number; download it again."
        )

    zero, code, ndim = struct.unpack_from(">HBB", data)
    if zero != 0 or code not in _CODE_TO_DTYPE or ndim == 0:
        raise DataError(
            f"IDX file {str(path)!r} has the wrong magic number 0x{data[:4].hex()}; "
            "expected 0x0000 followed by a type code (0x08 for ubyte) and the number "
            "of dimensions. It is not an IDX file."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"IDX file {str(path)!r} is truncated: {len(data)} bytes, shorter than "
            f"its {header}-byte header; download it again."
        )

    shape = struct.unpack_from(f">{ndim}I", data, 4)
    dtype = _CODE_TO_DTYPE[code]
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) < expected:
        raise DataError(
            f"IDX file {str(path)!r} is truncated: {len(data)} bytes, but its header "
            f"(shape {shape}, {dtype.name}) needs {expected}; download it again."
        )
    if len(data) > expected:
        raise DataError(
            f"IDX file {str(path)!r} has {len(data) - expected} trailing bytes after "
            f"the data that its header (shape {shape}) describes; it is corrupt."
        )

    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an array as an IDX file, gzipped when the name ends in ``.gz``.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    array : numpy.ndarray
        At least one dimension, each below 2**32; dtype uint8, int8, int16, int32,
        float32 or float64.

    Raises
    ------
    DataError
        If the dtype or shape cannot be stored in IDX.
    """
    array = np.asarray(array)
    code = _KIND_TO_CODE.get((array.dtype.kind, array.dtype.itemsize))
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise DataError(
            f"array of dtype {array.dtype} and shape {array.shape} cannot be written "
            "as IDX; use uint8, int8, int16, int32, float32 or float64 with 1 to 255 "
            "dimensions."
        )
    if any(n >= 2**32 for n in array.shape):
        raise DataError(f"array shape {array.shape} has a dimension of 2**32 or more.")

    header = struct.pack(">HBB", 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    content = header + body
    path = Path(path)
    if path.suffix == ".gz":
        content = gzip.compress(content, mtime=0)
    path.write_bytes(content)
