"""Find the operating regime of the simulated device for MNIST, on the validation split.

For each point of a small grid (input encoding, junction preset, network size), streams
the first training digits and the first validation digits through the device, then
scores ridge readouts over a grid of regularisations (closed form from one eigen-
decomposition), for 1 and for all readout channels and for the raw pixels. The test
split is never read. Writes docs/results/mnist-tuning.json and
docs/figures/mnist-tuning.png.

Usage: python scripts/mnist_tuning.py [--train N] [--val N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from nwnrc._atomic import write_json
from nwnrc.data import load_mnist
from nwnrc.experiments import MnistConfig, run_mnist

ALPHAS = (1.0, 3.0, 10.0, 30.0, 100.0, 300.0)


def ridge_scores(
    X_tr: np.ndarray, y_tr: np.ndarray, X_va: np.ndarray, y_va: np.ndarray
) -> dict[str, float]:
    """Validation accuracy of one-hot ridge for every alpha (intercept unpenalised
    up to the alpha on its constant column, as in nwnrc.learn)."""
    A = np.hstack([X_tr, np.ones((len(X_tr), 1))])
    B = np.hstack([X_va, np.ones((len(X_va), 1))])
    w, V = np.linalg.eigh(A.T @ A)
    VB = V.T @ (A.T @ np.eye(10)[y_tr])
    return {
        f"{a:g}": float(
            np.mean(np.argmax(B @ (V @ (VB / (w + a)[:, None])), 1) == y_va)
        )
        for a in ALPHAS
    }


def point(cfg: MnistConfig, out: Path, pixels: np.ndarray) -> dict:
    run_mnist(cfg, out, figures=False)
    with h5py.File(out / "stream" / "features.h5") as f:
        pads = f["pads"][:].astype(np.float64) / cfg.v_max
        y = f["labels"][:]
    n = cfg.n_train
    row = {k: getattr(cfg, k) for k in ("v_min", "v_max", "n_wires", "junction")}
    for name, X in (
        ("raw", pixels),
        ("1ch", pads[:, 0]),
        ("5ch", pads.reshape(len(pads), -1)),
    ):
        row[name] = ridge_scores(X[:n], y[:n], X[n:], y[n:])
    return row


def plot_table(table: list[dict], path: Path) -> None:
    """Best validation accuracy (over alpha) of raw pixels, 1 and 5 channels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [
        f"{r['junction'].replace('hochstetter2021', 'H2021')}\n{r['n_wires']} wires\n"
        f"{r['v_min']:g}-{r['v_max']:g} V"
        for r in table
    ]
    x = np.arange(len(table))
    fig, ax = plt.subplots(figsize=(1.5 * len(table) + 2, 4.2))
    for i, (key, colour) in enumerate(
        (("raw", "0.6"), ("1ch", "#1f77b4"), ("5ch", "#ff7f0e"))
    ):
        best = [max(r[key].values()) * 100 for r in table]
        ax.bar(
            x + (i - 1) * 0.27,
            best,
            0.27,
            color=colour,
            label={"raw": "raw pixels", "1ch": "1 channel", "5ch": "5 channels"}[key],
        )
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=7)
    lo = min(min(r[k].values()) for r in table for k in ("raw", "1ch", "5ch"))
    ax.set_ylim(max(0, lo * 100 - 2), 90)
    ax.set_ylabel("validation accuracy (%), best ridge alpha")
    ax.set_title("Operating regime sweep (ridge readout, validation split)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=10_000)
    ap.add_argument("--val", type=int, default=2_000)
    ap.add_argument("--out", type=Path, default=Path("runs/tuning"))
    ap.add_argument("--plot-only", action="store_true")
    args = ap.parse_args()
    table_path = Path("docs/results/mnist-tuning.json")
    figure_path = Path("docs/figures/mnist-tuning.png")
    if args.plot_only:
        plot_table(json.loads(table_path.read_text()), figure_path)
        return
    mnist = load_mnist()
    pixels = (
        np.concatenate([mnist.train_images[: args.train], mnist.val_images[: args.val]])
        .reshape(args.train + args.val, -1)
        .astype(np.float64)
    )
    base = MnistConfig(
        n_train=args.train,
        n_test=args.val,
        eval_split="val",
        shuffles=1,
        methods=("ridge",),
    )
    grid = [
        replace(base, v_min=0.0, v_max=2.0),
        replace(base, v_min=0.4, v_max=2.0),
        replace(base, v_min=0.0, v_max=1.0),
        replace(base, v_min=0.0, v_max=4.0),
        replace(base, v_min=0.4, v_max=2.0, junction="slow_decay"),
        replace(
            base, v_min=0.4, v_max=2.0, n_wires=1000, chip_size_um=78.0 * np.sqrt(2.0)
        ),
    ]
    table = json.loads(table_path.read_text()) if table_path.exists() else []
    done = {(r["v_min"], r["v_max"], r["n_wires"], r["junction"]) for r in table}
    for cfg in tqdm(grid, desc="tuning points"):
        key = (cfg.v_min, cfg.v_max, cfg.n_wires, cfg.junction)
        if key in done:
            continue
        name = f"vmin{cfg.v_min:g}-vmax{cfg.v_max:g}-w{cfg.n_wires}-{cfg.junction}"
        table.append(point(cfg, args.out / name, pixels))
        write_json(table_path, table)
        print(json.dumps(table[-1]), flush=True)
    plot_table(table, figure_path)


if __name__ == "__main__":
    main()
