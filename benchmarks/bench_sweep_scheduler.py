"""What the dask scheduler and the sweep's client cost per point, without the point.

Submits N tasks that do nothing but return a summary of the size ``run_point``
returns, with the keys and retries that ``run_sweep`` uses, to a local cluster of
worker processes, and collects them with ``as_completed`` while writing the failures
file after every completion, as ``run_sweep`` does. The time per task is the
overhead a sweep pays on top of its points' own work.

Usage: python benchmarks/bench_sweep_scheduler.py [--tasks N] [--workers W]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster, as_completed

from nwnrc._atomic import write_json


def noop_point(i: int) -> dict[str, object]:
    """A task that returns what a finished point returns, and does nothing else."""
    return {
        "point_id": f"{i:012x}",
        "index": i,
        "experiment": "mnist",
        "repeat": 0,
        "params": {"v_max": 2.0, "n_wires": 500},
        "wall_s": 0.0,
        "cpu_s": 0.0,
        "peak_rss_mib": 0.0,
        "peak_rss_scope": "point",
        "attempt": 1,
        "host": "localhost",
        "pid": 0,
        "threads": 1,
    }


def run(n_tasks: int, n_workers: int) -> dict[str, float]:
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
        tempfile.TemporaryDirectory() as tmp,
    ):
        client.submit(noop_point, -1, key="warm-up").result()
        failures: dict[str, object] = {}
        t0 = time.perf_counter()
        futures = [
            client.submit(noop_point, i, key=f"nwnrc-point-{i:012x}-bench", retries=2)
            for i in range(n_tasks)
        ]
        t_submit = time.perf_counter() - t0
        finished = as_completed(
            futures, loop=client.loop, with_results=True, raise_errors=False
        )
        for fut, _ in finished:
            write_json(Path(tmp) / "failures.json", failures)
            fut.release()
        wall = time.perf_counter() - t0
        # the client's own share: one atomic write of the failures file per point
        t1 = time.perf_counter()
        for _ in range(n_tasks):
            write_json(Path(tmp) / "failures.json", failures)
        t_write = time.perf_counter() - t1
    return {
        "write_ms_per_task": 1e3 * t_write / n_tasks,
        "tasks": n_tasks,
        "workers": n_workers,
        "submit_ms_per_task": 1e3 * t_submit / n_tasks,
        "wall_s": wall,
        "ms_per_task": 1e3 * wall / n_tasks,
        "tasks_per_s": n_tasks / wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    r = run(args.tasks, args.workers)
    print(
        f"{r['tasks']} no-op points on {r['workers']} workers: "
        f"{r['wall_s']:.2f} s, {r['ms_per_task']:.2f} ms per point "
        f"({r['tasks_per_s']:.0f} points/s; submit {r['submit_ms_per_task']:.3f} ms, "
        f"failures-file write {r['write_ms_per_task']:.3f} ms per point)"
    )


if __name__ == "__main__":
    main()
