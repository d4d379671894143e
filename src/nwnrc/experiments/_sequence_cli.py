"""``nwnrc sequence``: the sequence-memory experiment from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nwnrc.experiments._cli import add_run_arguments, progress_bars, read_config_file

if TYPE_CHECKING:
    from nwnrc.experiments._sequence import SequenceConfig


def register(subparsers: Any) -> None:
    """Add the ``sequence`` command."""
    p = subparsers.add_parser(
        "sequence",
        help="sequence memory: recall earlier digits from later readouts",
        description=(
            "Stream a repeated MNIST digit sequence through a simulated nanowire "
            "network with no reset, learn online (RLS) to reconstruct the first "
            "digit of a window of L digits from the pad voltage and conductance "
            "readouts of the L - 1 digits after it, and score the held-out "
            "repetitions by SSIM per digit and per L, with a memory-exclusion "
            "experiment and memoryless controls. The default takes a few minutes. "
            "With --recording the readouts of a recorded (or exported) stream "
            "stand in for the simulated device."
        ),
    )
    p.add_argument("--sequence", help="the repeated digit sequence (default 14751479)")
    p.add_argument(
        "--repeats",
        type=int,
        help="repetitions of the sequence in each stream, washout included "
        "(default 60)",
    )
    p.add_argument(
        "--train-streams", type=int, help="training streams (device lanes, default 3)"
    )
    p.add_argument(
        "--test-streams", type=int, help="held-out streams (device lanes, default 1)"
    )
    p.add_argument("--max-window", type=int, help="largest window length L (default 8)")
    p.add_argument(
        "--exclusion-window",
        type=int,
        help="window length of the memory-exclusion experiment (default 5, or "
        "--max-window if that is smaller)",
    )
    p.add_argument(
        "--control-windows",
        type=int,
        nargs="+",
        metavar="L",
        help="window lengths at which the memoryless controls are scored (default "
        "2 5; with a smaller --max-window, 5 becomes --max-window)",
    )
    p.add_argument(
        "--feature-pads",
        type=int,
        nargs="+",
        metavar="PAD",
        help="pads whose voltages enter the features beside the conductance (7)",
    )
    p.add_argument(
        "--exclusion-pad",
        type=int,
        help="pad whose voltage columns replace conductance columns (13)",
    )
    p.add_argument(
        "--junction", help="junction preset (default slow_decay; or hochstetter2021)"
    )
    p.add_argument("--v-max", type=float, help="voltage of a white pixel, V (0.9)")
    p.add_argument("--v-min", type=float, help="voltage of a black pixel, V (0)")
    p.add_argument("--wires", type=int, help="nanowires in the network (500)")
    p.add_argument("--network-seed", type=int, help="seed of the network geometry")
    p.add_argument("--seed", type=int, help="seed of the digit draw")
    add_run_arguments(p, "SequenceConfig", "runs/sequence")
    p.set_defaults(handler=_sequence)


#: flags that describe the simulated stream: a recording brings its own
_STREAM_FLAGS = {
    "repeats": "--repeats",
    "train_streams": "--train-streams",
    "test_streams": "--test-streams",
    "v_max": "--v-max",
    "v_min": "--v-min",
    "wires": "--wires",
    "network_seed": "--network-seed",
    "junction": "--junction",
    "data": "--data",
}


def _sequence(args: argparse.Namespace) -> int:
    from nwnrc.experiments._sequence import run_sequence

    config = _sequence_config(args)
    metrics = run_sequence(
        config,
        args.out,
        data_path=args.data,
        cache_dir=args.cache_dir,
        progress=progress_bars(args),
        figures=not args.no_figures,
        recording=getattr(args, "recording", None),
    )
    _print_summary(metrics, args.out, figures=not args.no_figures)
    return 0


def _sequence_config(args: argparse.Namespace) -> SequenceConfig:
    """The configuration of a ``sequence`` run: defaults, recording, file, flags."""
    from dataclasses import replace

    from nwnrc.errors import ConfigError
    from nwnrc.experiments._config import DEVICE_FIELDS
    from nwnrc.experiments._sequence import (
        SequenceConfig,
        recording_sequence_config,
    )

    recording = getattr(args, "recording", None)
    base: dict[str, Any] = {}
    if recording is not None:
        given = [
            flag
            for key, flag in _STREAM_FLAGS.items()
            if getattr(args, key) is not None
        ]
        if given:
            raise ConfigError(
                f"{', '.join(given)} set(s) up a simulated stream; with "
                "--recording the stream, its encoding and its split come from the "
                "file: leave them out"
            )
        # a recording exported from a sequence run carries that run's settings
        base = recording_sequence_config(recording)
    from_file = read_config_file(args.config, "SequenceConfig")
    if recording is not None:
        stream_keys = (*DEVICE_FIELDS, "repeats", "train_streams", "test_streams")
        clash = [key for key in from_file if key in stream_keys]
        if clash:
            raise ConfigError(
                f"--config sets {', '.join(clash)}, which the recording fixes; "
                "leave them out of the file when using --recording"
            )
    base.update(from_file)
    config = SequenceConfig.from_dict(base)
    control = getattr(args, "control_windows", None)
    overrides = {
        "sequence": args.sequence,
        "repeats": args.repeats,
        "train_streams": args.train_streams,
        "test_streams": args.test_streams,
        "max_window": args.max_window,
        "exclusion_window": args.exclusion_window,
        "control_windows": tuple(control) if control else None,
        "feature_pads": tuple(args.feature_pads) if args.feature_pads else None,
        "exclusion_pad": args.exclusion_pad,
        "junction": args.junction,
        "v_max": args.v_max,
        "v_min": args.v_min,
        "n_wires": args.wires,
        "network_seed": args.network_seed,
        "seed": args.seed,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "max_window" in overrides:
        # keep the windows not given on the command line inside the shorter
        # range: a window past --max-window moves down to it
        top = overrides["max_window"]
        if "exclusion_window" not in overrides:
            overrides["exclusion_window"] = min(config.exclusion_window, top)
        if "control_windows" not in overrides:
            overrides["control_windows"] = tuple(
                dict.fromkeys(min(w, top) for w in config.control_windows)
            )
    return replace(config, **overrides)


def _print_summary(metrics: dict[str, Any], out: Path, *, figures: bool = True) -> None:
    windows = list(metrics["ssim_mean"])
    keys = list(metrics["ssim"][windows[0]])
    lines = ["held-out SSIM per window length L and sequence position:"]
    lines.append("  L   " + " ".join(f"{k:>6}" for k in keys) + "    mean")
    for w in windows:
        row = " ".join(f"{metrics['ssim'][w][k]:6.3f}" for k in keys)
        lines.append(f"  {w:<3} {row}  {metrics['ssim_mean'][w]:6.3f}")
    ex = metrics["exclusion"]
    lines.append(
        f"exclusion at L={ex['window']}: "
        + ", ".join(
            f"{c} cols {s:.3f}" for c, s in zip(ex["columns"], ex["ssim"], strict=True)
        )
    )
    ctl = metrics["control"]
    for w in map(str, ctl["windows"]):
        m = {
            name: ctl[name]["ssim_mean"][w]
            for name in (
                "with_conductance",
                "voltage_only",
                "shuffled_conductance",
                "input_only",
            )
        }
        lines.append(
            f"controls at L={w}: conductance {m['with_conductance']:.3f}, voltages "
            f"only {m['voltage_only']:.3f}, shuffled conductance "
            f"{m['shuffled_conductance']:.3f}, input pixels {m['input_only']:.3f}"
        )
    lines.append(f"class-mean image: {ctl['class_mean']['ssim_mean']:.3f}")
    dyn = metrics["conductance_dynamic_range"]
    if "device_probes" in metrics:
        lines.append(
            "on a recording: skipped the device probes (conductance scale, "
            "relaxation); see metrics.json"
        )
    lines.append(
        f"conductance: {dyn['whole_stream_decades']:.2f} decades over the stream, "
        f"{dyn['steady_state_p1_p99_decades']:.2f} (1-99 %) after the washout"
    )
    lines.append(f"metrics{' and figures' if figures else ''} in {out}/")
    print("\n".join(lines), file=sys.stdout)
