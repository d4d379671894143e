"""Saving and loading networks (HDF5)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from nwnrc.errors import DataError
from nwnrc.network import NanowireNetwork, NetworkParams, generate_network

ARRAYS = ("centres", "angles", "lengths", "junction_wires", "junction_points")


def _assert_same(a, b):
    assert a.params == b.params
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)
    assert len(a.pad_wires) == len(b.pad_wires) == 16
    for x, y in zip(a.pad_wires, b.pad_wires, strict=True):
        assert x.dtype == y.dtype == np.int64
        np.testing.assert_array_equal(x, y)


def test_round_trip_is_exact(tmp_path):
    params = NetworkParams(
        n_wires=321,
        chip_size_um=70.5,
        length_mean_um=11.25,
        length_std_um=1.5,
        pad_size_um=3.75,
        seed=77,
    )
    net = generate_network(params)
    path = tmp_path / "net.h5"
    net.save(path)
    loaded = NanowireNetwork.load(path)
    _assert_same(net, loaded)
    assert loaded.summary() == net.summary()
    # Every parameter is stored where other HDF5 tools can read it.
    with h5py.File(path, "r") as h5:
        for name, value in params.as_dict().items():
            assert h5.attrs[name] == value
    assert [p.name for p in tmp_path.iterdir()] == ["net.h5"]


def test_save_overwrites_atomically_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "net.h5"
    first = generate_network(NetworkParams(n_wires=50, seed=1))
    first.save(path)
    second = generate_network(NetworkParams(n_wires=60, seed=2))
    second.save(str(path))
    _assert_same(NanowireNetwork.load(path), second)

    # A failure while writing keeps the old file whole and removes the temporary.
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_dataset", broken)
    with pytest.raises(OSError, match="disk full"):
        first.save(path)
    monkeypatch.undo()
    _assert_same(NanowireNetwork.load(path), second)
    assert [p.name for p in tmp_path.iterdir()] == ["net.h5"]


def test_load_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        NanowireNetwork.load(tmp_path / "nothing.h5")


def test_save_into_missing_folder(tmp_path):
    net = generate_network(NetworkParams(n_wires=10))
    with pytest.raises(DataError, match="does not exist"):
        net.save(tmp_path / "no" / "net.h5")


def test_load_rejects_other_files(tmp_path):
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(DataError, match="cannot read"):
        NanowireNetwork.load(text)

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as h5:
        h5.attrs["format"] = "something else"
    with pytest.raises(DataError, match="not an nwnrc network file"):
        NanowireNetwork.load(other)


def test_load_rejects_corrupt_contents(tmp_path):
    path = tmp_path / "net.h5"
    generate_network(NetworkParams(n_wires=40, seed=5)).save(path)
    with h5py.File(path, "a") as h5:
        h5.attrs["n_wires"] = 41
    with pytest.raises(DataError, match="41"):
        NanowireNetwork.load(path)
    with h5py.File(path, "a") as h5:
        h5.attrs["n_wires"] = 40
        del h5["angles"]
    with pytest.raises(DataError, match="cannot read"):
        NanowireNetwork.load(path)
