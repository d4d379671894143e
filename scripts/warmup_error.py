"""How many digits of warm-up make replica chunks equal one continuous stream.

Streams the first training digits through the default device once, continuously, then
restarts pristine replicas at each later digit after w digits of warm-up and compares
their readouts over that digit with the continuous stream's (largest absolute pad
voltage difference over the largest pad voltage). Writes docs/results/warmup.json.

Usage: python scripts/warmup_error.py [--digits N] [--v-max V] [--v-min V]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from nwnrc._atomic import write_json
from nwnrc.data import encode_images, load_mnist
from nwnrc.device._stream import warmup_error
from nwnrc.experiments import MnistConfig
from nwnrc.experiments._mnist import build_device


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--digits", type=int, default=40)
    ap.add_argument("--v-max", type=float)
    ap.add_argument("--v-min", type=float)
    ap.add_argument("--junction")
    args = ap.parse_args()
    cfg = MnistConfig()
    over = {"v_max": args.v_max, "v_min": args.v_min, "junction": args.junction}
    cfg = replace(cfg, **{k: v for k, v in over.items() if v is not None})
    device = build_device(cfg)
    images = load_mnist().train_images[: args.digits].reshape(args.digits, -1)
    volts = encode_images(images, cfg.v_min, cfg.v_max)
    warmups = [0, 1, 2, 3, 4, 6]
    errors = warmup_error(device, lambda i: volts[i], 784, args.digits, warmups)
    result = {
        "v_min": cfg.v_min,
        "v_max": cfg.v_max,
        "junction": cfg.junction,
        "n_wires": cfg.n_wires,
        "digits": args.digits,
        "compared_digits": args.digits - max(warmups),
        "relative_error": {str(w): e for w, e in errors.items()},
    }
    path = "docs/results/warmup.json"
    try:
        with open(path) as f:
            table = json.load(f)
    except FileNotFoundError:
        table = []
    table = [
        r
        for r in table
        if (r["v_min"], r["v_max"], r["junction"])
        != (cfg.v_min, cfg.v_max, cfg.junction)
    ] + [result]
    write_json(path, table)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
