"""The recording schema: every field survives a write and a read, the units are on
the datasets, and each structural fault is refused with a DataError."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from nwnrc.errors import DataError
from nwnrc.recording import (
    FORMAT,
    FORMAT_VERSION,
    Recording,
    is_recording,
    read_recording,
    write_recording,
)


def full_recording() -> Recording:
    rng = np.random.default_rng(4)
    n, m, t = 5, 3, 7
    return Recording(
        pads=rng.normal(size=(n, m, t)),
        input=rng.normal(size=(n, t)),
        labels=[3, 1, 4, 1, 5],
        dt_s=2.5e-4,
        pad_numbers=(1, 12, 15),
        n_train=3,
        source_pad=4,
        drain_pads=(11, 0),
        kind="simulated",
        v_min=0.1,
        v_max=2.0,
        source_current=rng.normal(size=(n, t)) * 1e-6,
        conductance=rng.uniform(1e-7, 1e-5, (n, t)),
        stimulus=rng.uniform(0, 1, (n, t)),
        stream=[0, 0, 0, 1, 1],
        device={"material": "Ag2Se", "wires": 500, "coated": True, "density": 0.15},
        instrument={"model": "NI USB-6363", "sample_rate_hz": 4000.0},
        config={"seed": 7, "encoding": {"v_min": 0.1, "order": [1, 2]}},
    )


def test_every_field_survives_the_round_trip(tmp_path: Path) -> None:
    rec = full_recording()
    path = write_recording(tmp_path / "rec.h5", rec)
    back = read_recording(path)
    for name in ("pads", "input", "source_current", "conductance", "stimulus"):
        got, want = getattr(back, name), getattr(rec, name)
        assert got.dtype == np.float32, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    np.testing.assert_array_equal(back.labels, [3, 1, 4, 1, 5])
    assert back.labels.dtype == np.int64
    np.testing.assert_array_equal(back.stream, [0, 0, 0, 1, 1])
    assert back.stream is not None and back.stream.dtype == np.int32
    assert back.dt_s == 2.5e-4
    assert back.pad_numbers == (1, 12, 15)
    assert (back.n_train, back.source_pad, back.drain_pads) == (3, 4, (11, 0))
    assert (back.kind, back.v_min, back.v_max) == ("simulated", 0.1, 2.0)
    assert back.device == rec.device
    assert type(back.device["wires"]) is int
    assert type(back.device["coated"]) is bool
    assert back.instrument == rec.instrument
    assert back.config == rec.config


def test_the_file_carries_format_and_units(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "rec.h5", full_recording())
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == FORMAT
        assert f.attrs["format_version"] == FORMAT_VERSION
        units = {
            name: f[name].attrs["units"]
            for name in f
            if isinstance(f[name], h5py.Dataset)
        }
        assert json.loads(f.attrs["config"])["seed"] == 7
        assert f["device"].attrs["material"] == "Ag2Se"
    assert units == {
        "pads": "V",
        "input": "V",
        "labels": "1",
        "source_current": "A",
        "conductance": "S",
        "stimulus": "1",
        "stream": "1",
    }


def test_a_minimal_recording_keeps_its_defaults(tmp_path: Path) -> None:
    rec = Recording(
        pads=np.ones((2, 1, 3)),
        input=np.zeros((2, 3)),
        labels=[0, 1],
        dt_s=1e-3,
        pad_numbers=(2,),
        n_train=2,
    )
    back = read_recording(write_recording(tmp_path / "min.h5", rec))
    assert math.isnan(back.v_min) and math.isnan(back.v_max)
    assert (back.source_pad, back.drain_pads, back.kind) == (-1, (), "recorded")
    assert back.source_current is None and back.stream is None
    assert (back.device, back.instrument, back.config) == ({}, {}, {})


def test_series_can_be_skipped(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "rec.h5", full_recording())
    back = read_recording(path, series=False)
    assert back.source_current is None and back.conductance is None
    assert back.stimulus is None
    assert back.stream is not None  # the stream ids are not a per-step series


def test_writing_replaces_a_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "rec.h5"
    write_recording(path, full_recording())
    rec = full_recording()
    rec.labels[:] = 9
    write_recording(path, rec)
    assert read_recording(path).labels.tolist() == [9] * 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.h5"]


def test_is_recording(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "rec.h5", full_recording())
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1]
    text = tmp_path / "t.txt"
    text.write_text("hello")
    assert is_recording(path)
    assert not is_recording(other)
    assert not is_recording(text)
    assert not is_recording(tmp_path / "absent.h5")


def test_input_values() -> None:
    rec = full_recording()
    assert rec.stimulus is not None
    np.testing.assert_array_equal(rec.input_values(), rec.stimulus)
    # from v_min/v_max: 0.1 V is 0, 2.0 V is 1, 1.05 V is 0.5
    rec = Recording(
        pads=np.zeros((1, 1, 3)),
        input=[[0.1, 2.0, 1.05]],
        labels=[0],
        dt_s=1,
        pad_numbers=(0,),
        n_train=1,
        v_min=0.1,
        v_max=2.0,
    )
    np.testing.assert_allclose(rec.input_values(), [[0.0, 1.0, 0.5]], atol=1e-6)
    # no encoding: the input's own range
    rec.v_min = rec.v_max = math.nan
    np.testing.assert_allclose(rec.input_values(), [[0.0, 1.0, 0.5]], atol=1e-6)
    rec.input[:] = 3.0
    np.testing.assert_array_equal(rec.input_values(), [[0.0, 0.0, 0.0]])


def kwargs(**change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "pads": np.zeros((4, 2, 5)),
        "input": np.zeros((4, 5)),
        "labels": [0, 1, 2, 3],
        "dt_s": 1e-3,
        "pad_numbers": (1, 2),
        "n_train": 2,
    }
    base.update(change)
    return base


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"pads": np.zeros((4, 5))},
            r"pads must have shape \(samples, channels, steps\)",
        ),
        (
            {"pads": np.zeros((0, 2, 5)), "input": np.zeros((0, 5)), "labels": []},
            "needs samples, channels and steps",
        ),
        (
            {"input": np.zeros((4, 6))},
            r"input must have shape \(samples, steps\) = "
            r"\(4, 5\)",
        ),
        ({"labels": [0, 1, 2]}, r"labels must have one entry per sample \(4\)"),
        ({"source_current": np.zeros((4, 4))}, "source_current must have shape"),
        ({"conductance": np.zeros((3, 5))}, "conductance must have shape"),
        ({"stimulus": np.zeros(5)}, "stimulus must have shape"),
        ({"stream": [0, 0, 1]}, r"stream must have one entry per sample \(4\)"),
        ({"stream": [0, 1, 0, 1]}, "never decrease"),
        ({"stream": [1, 1, 1, 1]}, "must start at 0"),
        ({"dt_s": 0.0}, "dt_s must be a positive time step"),
        ({"dt_s": math.nan}, "dt_s must be a positive time step"),
        ({"pad_numbers": (1,)}, "pad_numbers must name the pad of each of the 2"),
        ({"pad_numbers": (1, 16)}, r"pad numbers must be 0..15, got \[16\]"),
        ({"drain_pads": (-2,)}, r"pad numbers must be 0..15, got \[-2\]"),
        ({"source_pad": 20}, r"pad numbers must be 0..15, got \[20\]"),
        ({"pad_numbers": (3, 3)}, "pad_numbers must be distinct"),
        ({"n_train": 5}, r"n_train must be in 0..4"),
        ({"n_train": -1}, r"n_train must be in 0..4"),
        ({"kind": "measured"}, "kind must be one of"),
        ({"device": {"chip": [1, 2]}}, "device metadata 'chip' must be a str"),
        ({"instrument": {"cal": {"a": 1}}}, "instrument metadata 'cal' must be"),
    ],
)
def test_structural_faults_are_refused(change: dict[str, Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        Recording(**kwargs(**change))


def test_broken_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no recording at"):
        read_recording(tmp_path / "absent.h5")
    text = tmp_path / "t.h5"
    text.write_text("not hdf5")
    with pytest.raises(DataError, match="is not a readable HDF5 file"):
        read_recording(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1]
    with pytest.raises(DataError, match="is not an nwnrc recording"):
        read_recording(other)


def newer_version(f: h5py.File) -> None:
    f.attrs["format_version"] = FORMAT_VERSION + 1


def no_labels(f: h5py.File) -> None:
    del f["labels"]


def no_dt(f: h5py.File) -> None:
    del f.attrs["dt_s"]


def longer_input(f: h5py.File) -> None:
    del f["input"]
    f["input"] = np.zeros((4, 6))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (newer_version, f"format version {FORMAT_VERSION + 1}"),
        (no_labels, "lacks the required dataset 'labels'"),
        (no_dt, "lacks the required attribute 'dt_s'"),
        (longer_input, r"input must have shape \(samples, steps\) = \(4, 5\)"),
    ],
)
def test_a_damaged_recording_is_refused(tmp_path: Path, edit: Any, match: str) -> None:
    path = write_recording(tmp_path / "rec.h5", Recording(**kwargs()))
    with h5py.File(path, "a") as f:
        edit(f)
    with pytest.raises(DataError, match=match):
        read_recording(path)
