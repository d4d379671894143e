"""IDX reading and writing."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from nwnrc.data import read_idx, write_idx
from nwnrc.errors import DataError


def test_read_hand_written_label_file(tmp_path: Path) -> None:
    # magic 0x00000801 (ubyte, 1 dimension), count 3, then the bytes.
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + bytes([5, 0, 4]))
    labels = read_idx(path)
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, [5, 0, 4])


def test_read_hand_written_big_endian_int16(tmp_path: Path) -> None:
    # magic 0x00000B02 (int16, 2 dimensions), 2 x 2, values big-endian.
    body = struct.pack(">4h", 1, -2, 300, -32768)
    path = tmp_path / "matrix-idx2-short"
    path.write_bytes(b"\x00\x00\x0b\x02" + struct.pack(">2I", 2, 2) + body)
    matrix = read_idx(path)
    assert matrix.dtype == np.int16 and matrix.dtype.isnative
    np.testing.assert_array_equal(matrix, [[1, -2], [300, -32768]])


def test_write_matches_the_format_byte_for_byte(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "images-idx3-ubyte", images)
    expected = b"\x00\x00\x08\x03" + struct.pack(">3I", 2, 3, 4) + bytes(range(24))
    assert (tmp_path / "images-idx3-ubyte").read_bytes() == expected


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_round_trip_uint8_images(tmp_path: Path, name: str) -> None:
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / name, images)
    is_gzip = (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
    assert is_gzip == name.endswith(".gz")
    back = read_idx(tmp_path / name)
    assert back.dtype == np.uint8 and back.shape == (5, 28, 28)
    np.testing.assert_array_equal(back, images)


@pytest.mark.parametrize("dtype", ["i1", "i2", "i4", "f4", "f8"])
def test_round_trip_other_dtypes(tmp_path: Path, dtype: str) -> None:
    array = np.array([[-3, 0], [7, 100]], dtype=dtype)
    write_idx(tmp_path / "a.gz", array)
    back = read_idx(tmp_path / "a.gz")
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_gzip_recognised_by_content_not_name(tmp_path: Path) -> None:
    raw = b"\x00\x00\x08\x01\x00\x00\x00\x02\x09\x01"
    (tmp_path / "labels").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [9, 1])


def _labels_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(content)
    return path


GOOD = b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x00\x04"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD[:-1], "truncated: 10 bytes.*needs 11"),
        (GOOD[:6], "truncated: 6 bytes, shorter than its 8-byte header"),
        (GOOD[:2], "truncated: 2 bytes"),
        (GOOD + b"\x00", "1 trailing bytes"),
        (b"\x00\x01" + GOOD[2:], "wrong magic number 0x00010801"),
        (b"\x00\x00\x07\x01" + GOOD[4:], "wrong magic number 0x00000701"),
        (b"\x00\x00\x08\x00" + GOOD[4:], "wrong magic number 0x00000800"),
        (b"PK\x03\x04" + GOOD[4:], "wrong magic number 0x504b0304"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_idx(_labels_file(tmp_path, content))


def test_truncated_gzip(tmp_path: Path) -> None:
    path = _labels_file(tmp_path, gzip.compress(GOOD * 100)[:-10])
    with pytest.raises(DataError, match=r"gzipped IDX file .* truncated or corrupt"):
        read_idx(path)


def test_truncated_data_inside_valid_gzip(tmp_path: Path) -> None:
    path = _labels_file(tmp_path, gzip.compress(GOOD[:-2]))
    with pytest.raises(DataError, match=r"truncated: 9 bytes"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist"):
        read_idx(tmp_path / "nothing-idx1-ubyte")


def test_write_refuses_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot be written as IDX"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))
