"""Which junction preset and amplitude give the sequence task a memory of digits.

Streams the sequence (training-split digits, one draw shared by every lane) through
the default network once per amplitude, the amplitudes side by side as device lanes,
for each junction preset, and measures on the conductance G:

- dynamic range: decades over the whole stream, and the 1-99 % range and the median
  range within a digit after the washout;
- ceiling: the fraction of steps after the washout at which G is within 2 % of the
  largest G of its repetition (a conducting path fully formed, G blind to further
  growth);
- memory: the correlation between the ink of digit k and log10 G over the first
  pixel row of digit k + j, j = 0..4, at fixed sequence positions
  (:func:`nwnrc.experiments._sequence.ink_lag_correlation`);
- relaxation: seconds for G to fall one decade once the input stops.

Writes docs/results/sequence/memory-probe.json.

Usage: python scripts/sequence_memory_probe.py [--repeats 40] [--out PATH]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nwnrc._atomic import write_json
from nwnrc.data import encode_images, load_mnist
from nwnrc.experiments._sequence import (
    SequenceConfig,
    build_device,
    draw_sequence_digits,
    ink_lag_correlation,
)

PLAN = {
    "slow_decay": [0.5, 0.6, 0.75, 0.9, 1.2],
    "hochstetter2021": [0.75, 1.0, 2.0, 3.0],
}


def probe(preset: str, amps: list[float], repeats: int, washout: int) -> list[Any]:
    cfg = replace(
        SequenceConfig(),
        junction=preset,
        repeats=repeats,
        washout_repeats=washout,
        train_streams=len(amps),
        test_streams=1,
    )
    mnist = load_mnist()
    index = draw_sequence_digits(cfg, mnist.train_labels, mnist.test_labels)[0]
    images = mnist.train_images[index].reshape(index.size, -1)
    unit = encode_images(images, 0.0, 1.0).ravel()
    relax_steps = 10_000
    volts = np.stack([np.concatenate([a * unit, np.zeros(relax_steps)]) for a in amps])
    device = build_device(cfg)
    t0 = time.perf_counter()
    g = device.run(volts).conductance
    seconds = time.perf_counter() - t0
    n = len(cfg.sequence)
    first = washout * n
    out = []
    for a, row in zip(amps, g, strict=True):
        log_g = np.log10(row[: unit.size]).reshape(-1, 784)
        steady = log_g[first:]
        per_rep = steady.reshape(-1, n * 784)
        ceiling = per_rep >= per_rep.max(axis=1, keepdims=True) + np.log10(0.98)
        relax = np.log10(row[unit.size :])
        below = np.flatnonzero(relax <= log_g[-1, -1] - 1.0)
        ink = images.mean(axis=1)[None, :]
        out.append(
            {
                "junction": preset,
                "v_max": a,
                "whole_stream_decades": round(float(log_g.max() - log_g.min()), 3),
                "steady_p1_p99_decades": round(
                    float(np.percentile(steady, 99) - np.percentile(steady, 1)), 3
                ),
                "within_digit_median_decades": round(
                    float(np.median(steady.max(axis=1) - steady.min(axis=1))), 3
                ),
                "steady_mean_log10_g": round(float(steady.mean()), 3),
                "fraction_at_ceiling": round(float(ceiling.mean()), 3),
                "ink_corr_first_row_lag0_4": [
                    round(c, 3)
                    for c in ink_lag_correlation(
                        ink, log_g[None, :, :28].mean(axis=2), n, first
                    )
                ],
                "relax_one_decade_s": float(below[0] + 1) * cfg.dt
                if below.size
                else None,
            }
        )
    print(f"{preset}: {len(amps)} lanes x {unit.size} steps in {seconds:.0f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=40)
    ap.add_argument("--washout", type=int, default=5)
    ap.add_argument(
        "--out", type=Path, default=Path("docs/results/sequence/memory-probe.json")
    )
    args = ap.parse_args()
    rows = []
    for preset, amps in PLAN.items():
        rows += probe(preset, amps, args.repeats, args.washout)
    for r in rows:
        print(r)
    write_json(
        args.out,
        {
            "repeats": args.repeats,
            "washout_repeats": args.washout,
            "network": "default (500 wires, seed 0), source 4, drain 11",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
