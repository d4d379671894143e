"""``nwnrc bench engine`` and ``nwnrc device demo``."""

from __future__ import annotations

import json

import pytest

from nwnrc.cli import main
from nwnrc.device._bench import scaled_network_params
from nwnrc.network import generate_network

REQUIRED = (
    "wires",
    "junctions",
    "replica_steps_per_s",
    "dense_steps_per_s",
    "speedup_vs_dense",
)


def test_bench_engine_json(capsys):
    argv = ["bench", "engine", "--wires", "300", "--steps", "30", "--replicas", "4"]
    argv += ["--lanes", "2", "--seed", "3", "--dense-steps", "2", "--repeats", "1"]
    assert main([*argv, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    for key in REQUIRED:
        assert key in record
    network = generate_network(scaled_network_params(300, seed=3))
    assert record["wires"] == 300
    assert record["junctions"] == network.n_junctions
    assert record["chip_size_um"] == pytest.approx(78.0 * (300 / 500) ** 0.5)
    assert (record["replicas"], record["steps"], record["lanes"]) == (4, 30, 2)
    assert record["replica_steps_per_s"] == pytest.approx(
        4 * 30 / record["engine_seconds"]
    )
    assert record["dense_steps_per_s"] == pytest.approx(2 / record["dense_seconds"])
    assert record["speedup_vs_dense"] == pytest.approx(
        record["replica_steps_per_s"] / record["dense_steps_per_s"]
    )
    assert record["projected_mnist_stream_s"] == pytest.approx(
        60_000 * 784 / record["replica_steps_per_s"]
    )
    assert record["engine_threads"] >= 1


def test_bench_engine_text(capsys):
    argv = ["bench", "engine", "--wires", "300", "--steps", "10", "--replicas", "2"]
    assert main([*argv, "--dense-steps", "1", "--repeats", "1"]) == 0
    text = capsys.readouterr().out
    assert "300 wires" in text
    assert "replica-steps/s" in text
    assert "speedup" in text


def test_bench_engine_rejects_bad_counts(capsys):
    assert main(["bench", "engine", "--replicas", "0"]) == 1
    assert "replicas must be an integer >= 1, got 0" in capsys.readouterr().err


def test_groups_without_action_print_help(capsys):
    assert main(["bench"]) == 2
    assert "engine" in capsys.readouterr().out
    assert main(["device"]) == 2
    assert "demo" in capsys.readouterr().out


def test_device_demo_writes_both_figures(tmp_path, capsys):
    assert main(["device", "demo", "--out", str(tmp_path), "--json"]) == 0
    numbers = json.loads(capsys.readouterr().out)
    for name in ("device-dc-bias.png", "device-iv-hysteresis.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert numbers["network"]["wires"] == 500
    dc = numbers["dc_bias"]
    assert dc["bias_volts"][0] == 1.0
    assert dc["peak_ratio"][0] > 100
    assert 0 < dc["formation_s"][0] < dc["bias_s"]
    # a filament dissolves at b * v_reset = 0.05 V s/s: none outlasts 0.3 s
    assert 0 < dc["fading_s"][0] < dc["recovery_s"][0] <= 0.3
    rise, fall, down, up = numbers["iv_sweep"]["half_amplitude_currents_a"]
    assert rise > 0 and fall > 0 and down < 0 and up < 0
    assert abs(fall - rise) > 0.5 * max(rise, fall)


def test_device_demo_text(tmp_path, capsys):
    assert main(["device", "demo", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "x100 after" in text
    assert "falling" in text
    assert str(tmp_path / "device-dc-bias.png") in text


def test_bench_refuses_a_chip_too_small_for_the_pads(capsys):
    # at the default density 26 wires give a chip of 17.7 um: pitch 4.4 um < 4.5 um pads
    from nwnrc.cli import main

    assert main(["bench", "engine", "--wires", "26"]) == 1
    err = capsys.readouterr().err
    assert "at least 27 wires" in err and "got 26" in err
