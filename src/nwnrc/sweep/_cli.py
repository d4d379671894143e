"""``nwnrc sweep run`` and ``nwnrc sweep report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the sweep commands."""
    p = subparsers.add_parser(
        "sweep",
        help="run many seeded experiment runs on a local pool or a dask cluster",
        description=(
            "Run every point of a sweep file (TOML) as a task on dask.distributed: "
            "a local cluster by default, a running one with --scheduler. Finished "
            "points are skipped on a rerun; a failed point is retried, then "
            "recorded in failures.json while the others go on."
        ),
    )
    sub = p.add_subparsers(dest="sweep_command", metavar="SUBCOMMAND")

    run = sub.add_parser(
        "run",
        help="run (or resume) a sweep",
        description="Run (or resume) the points of a sweep file.",
    )
    run.add_argument("sweep_file", type=Path, metavar="SWEEP.toml")
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://host:8786 (default: "
        "a local cluster on this machine)",
    )
    run.add_argument(
        "--out",
        type=Path,
        help="sweep folder, shared by every worker (default runs/sweeps/<file name>)",
    )
    run.add_argument(
        "--workers",
        type=int,
        help="worker processes of the local cluster (default: the CPU count)",
    )
    run.add_argument(
        "--retries",
        type=int,
        default=2,
        help="runs again of a point that raised, before it is recorded (default 2)",
    )
    run.add_argument("--cache-dir", type=Path, help="where MNIST is cached")
    run.add_argument(
        "--figures", action="store_true", help="write each point's figures"
    )
    run.add_argument(
        "--drop-streams",
        action="store_true",
        help="delete each finished point's device stream (most of its disk use)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="check the sweep file and list its points; run nothing",
    )
    run.add_argument("--no-report", action="store_true", help="skip the plots")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)

    rep = sub.add_parser(
        "report",
        help="table, summary and plots of a sweep folder",
        description=(
            "Write DIR/results.csv (one row per point), DIR/report/metrics.json and "
            "one plot per metric: mean and spread over repeats against a swept "
            "field, one line per value of another."
        ),
    )
    rep.add_argument("sweep_dir", type=Path, metavar="DIR")
    rep.add_argument(
        "--metric",
        nargs="+",
        metavar="M",
        help="table columns to plot (default: the headline accuracies, e.g. "
        "online_accuracy.5.mean; cpu_s and peak_rss_mib are columns too)",
    )
    rep.add_argument("--x", help="swept field on the x axis (default: the first)")
    rep.add_argument(
        "--group",
        help="swept field with one line per value (default: the second; 'none')",
    )
    rep.add_argument(
        "--baseline",
        metavar="M",
        help="column drawn as a dashed reference line at its mean (e.g. "
        "input_channel_accuracy.online.mean, the raw pixels)",
    )
    rep.add_argument("--no-figures", action="store_true", help="skip the plots")
    rep.set_defaults(handler=_report)
    p.set_defaults(handler=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _need_dask() -> None:
    from nwnrc.errors import ConfigError

    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(
            "nwnrc sweep needs dask.distributed; install it with "
            "pip install 'nwnrc[sweep]'"
        ) from None


def _quiet_dask(args: argparse.Namespace) -> None:
    """Keep dask's own INFO chatter (workers starting, closing) out below -vv."""
    import logging

    if getattr(args, "verbose", 0) < 2:
        logging.getLogger("distributed").setLevel(logging.WARNING)


def _run(args: argparse.Namespace) -> int:
    from nwnrc.experiments._cli import progress_bars
    from nwnrc.sweep import read_sweep, run_sweep, write_report

    spec = read_sweep(args.sweep_file)
    points = spec.expand()
    out = args.out or Path("runs/sweeps") / args.sweep_file.stem
    if args.dry_run:
        print(
            f"{spec.source}: {len(points)} points of the {spec.experiment} experiment"
        )
        for p in points:
            print(f"  {p.point_id}  {p.describe()}")
        print(f"would write to {out}/")
        return 0
    _need_dask()
    _quiet_dask(args)
    outcome = run_sweep(
        spec,
        out,
        scheduler=args.scheduler,
        n_workers=args.workers,
        retries=args.retries,
        cache_dir=args.cache_dir,
        figures=args.figures,
        drop_streams=args.drop_streams,
        progress=progress_bars(args),
    )
    if not args.no_report:
        write_report(out)
    print(
        f"{outcome.n_points} points: {len(outcome.done)} run now, "
        f"{len(outcome.skipped)} finished before, {len(outcome.failed)} failed",
        file=sys.stdout,
    )
    for pid, rec in outcome.failed.items():
        print(f"  failed {pid}: {rec['error_type']}: {rec['message']}", file=sys.stdout)
    if outcome.failed:
        print(f"failures in {out}/failures.json; rerun to retry them", file=sys.stdout)
    print(f"table in {outcome.table}", file=sys.stdout)
    return 1 if outcome.failed else 0


def _report(args: argparse.Namespace) -> int:
    from nwnrc.sweep import write_report

    summary = write_report(
        args.sweep_dir,
        metrics=args.metric,
        x=args.x,
        group=args.group,
        baseline=args.baseline,
        figures=not args.no_figures,
    )
    print(
        f"{summary['points']} points: {summary['done']} done, {summary['failed']} "
        f"failed, {summary['pending']} pending",
        file=sys.stdout,
    )
    for metric, cells in summary["metrics"].items():
        print(f"{metric} (mean ± std over n):", file=sys.stdout)
        for c in cells:
            g = f"{summary['group']}={c['group']}  " if summary["group"] else ""
            print(
                f"  {g}{summary['x']}={c['x']}: {c['mean']:.4g} ± {c['std']:.2g} "
                f"(n={c['n']})",
                file=sys.stdout,
            )
    print(f"table {args.sweep_dir}/results.csv, report in {args.sweep_dir}/report/")
    return 0
