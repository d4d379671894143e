"""Regularisation of the sequence reconstructor, tuned without the test streams.

Reads the stored device stream of a finished ``nwnrc sequence`` run, keeps its
training streams only, learns from all of them but the last and scores the last (a
validation stream of training-split digits). The reconstructor is ridge regression in
closed form (dual form, as the windows are fewer than the features), which equals RLS
with forgetting 1 and ``delta = alpha``: the sweep is over ``rls_delta``, the penalty
per following digit, at a few window lengths.

Writes docs/results/sequence/delta-sweep.json.

Usage: python scripts/sequence_delta_sweep.py RUN_DIR [--out PATH]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from nwnrc._atomic import write_json
from nwnrc.analysis._ssim import ssim_batch
from nwnrc.data import load_mnist
from nwnrc.experiments._sequence import (
    SequenceConfig,
    _Channels,
    _Job,
    _position_mean,
    draw_sequence_digits,
    stream_sequence,
)

DELTAS = [3.0, 5.0, 15.0, 50.0, 150.0]
WINDOWS = [2, 5, 8]


def ridge_predict(
    x: np.ndarray, y: np.ndarray, x_new: np.ndarray, alpha: float
) -> np.ndarray:
    """Ridge with an intercept column penalised like the weights (as RLS does)."""
    xa = np.hstack([x, np.ones((x.shape[0], 1))])
    xn = np.hstack([x_new, np.ones((x_new.shape[0], 1))])
    gram = xa @ xa.T
    coef = np.linalg.solve(gram + alpha * np.eye(gram.shape[0]), y)
    return (xn @ xa.T) @ coef


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument(
        "--out", type=Path, default=Path("docs/results/sequence/delta-sweep.json")
    )
    args = ap.parse_args()
    config = SequenceConfig.from_dict(
        json.loads((args.run / "config.json").read_text())
    )
    mnist = load_mnist()
    index = draw_sequence_digits(config, mnist.train_labels, mnist.test_labels)
    n_tr = config.train_streams
    images = np.concatenate(
        [mnist.train_images[index[:n_tr]], mnist.test_images[index[n_tr:]]]
    ).astype(np.float32)
    stream = stream_sequence(config, args.run, images)  # complete: read, not run
    # the last training stream plays the held-out part
    val = replace(config, train_streams=n_tr - 1, test_streams=1)
    keep = list(range(n_tr))
    sub = type(stream)(
        pad_voltages=stream.pad_voltages[keep],
        source_current=stream.source_current[keep],
        conductance=stream.conductance[keep],
        volts=stream.volts[keep],
        state=stream.state[keep],
    )
    channels = _Channels(val, sub, images[keep])
    y_tr, _ = channels.targets_of("train")
    y_va, pos_va = channels.targets_of("test")
    rows = []
    for w in WINDOWS:
        job = _Job(f"main-L{w}", w, "main")
        x_tr = channels.features(job, "train")
        x_va = channels.features(job, "test")
        scores = {}
        for d in DELTAS:
            pred = ridge_predict(x_tr, y_tr, x_va, d * (w - 1))
            s = ssim_batch(
                y_va.reshape(-1, 28, 28),
                pred.reshape(-1, 28, 28),
                win_size=config.ssim_win_size,
            )
            scores[str(d)] = round(_position_mean(s, pos_va), 4)
        print(f"L={w}: {scores}")
        rows.append({"window": w, "validation_ssim_by_rls_delta": scores})
    write_json(
        args.out,
        {
            "run_config": config.to_dict(),
            "train_streams_used": n_tr - 1,
            "validation_stream": "the last training stream (training-split digits)",
            "results": rows,
        },
    )


if __name__ == "__main__":
    main()
