"""``nwnrc export``: a finished run's readouts as a recording."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``export`` command."""
    p = subparsers.add_parser(
        "export",
        help="write a finished run's readouts as a recording (HDF5)",
        description=(
            "Write the readouts of a finished `nwnrc mnist` or `nwnrc sequence` run "
            "as an nwnrc recording (HDF5, kind 'simulated'): readouts, input stream, "
            "source current and conductance, labels, pads, time step, the run's "
            "configuration and the simulated network's description. The file "
            "stands wherever a recording does: the run's command with "
            "--recording FILE on it gives the run's metrics."
        ),
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="finished run folder")
    p.add_argument(
        "--out", type=Path, required=True, metavar="FILE.h5", help="recording to write"
    )
    p.add_argument(
        "--data",
        type=Path,
        help="local MNIST (.npz, IDX folder, .pkl.gz), for a run whose stream "
        "predates the stored input",
    )
    p.add_argument("--cache-dir", type=Path, help="where MNIST is cached")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing --out file"
    )
    p.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    import h5py

    from nwnrc.recording._export import export_run

    path = export_run(
        args.run_dir,
        args.out,
        data_path=args.data,
        cache_dir=args.cache_dir,
        overwrite=args.overwrite,
    )
    with h5py.File(path, "r") as f:
        n, _, steps = f["pads"].shape
        pads = [int(p) for p in f.attrs["pad_numbers"]]
        print(
            f"wrote a {f.attrs['kind']} recording of {n} samples "
            f"({int(f.attrs['n_train'])} training), pads {pads}, {steps} steps of "
            f"{float(f.attrs['dt_s']) * 1e3:g} ms, to {path}",
            file=sys.stdout,
        )
    return 0
