"""``nwnrc bench engine`` and ``nwnrc device demo``: engine throughput and the
physics demonstration figures."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``nwnrc bench engine`` and ``nwnrc device demo`` to the top-level parser."""
    bench = subparsers.add_parser(
        "bench",
        help="measure the speed of the simulation",
        description="Measure the speed of the simulation.",
    )
    bench_actions = bench.add_subparsers(dest="bench_command", metavar="ACTION")
    bench.set_defaults(handler=lambda args: _no_action(bench))

    engine = bench_actions.add_parser(
        "engine",
        help="engine replica-steps per second against the dense reference",
        description="Stream a digit-like input through replicas of a network at the "
        "default wire density and time the compiled engine; time the dense reference "
        "for a few steps on the same network in the same run; print both rates and "
        "their ratio. The best of --repeats runs counts.",
    )
    engine.add_argument("--wires", type=int, default=500, help="number of wires")
    engine.add_argument(
        "--steps", type=int, default=784, help="steps per replica (784 = one digit)"
    )
    engine.add_argument(
        "--replicas", type=int, default=64, help="replicas streamed together"
    )
    engine.add_argument(
        "--lanes", type=int, default=32, help="replicas per thread (default 32)"
    )
    engine.add_argument(
        "--seed", type=int, default=0, help="seed of the network and the input"
    )
    engine.add_argument(
        "--dense-steps",
        type=int,
        default=3,
        help="steps of the dense reference to time (default 3)",
    )
    engine.add_argument(
        "--repeats", type=int, default=3, help="timed runs of each kind (default 3)"
    )
    engine.add_argument("--json", action="store_true", help="print JSON")
    engine.set_defaults(handler=_bench_engine)

    device = subparsers.add_parser(
        "device",
        help="demonstrate the simulated device",
        description="Demonstrate the physics of the simulated device.",
    )
    device_actions = device.add_subparsers(dest="device_command", metavar="ACTION")
    device.set_defaults(handler=lambda args: _no_action(device))
    demo = device_actions.add_parser(
        "demo",
        help="DC-bias and I-V hysteresis figures on the default network",
        description="Run the DC-bias and triangular-sweep demonstrations on the "
        "default 500-wire network and write device-dc-bias.png and "
        "device-iv-hysteresis.png.",
    )
    demo.add_argument(
        "--out",
        default="runs/device-demo",
        help="output folder (default runs/device-demo)",
    )
    demo.add_argument("--seed", type=int, default=0, help="network seed")
    demo.add_argument("--json", action="store_true", help="print the numbers as JSON")
    demo.set_defaults(handler=_device_demo)


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _bench_engine(args: argparse.Namespace) -> int:
    import json

    from nwnrc.device._bench import bench_engine, format_benchmark

    result = bench_engine(
        args.wires,
        steps=args.steps,
        replicas=args.replicas,
        lanes=args.lanes,
        seed=args.seed,
        dense_steps=args.dense_steps,
        repeats=args.repeats,
    )
    if args.json:
        record = result.to_dict()
        record["projected_mnist_stream_s"] = result.projected_stream_seconds()
        print(json.dumps(record, indent=2))
    else:
        print(format_benchmark(result))
    return 0


def _device_demo(args: argparse.Namespace) -> int:
    import json

    from nwnrc.device._demos import make_device_figures

    numbers = make_device_figures(args.out, seed=args.seed)
    if args.json:
        print(json.dumps(numbers, indent=2))
        return 0
    dc, iv = numbers["dc_bias"], numbers["iv_sweep"]
    print(
        f"DC bias {dc['bias_volts'][0]:g} V: x100 after "
        f"{dc['formation_s'][0] * 1e3:.0f} ms, peak x{dc['peak_ratio'][0]:.0f}; "
        f"below x100 {dc['fading_s'][0] * 1e3:.0f} ms after removal"
    )
    rise, fall = iv["half_amplitude_currents_a"][:2]
    print(
        f"I-V sweep +-{iv['amplitude_volts']:g} V: at "
        f"{iv['amplitude_volts'] / 2:g} V, {rise * 1e6:.1f} uA rising, "
        f"{fall * 1e6:.1f} uA falling"
    )
    for path in numbers["figures"]:
        print(f"wrote {path}")
    return 0
