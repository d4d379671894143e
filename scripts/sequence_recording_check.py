"""The sequence task on a simulated run, on its exported recording, and on that
recording with the conductance taken from source current over input.

Runs a short sequence experiment (20 repetitions, 3 + 1 streams, L up to 3, the
default network and encoding, MNIST from the cache or ``--data``), exports it with
:func:`nwnrc.experiments._sequence.sequence_recording`, runs the task on the
recording, and checks that ``metrics.json`` is the same outside the device probes and
the data source. Then removes the recorded conductance, so that G comes from source
current / input and is held over the steps at ~0 V, and prints what that changes.

Usage: python scripts/sequence_recording_check.py WORK_DIR [--data MNIST]
(about two minutes on two cores; WORK_DIR gets three run folders and two recordings)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import warnings
from pathlib import Path
from typing import Any

from nwnrc.experiments._sequence import (
    DEVICE_PROBES,
    SequenceConfig,
    run_sequence,
    sequence_recording,
)
from nwnrc.recording import write_recording


def _recall(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics less the device probes and the data source."""
    out = json.loads(json.dumps(metrics))
    for key in DEVICE_PROBES:
        head, tail = key.split(".")
        out[head].pop(tail, None)
    for key in ("data_source", "recording", "device_probes"):
        out.pop(key, None)
    return out


def _line(name: str, m: dict[str, Any]) -> str:
    def r(d: dict[str, float]) -> str:
        return " ".join(f"L{w} {v:.3f}" for w, v in d.items())

    ctl = m["control"]
    ink = ", ".join(f"{v:.2f}" for v in m["memory"]["ink_corr_first_row_log10_g"])
    return (
        f"{name:<22} SSIM {r(m['ssim_mean'])} | voltages only "
        f"{r(ctl['voltage_only']['ssim_mean'])} | shuffled G "
        f"{r(ctl['shuffled_conductance']['ssim_mean'])} | ink corr lag 0-4 {ink}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("work", type=Path)
    ap.add_argument("--data", type=Path, help="local MNIST (default: the cache)")
    args = ap.parse_args()
    root: Path = args.work
    config = SequenceConfig(
        repeats=20,
        max_window=3,
        exclusion_window=3,
        control_windows=(2, 3),
    )

    t = time.perf_counter()
    sim = run_sequence(config, root / "sim", data_path=args.data, figures=False)
    print(f"simulated run: {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    rec = sequence_recording(root / "sim")
    path = write_recording(root / "sequence.h5", rec)
    size = path.stat().st_size / 1e6
    print(f"export: {time.perf_counter() - t:.1f} s, {size:.1f} MB")

    t = time.perf_counter()
    got = run_sequence(config, root / "on-recording", recording=path, figures=False)
    print(f"run on the recording: {time.perf_counter() - t:.1f} s")
    print(f"identical outside the device probes: {_recall(sim) == _recall(got)}")

    no_g = write_recording(
        root / "sequence-no-g.h5", dataclasses.replace(rec, conductance=None)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the held-G warning is expected here
        held = run_sequence(config, root / "held-g", recording=no_g, figures=False)
    print(f"G from current / input: {held['recording']['conductance']}")
    print(sim["n_windows"])
    for name, m in (("simulated", sim), ("recording", got), ("G held at ~0 V", held)):
        print(_line(name, m))


if __name__ == "__main__":
    main()
