"""MNIST loading: local files, validation, the cache, the mirror route, real data."""

from __future__ import annotations

import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

from nwnrc.data import MnistSplits, default_cache_dir, load_mnist, write_idx
from nwnrc.data._mnist import _fetch, _write_cache
from nwnrc.errors import DataError

N_TRAIN, N_TEST = 12, 4  # 12 // 6 = 2 validation samples carved off the end


def _raw(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, size=(N_TRAIN, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=N_TRAIN).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(N_TEST, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=N_TEST).astype(np.uint8),
    }


def _unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) / 255.0


def _assert_matches_raw(splits: MnistSplits, raw: dict[str, np.ndarray]) -> None:
    """Train is the first 10, validation the last 2 of the 12 training samples."""
    np.testing.assert_allclose(
        splits.train_images, _unit(raw["x_train"][:10]), rtol=1e-7
    )
    np.testing.assert_allclose(splits.val_images, _unit(raw["x_train"][10:]), rtol=1e-7)
    np.testing.assert_allclose(splits.test_images, _unit(raw["x_test"]), rtol=1e-7)
    np.testing.assert_array_equal(splits.train_labels, raw["y_train"][:10])
    np.testing.assert_array_equal(splits.val_labels, raw["y_train"][10:])
    np.testing.assert_array_equal(splits.test_labels, raw["y_test"])
    assert splits.train_images.dtype == np.float32
    assert splits.train_labels.dtype == np.int64


# ---------------------------------------------------------------------------------
# Local .npz


def test_npz_without_validation(tmp_path: Path) -> None:
    raw = _raw()
    np.savez(tmp_path / "m.npz", **raw)
    splits = load_mnist(path=tmp_path / "m.npz")
    _assert_matches_raw(splits, raw)
    assert splits.source == str(tmp_path / "m.npz")
    assert repr(splits).startswith("MnistSplits(train=10, val=2, test=4")


def test_npz_with_validation_and_flat_float_images(tmp_path: Path) -> None:
    raw = _raw()
    flat = {
        k: v.reshape(len(v), 784) / 255.0 if k[0] == "x" else v for k, v in raw.items()
    }
    flat["x_val"], flat["y_val"] = flat["x_test"][:1], flat["y_test"][:1]
    np.savez(tmp_path / "m.npz", **flat)
    splits = load_mnist(path=tmp_path / "m.npz")
    assert splits.train_images.shape == (N_TRAIN, 28, 28)
    assert splits.val_images.shape == (1, 28, 28)
    np.testing.assert_allclose(splits.val_images, _unit(raw["x_test"][:1]), rtol=1e-7)


def test_splits_are_read_only(tmp_path: Path) -> None:
    np.savez(tmp_path / "m.npz", **_raw())
    splits = load_mnist(path=tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"read-only"):
        splits.train_images[0, 0, 0] = 0.5


def _with(raw: dict[str, np.ndarray], **changes: np.ndarray) -> dict[str, np.ndarray]:
    out = dict(raw)
    out.update(changes)
    return out


def _float_train(value: float) -> np.ndarray:
    x = _raw()["x_train"] / 255.0
    x[3, 4, 5] = value
    return x


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"x_train": _float_train(np.nan)},
            r"NaN or infinite pixel at index \(3, 4, 5\)",
        ),
        ({"x_train": _float_train(np.inf)}, "NaN or infinite"),
        ({"x_train": _float_train(1.5)}, r"pixels from 0.0 to 1.5, outside \[0, 1\]"),
        ({"x_train": _float_train(-0.25)}, r"from -0.25 to .*outside \[0, 1\]"),
        ({"x_train": np.full((N_TRAIN, 28, 28), 256, np.int32)}, "0..255"),
        (
            {"y_train": np.full(N_TRAIN, 10)},
            "labels from 10 to 10; MNIST labels are 0..9",
        ),
        ({"y_train": np.zeros(N_TRAIN, np.float32)}, "expected integer class labels"),
        ({"y_test": np.zeros(N_TEST + 1, np.uint8)}, "test split has 4 images but 5"),
        (
            {"y_train": np.zeros(N_TRAIN - 1, np.uint8)},
            "train split has 12 images but 11",
        ),
        ({"x_test": np.zeros((N_TEST, 27, 27), np.uint8)}, r"shape \(4, 27, 27\)"),
        ({"x_test": np.zeros((N_TEST, 783), np.uint8)}, r"shape \(4, 783\)"),
        ({"y_test": np.zeros((N_TEST, 1), np.uint8)}, "expected a 1-D array"),
        ({"x_test": np.zeros((N_TEST, 28, 28), np.complex64)}, "dtype complex64"),
        ({"x_val": np.zeros((1, 28, 28), np.uint8)}, "only one of x_val and y_val"),
    ],
)
def test_npz_bad_data(tmp_path: Path, changes: dict, message: str) -> None:
    np.savez(tmp_path / "bad.npz", **_with(_raw(), **changes))
    with pytest.raises(DataError, match=message):
        load_mnist(path=tmp_path / "bad.npz")


