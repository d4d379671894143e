"""The results of a sweep: one table row per point, plots against swept settings.

The table is built from the point folders, never from what the scheduler returned:
a point run twice (after a worker died) has one folder and so one row, and a table
can be built at any time, from whatever has finished.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from nwnrc._atomic import atomic_path, write_json
from nwnrc.errors import ConfigError
from nwnrc.sweep._spec import experiment

logger = logging.getLogger(__name__)

#: Columns of the table before the swept settings.
ID_COLUMNS = ("point_id", "index", "repeat", "status")
#: Cost columns, from each point's sweep-point.json.
COST_COLUMNS = ("wall_s", "cpu_s", "peak_rss_mib", "attempt", "host")
#: metrics.json entries that are not results.
_SKIP = ("config", "data_source")


def flatten_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numbers of a metrics dict, keyed by dotted path; lists are left out.

    Examples
    --------
    >>> flatten_metrics({"a": {"1": {"mean": 0.5, "runs": [0.5]}}, "b": 2, "c": "x"})
    {'a.1.mean': 0.5, 'b': 2}
    """
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        if not prefix and key in _SKIP:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, name + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = value
    return flat


def sweep_table(out_dir: str | Path) -> list[dict[str, Any]]:
    """One row per point of the sweep stamped in ``out_dir``, in sweep order.

    A row holds the point's id, index, repeat and status (``done``, ``failed`` or
    ``pending``), its value of every swept field and every repeat seed, its cost
    (wall and CPU seconds, peak resident MiB, attempt, host), the disk use of its
    folder as it is now, and, when done, every number of its metrics.json under a
    dotted name (``online_accuracy.5.mean``).
    """
    from nwnrc.sweep._run import FAILURES, POINT_FILE, read_stamp

    out = Path(out_dir)
    spec = read_stamp(out)
    failures_path = out / FAILURES
    failed = json.loads(failures_path.read_text()) if failures_path.is_file() else {}
    fields = [*spec.swept_fields()]
    fields += [s for s in spec.repeat_seeds if s not in fields]
    rows = []
    for point in spec.expand():
        folder = point.folder(out)
        metrics_path = folder / "metrics.json"
        row: dict[str, Any] = {
            "point_id": point.point_id,
            "index": point.index,
            "repeat": point.repeat,
            "status": "done"
            if metrics_path.is_file()
            else "failed"
            if point.point_id in failed
            else "pending",
        }
        row.update({f: point.config[f] for f in fields})
        cost_path = folder / POINT_FILE
        if row["status"] == "done" and cost_path.is_file():
            cost = json.loads(cost_path.read_text())
            row.update({c: cost.get(c) for c in COST_COLUMNS})
        if folder.is_dir():
            # measured now: what the point holds on disk today (after --drop-streams)
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            row["disk_mib"] = round(size / 2**20, 1)
        if row["status"] == "done":
            row.update(flatten_metrics(json.loads(metrics_path.read_text())))
        rows.append(row)
    return rows


