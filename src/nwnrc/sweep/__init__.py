"""Sweeps: many seeded runs of one experiment, on a local process pool or a cluster.

A sweep file (TOML) lists the configurations; :func:`run_sweep` runs each as a task on
dask.distributed (a local cluster by default, a running scheduler when given its
address) into its own folder; :func:`write_report` turns the folders into a table and
plots. Needs the ``sweep`` extra (``pip install nwnrc[sweep]``).

Examples
--------
>>> from nwnrc.sweep import read_sweep, run_sweep, write_report
>>> spec = read_sweep("docs/sweeps/mnist-amplitude-size.toml")  # doctest: +SKIP
>>> run_sweep(spec, "runs/sweeps/amplitude-size")  # doctest: +SKIP
>>> write_report("runs/sweeps/amplitude-size", x="v_max")  # doctest: +SKIP
"""

from nwnrc.sweep._report import flatten_metrics, sweep_table, write_report
from nwnrc.sweep._run import SweepOutcome, read_stamp, run_point, run_sweep
from nwnrc.sweep._spec import SweepPoint, SweepSpec, read_sweep, sweep_from_dict

__all__ = [
    "SweepOutcome",
    "SweepPoint",
    "SweepSpec",
    "flatten_metrics",
    "read_stamp",
    "read_sweep",
    "run_point",
    "run_sweep",
    "sweep_from_dict",
    "sweep_table",
    "write_report",
]
