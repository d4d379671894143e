"""Find the operating regime of the simulated device for MNIST, on the validation split.

Streams a few thousand training digits and the first validation digits through the
default network for a grid of input encodings (black- and white-pixel voltages), then
of network sizes and junction presets at the best encoding, and scores the readouts
(online RLS and ridge, 1 and 5 channels) against the same readouts on the raw pixels.
Never looks at the test split. Writes a table (JSON) and a figure into docs/.

Usage: python scripts/mnist_tuning.py [--train N] [--val N] [--out DIR] [--stage a|b]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nwnrc._atomic import write_json
from nwnrc.experiments import MnistConfig, run_mnist


def point(cfg: MnistConfig, out: Path) -> dict:
    m = run_mnist(cfg, out, figures=False)
    row = {
        "v_min": cfg.v_min, "v_max": cfg.v_max, "n_wires": cfg.n_wires,
        "junction": cfg.junction,
    }
    for method in ("online", "ridge"):
        acc = m[f"{method}_accuracy"]
        row[f"{method}_1"] = acc["1"]["mean"]
        row[f"{method}_5"] = acc[str(len(cfg.channels))]["mean"]
        row[f"{method}_input"] = m["input_channel_accuracy"][method]["mean"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--val", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("runs/tuning"))
    ap.add_argument("--stage", choices=("a", "b"), default="a")
    args = ap.parse_args()
    base = MnistConfig(n_train=args.train, n_test=args.val, eval_split="val",
                       shuffles=1, methods=("online", "ridge"))
    table_path = Path("docs/results/mnist-tuning.json")
    table = json.loads(table_path.read_text()) if table_path.exists() else []
    done = {(r["v_min"], r["v_max"], r["n_wires"], r["junction"]) for r in table}
    if args.stage == "a":
        grid = [replace(base, v_min=lo * hi, v_max=hi)
                for hi in (0.5, 1.0, 2.0, 4.0) for lo in (0.0, 0.2)]
    else:
        best = max((r for r in table if r["n_wires"] == 500
                    and r["junction"] == "hochstetter2021"),
                   key=lambda r: r["online_5"])
        enc = {"v_min": best["v_min"], "v_max": best["v_max"]}
        grid = [replace(base, n_wires=n, chip_size_um=78.0 * np.sqrt(n / 500), **enc)
                for n in (300, 1000)]
        grid.append(replace(base, junction="slow_decay", **enc))
    for cfg in tqdm(grid, desc="tuning points"):
        key = (cfg.v_min, cfg.v_max, cfg.n_wires, cfg.junction)
        if key in done:
            continue
        name = f"vmin{cfg.v_min:g}-vmax{cfg.v_max:g}-w{cfg.n_wires}-{cfg.junction}"
        table.append(point(cfg, args.out / name))
        write_json(table_path, table)
        print(json.dumps(table[-1]), flush=True)


if __name__ == "__main__":
    main()
