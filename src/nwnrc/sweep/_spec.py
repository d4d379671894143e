"""Sweep descriptions: a TOML file of experiment configurations, and its points.

A sweep file names an experiment, the settings every point shares, the settings that
vary (a grid of values, crossed), and how many seeded repeats each configuration gets::

    experiment = "mnist"          # or "sequence"
    repeats = 2                   # repeat r adds r to every seed in repeat_seeds
    repeat_seeds = ["network_seed", "seed"]   # the default
    data = "digits.npz"           # optional local MNIST, relative to this file

    [base]                        # fixed fields of the experiment's config
    n_train = 3000
    eval_split = "val"

    [grid]                        # every combination of these values
    v_max = [1.0, 2.0, 3.0]
    network = [                   # a linked axis: tables of fields set together
        {n_wires = 500, chip_size_um = 78.0},
        {n_wires = 1000, chip_size_um = 110.31},
    ]

    [[points]]                    # one more axis, listed value by value
    junction = "hochstetter2021"

Every point is the experiment's full configuration, checked by its ``from_dict``
before anything runs, and is known by a short hash of that configuration: the name of
its folder, and the key of its task on the cluster.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nwnrc.errors import ConfigError

#: Keys a sweep file may hold at its top level.
SWEEP_KEYS = ("experiment", "repeats", "repeat_seeds", "data", "base", "grid", "points")
#: Most points one sweep may expand to (a typo in a grid should not make millions).
MAX_POINTS = 100_000
#: Hex digits of a point's id.
ID_LENGTH = 12


@dataclass(frozen=True)
class Experiment:
    """An experiment a sweep can run: its config class and its run function."""

    name: str
    config_class: Any
    run: Callable[..., dict[str, Any]]
    #: default metric columns of the report (dotted paths into metrics.json)
    headline: Callable[[dict[str, Any]], list[str]]


def _mnist_headline(config: dict[str, Any]) -> list[str]:
    largest = len(config["channels"])
    return [f"{m}_accuracy.{largest}.mean" for m in config["methods"]]


def _sequence_headline(config: dict[str, Any]) -> list[str]:
    return [f"ssim_mean.{config['max_window']}"]


def experiment(name: str) -> Experiment:
    """The experiment called ``name`` ("mnist" or "sequence")."""
    if name == "mnist":
        from nwnrc.experiments import MnistConfig, run_mnist

        return Experiment("mnist", MnistConfig, run_mnist, _mnist_headline)
    if name == "sequence":
        from nwnrc.experiments._sequence import SequenceConfig, run_sequence

        return Experiment("sequence", SequenceConfig, run_sequence, _sequence_headline)
    raise ConfigError(
        f"experiment must be 'mnist' or 'sequence', got {name!r}; set "
        'experiment = "mnist" in the sweep file'
    )


@dataclass(frozen=True)
class SweepPoint:
    """One configuration of a sweep: one task, one folder, one row of the table.

    Attributes
    ----------
    index : int
        Position in the sweep (the order of submission and of the table).
    point_id : str
        Hash of the experiment name and the full configuration (12 hex digits).
    repeat : int
        Repeat number, 0 .. repeats - 1.
    params : dict
        The swept settings as the sweep file gives them (before the repeat's seed
        offset).
    config : dict
        The experiment's full configuration in plain-dict form.
    """

    index: int
    point_id: str
    repeat: int
    params: dict[str, Any]
    config: dict[str, Any]

    def folder(self, out_dir: str | Path) -> Path:
        """The point's run folder inside the sweep folder ``out_dir``."""
        return Path(out_dir) / "points" / self.point_id

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (what a task receives)."""
        return {
            "index": self.index,
            "point_id": self.point_id,
            "repeat": self.repeat,
            "params": self.params,
            "config": self.config,
        }

    def describe(self) -> str:
        """The swept settings and repeat in one line."""
        parts = [f"{k}={_short(v)}" for k, v in self.params.items()]
        return " ".join([*parts, f"repeat={self.repeat}"])


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file.

    Parameters
    ----------
    experiment : {"mnist", "sequence"}
        The experiment each point runs.
    repeats : int
        Seeded repeats of every configuration.
    repeat_seeds : tuple of str
        Config fields that repeat ``r`` offsets by ``r``.
    base : dict
        Config fields every point shares.
    grid : dict
        Axes crossed with one another: a config field and its list of values, or a
        label and a list of tables of fields set together.
    points : list of dict
        Explicit configurations: one more axis of the product.
    data : path, optional
        Local MNIST file or folder (absolute); None reads the cache.
    source : str
        Where the spec came from (for messages).

    Examples
    --------
    >>> spec = sweep_from_dict(
    ...     {"experiment": "mnist", "repeats": 2, "grid": {"v_max": [1, 2]}}
    ... )
    >>> [p.describe() for p in spec.expand()]
    ['v_max=1 repeat=0', 'v_max=2 repeat=0', 'v_max=1 repeat=1', 'v_max=2 repeat=1']
    >>> spec.expand()[2].config["network_seed"]
    1
    """

    experiment: str
    repeats: int = 1
    repeat_seeds: tuple[str, ...] = ("network_seed", "seed")
    base: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)
    data: Path | None = None
    source: str = "sweep"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, stamped in the sweep folder (``data`` absolute)."""
        return {
            "experiment": self.experiment,
            "repeats": self.repeats,
            "repeat_seeds": list(self.repeat_seeds),
            "base": self.base,
            "grid": self.grid,
            "points": self.points,
            "data": str(self.data) if self.data is not None else None,
        }

    def axes(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """The axes of the product, each as a name and a list of field tables."""
        axes: list[tuple[str, list[dict[str, Any]]]] = []
        if self.points:
            axes.append(("points", self.points))
        for name, values in self.grid.items():
            if all(isinstance(v, dict) for v in values):
                axes.append((name, values))
            else:
                axes.append((name, [{name: v} for v in values]))
        return axes

    def swept_fields(self) -> list[str]:
        """Config fields that some axis sets, in the order of the axes."""
        names: list[str] = []
        for _, tables in self.axes():
            for table in tables:
                names += [k for k in table if k not in names]
        return names

    def expand(self) -> list[SweepPoint]:
        """Every point of the sweep, checked; repeat by repeat, in file order.

        Raises
        ------
        ConfigError
            If a point is not a valid configuration of the experiment, or two points
            have the same configuration.
        """
        cls = experiment(self.experiment).config_class
        axes = [tables for _, tables in self.axes()]
        n = math.prod(len(t) for t in axes) * self.repeats
        if n > MAX_POINTS:
            raise ConfigError(
                f"{self.source}: the sweep has {n} points, more than {MAX_POINTS}; "
                "split it into several sweep files"
            )
        combos = list(itertools.product(*axes))
        points: list[SweepPoint] = []
        seen: dict[str, SweepPoint] = {}
        for r in range(self.repeats):
            for combo in combos:
                params: dict[str, Any] = {}
                for table in combo:
                    params.update(table)
                merged = {**self.base, **params}
                point = self._point(cls, len(points), r, params, merged)
                if point.point_id in seen:
                    raise ConfigError(
                        f"{self.source}: the points ({seen[point.point_id].describe()})"
                        f" and ({point.describe()}) have the same configuration: "
                        "a value is listed twice, or a repeat's seed offset lands "
                        "on a swept seed value (sweep the seeds or use repeats, "
                        "not both)"
                    )
                seen[point.point_id] = point
                points.append(point)
        return points

    def _point(
        self,
        cls: Any,
        index: int,
        repeat: int,
        params: dict[str, Any],
        merged: dict[str, Any],
    ) -> SweepPoint:
        try:
            config = cls.from_dict(merged).to_dict()
        except ConfigError as exc:
            where = " ".join(f"{k}={_short(v)}" for k, v in params.items())
            raise ConfigError(
                f"{self.source}: the point {where or '[base]'} is not a valid "
                f"{cls.__name__}: {exc}"
            ) from None
        if repeat:
            for name in self.repeat_seeds:
                config[name] += repeat
            config = cls.from_dict(config).to_dict()
        return SweepPoint(
            index, point_id(self.experiment, config), repeat, params, config
        )


def point_id(experiment_name: str, config: dict[str, Any]) -> str:
    """Stable id of a configuration: the start of the SHA-256 of its canonical JSON.

    Examples
    --------
    >>> point_id("mnist", {"v_max": 2.0}) == point_id("mnist", {"v_max": 2.0})
    True
    >>> len(point_id("mnist", {"v_max": 2.0}))
    12
    """
    text = json.dumps(
        {"experiment": experiment_name, "config": config},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:ID_LENGTH]


def read_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file (TOML).

    Parameters
    ----------
    path : path
        The sweep file. A relative ``data`` path in it is taken from its folder.

    Returns
    -------
    SweepSpec

    Raises
    ------
    ConfigError
        If the file is not valid TOML or not a valid sweep; every point is checked.
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"sweep file {path} is not valid TOML: {exc}") from None
    return sweep_from_dict(data, base_dir=path.parent, source=str(path))


def sweep_from_dict(
    data: dict[str, Any], base_dir: str | Path = ".", source: str = "sweep"
) -> SweepSpec:
    """Build and check a :class:`SweepSpec` from the tables of a sweep file.

    Every point is expanded and checked by the experiment's ``from_dict``, so an
    unknown field or a value of the wrong type is an error before anything runs.
    """
    unknown = sorted(set(data) - set(SWEEP_KEYS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown sweep keys {unknown}; valid keys are {list(SWEEP_KEYS)}"
        )
    if "experiment" not in data:
        raise ConfigError(f'{source}: no experiment; add experiment = "mnist"')
    name = data["experiment"]
    if not isinstance(name, str):
        raise ConfigError(f"{source}: experiment must be a string, got {name!r}")
    exp = experiment(name)
    fields_ = set(exp.config_class.__dataclass_fields__)

    repeats = data.get("repeats", 1)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f"{source}: repeats must be an integer >= 1, got {repeats!r}")
    seeds = data.get("repeat_seeds", ["network_seed", "seed"])
    if not isinstance(seeds, list) or not all(isinstance(s, str) for s in seeds):
        raise ConfigError(
            f"{source}: repeat_seeds must be a list of field names, got {seeds!r}"
        )
    bad = [s for s in seeds if s not in fields_ or not _is_int_field(exp, s)]
    if bad:
        raise ConfigError(
            f"{source}: repeat_seeds {bad} are not integer fields of "
            f"{exp.config_class.__name__}; use e.g. ['network_seed', 'seed']"
        )

    base = data.get("base", {})
    if not isinstance(base, dict):
        raise ConfigError(f"{source}: [base] must be a table, got {base!r}")
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise ConfigError(f"{source}: [grid] must be a table, got {grid!r}")
    for key, values in grid.items():
        _check_axis(source, f"[grid] {key}", values)
        tables = [v for v in values if isinstance(v, dict)]
        if tables and len(tables) != len(values):
            raise ConfigError(
                f"{source}: [grid] {key} mixes tables and values; give either a list "
                "of values of one field or a list of tables of fields set together"
            )
        if not tables and key not in fields_:
            raise ConfigError(
                f"{source}: [grid] {key} is not a field of "
                f"{exp.config_class.__name__}; valid fields are {sorted(fields_)} "
                "(a label of linked fields takes a list of tables)"
            )
    points = data.get("points", [])
    _check_axis(source, "[[points]]", points, allow_empty=True)
    if not all(isinstance(p, dict) for p in points):
        raise ConfigError(f"{source}: every [[points]] entry must be a table")

    data_path = data.get("data")
    if data_path is not None:
        if not isinstance(data_path, str) or not data_path:
            raise ConfigError(
                f"{source}: data must be a path string, got {data_path!r}"
            )
        data_path = (Path(base_dir) / Path(data_path).expanduser()).resolve()

    spec = SweepSpec(
        experiment=name,
        repeats=repeats,
        repeat_seeds=tuple(seeds),
        base=base,
        grid=grid,
        points=points,
        data=data_path,
        source=source,
    )
    _check_overlaps(spec)
    spec.expand()  # checks every point
    return spec


def _check_axis(source: str, what: str, values: Any, allow_empty: bool = False) -> None:
    if not isinstance(values, list) or (not values and not allow_empty):
        raise ConfigError(
            f"{source}: {what} must be a non-empty list of values, got {values!r}"
        )


def _check_overlaps(spec: SweepSpec) -> None:
    """Refuse a field that two axes set (which one would win is not obvious)."""
    owner: dict[str, str] = {}
    for name, tables in spec.axes():
        for key in {k for t in tables for k in t}:
            if key in owner:
                raise ConfigError(
                    f"{spec.source}: {key} is set by both the {owner[key]} and the "
                    f"{name} axes; set each field in one axis only"
                )
            owner[key] = name


def _is_int_field(exp: Experiment, name: str) -> bool:
    default = exp.config_class.__dataclass_fields__[name].default
    return isinstance(default, int) and not isinstance(default, bool)


def _short(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_short(v) for v in value) + "]"
    return str(value)
