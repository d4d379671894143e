"""``nwnrc analyse``: analyses of finished runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``analyse`` command group."""
    p = subparsers.add_parser(
        "analyse",
        help="analyse a finished run (mutual information, ...)",
        description="Analyses of a finished run folder.",
    )
    sub = p.add_subparsers(dest="analysis", metavar="ANALYSIS")
    p.set_defaults(handler=lambda _args: _help(p))

    mi = sub.add_parser(
        "mi",
        help="mutual information between digit class and device readouts",
        description=(
            "Mutual information I(class; readout) of an MNIST run, in bits: along "
            "the training stream in the online learner's order (with mean |dW| where "
            "the run has it), per-class specific-information maps after training, "
            "their correlation with per-class accuracy, and the paper's three "
            "findings. A run made from a recording (nwnrc mnist --recording) is "
            "read from that recording, with its input stream. Writes "
            "RUN_DIR/mi/metrics.json and figures."
        ),
    )
    mi.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="run folder")
    mi.add_argument(
        "--bins", type=int, default=16, help="bins per (channel, step) (default 16)"
    )
    mi.add_argument(
        "--binning",
        choices=("quantile", "width"),
        default="quantile",
        help="equal-frequency (default) or equal-width bins",
    )
    mi.add_argument(
        "--ksg",
        action="store_true",
        help="also cross-check with the nearest-neighbour (KSG-type) estimator",
    )
    mi.add_argument(
        "--ksg-samples",
        type=int,
        default=2000,
        help="training digits used by the KSG cross-check (default 2000)",
    )
    mi.add_argument(
        "--data",
        type=Path,
        help="local MNIST (.npz, IDX folder, .pkl.gz), for a run folder whose "
        "stream predates the stored input",
    )
    mi.add_argument("--cache-dir", type=Path, help="where MNIST is cached")
    mi.add_argument(
        "--recording",
        type=Path,
        metavar="FILE",
        help="for a run made from a recording that has moved: its present path",
    )
    mi.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    mi.add_argument("--no-progress", action="store_true", help="no progress bars")
    mi.set_defaults(handler=_mi)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _mi(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from nwnrc.analysis import MiSettings, analyse_mi

    settings = MiSettings(
        n_bins=args.bins,
        binning=args.binning,
        ksg=args.ksg,
        ksg_samples=args.ksg_samples,
    )

    def progress(*a: Any, **kw: Any) -> Any:
        return tqdm(*a, disable=args.no_progress, dynamic_ncols=True, **kw)

    metrics = analyse_mi(
        args.run_dir,
        settings=settings,
        data_path=args.data,
        cache_dir=args.cache_dir,
        progress=progress,
        figures=not args.no_figures,
        recording=args.recording,
    )
    _print_summary(metrics, args.run_dir / "mi")
    return 0


def _print_summary(metrics: dict[str, Any], out: Path) -> None:
    lines = [f"I(class; value), mean over 784 steps, {metrics['n_train']} digits:"]
    for name in metrics["channels"]:
        label = name if not name.isdigit() else f"pad {name}"
        lines.append(
            f"  {label:<12} {metrics['mi_bits'][name]:.4f} bits"
            f"   (shuffled labels {metrics['mi_shuffle_bits'][name]:.4f})"
        )
    for finding in metrics["findings"].values():
        mark = " (too few digits to judge)" if finding.get("too_few_digits") else ""
        lines.append(f"  [{finding['status']}] {finding['statement']}{mark}")
    caveats = {f["caveat"] for f in metrics["findings"].values() if "caveat" in f}
    lines.extend(f"  {c}" for c in sorted(caveats))
    lines.append(f"metrics and figures in {out}/")
    print("\n".join(lines), file=sys.stdout)