def write_table(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write table rows as CSV, atomically; return the path.

    Columns are the union of the rows' keys in first-seen order; lists are written
    as JSON and missing values as empty cells.
    """
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
    return path


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_report(
    out_dir: str | Path,
    *,
    metrics: list[str] | None = None,
    x: str | None = None,
    group: str | None = None,
    baseline: str | None = None,
    figures: bool = True,
) -> dict[str, Any]:
    """Write the table, a summary and plots of a sweep folder.

    Writes ``out_dir/results.csv``, ``out_dir/report/metrics.json`` (every metric's
    mean, standard deviation and values for each value of ``x`` and ``group``, the
    point counts and the cost) and one PNG per metric,
    ``out_dir/report/<metric>-vs-<x>.png``: the mean over repeats with error bars
    of one standard deviation, the single points behind it, one line per value of
    ``group``.

    Parameters
    ----------
    out_dir : path
        A sweep folder.
    metrics : list of str, optional
        Table columns to summarise and plot (default: the experiment's headline
        accuracies, e.g. ``online_accuracy.5.mean``).
    x : str, optional
        Swept field on the horizontal axis (default: the first swept field).
    group : str, optional
        Swept field with one line per value (default: the second swept field, if
        any; ``"none"`` for a single line).
    baseline : str, optional
        A column whose mean over all points is drawn as a dashed reference line
        (e.g. ``input_channel_accuracy.online.mean``, the raw-pixel readout).
    figures : bool
        Draw the PNG plots.

    Returns
    -------
    dict
        The summary, as written to ``report/metrics.json``.

    Raises
    ------
    ConfigError
        If a metric, the baseline, ``x`` or ``group`` is not a column of the table.

    Notes
    -----
    Limitations: points that differ in a swept field other than ``x`` and
    ``group`` are pooled into one mean; the summary lists such fields under
    ``pooled_over``.
    """
    from nwnrc.sweep._run import TABLE, read_stamp

    out = Path(out_dir)
    spec = read_stamp(out)
    rows = sweep_table(out)
    write_table(rows, out / TABLE)
    done = [r for r in rows if r["status"] == "done"]
    swept = spec.swept_fields()
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]

    x = x or (swept[0] if swept else "repeat")
    if group is None:
        group = next((f for f in swept if f != x), None)
    elif group == "none":
        group = None
    for name, what in ((x, "--x"), (group, "--group")):
        if name is not None and name not in columns:
            raise ConfigError(
                f"{what} {name!r} is not a column of the sweep table; swept fields "
                f"are {swept or ['repeat']}"
            )
    if metrics is None:
        metrics = experiment(spec.experiment).headline(spec.expand()[0].config)
        metrics = [m for m in metrics if _has_numbers(done, m)] or metrics
    for m in [*metrics, *([baseline] if baseline else [])]:
        if done and not _has_numbers(done, m):
            numeric = [c for c in columns if _has_numbers(done, c)]
            raise ConfigError(
                f"--metric {m!r} is not a number in the sweep table; numeric columns "
                f"include {numeric[:40]}"
            )

    summary: dict[str, Any] = {
        "experiment": spec.experiment,
        "points": len(rows),
        "done": len(done),
        "failed": sum(r["status"] == "failed" for r in rows),
        "pending": sum(r["status"] == "pending" for r in rows),
        "repeats": spec.repeats,
        "x": x,
        "group": group,
        "pooled_over": _pooled(done, swept, x, group),
        "metrics": {m: _aggregate(done, m, x, group) for m in metrics},
        "cost": _cost(done),
    }
    if baseline and done:
        values = [float(r[baseline]) for r in done if _is_number(r.get(baseline))]
        summary["baseline"] = {
            "metric": baseline,
            "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "n": len(values),
        }
    report_dir = out / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    if figures and done:
        summary["figures"] = []
        for m in metrics:
            path = report_dir / f"{_slug(m)}-vs-{_slug(x)}.png"
            plot_metric(
                summary["metrics"][m],
                m,
                x,
                group,
                path,
                pooled_over=summary["pooled_over"],
                baseline=summary.get("baseline"),
            )
            summary["figures"].append(path.name)
    write_json(report_dir / "metrics.json", summary)
    return summary


def _has_numbers(rows: list[dict[str, Any]], column: str) -> bool:
    return any(_is_number(r.get(column)) for r in rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _pooled(
    rows: list[dict[str, Any]], swept: list[str], x: str, group: str | None
) -> list[str]:
    cells: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for r in rows:
        g = _key(r.get(group)) if group else None
        cells.setdefault((_key(r.get(x)), g), []).append(r)
    return [
        f
        for f in swept
        if f not in (x, group)
        and any(len({_key(r.get(f)) for r in cell}) > 1 for cell in cells.values())
    ]


def _aggregate(
    rows: list[dict[str, Any]], metric: str, x: str, group: str | None
) -> list[dict[str, Any]]:
    """Mean, std (ddof 1) and values of ``metric`` per (group, x) cell."""
    cells: dict[tuple[Any, Any], list[float]] = {}
    for r in rows:
        value: Any = r.get(metric)
        if _is_number(value) and math.isfinite(value):
            key = (_key(r.get(group)) if group else None, _key(r.get(x)))
            cells.setdefault(key, []).append(float(value))
    out = []
    for (g, xv), values in sorted(cells.items(), key=lambda kv: _sort_key(kv[0])):
        arr = np.asarray(values)
        out.append(
            {
                "group": list(g) if isinstance(g, tuple) else g,
                "x": list(xv) if isinstance(xv, tuple) else xv,
                "mean": float(arr.mean()),
                "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                "n": int(arr.size),
                "values": values,
            }
        )
    return out


def _sort_key(key: tuple[Any, Any]) -> tuple[str, Any, str, Any]:
    # numbers by value, anything else by its text; groups first, then x
    def one(v: Any) -> tuple[str, Any]:
        return ("0", float(v)) if _is_number(v) else ("1", str(v))

    g, xv = one(key[0]), one(key[1])
    return (g[0], g[1], xv[0], xv[1])


def _cost(rows: list[dict[str, Any]]) -> dict[str, Any]:
    cost: dict[str, Any] = {}
    for col in ("wall_s", "cpu_s", "peak_rss_mib", "disk_mib"):
        values = np.asarray([r[col] for r in rows if _is_number(r.get(col))], float)
        if values.size:
            cost[col] = {
                "mean": float(values.mean()),
                "min": float(values.min()),
                "max": float(values.max()),
            }
            if col != "peak_rss_mib":  # peaks of different processes do not add
                cost[col]["total"] = float(values.sum())
    return cost


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "metric"


def plot_metric(
    cells: list[dict[str, Any]],
    metric: str,
    x: str,
    group: str | None,
    path: str | Path,
    *,
    pooled_over: list[str] | None = None,
    baseline: dict[str, Any] | None = None,
) -> Path:
    """Plot one metric against a swept field; one line per group value.

    ``cells`` is one entry of the report summary's ``metrics``: mean, std and values
    per (group, x) cell. Numeric x values are placed by value, others in order.
    ``baseline`` (the summary's ``baseline`` entry) is drawn as a dashed line at its
    mean. Returns ``path``.
    """
    from matplotlib.figure import Figure

    xs_all = []
    for c in cells:
        if c["x"] not in xs_all:
            xs_all.append(c["x"])
    numeric = all(_is_number(v) for v in xs_all)
    labels = [str(v) for v in xs_all]

    def pos(v: Any) -> float:
        return float(v) if numeric else float(labels.index(str(v)))

    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    groups: list[Any] = []
    for c in cells:
        if c["group"] not in groups:
            groups.append(c["group"])
    n_groups = max(len(groups), 1)
    span = (max(map(pos, xs_all)) - min(map(pos, xs_all))) if len(xs_all) > 1 else 1
    for k, g in enumerate(groups):
        mine = [c for c in cells if c["group"] == g]
        # small sideways offsets keep error bars of different lines apart
        shift = (k - (n_groups - 1) / 2) * 0.012 * (span or 1)
        px = np.array([pos(c["x"]) for c in mine]) + shift
        mean = np.array([c["mean"] for c in mine])
        std = np.array([c["std"] for c in mine])
        label = f"{group} = {g}" if group else None
        line = ax.errorbar(px, mean, yerr=std, marker="o", capsize=3, label=label)
        colour = line[0].get_color()
        for xi, c in zip(px, mine, strict=True):
            ax.plot(
                [xi] * len(c["values"]),
                c["values"],
                ".",
                color=colour,
                alpha=0.5,
                ms=6,
            )
    if not numeric:
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels)
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    n = max((c["n"] for c in cells), default=0)
    spread = "mean ± std" if n > 1 else "single points"
    if baseline is not None:
        ax.axhline(
            baseline["mean"],
            color="0.4",
            ls="--",
            lw=1,
            label=f"{baseline['metric']} (mean)",
        )
    pooled = pooled_over or []
    over = "repeats" + (f" and {', '.join(pooled)}" if pooled else "")
    ax.set_title(f"{metric} vs {x} ({spread} over {over}; dots: points)", fontsize=9)
    ax.grid(True, alpha=0.3)
    if group or baseline is not None:
        ax.legend(fontsize=8)
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=130, bbox_inches="tight", format="png")
    return path
