"""Run a sweep on dask.distributed: a local process pool, or a running cluster.

The client checks the sweep, loads the data once (so that workers never race on a
download), stamps the sweep folder and submits one task per unfinished point. Each
task runs the experiment into the point's own folder, ``OUT/points/<id>/``, where the
experiment's atomic writes and resume apply as in any run folder; the task returns a
small summary, never the results, so the scheduler carries only bookkeeping. The
client writes failures as they come and the table at the end.

Layout of a sweep folder::

    OUT/sweep.json                   the spec and the data's checksum (the stamp)
    OUT/points/<id>/                 the run folder of one point (metrics.json ...)
    OUT/points/<id>/sweep-point.json the point's settings, CPU time, peak memory
    OUT/points/<id>/sweep-attempt.json  the latest attempt: host, pid, start time
    OUT/failures.json                points that failed after their retries
    OUT/results.csv                  one row per point
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nwnrc._atomic import write_json
from nwnrc._progress import no_progress
from nwnrc.errors import ConfigError
from nwnrc.sweep._spec import SweepPoint, SweepSpec, experiment, sweep_from_dict

logger = logging.getLogger(__name__)

ProgressFactory = Callable[..., Any]

STAMP = "sweep.json"
FAILURES = "failures.json"
TABLE = "results.csv"
POINT_FILE = "sweep-point.json"
ATTEMPT_FILE = "sweep-attempt.json"


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    out_dir : Path
        The sweep folder.
    n_points : int
        Points in the sweep.
    skipped : list of str
        Ids of points finished before this run (not run again).
    done : list of str
        Ids of points this run finished.
    failed : dict
        Id to failure record (error type, message, traceback) of the points that
        failed after their retries.
    table : Path or None
        The results table, when written.
    """

    out_dir: Path
    n_points: int
    skipped: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    table: Path | None = None


