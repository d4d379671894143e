"""Throughput of the compiled engine against the dense reference, by network size.

Run ``python benchmarks/bench_engine.py [--quick] [--json]``.

For 300, 500, 1,000 and 3,000 wires at the default wire density (chip side
``78 um * sqrt(N / 500)``, pads kept at 4.5 um so that each touches about seven wires),
stream a digit-like input (random pen strokes on 28 x 28 pixels, 0 to 1 V, one pixel
per 1 ms step) through 64 replicas of the network, 32 per thread, for one 784-step
sample, and time it; in the same run, time the dense reference for a few steps on the
same network. Print both rates, their ratio, and the time that a 60,000 x 784-step
MNIST stream would take at 500 wires. Timings are the best of a few repeats; the
machine's other work makes them noisy. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import logging

import numba

from nwnrc.device._bench import (
    MNIST_STEPS_PER_SAMPLE,
    MNIST_TRAIN_SAMPLES,
    EngineBenchmark,
    bench_engine,
)

#: Wires, and dense-reference steps to time (fewer where a step takes seconds).
SIZES = ((300, 40), (500, 20), (1000, 6), (3000, 2))
QUICK_SIZES = ((300, 10), (500, 5))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="300 and 500 wires, 64 replicas x 100 steps, one repeat",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    if args.quick:
        sizes, replicas, steps, repeats = QUICK_SIZES, 64, 100, 1
    else:
        sizes, replicas, steps, repeats = SIZES, 64, MNIST_STEPS_PER_SAMPLE, 3

    results: list[EngineBenchmark] = []
    if not args.json:
        print(
            f"{'wires':>6} {'junct.':>7} {'nodes':>6} {'updates':>8} "
            f"{'engine rs/s':>12} {'1 replica/s':>11} {'dense st/s':>10} "
            f"{'speedup':>8}"
        )
    for n_wires, dense_steps in sizes:
        r = bench_engine(
            n_wires,
            steps=steps,
            replicas=replicas,
            lanes=32,
            seed=args.seed,
            dense_steps=dense_steps,
            repeats=repeats,
        )
        results.append(r)
        if not args.json:
            print(
                f"{r.wires:6d} {r.simulated_junctions:7d} {r.free_nodes:6d} "
                f"{r.factor_updates:8d} {r.replica_steps_per_s:12,.0f} "
                f"{r.single_replica_steps_per_s:11,.0f} {r.dense_steps_per_s:10,.2f} "
                f"{r.speedup_vs_dense:7,.0f}x",
                flush=True,
            )

    at_500 = next(r for r in results if r.wires == 500)
    projected = at_500.projected_stream_seconds()
    if args.json:
        print(
            json.dumps(
                {
                    "numba_threads": numba.get_num_threads(),
                    "results": [r.to_dict() for r in results],
                    "projection": {
                        "wires": 500,
                        "samples": MNIST_TRAIN_SAMPLES,
                        "steps_per_sample": MNIST_STEPS_PER_SAMPLE,
                        "seconds": projected,
                    },
                },
                indent=2,
            )
        )
        return
    r = at_500
    print(
        f"\nengine: {r.replicas} replicas x {r.steps} steps, lanes {r.lanes}, "
        f"{r.engine_threads} of {numba.get_num_threads()} threads; dense reference on "
        + ("one BLAS thread" if r.dense_single_blas_thread else "default BLAS threads")
        + f"; best of {r.repeats}"
    )
    print(
        f"projected 60,000 x 784-step stream at 500 wires: {projected:,.0f} s "
        f"({projected / 60:,.1f} min) at {r.replica_steps_per_s:,.0f} replica-steps/s, "
        "warm-up samples not counted"
    )


if __name__ == "__main__":
    main()
