"""Sweep files: parsing, expansion into points, and the errors of a bad file."""

from __future__ import annotations

import doctest
import hashlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

import nwnrc.sweep
from nwnrc.errors import ConfigError
from nwnrc.experiments import MnistConfig
from nwnrc.sweep import SweepSpec, _report, _spec, read_sweep, sweep_from_dict
from nwnrc.sweep._report import flatten_metrics

GRID_TOML = """
experiment = "mnist"
repeats = 2
data = "digits.npz"

[base]
n_train = 60
shuffles = 1

[grid]
network = [
    { n_wires = 100, chip_size_um = 40.0 },
    { n_wires = 200, chip_size_um = 49.0 },
]
v_max = [1, 2.5]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_grid_expands_to_the_product_repeat_by_repeat(tmp_path: Path) -> None:
    spec = read_sweep(_write(tmp_path, GRID_TOML))
    points = spec.expand()
    # 2 networks x 2 amplitudes x 2 repeats; the first axis varies slowest and the
    # repeat slowest of all
    expected = [
        (r, n, c, v)
        for r in (0, 1)
        for n, c in ((100, 40.0), (200, 49.0))
        for v in (1.0, 2.5)
    ]
    got = [
        (
            p.repeat,
            p.config["n_wires"],
            p.config["chip_size_um"],
            p.config["v_max"],
        )
        for p in points
    ]
    assert got == expected
    assert [p.index for p in points] == list(range(8))
    assert spec.swept_fields() == ["n_wires", "chip_size_um", "v_max"]


def test_repeat_offsets_both_seeds_and_keeps_the_rest(tmp_path: Path) -> None:
    points = read_sweep(_write(tmp_path, GRID_TOML)).expand()
    for p in points:
        assert p.config["network_seed"] == p.repeat
        assert p.config["seed"] == p.repeat
        assert p.config["n_train"] == 60
        # every other field is the MnistConfig default
        assert p.config["n_test"] == MnistConfig().n_test


def test_repeat_seeds_can_be_chosen(tmp_path: Path) -> None:
    text = GRID_TOML.replace("repeats = 2", 'repeats = 3\nrepeat_seeds = ["seed"]')
    points = read_sweep(_write(tmp_path, text)).expand()
    assert {p.config["network_seed"] for p in points} == {0}
    assert sorted({p.config["seed"] for p in points}) == [0, 1, 2]


def test_point_id_is_the_hash_of_the_full_config(tmp_path: Path) -> None:
    point = read_sweep(_write(tmp_path, GRID_TOML)).expand()[5]
    config = MnistConfig.from_dict(
        {
            "n_train": 60,
            "shuffles": 1,
            "n_wires": 100,
            "chip_size_um": 40.0,
            "v_max": 2.5,
            "network_seed": 1,
            "seed": 1,
        }
    ).to_dict()
    canonical = json.dumps(
        {"experiment": "mnist", "config": config},
        sort_keys=True,
        separators=(",", ":"),
    )
    assert point.point_id == hashlib.sha256(canonical.encode()).hexdigest()[:12]
    assert point.config == config
    assert point.params == {"n_wires": 100, "chip_size_um": 40.0, "v_max": 2.5}


def test_integer_and_float_spellings_give_one_point() -> None:
    a = sweep_from_dict({"experiment": "mnist", "grid": {"v_max": [2]}}).expand()
    b = sweep_from_dict({"experiment": "mnist", "grid": {"v_max": [2.0]}}).expand()
    assert a[0].point_id == b[0].point_id


def test_points_are_one_more_axis() -> None:
    spec = sweep_from_dict(
        {
            "experiment": "mnist",
            "points": [{"junction": "slow_decay", "v_min": 0.4}, {"n_wires": 300}],
            "grid": {"v_max": [1.0, 2.0]},
        }
    )
    got = [(p.config["junction"], p.config["v_min"], p.config["n_wires"],
            p.config["v_max"]) for p in spec.expand()]  # fmt: skip
    assert got == [
        ("slow_decay", 0.4, 500, 1.0),
        ("slow_decay", 0.4, 500, 2.0),
        ("hochstetter2021", 0.0, 300, 1.0),
        ("hochstetter2021", 0.0, 300, 2.0),
    ]


def test_no_axis_is_one_point_per_repeat() -> None:
    spec = sweep_from_dict({"experiment": "sequence", "repeats": 3})
    points = spec.expand()
    assert len(points) == 3
    assert [p.config["network_seed"] for p in points] == [0, 1, 2]
    assert points[0].config["junction"] == "slow_decay"  # the sequence default


def test_data_path_is_taken_from_the_sweep_file_folder(tmp_path: Path) -> None:
    spec = read_sweep(_write(tmp_path, GRID_TOML))
    assert spec.data == (tmp_path / "digits.npz").resolve()
    assert spec.to_dict()["data"] == str((tmp_path / "digits.npz").resolve())


def test_spec_round_trips_through_its_dict(tmp_path: Path) -> None:
    spec = read_sweep(_write(tmp_path, GRID_TOML))
    again = sweep_from_dict(spec.to_dict())
    assert [p.point_id for p in again.expand()] == [p.point_id for p in spec.expand()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"experiment": "mnist", "speed": 1}, r"unknown sweep keys \['speed'\]"),
        ({"repeats": 2}, "no experiment"),
        ({"experiment": "cifar"}, "experiment must be 'mnist' or 'sequence'"),
        ({"experiment": "mnist", "repeats": 0}, "repeats must be an integer >= 1"),
        ({"experiment": "mnist", "repeats": True}, "repeats must be an integer"),
        (
            {"experiment": "mnist", "base": {"n_wire": 5}},
            r"unknown MnistConfig keys: \['n_wire'\]; valid keys are",
        ),
        (
            {"experiment": "mnist", "grid": {"v_max": ["high"]}},
            r"point v_max=high .*MnistConfig.v_max must be of type float, got 'high'",
        ),
        (
            {"experiment": "mnist", "grid": {"v_max": [1.0, 200.0]}},
            r"point v_max=200 .*within \+-100 V",
        ),
        ({"experiment": "mnist", "grid": {"v_max": 2.0}}, "non-empty list"),
        ({"experiment": "mnist", "grid": {"v_max": []}}, "non-empty list"),
        (
            {"experiment": "mnist", "grid": {"wires": [100]}},
            r"\[grid\] wires is not a field of MnistConfig",
        ),
        (
            {"experiment": "mnist", "grid": {"net": [{"n_wires": 100}, 5]}},
            "mixes tables and values",
        ),
        (
            {
                "experiment": "mnist",
                "grid": {"v_max": [1.0], "net": [{"v_max": 2.0}]},
            },
            "v_max is set by both",
        ),
        (
            {
                "experiment": "mnist",
                "repeats": 2,
                "repeat_seeds": ["network_seed"],
                "grid": {"network_seed": [0, 1]},
            },
            "have the same configuration",
        ),
        (
            {"experiment": "mnist", "repeat_seeds": ["v_max"]},
            r"repeat_seeds \['v_max'\] are not integer fields",
        ),
        ({"experiment": "mnist", "points": [3]}, r"every \[\[points\]\] entry"),
        ({"experiment": "mnist", "data": 5}, "data must be a path string"),
        (
            {"experiment": "sequence", "base": {"channels": [1, 2]}},
            r"unknown SequenceConfig keys: \['channels'\]",
        ),
        (
            {"experiment": "mnist", "grid": {"channels": [[1, 2], [1, 99]]}},
            r"channels must be pad numbers in 0\.\.15, got \[1, 99\]",
        ),
        (
            {"experiment": "mnist", "base": {"channels": [1, 11]}},
            r"driven pad\(s\) 11 \(drain_pad\)",
        ),
    ],
)
def test_bad_sweeps_are_config_errors(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sweep_from_dict(data)


def test_too_many_points_are_refused() -> None:
    spec = SweepSpec(
        experiment="mnist",
        repeats=1000,
        grid={"seed": list(range(1000)), "n_test": list(range(1, 201))},
    )
    with pytest.raises(ConfigError, match="more than 100000"):
        spec.expand()


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "experiment = mnist\n")
    with pytest.raises(ConfigError, match=r"sweep.toml is not valid TOML"):
        read_sweep(path)


def test_flatten_metrics_keeps_numbers_only() -> None:
    metrics = {
        "online_accuracy": {"1": {"mean": 0.8, "std": 0.01, "runs": [0.79, 0.81]}},
        "per_class_accuracy": [0.9] * 10,
        "findings": {"saturation_window": 5, "class_ranking": {"2": ["1", "7"]}},
        "ok": True,
        "config": {"n_train": 10},
        "data_source": "x",
    }
    assert flatten_metrics(metrics) == {
        "online_accuracy.1.mean": 0.8,
        "online_accuracy.1.std": 0.01,
        "findings.saturation_window": 5,
    }


@pytest.mark.parametrize("module", [_spec, _report], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: Any) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", nwnrc.sweep.__all__)
def test_public_names_are_documented(name: str) -> None:
    doc = inspect.getdoc(getattr(nwnrc.sweep, name)) or ""
    assert len(doc) > 40, name