def is_done(point: SweepPoint, out_dir: str | Path) -> bool:
    """Whether the point's run finished (its metrics.json exists)."""
    return (point.folder(out_dir) / "metrics.json").is_file()


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    retries: int = 2,
    cache_dir: str | Path | None = None,
    figures: bool = False,
    drop_streams: bool = False,
    threads_per_point: int = 1,
    progress: ProgressFactory = no_progress,
) -> SweepOutcome:
    """Run every unfinished point of a sweep; write the results table.

    Parameters
    ----------
    spec : SweepSpec
        The sweep (see :func:`read_sweep`).
    out_dir : path
        Sweep folder. It must be on storage that the client and every worker see at
        the same path. A rerun skips finished points and resumes interrupted ones
        inside their folders.
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``). Without one, a
        local cluster of ``n_workers`` processes (one thread each) on 127.0.0.1 runs
        the sweep and is shut down at the end.
    n_workers : int, optional
        Worker processes of the local cluster (default: the CPU count). Ignored with
        ``scheduler``.
    retries : int
        Times a point that raised is run again before it is recorded as failed. A
        worker that dies while running a point does not use up a retry: the
        scheduler runs the point again elsewhere, up to
        ``distributed.scheduler.allowed-failures`` times (3 by default).
    cache_dir : path, optional
        MNIST cache folder, passed to :func:`nwnrc.data.load_mnist` in the client
        and in every task.
    figures : bool
        Write each point's figures.
    drop_streams : bool
        Delete a finished point's device stream (``stream/``, the bulk of its disk
        use: about 25 kB per digit with five readout pads), keeping its metrics
        and readout results.
    threads_per_point : int
        Numba threads a point may use (1: the cores are shared out by the workers).
    progress : callable, optional
        A ``tqdm``-like factory; one bar over the points. Silent by default.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    ConfigError
        If ``out_dir`` holds a sweep of another experiment or of other data, or is a
        file.

    Notes
    -----
    A point's task key is derived from its id and the sweep folder, so the scheduler
    never runs the same point of the same folder twice at once; the result is read
    from the point's folder, so a point run again after a worker died is counted
    once.

    Limitations: the scheduler cannot stop a task that is already running. If the
    client goes away (Ctrl-C, a lost connection), points running on a remote cluster
    finish on their own; a rerun started before they finish may run such a point a
    second time in the same folder. Both runs write the same files atomically, so the
    result is still whole, but the work is done twice. A worker on a host that
    does not see ``out_dir`` fails its points with a ConfigError. The local cluster
    starts its workers with multiprocessing's spawn method, so a script that calls
    this function without ``scheduler`` must do so under
    ``if __name__ == "__main__":`` (the ``nwnrc`` command does).
    """
    from distributed import Client, as_completed

    if retries < 0:
        raise ConfigError(f"retries must be >= 0, got {retries}")
    if threads_per_point < 1:
        raise ConfigError(f"threads_per_point must be >= 1, got {threads_per_point}")
    if n_workers is not None and n_workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {n_workers}")
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder for the sweep")
    points = spec.expand()

    # the data is read (and fetched into the cache, if need be) once, here
    data_sha = _data_checksum(spec, cache_dir)
    _stamp(out, spec, data_sha)
    failures = _read_failures(out, {p.point_id for p in points})
    outcome = SweepOutcome(out, len(points))
    todo = []
    for p in points:
        if is_done(p, out):
            outcome.skipped.append(p.point_id)
            failures.pop(p.point_id, None)
        else:
            todo.append(p)
    logger.info(
        "sweep %s: %d points, %d finished before, %d to run",
        spec.source,
        len(points),
        len(outcome.skipped),
        len(todo),
    )
    write_json(out / FAILURES, failures)

    if todo:
        cluster = None
        if scheduler:
            client = Client(scheduler, set_as_default=False)
        else:
            cluster = _local_cluster(n_workers)
            client = Client(cluster, set_as_default=False)
        try:
            logger.info("dask scheduler at %s", client.scheduler_info().get("address"))
            _submit_and_collect(
                client,
                as_completed,
                todo,
                out,
                spec,
                failures,
                outcome,
                retries=retries,
                options={
                    "data_path": str(spec.data) if spec.data else None,
                    "cache_dir": str(cache_dir) if cache_dir else None,
                    "figures": figures,
                    "drop_streams": drop_streams,
                    "threads": threads_per_point,
                },
                progress=progress,
            )
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    from nwnrc.sweep._report import sweep_table, write_table

    outcome.table = write_table(sweep_table(out), out / TABLE)
    return outcome


def _local_cluster(n_workers: int | None) -> Any:
    from distributed import LocalCluster

    n = n_workers or os.cpu_count() or 1
    return LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        # no dashboard; the scheduler's small HTTP server (health, metrics) takes
        # a free port on the loopback interface instead of the fixed 8787
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        # one numba thread per worker process: points do not oversubscribe the
        # cores (the nanny already sets the BLAS thread counts to 1)
        env={"NUMBA_NUM_THREADS": "1"},
    )


def _submit_and_collect(
    client: Any,
    as_completed: Any,
    todo: list[SweepPoint],
    out: Path,
    spec: SweepSpec,
    failures: dict[str, dict[str, Any]],
    outcome: SweepOutcome,
    *,
    retries: int,
    options: dict[str, Any],
    progress: ProgressFactory,
) -> None:
    folder_tag = hashlib.sha256(str(out).encode()).hexdigest()[:8]
    futures = {}
    for p in todo:
        fut = client.submit(
            run_point,
            spec.experiment,
            p.to_dict(),
            str(out),
            options,
            key=f"nwnrc-point-{p.point_id}-{folder_tag}",
            retries=retries,
        )
        futures[fut.key] = (fut, p)
    total = outcome.n_points
    # results (small summaries) are gathered in the background as they finish, not
    # fetched one round trip at a time
    finished = as_completed(
        [f for f, _ in futures.values()],
        loop=client.loop,
        with_results=True,
        raise_errors=False,
    )
    with progress(
        total=total, initial=len(outcome.skipped), desc="sweep", unit="point"
    ) as bar:
        for fut, result in finished:
            _, p = futures.pop(fut.key)
            if fut.status == "finished":
                outcome.done.append(p.point_id)
                failures.pop(p.point_id, None)
                logger.info(
                    "point %s (%s) done in %.0f s on %s",
                    p.point_id,
                    p.describe(),
                    result["wall_s"],
                    result["host"],
                )
            else:
                record = _failure_record(fut, p, out)
                failures[p.point_id] = record
                outcome.failed[p.point_id] = record
                logger.warning(
                    "point %s (%s) failed: %s: %s",
                    p.point_id,
                    p.describe(),
                    record["error_type"],
                    record["message"],
                )
            write_json(out / FAILURES, failures)
            fut.release()
            bar.update(1)
            if outcome.failed:
                bar.set_postfix_str(f"{len(outcome.failed)} failed")


