"""Sweeps on real dask clusters of two worker processes, on synthetic digits.

Every sweep here is checked against the same points run one by one, in this process,
by the experiment's own function: the cluster must change where a point runs, never
what it computes.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import Client, LocalCluster

from nwnrc.cli import main
from nwnrc.errors import ConfigError
from nwnrc.experiments import MnistConfig, run_mnist
from nwnrc.sweep import read_sweep, run_sweep, sweep_table, write_report
from synthetic_digits import write_digit_set

SWEEP = """
experiment = "mnist"
repeats = 2
data = "digits.npz"

[base]
n_train = 80
n_test = 40
shuffles = 1
channels = [1]
n_wires = 100
chip_size_um = 40.0
replicas = 2
piece_samples = 5
update_samples = 20
methods = ["online", "ridge"]

[grid]
v_max = [1.0, 2.0]
"""


def _digits(path: Path, seed: int = 0) -> Path:
    write_digit_set(path, (300, 60, 60), (1 + 10 * seed, 2 + 10 * seed, 3 + 10 * seed))
    return path


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    _digits(folder / "digits.npz")
    path = folder / "amplitude.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def one_by_one(
    sweep_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """metrics.json of every point, run here by run_mnist, one after another."""
    folder = tmp_path_factory.mktemp("one-by-one")
    spec = read_sweep(sweep_file)
    out = {}
    for p in spec.expand():
        out[p.point_id] = run_mnist(
            MnistConfig.from_dict(p.config),
            folder / p.point_id,
            data_path=sweep_file.parent / "digits.npz",
            figures=False,
        )
    return out


@pytest.fixture(scope="module")
def local_sweep(sweep_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("local") / "sweep"
    outcome = run_sweep(read_sweep(sweep_file), out, n_workers=2, retries=1)
    return outcome


def _same_metrics(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal accuracies and predictions; other floats equal to rounding."""
    assert got.keys() == expected.keys()
    for key in ("online_accuracy", "ridge_accuracy", "input_channel_accuracy"):
        assert got[key] == expected[key], key
    assert got["confusion_matrix"] == expected["confusion_matrix"]
    assert got["config"] == expected["config"]
    np.testing.assert_allclose(
        got["mean_abs_dw"]["value"], expected["mean_abs_dw"]["value"], rtol=1e-9
    )


