"""Benchmark of the readout learners at the paper's scale (3,920 features).

Measures, in one run and on the same synthetic features:

1. online RLS with Woodbury blocks of several sizes (samples per second);
2. per-sample RLS (``block_size=1``) on a short stretch, extrapolated to the full pass;
3. the full pass of the best block size over ``--samples`` samples (50,000 by default:
   the paper's MNIST training stream), or its projection with ``--quick``;
4. the softmax gradient-descent baseline (100 epochs, batch 100, lr 0.1) for
   ``--gd-epochs`` epochs, projected to 100;
5. closed-form ridge: accumulation in chunks and the solve.

The features imitate readouts of 5 channels x 784 steps: smooth class-dependent
patterns of low rank on a common offset, plus noise (see ``Features``). Figures are
printed, never asserted.

Usage::

    python benchmarks/bench_readout.py            # full: about 2 to 4 minutes
    python benchmarks/bench_readout.py --quick    # about 20 seconds
    python benchmarks/bench_readout.py --blas-threads 1   # on a busy machine
"""

from __future__ import annotations

import os
import sys

# The BLAS reads its thread count when numpy is imported, so this option is taken
# from the command line before the imports below.
if "--blas-threads" in sys.argv:
    _threads = sys.argv[sys.argv.index("--blas-threads") + 1]
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_name] = _threads

import argparse
import platform
import resource
import time

import numpy as np
from tqdm import tqdm

from nwnrc.learn import (
    RidgeClassifier,
    RLSClassifier,
    SoftmaxGDClassifier,
)

N_CLASSES = 10


class Features:
    """Synthetic readout features with a class structure of low rank.

    A sample of class c is ``0.3 + (mu_c + z) @ A + noise``: 20 latent factors (class
    mean ``mu_c`` plus a standard normal ``z``) mapped onto the features by smooth
    random patterns ``A`` (neighbouring time steps of a readout are alike), a common
    offset, and white noise. The classes overlap, so accuracy stays below 1.
    """

    def __init__(self, n_features: int, seed: int, n_latent: int = 20) -> None:
        self.rng = np.random.default_rng(seed)
        raw = self.rng.normal(size=(n_latent, n_features))
        kernel = np.exp(-0.5 * (np.arange(-20, 21) / 6.0) ** 2)
        kernel /= kernel.sum()
        self.patterns = np.array([np.convolve(r, kernel, mode="same") for r in raw])
        self.patterns *= 0.02 / self.patterns.std()
        self.means = 1.2 * self.rng.normal(size=(N_CLASSES, n_latent))
        self.n_features = n_features

    def draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        y = self.rng.integers(0, N_CLASSES, size=n)
        latent = self.means[y] + self.rng.normal(size=(n, self.means.shape[1]))
        X = 0.3 + latent @ self.patterns
        X += 0.05 * self.rng.normal(size=X.shape)
        return X, y


def time_rls(
    features: Features, n_samples: int, block_size: int, progress: bool = False
) -> tuple[float, RLSClassifier]:
    """Seconds spent in partial_fit for n_samples samples fed in calls of one block."""
    clf = RLSClassifier(delta=1.0, block_size=block_size)
    spent = 0.0
    with tqdm(
        total=n_samples, disable=not progress, unit="sample", file=sys.stderr
    ) as bar:
        done = 0
        while done < n_samples:
            k = min(max(block_size, 1), n_samples - done)
            X, y = features.draw(k)
            start = time.perf_counter()
            clf.partial_fit(X, y)
            spent += time.perf_counter() - start
            done += k
            bar.update(k)
    return spent, clf