def _failure_record(fut: Any, point: SweepPoint, out: Path) -> dict[str, Any]:
    # failures are rare: their exception and traceback are fetched one by one
    exc = fut.exception()
    tb = fut.traceback()
    frames = traceback.format_tb(tb)[-6:] if tb is not None else []
    attempt_path = point.folder(out) / ATTEMPT_FILE
    attempts = None
    if attempt_path.is_file():
        attempts = json.loads(attempt_path.read_text()).get("attempt")
    return {
        "index": point.index,
        "repeat": point.repeat,
        "params": point.params,
        "error_type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(frames),
        "attempts": attempts,
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _read_failures(out: Path, ids: set[str]) -> dict[str, dict[str, Any]]:
    path = out / FAILURES
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text())
    return {k: v for k, v in saved.items() if k in ids}


def _data_checksum(spec: SweepSpec, cache_dir: str | Path | None) -> str:
    """SHA-256 over the MNIST arrays the sweep reads."""
    from nwnrc.data import load_mnist

    mnist = load_mnist(cache_dir=cache_dir, path=spec.data)
    logger.info("MNIST from %s", mnist.source)
    h = hashlib.sha256()
    for name in (
        "train_images",
        "train_labels",
        "val_images",
        "val_labels",
        "test_images",
        "test_labels",
    ):
        arr = getattr(mnist, name)
        h.update(f"{name}:{arr.dtype}:{arr.shape};".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _stamp(out: Path, spec: SweepSpec, data_sha: str) -> None:
    """Stamp the sweep folder; refuse one of another experiment or other data.

    A folder may take a spec with other points (more repeats, more grid values):
    a point's folder is named by the hash of its full configuration and each run
    folder refuses other settings, so no result is ever reused for settings that did
    not make it. What the hash does not cover, the experiment code path and the
    data, must match.
    """
    stamp = out / STAMP
    new = {"spec": spec.to_dict(), "data_sha256": data_sha}
    if stamp.is_file():
        saved = json.loads(stamp.read_text())
        old = saved.get("spec", {})
        if old.get("experiment") != spec.experiment:
            raise ConfigError(
                f"{out} holds a sweep of the {old.get('experiment')!r} experiment, "
                f"not {spec.experiment!r}; use another --out folder"
            )
        if saved.get("data_sha256") != data_sha:
            raise ConfigError(
                f"{out} holds a sweep run on other data (MNIST checksum "
                f"{str(saved.get('data_sha256'))[:12]}..., now {data_sha[:12]}...); "
                "use another --out folder, or the data of that sweep"
            )
        if old != new["spec"]:
            logger.info(
                "%s held another spec of the same experiment and data; points with "
                "the same configuration are reused, the table follows the new spec",
                out,
            )
    write_json(stamp, new)


def read_stamp(out_dir: str | Path) -> SweepSpec:
    """The spec stamped in a sweep folder.

    Raises
    ------
    ConfigError
        If ``out_dir`` holds no sweep.
    """
    stamp = Path(out_dir) / STAMP
    if not stamp.is_file():
        raise ConfigError(
            f"{out_dir} holds no sweep ({STAMP} is missing); give the --out folder "
            "of a `nwnrc sweep run`"
        )
    spec = json.loads(stamp.read_text())["spec"]
    # the stamped data path is absolute, so it does not depend on base_dir
    return sweep_from_dict(spec, source=str(stamp))


# ----------------------------------------------------------------------- the task
def run_point(
    experiment_name: str,
    point: dict[str, Any],
    out_dir: str,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one point of a sweep into ``out_dir/points/<id>/`` (the worker's task).

    Writes the experiment's run folder there, then ``sweep-point.json`` with the
    point's settings, wall and CPU time, peak memory and disk use of this attempt.

    Parameters
    ----------
    experiment_name : {"mnist", "sequence"}
    point : dict
        :meth:`SweepPoint.to_dict` of the point.
    out_dir : str
        The sweep folder (stamped by :func:`run_sweep`).
    options : dict, optional
        ``data_path``, ``cache_dir`` (for :func:`nwnrc.data.load_mnist`),
        ``figures`` (bool), ``drop_streams`` (bool) and ``threads`` (numba
        threads, default 1).

    Returns
    -------
    dict
        The contents of ``sweep-point.json``.

    Raises
    ------
    ConfigError
        If this worker does not see the sweep folder (it must be on shared storage).
    """
    out = Path(out_dir)
    if not (out / STAMP).is_file():
        raise ConfigError(
            f"the worker on {socket.gethostname()} does not see the sweep folder "
            f"{out} ({STAMP} is missing); put --out on storage that the client and "
            "every worker share, at the same path"
        )
    exp = experiment(experiment_name)
    config = exp.config_class.from_dict(point["config"])
    folder = out / "points" / point["point_id"]
    folder.mkdir(parents=True, exist_ok=True)

    # count attempts across retries, worker deaths and reruns
    attempt_path = folder / ATTEMPT_FILE
    attempt = 1
    if attempt_path.is_file():
        attempt = int(json.loads(attempt_path.read_text()).get("attempt", 0)) + 1
    write_json(
        attempt_path,
        {
            "attempt": attempt,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    opts = {"figures": False, "drop_streams": False, "threads": 1, **(options or {})}
    threads = int(opts["threads"])
    _limit_threads(threads)

    peak = _PeakMemory()
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    exp.run(
        config,
        folder,
        data_path=opts.get("data_path"),
        cache_dir=opts.get("cache_dir"),
        figures=bool(opts["figures"]),
    )
    cpu = _cpu_seconds() - cpu0
    wall = time.perf_counter() - t0
    if opts["drop_streams"]:
        shutil.rmtree(folder / "stream", ignore_errors=True)

    summary = {
        "point_id": point["point_id"],
        "index": point["index"],
        "experiment": experiment_name,
        "repeat": point["repeat"],
        "params": point["params"],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": peak.peak_mib(),
        "peak_rss_scope": peak.scope,
        "attempt": attempt,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "threads": threads,
        "disk_mib": round(_disk_bytes(folder) / 2**20, 1),
    }
    write_json(folder / POINT_FILE, summary)
    return summary


def _disk_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder``."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _limit_threads(threads: int) -> None:
    try:
        import numba

        most = int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))
        numba.set_num_threads(min(threads, most))
    except ImportError:  # pragma: no cover - numba is a dependency
        pass


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children, s."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class _PeakMemory:
    """Peak resident memory of this process from now on.

    On Linux the high-water mark is reset through ``/proc/self/clear_refs`` and read
    from ``/proc/self/status`` (VmHWM), so a worker's earlier points do not count.
    Elsewhere it is the process's peak since it started (``scope`` says which).
    """

    def __init__(self) -> None:
        self.scope = "process"
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.scope = "point"
        except OSError:
            pass

    def peak_mib(self) -> float:
        if self.scope == "point":
            try:
                for line in Path("/proc/self/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        return round(int(line.split()[1]) / 1024, 1)
            except OSError:
                pass
            self.scope = "process"
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
