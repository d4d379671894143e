"""``nwnrc network`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nwnrc.cli import main
from nwnrc.network import NanowireNetwork, NetworkParams, generate_network


def test_build_info_plot(tmp_path, capsys):
    out = tmp_path / "net.h5"
    code = main(
        [
            "network",
            "build",
            "--wires",
            "200",
            "--chip-size",
            "60",
            "--seed",
            "4",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "200 wires" in capsys.readouterr().out
    net = NanowireNetwork.load(out)
    direct = generate_network(NetworkParams(n_wires=200, chip_size_um=60.0, seed=4))
    np.testing.assert_array_equal(net.junction_wires, direct.junction_wires)

    assert main(["network", "info", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_wires"] == 200
    assert summary["n_junctions"] == direct.n_junctions
    assert summary["params"]["chip_size_um"] == 60.0
    assert summary["pad_contacts"] == [len(w) for w in direct.pad_wires]

    assert main(["network", "info", str(out), "--pads", "0", "15"]) == 0
    text = capsys.readouterr().out
    assert f"junctions           {direct.n_junctions}" in text
    assert "[0, 15]" in text

    png = tmp_path / "net.png"
    assert (
        main(["network", "plot", str(out), "--out", str(png), "--highlight", "1", "2"])
        == 0
    )
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bad_input_gives_typed_error(tmp_path, capsys):
    out = str(tmp_path / "net.h5")
    assert main(["network", "build", "--wires", "0", "--out", out]) == 1
    assert "n_wires must be an integer >= 1, got 0" in capsys.readouterr().err
    assert main(["network", "build", "--chip-size", "-5", "--out", out]) == 1
    assert "chip_size_um" in capsys.readouterr().err
    assert main(["network", "build", "--pad-size", "-1", "--out", out]) == 1
    assert "pad_size_um" in capsys.readouterr().err
    assert main(["network", "info", str(tmp_path / "missing.h5")]) == 1
    assert "missing.h5" in capsys.readouterr().err
    assert (
        main(
            [
                "network",
                "plot",
                str(tmp_path / "missing.h5"),
                "--out",
                str(tmp_path / "x.png"),
            ]
        )
        == 1
    )
    assert not (tmp_path / "net.h5").exists()


def test_network_without_action_prints_help(capsys):
    assert main(["network"]) == 2
    assert "build" in capsys.readouterr().out


def test_plot_refuses_a_folder_or_a_name_that_is_not_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    net = tmp_path / "net.h5"
    assert main(["network", "build", "--wires", "60", "--out", str(net)]) == 0
    for out, words in ((tmp_path, "is a folder"), (tmp_path / "net500", ".png")):
        assert main(["network", "plot", str(net), "--out", str(out)]) == 1
        assert words in capsys.readouterr().err
    assert not (tmp_path / "net500.png").exists()