def rule(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run, projected")
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=3_920)
    parser.add_argument("--block-sizes", default="50,100,200,400,800")
    parser.add_argument("--sweep-samples", type=int, default=2_000)
    parser.add_argument("--per-sample", type=int, default=300)
    parser.add_argument("--gd-epochs", type=int, default=3)
    parser.add_argument("--gd-samples", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="BLAS threads (default: the library's own choice)",
    )
    args = parser.parse_args()
    if args.quick:
        args.sweep_samples = min(args.sweep_samples, 800)
        args.per_sample = min(args.per_sample, 40)
        args.gd_epochs = min(args.gd_epochs, 1)
        args.gd_samples = min(args.gd_samples, 10_000)
    blocks = [int(b) for b in args.block_sizes.split(",")]
    d = args.features
    features = Features(d, args.seed)

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, BLAS threads "
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, load average at start "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"{d} features (+1 intercept), {N_CLASSES} classes, P is "
        f"{8 * (d + 1) ** 2 / 1e6:.0f} MB"
    )

    rule("RLS: Woodbury block sizes")
    rates = {}
    for b in blocks:
        n = max(args.sweep_samples, 2 * b)
        spent, _ = time_rls(features, n, b)
        rates[b] = n / spent
        print(
            f"block {b:4d}: {n:6d} samples in {spent:7.2f} s = "
            f"{rates[b]:8.1f} samples/s"
        )
    best = max(rates, key=lambda b: rates[b])

    rule("RLS: per-sample updates (block_size=1)")
    spent_1, _ = time_rls(features, args.per_sample, 1)
    rate_1 = args.per_sample / spent_1
    print(
        f"per-sample: {args.per_sample} samples in {spent_1:.2f} s = {rate_1:.1f} "
        f"samples/s; {args.samples} samples would take {args.samples / rate_1:.0f} s "
        f"(extrapolated)"
    )
    print(f"block {best} / per-sample speed ratio: {rates[best] / rate_1:.1f}")

    # The same samples through a block learner give the same weights.
    features_again = Features(d, args.seed + 1)
    X, y = features_again.draw(args.per_sample)
    w1 = RLSClassifier(block_size=1).fit(X, y).coef_
    wb = RLSClassifier(block_size=best).fit(X, y).coef_
    print(
        f"max |W_block - W_per_sample| / max |W| over {args.per_sample} samples: "
        f"{np.max(np.abs(wb - w1)) / np.max(np.abs(w1)):.1e}"
    )

    rule(f"RLS: one pass over {args.samples} samples, block {best}")
    if args.quick:
        print(
            f"--quick: projected from the sweep, {args.samples / rates[best]:.0f} s "
            f"for {args.samples} samples (target 120 s)"
        )
        clf = None
    else:
        spent, clf = time_rls(features, args.samples, best, progress=True)
        print(
            f"{args.samples} samples in {spent:.1f} s = {args.samples / spent:.1f} "
            f"samples/s (measured; target 120 s); per-sample updates would take "
            f"about {args.samples / rate_1:.0f} s"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of this process so far: {peak:.0f} MB")
        X_test, y_test = features.draw(2_000)
        print(
            f"accuracy on 2,000 fresh synthetic samples: "
            f"{clf.score(X_test, y_test):.3f}"
        )
        del clf

    rule(f"Softmax gradient descent: {args.gd_samples} samples")
    X, y = features.draw(args.gd_samples)
    start = time.perf_counter()
    gd = SoftmaxGDClassifier(epochs=args.gd_epochs).fit(X, y)
    spent = time.perf_counter() - start
    per_epoch = spent / args.gd_epochs
    print(
        f"{args.gd_epochs} epochs in {spent:.1f} s ({per_epoch:.2f} s per epoch, "
        f"standardisation included); 100 epochs of {args.gd_samples} samples: "
        f"about {100 * per_epoch:.0f} s"
        + (" (measured)" if args.gd_epochs == 100 else " (projected)")
    )
    if args.gd_samples != 50_000:
        print(
            f"50,000 samples x 100 epochs: about "
            f"{100 * per_epoch * 50_000 / args.gd_samples:.0f} s (projected)"
        )
    print(f"loss per epoch: {', '.join(f'{v:.3f}' for v in gd.loss_curve_[:10])}")

    rule(f"Ridge: {args.gd_samples} samples in chunks of 1,000, then the solve")
    ridge = RidgeClassifier(alpha=1.0)
    start = time.perf_counter()
    for a in range(0, args.gd_samples, 1_000):
        ridge.partial_fit(X[a : a + 1_000], y[a : a + 1_000])
    accumulated = time.perf_counter() - start
    start = time.perf_counter()
    _ = ridge.coef_
    solved = time.perf_counter() - start
    print(f"accumulate {accumulated:.1f} s, solve {solved:.1f} s")

    print(
        f"\nload average at end {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"(other processes on the machine slow every figure above)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
