"""Benchmark of the MI analysis of a run at the paper's scale.

Times :func:`nwnrc.analysis.analyse_mi` (both passes over ``features.h5``, the MI
curve at every checkpoint, the label-shuffle floor, the per-class maps and the
figures) on either

- a synthetic run folder written to a temporary directory: ``--samples`` training
  digits (50,000 by default, the paper's training stream) plus ``--test`` test digits,
  5 readout pads x 784 steps in float32 (784 MB of pads for 50,000 digits), with
  class-dependent pixels and readouts; or
- a given run folder (``--run RUN_DIR``), whose input stream is rebuilt from MNIST.

Prints the wall time, the CPU time, the peak of memory traced by Python
(``tracemalloc``: numpy arrays included) and the peak resident size of the process.
Figures are printed, never asserted.

Usage::

    python benchmarks/bench_mi.py                    # 50,000 synthetic digits
    python benchmarks/bench_mi.py --samples 5000     # a quick look
    python benchmarks/bench_mi.py --run runs/mnist   # a real run folder
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
from scipy import signal

from nwnrc.analysis import MiSettings, analyse_mi

PADS = (1, 2, 12, 13, 15)
STEPS = 784


def write_synthetic_run(root: Path, n_train: int, n_test: int, seed: int = 0) -> Path:
    """A run folder of the ``nwnrc mnist`` layout; return the pixels of its stream.

    Digit c has ink at pixel t with a class-dependent chance; each readout pad is a
    leaky running mean of the input voltage with its own time constant, plus noise;
    the conductance grows with the ink seen in the digit so far. Written in chunks
    of 1,000 digits, so that generating it needs little memory.
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    labels = rng.integers(0, 10, n)
    ink = rng.random((10, STEPS)) ** 3
    pixels = np.empty((n, STEPS), np.float32)
    (root / "stream").mkdir(parents=True)
    with h5py.File(root / "stream" / "features.h5", "w") as f:
        pads = f.create_dataset(
            "pads", (n, len(PADS), STEPS), dtype="f4", chunks=(256, len(PADS), STEPS)
        )
        cond = f.create_dataset("conductance", (n, STEPS), "f4", chunks=(256, STEPS))
        f.create_dataset("labels", data=labels)
        for a in range(0, n, 1000):
            b = min(n, a + 1000)
            m = b - a
            pix = (rng.random((m, STEPS)) < ink[labels[a:b]]) * rng.random((m, STEPS))
            pixels[a:b] = pix
            volts = 2.0 * pix
            out = np.empty((m, len(PADS), STEPS), np.float32)
            for k in range(len(PADS)):
                # y[t] = (1 - g) y[t-1] + g v[t]: a leaky integrator per pad
                g = 0.2 + 0.15 * k
                out[:, k] = signal.lfilter([g], [1.0, g - 1.0], volts, axis=1)
            out += rng.normal(0, 0.02, out.shape).astype(np.float32)
            pads[a:b] = out
            cond[a:b] = (1e-5 * (1 + np.cumsum(pix, axis=1) / 50)).astype(np.float32)
        f.attrs["n_train"] = n_train
        f.attrs["pad_numbers"] = np.asarray(PADS)
        f.attrs["dt_s"] = 1e-3
        f.attrs["config"] = "{}"
    dw_n = np.unique(np.round(np.logspace(0, np.log10(n_train), 200)).astype(int))
    dw = dw_n / (1 + (dw_n / 300.0) ** 2)
    metrics = {
        "config": {
            "n_train": n_train,
            "n_test": n_test,
            "eval_split": "test",
            "v_min": 0.0,
            "v_max": 2.0,
            "seed": 0,
        },
        "per_class_accuracy": rng.uniform(0.85, 0.99, 10).tolist(),
        "mean_abs_dw": {"samples": dw_n.tolist(), "value": dw.tolist()},
    }
    (root / "metrics.json").write_text(json.dumps(metrics))
    np.save(root / "pixels.npy", pixels)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=50_000, help="training digits")
    parser.add_argument("--test", type=int, default=1000, help="test digits")
    parser.add_argument("--run", type=Path, help="analyse this run folder instead")
    parser.add_argument("--bins", type=int, default=16)
    parser.add_argument("--no-figures", action="store_true")
    args = parser.parse_args()

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{platform.machine()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-mi-") as tmp:
        images = None
        if args.run is None:
            t0 = time.perf_counter()
            root = write_synthetic_run(Path(tmp) / "run", args.samples, args.test)
            images = np.load(root / "pixels.npy")
            size = (root / "stream" / "features.h5").stat().st_size / 2**20
            print(
                f"synthetic run: {args.samples} + {args.test} digits, "
                f"{len(PADS)} pads x {STEPS} steps, features.h5 {size:.0f} MB, "
                f"written in {time.perf_counter() - t0:.1f} s"
            )
        else:
            root = args.run
            print(f"run folder: {root}")

        settings = MiSettings(n_bins=args.bins)
        tracemalloc.start()
        t0, c0 = time.perf_counter(), time.process_time()
        metrics = analyse_mi(
            root, settings=settings, images=images, figures=not args.no_figures
        )
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = metrics["n_train"]
    print(f"analyse_mi over {n} training digits, {len(metrics['channels'])} channels:")
    print(f"  wall time          {wall:7.1f} s   ({n / wall:,.0f} digits/s)")
    print(f"  CPU time           {cpu:7.1f} s")
    print(f"  peak traced memory {peak / 2**20:7.0f} MB (analysis only)")
    print(f"  peak resident size {rss:7.0f} MB (whole process, pixels included)")
    print(
        "  MI (bits): "
        + ", ".join(f"{k} {v:.3f}" for k, v in metrics["mi_bits"].items())
    )


if __name__ == "__main__":
    main()
