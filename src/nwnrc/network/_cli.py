"""``nwnrc network`` commands: build, info and plot a nanowire network file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nwnrc.errors import ConfigError


def register(subparsers: Any) -> None:
    """Add ``nwnrc network {build,info,plot}`` to the top-level parser."""
    from nwnrc.network._geometry import NetworkParams

    defaults = NetworkParams()
    parser = subparsers.add_parser(
        "network",
        help="build, inspect and plot random nanowire networks",
        description="Build, inspect and plot random nanowire networks on a 4x4 MEA.",
    )
    commands = parser.add_subparsers(dest="network_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _no_action(parser))

    build = commands.add_parser(
        "build",
        help="draw a random network and save it (HDF5)",
        description="Draw a random nanowire network and save it as HDF5.",
    )
    build.add_argument(
        "--wires", type=int, default=defaults.n_wires, help="number of wires"
    )
    build.add_argument(
        "--chip-size",
        type=float,
        default=defaults.chip_size_um,
        help="side of the square chip, um (default %(default)s)",
    )
    build.add_argument(
        "--length-mean",
        type=float,
        default=defaults.length_mean_um,
        help="mean wire length, um (default %(default)s)",
    )
    build.add_argument(
        "--length-std",
        type=float,
        default=defaults.length_std_um,
        help="standard deviation of the wire length, um (default %(default)s)",
    )
    build.add_argument(
        "--pad-size",
        type=float,
        default=defaults.pad_size_um,
        help="side of each square MEA pad, um (default %(default)s)",
    )
    build.add_argument("--seed", type=int, default=0, help="random seed")
    build.add_argument("--out", required=True, help="output file (.h5)")
    build.set_defaults(handler=_build)

    info = commands.add_parser(
        "info",
        help="print a network's summary",
        description="Print wires, junctions, pad contacts and the driven component.",
    )
    info.add_argument("file", help="network file (.h5)")
    info.add_argument(
        "--pads",
        type=int,
        nargs="+",
        default=[4, 11],
        help="driven pads whose component is kept (default: 4 11)",
    )
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=_info)

    plot = commands.add_parser(
        "plot",
        help="draw a network to an image",
        description="Draw wires, junctions and pads; wires outside the driven "
        "component are grey.",
    )
    plot.add_argument("file", help="network file (.h5)")
    plot.add_argument("--out", required=True, help="output image (.png, .svg)")
    plot.add_argument(
        "--pads",
        type=int,
        nargs="+",
        default=[4, 11],
        help="driven pads, source first (default: 4 11)",
    )
    plot.add_argument(
        "--highlight",
        type=int,
        nargs="*",
        default=[],
        help="further pads to mark, e.g. readout channels",
    )
    plot.set_defaults(handler=_plot)


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _build(args: argparse.Namespace) -> int:
    from nwnrc.network._geometry import NetworkParams
    from nwnrc.network._network import generate_network

    params = NetworkParams(
        n_wires=args.wires,
        chip_size_um=args.chip_size,
        length_mean_um=args.length_mean,
        length_std_um=args.length_std,
        pad_size_um=args.pad_size,
        seed=args.seed,
    )
    network = generate_network(params)
    network.save(args.out)
    summary = network.summary()
    print(
        f"wrote {args.out}: {network.n_wires} wires, {network.n_junctions} junctions, "
        f"{summary['dropped_wires']} outside the pads' "
        f"{summary['driven_pads']} component"
    )
    return 0


def _info(args: argparse.Namespace) -> int:
    import json

    from nwnrc.network._network import NanowireNetwork

    network = NanowireNetwork.load(args.file)
    summary = network.summary(pads=args.pads)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    p = summary["params"]
    lines = [
        f"network file        {args.file}",
        f"wires               {summary['n_wires']}",
        f"junctions           {summary['n_junctions']}",
        f"junctions per wire  {summary['mean_junctions_per_wire']:.2f}",
        f"density / critical  {summary['density_over_critical']:.2f}",
        f"chip                {p['chip_size_um']:g} um, pads {p['pad_size_um']:g} um",
        f"wire length         {p['length_mean_um']:g} +- {p['length_std_um']:g} um",
        f"seed                {p['seed']}",
        "wires per pad       "
        + " ".join(f"{k}:{c}" for k, c in enumerate(summary["pad_contacts"])),
        f"bridged pads        {summary['bridged_pads'] or 'none'}",
    ]
    if summary["driven_connected"]:
        lines += [
            f"driven pads         {summary['driven_pads']}: "
            f"{summary['kept_wires']} wires kept, "
            f"{summary['dropped_wires']} dropped, "
            f"{summary['kept_junctions']} junctions kept",
            f"pads in component   {summary['pads_in_component']}",
        ]
    else:
        lines.append(f"driven pads         not connected: {summary['driven_error']}")
    print("\n".join(lines))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from nwnrc.network._network import NanowireNetwork
    from nwnrc.network._plot import plot_network

    out = Path(args.out)
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give a file name ending in .png")
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out {out} must end in .png (the plot is a PNG image)")
    network = NanowireNetwork.load(args.file)
    plot_network(network, out, pads=args.pads, highlight=args.highlight)
    print(f"wrote {out}")
    return 0
