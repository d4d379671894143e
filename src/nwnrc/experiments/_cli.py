"""``nwnrc mnist``: the main job from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the experiment commands."""
    p = subparsers.add_parser(
        "mnist",
        help="online MNIST classification on a simulated nanowire network",
        description=(
            "Stream MNIST digits through a simulated nanowire network and learn "
            "linear readouts: online RLS, batch gradient descent and ridge, for 1 to "
            "5 readout channels, against the raw-pixel baseline. The default is a "
            "small run of about ten minutes; --full is the paper's protocol. With "
            "--recording FILE the readouts of a recorded (or exported) device "
            "stream are learned instead, by the same readout stage."
        ),
    )
    p.add_argument("--train", type=int, help="training digits (default 10000)")
    p.add_argument("--test", type=int, help="test digits (default 2000)")
    p.add_argument(
        "--shuffles", type=int, help="orders of the training stream (default 2)"
    )
    p.add_argument(
        "--channels",
        type=int,
        nargs="+",
        metavar="PAD",
        help="readout pads in the order channel sets grow (default 1 2 12 13 15)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="the paper's protocol: 50000/10000 digits, 5 shuffles",
    )
    p.add_argument(
        "--val",
        action="store_true",
        help="score on the validation split (for tuning), not the test",
    )
    p.add_argument(
        "--v-max", type=float, help="voltage of a white pixel, V (default 2)"
    )
    p.add_argument(
        "--v-min", type=float, help="voltage of a black pixel, V (default 0)"
    )
    p.add_argument("--wires", type=int, help="nanowires in the network (default 500)")
    p.add_argument(
        "--network-seed", type=int, help="seed of the network geometry (default 0)"
    )
    p.add_argument(
        "--junction",
        help="junction preset: hochstetter2021 (default) or slow_decay",
    )
    p.add_argument(
        "--methods",
        nargs="+",
        choices=("online", "batch", "ridge"),
        help="readouts to train (default all three)",
    )
    add_run_arguments(p, "MnistConfig", "runs/mnist")
    p.set_defaults(handler=_mnist)


def _mnist(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nwnrc.experiments import MnistConfig, run_mnist

    base = read_config_file(args.config, "MnistConfig")
    if args.recording is not None:
        return _mnist_on_recording(args, base)
    config = MnistConfig.full(**base) if args.full else MnistConfig.from_dict(base)
    overrides = {
        "n_train": args.train,
        "n_test": args.test,
        "shuffles": args.shuffles,
        "channels": tuple(args.channels) if args.channels else None,
        "v_max": args.v_max,
        "v_min": args.v_min,
        "n_wires": args.wires,
        "network_seed": args.network_seed,
        "junction": args.junction,
        "methods": tuple(args.methods) if args.methods else None,
        "eval_split": "val" if args.val else None,
    }
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})

    progress = progress_bars(args)
    metrics = run_mnist(
        config,
        args.out,
        data_path=args.data,
        cache_dir=args.cache_dir,
        progress=progress,
        figures=not args.no_figures,
    )
    _print_summary(metrics, args.out, figures=not args.no_figures)
    return 0


def _mnist_on_recording(args: argparse.Namespace, base: dict[str, Any]) -> int:
    from nwnrc.errors import ConfigError
    from nwnrc.experiments import run_mnist
    from nwnrc.experiments._mnist import RECORDING_FIELDS, recording_config

    fixed = {
        "--full": args.full,
        "--val": args.val,
        "--v-max": args.v_max is not None,
        "--v-min": args.v_min is not None,
        "--wires": args.wires is not None,
        "--network-seed": args.network_seed is not None,
        "--junction": args.junction is not None,
        "--data": args.data is not None,
        "--cache-dir": args.cache_dir is not None,
    }
    given = [flag for flag, on in fixed.items() if on]
    # the same holds for a config file: its device fields would be silently replaced
    given += [f"{key} (in --config)" for key in base if key in RECORDING_FIELDS]
    if given:
        raise ConfigError(
            f"{', '.join(given)} cannot be used with --recording: the recording "
            "fixes the device, the input encoding and the digits; leave them out"
        )
    overrides = {
        "n_train": args.train,
        "n_test": args.test,
        "shuffles": args.shuffles,
        "channels": list(args.channels) if args.channels else None,
        "methods": list(args.methods) if args.methods else None,
    }
    fields = {**base, **{k: v for k, v in overrides.items() if v is not None}}
    config = recording_config(args.recording, **fields)
    metrics = run_mnist(
        config,
        args.out,
        progress=progress_bars(args),
        figures=not args.no_figures,
        recording=args.recording,
    )
    _print_summary(metrics, args.out, figures=not args.no_figures)
    return 0


def _print_summary(metrics: dict[str, Any], out: Path, *, figures: bool = True) -> None:
    rows = []
    for key, name in (
        ("online_accuracy", "online RLS"),
        ("batch_accuracy", "batch GD"),
        ("ridge_accuracy", "ridge"),
    ):
        if key not in metrics:
            continue
        accs = "  ".join(
            f"{m}ch {v['mean'] * 100:5.1f}%" for m, v in metrics[key].items()
        )
        method = key.split("_")[0]
        base = metrics["input_channel_accuracy"][method]["mean"] * 100
        rows.append(f"  {name:<11} {accs}   raw pixels {base:5.1f}%")
    if "recording" in metrics:
        print(f"readouts from {metrics['data_source']}", file=sys.stdout)
    print("test accuracy (mean over shuffles):", file=sys.stdout)
    print("\n".join(rows), file=sys.stdout)
    print(f"metrics{' and figures' if figures else ''} in {out}/", file=sys.stdout)


def add_run_arguments(p: Any, config_name: str, default_out: str) -> None:
    """Arguments every experiment command shares: config file, data, run folder."""
    p.add_argument(
        "--config",
        type=Path,
        help=f"JSON file of {config_name} fields (flags override it)",
    )
    p.add_argument("--data", type=Path, help="local MNIST (.npz, IDX folder, .pkl.gz)")
    p.add_argument("--cache-dir", type=Path, help="where MNIST is cached")
    p.add_argument(
        "--out",
        type=Path,
        default=Path(default_out),
        help=f"run folder (default {default_out}); a rerun resumes",
    )
    p.add_argument(
        "--recording",
        type=Path,
        metavar="FILE",
        help="an nwnrc recording (HDF5, from `nwnrc import` or `nwnrc export`) whose "
        "readouts stand in for the simulated device",
    )
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def read_config_file(path: Path | None, config_name: str) -> dict[str, Any]:
    """The JSON object of a ``--config`` file ({} without one), or a ConfigError."""
    from nwnrc.errors import ConfigError

    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--config {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"--config {path} must hold a JSON object of {config_name} fields"
        )
    return data


def progress_bars(args: argparse.Namespace) -> Any:
    """A tqdm factory, silent with --no-progress."""
    from tqdm.auto import tqdm

    def progress(*a: Any, **kw: Any) -> Any:
        return tqdm(*a, disable=args.no_progress, dynamic_ncols=True, **kw)

    return progress