def _table(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_local_cluster_sweep_equals_the_points_run_one_by_one(
    local_sweep: Any, one_by_one: dict[str, dict[str, Any]]
) -> None:
    assert sorted(local_sweep.done) == sorted(one_by_one)
    assert local_sweep.failed == {}
    for pid, expected in one_by_one.items():
        got = json.loads(
            (local_sweep.out_dir / "points" / pid / "metrics.json").read_text()
        )
        _same_metrics(got, expected)


def test_table_has_one_row_per_point_with_its_metrics(
    local_sweep: Any, one_by_one: dict[str, dict[str, Any]]
) -> None:
    rows = _table(local_sweep.table)
    assert sorted(r["point_id"] for r in rows) == sorted(one_by_one)
    for r in rows:
        m = one_by_one[r["point_id"]]
        assert r["status"] == "done"
        assert float(r["v_max"]) == m["config"]["v_max"]
        assert int(r["network_seed"]) == m["config"]["network_seed"] == int(r["repeat"])
        assert float(r["online_accuracy.1.mean"]) == m["online_accuracy"]["1"]["mean"]
        assert float(r["ridge_accuracy.1.mean"]) == m["ridge_accuracy"]["1"]["mean"]
        assert float(r["cpu_s"]) > 0
        assert float(r["peak_rss_mib"]) > 50  # a Python process with numpy and numba
        assert r["attempt"] == "1"


def test_points_ran_in_two_worker_processes_with_one_numba_thread(
    local_sweep: Any,
) -> None:
    pids = set()
    for pid in local_sweep.done:
        point = json.loads(
            (local_sweep.out_dir / "points" / pid / "sweep-point.json").read_text()
        )
        assert point["threads"] == 1
        pids.add(point["pid"])
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2


def test_a_rerun_skips_finished_points(local_sweep: Any, sweep_file: Path) -> None:
    metrics = local_sweep.out_dir / "points" / local_sweep.done[0] / "metrics.json"
    before = metrics.stat().st_mtime_ns
    again = run_sweep(read_sweep(sweep_file), local_sweep.out_dir, n_workers=2)
    assert sorted(again.skipped) == sorted(local_sweep.done)
    assert again.done == [] and again.failed == {}
    assert metrics.stat().st_mtime_ns == before


def test_report_means_and_spreads_over_repeats(
    local_sweep: Any, one_by_one: dict[str, dict[str, Any]]
) -> None:
    summary = write_report(
        local_sweep.out_dir, metrics=["online_accuracy.1.mean", "cpu_s"], x="v_max"
    )
    assert summary["done"] == 4 and summary["failed"] == summary["pending"] == 0
    assert summary["group"] is None  # one swept field only
    cells = summary["metrics"]["online_accuracy.1.mean"]
    for v_max in (1.0, 2.0):
        values = [
            m["online_accuracy"]["1"]["mean"]
            for m in one_by_one.values()
            if m["config"]["v_max"] == v_max
        ]
        (cell,) = [c for c in cells if c["x"] == v_max]
        assert cell["n"] == 2
        assert cell["mean"] == pytest.approx(statistics.mean(values))
        assert cell["std"] == pytest.approx(statistics.stdev(values))
    report = local_sweep.out_dir / "report"
    for name in summary["figures"]:
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((report / "metrics.json").read_text()) == summary


def test_report_refuses_an_unknown_metric_or_field(local_sweep: Any) -> None:
    with pytest.raises(ConfigError, match="--metric 'accuracy' is not a number"):
        write_report(local_sweep.out_dir, metrics=["accuracy"], figures=False)
    with pytest.raises(ConfigError, match="--x 'n_wires' is not a column"):
        write_report(local_sweep.out_dir, x="n_wires", figures=False)


def test_a_killed_worker_loses_no_point_and_counts_none_twice(
    sweep_file: Path,
    one_by_one: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    out = tmp_path / "sweep"
    spec = read_sweep(sweep_file)
    killed: list[tuple[str, int]] = []
    stop = threading.Event()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        worker_pids = set(client.run(os.getpid).values())
        assert os.getpid() not in worker_pids

        def kill_a_worker_mid_point() -> None:
            # wait until some point has streamed part of its digits, then kill the
            # worker process that runs it
            while not stop.is_set():
                for folder in sorted((out / "points").glob("*")):
                    pieces = list((folder / "stream").glob("**/*piece*"))
                    attempt = folder / "sweep-attempt.json"
                    if pieces and attempt.is_file():
                        if (folder / "metrics.json").exists():
                            continue
                        pid = json.loads(attempt.read_text())["pid"]
                        assert pid in worker_pids and pid != os.getpid()
                        os.kill(pid, signal.SIGKILL)
                        killed.append((folder.name, pid))
                        return
                time.sleep(0.005)

        killer = threading.Thread(target=kill_a_worker_mid_point)
        killer.start()
        try:
            # no retries: a dead worker's point is rescheduled by dask, not retried
            outcome = run_sweep(
                spec, out, scheduler=cluster.scheduler_address, retries=0
            )
        finally:
            stop.set()
            killer.join()

    assert len(killed) == 1
    point_id, _ = killed[0]
    assert outcome.failed == {}
    assert sorted(outcome.done) == sorted(one_by_one)
    # the killed point ran again, to the end, in a worker that was alive
    attempt = json.loads((out / "points" / point_id / "sweep-attempt.json").read_text())
    assert attempt["attempt"] == 2
    assert attempt["pid"] != killed[0][1]
    for pid, expected in one_by_one.items():
        got = json.loads((out / "points" / pid / "metrics.json").read_text())
        _same_metrics(got, expected)
    rows = _table(outcome.table)
    assert sorted(r["point_id"] for r in rows) == sorted(one_by_one)
    assert all(r["status"] == "done" for r in rows)


def test_a_failing_point_is_retried_recorded_and_the_others_finish(
    tmp_path: Path, sweep_file: Path
) -> None:
    # a chip of 30 um is too small for 100 wires of 12 um to join the driven pads
    # without a wire that shorts them: the device refuses it (a NetworkError)
    base = SWEEP.split("[base]")[1].split("[grid]")[0]
    base = base.replace("chip_size_um = 40.0\n", "")
    data = json.dumps(str(sweep_file.parent / "digits.npz"))
    path = tmp_path / "fail.toml"
    path.write_text(
        f'experiment = "mnist"\ndata = {data}\n[base]{base}'
        "[grid]\nchip_size_um = [40.0, 30.0]\n"
    )
    out = tmp_path / "out"
    code = main(
        ["sweep", "run", str(path), "--out", str(out), "--workers", "2",
         "--retries", "1", "--drop-streams", "--no-progress"]
    )  # fmt: skip
    assert code == 1
    failures = json.loads((out / "failures.json").read_text())
    (record,) = failures.values()
    assert record["params"] == {"chip_size_um": 30.0}
    assert record["error_type"] == "NetworkError"
    assert record["attempts"] == 2  # the first run and one retry
    assert "shorting them" in record["message"]
    rows = {r["chip_size_um"]: r for r in _table(out / "results.csv")}
    assert rows["30.0"]["status"] == "failed"
    assert rows["40.0"]["status"] == "done"
    assert float(rows["40.0"]["online_accuracy.1.mean"]) > 0
    # --drop-streams: the finished point keeps its results, not its device stream
    done = out / "points" / rows["40.0"]["point_id"]
    assert (done / "metrics.json").is_file() and (done / "readouts").is_dir()
    assert not (done / "stream").exists()
    # sweep-point.json is written after the folder's size is taken
    size = sum(
        f.stat().st_size
        for f in done.rglob("*")
        if f.is_file() and f.name != "sweep-point.json"
    )
    point = json.loads((done / "sweep-point.json").read_text())
    assert abs(size / 2**20 - point["disk_mib"]) <= 0.05


def test_a_sweep_folder_of_other_data_is_refused(
    local_sweep: Any, sweep_file: Path, tmp_path: Path
) -> None:
    other = _digits(tmp_path / "other.npz", seed=1)
    spec = read_sweep(sweep_file)
    from dataclasses import replace

    with pytest.raises(ConfigError, match="a sweep run on other data"):
        run_sweep(replace(spec, data=other), local_sweep.out_dir)
    seq = read_sweep(sweep_file)
    seq = replace(seq, experiment="sequence", base={}, grid={"v_max": [0.9]})
    with pytest.raises(ConfigError, match="sweep of the 'mnist' experiment"):
        run_sweep(seq, local_sweep.out_dir)


def test_cli_dry_run_lists_the_points(sweep_file: Path, capsys: Any) -> None:
    assert main(["sweep", "run", str(sweep_file), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "4 points of the mnist experiment" in text
    for p in read_sweep(sweep_file).expand():
        assert f"{p.point_id}  {p.describe()}" in text


def test_cli_dry_run_refuses_a_pad_off_the_array(sweep_file: Path, capsys: Any) -> None:
    bad = sweep_file.parent / "bad-pads.toml"
    bad.write_text(
        sweep_file.read_text().replace("channels = [1]", "channels = [1, 99]")
    )
    assert main(["sweep", "run", str(bad), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "channels must be pad numbers in 0..15, got [1, 99]" in err


def test_cli_report(
    local_sweep: Any, one_by_one: dict[str, dict[str, Any]], capsys: Any
) -> None:
    baseline = "input_channel_accuracy.online.mean"
    code = main(
        ["sweep", "report", str(local_sweep.out_dir), "--metric", "wall_s",
         "--baseline", baseline]
    )  # fmt: skip
    assert code == 0
    assert "4 points: 4 done, 0 failed, 0 pending" in capsys.readouterr().out
    assert (local_sweep.out_dir / "report" / "wall_s-vs-v_max.png").is_file()
    assert len(sweep_table(local_sweep.out_dir)) == 4
    summary = json.loads((local_sweep.out_dir / "report" / "metrics.json").read_text())
    pixels = [
        m["input_channel_accuracy"]["online"]["mean"] for m in one_by_one.values()
    ]
    assert summary["baseline"]["mean"] == pytest.approx(statistics.mean(pixels))
    assert main(["sweep"]) == 2  # no sub-command: the help


def test_a_changed_sweep_reuses_the_points_it_shares(
    local_sweep: Any, sweep_file: Path, tmp_path: Path
) -> None:
    from dataclasses import replace

    out = tmp_path / "copy"
    shutil.copytree(local_sweep.out_dir, out)
    spec = read_sweep(sweep_file)
    # one repeat fewer: both points are done already; nothing runs, no cluster starts
    fewer = run_sweep(replace(spec, repeats=1), out)
    assert len(fewer.skipped) == 2 and fewer.done == []
    rows = _table(fewer.table)
    assert [r["repeat"] for r in rows] == ["0", "0"]
    assert {r["point_id"] for r in rows} <= set(local_sweep.done)
    assert json.loads((out / "sweep.json").read_text())["spec"]["repeats"] == 1


def test_a_sequence_sweep_equals_its_point_run_alone(
    sweep_file: Path, tmp_path: Path
) -> None:
    from nwnrc.experiments._sequence import SequenceConfig, run_sequence

    data = json.dumps(str(sweep_file.parent / "digits.npz"))
    path = tmp_path / "sequence.toml"
    path.write_text(
        f'experiment = "sequence"\ndata = {data}\n'
        "[base]\n"
        'sequence = "147"\nn_wires = 100\nchip_size_um = 40.0\nrepeats = 4\n'
        "washout_repeats = 1\nmax_window = 2\nexclusion_window = 2\n"
        "control_windows = [2]\npiece_repeats = 2\nupdate_windows = 40\n"
        "relax_s = 0.5\n"
        "[grid]\nv_max = [0.9]\n"
    )
    spec = read_sweep(path)
    (point,) = spec.expand()
    outcome = run_sweep(spec, tmp_path / "out", n_workers=1)
    assert outcome.done == [point.point_id]
    alone = run_sequence(
        SequenceConfig.from_dict(point.config),
        tmp_path / "alone",
        data_path=sweep_file.parent / "digits.npz",
        figures=False,
    )
    got = json.loads(
        (tmp_path / "out" / "points" / point.point_id / "metrics.json").read_text()
    )
    assert got["config"] == alone["config"]
    assert got["ssim_mean"] == pytest.approx(alone["ssim_mean"], rel=1e-9)
    summary = write_report(tmp_path / "out", figures=False)
    (cell,) = summary["metrics"]["ssim_mean.2"]  # the default: the longest window
    assert cell["mean"] == pytest.approx(alone["ssim_mean"]["2"], rel=1e-9)