def test_npz_missing_key(tmp_path: Path) -> None:
    raw = _raw()
    del raw["y_test"]
    np.savez(tmp_path / "m.npz", **raw)
    with pytest.raises(DataError, match=r"lacks the keys \['y_test'\]"):
        load_mnist(path=tmp_path / "m.npz")


def test_npz_with_pickled_objects_is_refused(tmp_path: Path) -> None:
    raw = _with(_raw(), y_test=np.array([1, 2, "x", None], dtype=object))
    np.savez(tmp_path / "m.npz", **raw)
    with pytest.raises(DataError, match=r"pickled objects"):
        load_mnist(path=tmp_path / "m.npz")


def test_npz_truncated(tmp_path: Path) -> None:
    np.savez(tmp_path / "m.npz", **_raw())
    content = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(content[: len(content) // 2])
    with pytest.raises(DataError, match=r"truncated, corrupt"):
        load_mnist(path=tmp_path / "m.npz")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist"):
        load_mnist(path=tmp_path / "nothing")


# ---------------------------------------------------------------------------------
# Local IDX directory and local pickle


def _write_idx_dir(folder: Path, raw: dict[str, np.ndarray]) -> None:
    folder.mkdir(exist_ok=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", raw["x_train"])
    write_idx(folder / "train-labels-idx1-ubyte", raw["y_train"])
    write_idx(folder / "t10k-images-idx3-ubyte", raw["x_test"])
    write_idx(folder / "t10k-labels.idx1-ubyte.gz", raw["y_test"])  # variant name


def test_idx_directory(tmp_path: Path) -> None:
    raw = _raw()
    _write_idx_dir(tmp_path, raw)
    splits = load_mnist(path=tmp_path)
    _assert_matches_raw(splits, raw)


def test_idx_directory_missing_file(tmp_path: Path) -> None:
    _write_idx_dir(tmp_path, _raw())
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(DataError, match=r"no IDX file t10k-images-idx3-ubyte"):
        load_mnist(path=tmp_path)


def test_idx_counts_differ(tmp_path: Path) -> None:
    raw = _raw()
    _write_idx_dir(tmp_path, _with(raw, y_test=raw["y_test"][:3]))
    with pytest.raises(DataError, match=r"test split has 4 images but 3 labels"):
        load_mnist(path=tmp_path)


def test_idx_wrong_dtype_and_dims(tmp_path: Path) -> None:
    raw = _raw()
    _write_idx_dir(tmp_path, _with(raw, x_test=raw["x_test"].astype(np.int16)))
    with pytest.raises(DataError, match=r"holds int16 data"):
        load_mnist(path=tmp_path)
    _write_idx_dir(tmp_path, _with(raw, x_test=raw["x_test"].reshape(N_TEST, 784)))
    with pytest.raises(DataError, match=r"with 3 dimension"):
        load_mnist(path=tmp_path)


def test_local_classic_pickle(tmp_path: Path) -> None:
    raw = _raw()
    classic = (
        (
            (raw["x_train"][:10] / 256).reshape(10, 784).astype(np.float32),
            raw["y_train"][:10],
        ),
        (
            (raw["x_train"][10:] / 256).reshape(2, 784).astype(np.float32),
            raw["y_train"][10:],
        ),
        ((raw["x_test"] / 256).reshape(N_TEST, 784).astype(np.float32), raw["y_test"]),
    )
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(classic, protocol=2)))
    _assert_matches_raw(load_mnist(path=path), raw)


# ---------------------------------------------------------------------------------
# Cache


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NWNRC_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("NWNRC_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "nwnrc"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "nwnrc"


def _cache_layout(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "x_train": raw["x_train"][:10],
        "y_train": raw["y_train"][:10],
        "x_val": raw["x_train"][10:],
        "y_val": raw["y_train"][10:],
        "x_test": raw["x_test"],
        "y_test": raw["y_test"],
    }


def test_cache_write_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _raw()
    _write_cache(tmp_path / "mnist.npz", _cache_layout(raw), "somewhere")
    assert [p.name for p in tmp_path.iterdir()] == ["mnist.npz"]  # no temp file left
    splits = load_mnist(cache_dir=tmp_path, allow_download=False)
    _assert_matches_raw(splits, raw)
    assert splits.source == "cache (somewhere)"

    # The environment variable is honoured when no argument is given.
    monkeypatch.setenv("NWNRC_CACHE_DIR", str(tmp_path))
    assert load_mnist(allow_download=False).source == "cache (somewhere)"


def test_cache_tampered_content_detected(tmp_path: Path) -> None:
    layout = _cache_layout(_raw())
    _write_cache(tmp_path / "mnist.npz", layout, "somewhere")
    with np.load(tmp_path / "mnist.npz") as npz:
        stored = {key: npz[key] for key in npz.files}
    stored["y_test"] = (stored["y_test"] + 1) % 10
    np.savez(tmp_path / "mnist.npz", **stored)
    with pytest.raises(DataError, match=r"cache .* is corrupt: its content SHA-256"):
        load_mnist(cache_dir=tmp_path, allow_download=False)


def test_cache_truncated(tmp_path: Path) -> None:
    _write_cache(tmp_path / "mnist.npz", _cache_layout(_raw()), "somewhere")
    content = (tmp_path / "mnist.npz").read_bytes()
    (tmp_path / "mnist.npz").write_bytes(content[:100])
    with pytest.raises(DataError, match=r"Delete it, or pass allow_download=True"):
        load_mnist(cache_dir=tmp_path, allow_download=False)


def test_no_cache_and_no_download(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no MNIST cache .* allow_download is False"):
        load_mnist(cache_dir=tmp_path, allow_download=False)


# ---------------------------------------------------------------------------------
# Web-mirror route, exercised with file:// URLs (no network)


def _mirror(folder: Path, raw: dict[str, np.ndarray]) -> dict[str, tuple[str, str]]:
    folder.mkdir()
    names = {
        "train_images": ("train-images-idx3-ubyte.gz", raw["x_train"]),
        "train_labels": ("train-labels-idx1-ubyte.gz", raw["y_train"]),
        "test_images": ("t10k-images-idx3-ubyte.gz", raw["x_test"]),
        "test_labels": ("t10k-labels-idx1-ubyte.gz", raw["y_test"]),
    }
    files = {}
    for key, (name, array) in names.items():
        write_idx(folder / name, array)
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        files[key] = (name, digest)
    return files


def test_mirror_route_fetches_checks_and_caches(tmp_path: Path) -> None:
    raw = _raw()
    files = _mirror(tmp_path / "mirror", raw)
    cache = tmp_path / "cache" / "mnist.npz"
    url = (tmp_path / "mirror").as_uri()
    fetched = _fetch(
        cache, mirror_url=url, timeout_s=10, idx_files=files, wheel_source=None
    )
    _assert_matches_raw(fetched, raw)
    assert fetched.source == url
    cached = load_mnist(cache_dir=cache.parent, allow_download=False)
    _assert_matches_raw(cached, raw)
    assert cached.source == f"cache ({url})"


def test_mirror_route_wrong_checksum(tmp_path: Path) -> None:
    files = dict(_mirror(tmp_path / "mirror", _raw()))
    files["test_labels"] = (files["test_labels"][0], "0" * 64)
    cache = tmp_path / "mnist.npz"
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz has SHA-256"):
        _fetch(
            cache,
            mirror_url=(tmp_path / "mirror").as_uri(),
            timeout_s=10,
            idx_files=files,
            wheel_source=None,
        )
    assert not cache.exists()


def test_mirror_route_refuses_other_schemes(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"scheme 'ftp'"):
        _fetch(
            tmp_path / "mnist.npz",
            mirror_url="ftp://example.invalid/mnist",
            timeout_s=1,
            wheel_source=None,
        )


# ---------------------------------------------------------------------------------
# The real data, where a cache is already present

# Class counts of the standard MNIST sets (published with the data set): the 10,000
# test labels, and the 60,000 training labels (train + validation here).
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TRAIN60K_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
# Counts of the classic pickle's validation split (the last 10,000 of the 60,000),
# counted once by hand from mnist.pkl.gz with numpy.bincount, outside this package.
VAL_COUNTS = [991, 1064, 990, 1030, 983, 915, 967, 1090, 1009, 961]


def test_real_mnist_from_cache() -> None:
    cache = default_cache_dir() / "mnist.npz"
    if not cache.exists():
        pytest.skip(f"no MNIST cache at {cache}; run nwnrc.data.load_mnist() once")
    splits = load_mnist(allow_download=False)

    assert splits.train_images.shape == (50000, 28, 28)
    assert splits.val_images.shape == (10000, 28, 28)
    assert splits.test_images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(splits.test_labels), TEST_COUNTS)
    np.testing.assert_array_equal(np.bincount(splits.val_labels), VAL_COUNTS)
    all_train = np.concatenate([splits.train_labels, splits.val_labels])
    np.testing.assert_array_equal(np.bincount(all_train), TRAIN60K_COUNTS)
    # The first labels of the training and test sets, as in every MNIST copy.
    np.testing.assert_array_equal(
        splits.train_labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    )
    np.testing.assert_array_equal(
        splits.test_labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    )

    # Pixel statistics of the 60,000 training images scaled by 1/255: the widely used
    # normalisation constants mean 0.1307, std 0.3081.
    pixels = np.concatenate([splits.train_images, splits.val_images]).astype(np.float64)
    assert pixels.mean() == pytest.approx(0.1307, abs=5e-5)
    assert pixels.std() == pytest.approx(0.3081, abs=5e-5)
    assert pixels.min() == 0.0 and pixels.max() == 1.0
