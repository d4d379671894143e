"""End-to-end tests of the sequence-memory experiment on a small network.

The digits are synthetic bar patterns (class c: a bar whose position and direction
are set by c, with random shifts), so that no MNIST download is needed; the network
is 200 wires on a 49 um chip, and each stream repeats the sequence a few times.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nwnrc.cli import main
from nwnrc.device import JunctionParams
from nwnrc.errors import ConfigError
from nwnrc.experiments._sequence import SequenceConfig, run_sequence
from synthetic_digits import write_digit_set

SMALL = {
    "n_wires": 200,
    "chip_size_um": 49.0,
    "repeats": 5,
    "washout_repeats": 1,
    "max_window": 3,
    "exclusion_window": 3,
    "control_windows": [2],
    "piece_repeats": 2,
    "update_windows": 40,
    "relax_s": 2.0,
}


@pytest.fixture(scope="module")
def digits_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    write_digit_set(path, (600, 50, 300), (1, 2, 3))
    return path


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory, digits_npz: Path) -> Path:
    out = tmp_path_factory.mktemp("run") / "seq"
    cfg = out.parent / "config.json"
    cfg.write_text(json.dumps(SMALL))
    code = main(
        [
            "sequence",
            "--config",
            str(cfg),
            "--data",
            str(digits_npz),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    return out


def test_metrics_hold_the_promised_keys(cli_run: Path) -> None:
    m = json.loads((cli_run / "metrics.json").read_text())
    keys = ["0:1", "1:4", "2:7", "3:5", "4:1", "5:4", "6:7", "7:9"]
    assert list(m["ssim"]) == ["2", "3"]
    for w in ("2", "3"):
        assert list(m["ssim"][w]) == keys
        assert all(-1.0 <= v <= 1.0 for v in m["ssim"][w].values())
        assert m["ssim_mean"][w] == pytest.approx(np.mean(list(m["ssim"][w].values())))
    # exclusion at L = 3: 56 conductance columns in steps of 14
    assert m["exclusion"]["columns"] == [0, 14, 28, 42, 56]
    assert len(m["exclusion"]["ssim"]) == 5
    assert m["exclusion"]["ssim"][0] == pytest.approx(m["ssim_mean"]["3"])
    ctl = m["control"]
    for name in ("voltage_only", "shuffled_conductance", "input_only"):
        assert set(ctl[name]["ssim_mean"]) == {"2"}
    assert ctl["with_conductance"]["ssim_mean"]["2"] == m["ssim_mean"]["2"]
    assert 0 < ctl["class_mean"]["ssim_mean"] <= 1
    assert m["config"]["sequence"] == "14751479"
    assert m["config"]["n_wires"] == 200
    dyn = m["conductance_dynamic_range"]
    assert dyn["whole_stream_decades"] >= dyn["steady_state_decades"] >= 0
    assert len(m["memory"]["ink_corr_first_row_log10_g"]) == 5
    # 3 training streams x (4 repetitions x 8 digits - 2) windows; 1 test stream
    assert m["n_windows"] == {"train": 90, "test": 30, "test_per_position": 4}


def test_conductance_scale_ends_follow_the_junction_model(cli_run: Path) -> None:
    # With every junction in the same state the network conductance is the
    # junction conductance times a factor set by the graph alone, so the ratio of
    # the all-formed to the pristine network is g_on / g_off of one junction:
    # g_on = 1/r_on + 1/r_off; g_off = 1/(R_t(s_max) + r_on) + 1/r_off, where
    # R_t(5 nm) = (2/A) 5 / sqrt(phi) exp(C0 phi^2 5) / J1 = 4.5e20 ohm.
    m = json.loads((cli_run / "metrics.json").read_text())
    p = JunctionParams.preset("slow_decay")
    r_t = (2 / 0.17) * 5.0 / np.sqrt(0.81) * np.exp(10.19 * 0.81**2 * 5.0) / 4.71307e-5
    g_on = 1 / p.r_on + 1 / p.r_off
    g_off = 1 / (r_t + p.r_on) + 1 / p.r_off
    dyn = m["conductance_dynamic_range"]
    assert dyn["g_all_formed_s"] / dyn["g_pristine_s"] == pytest.approx(
        g_on / g_off, rel=1e-9
    )
    assert g_on / g_off == pytest.approx(1001.0, rel=1e-6)


def test_figures_and_stream_are_written(cli_run: Path) -> None:
    for name in (
        "conductance.png",
        "iv_phase.png",
        "ssim_vs_window.png",
        "exclusion.png",
        "reconstructions.png",
        "memory.png",
    ):
        assert (cli_run / name).stat().st_size > 1000, name
    pieces = sorted((cli_run / "stream").glob("piece-*.npz"))
    assert len(pieces) == 3  # 5 repetitions in pieces of 2
    with np.load(pieces[0]) as z:
        assert z["conductance"].shape == (4, 2 * 8 * 784)


def test_rerun_resumes_and_repeats_the_metrics(
    cli_run: Path, tmp_path: Path, digits_npz: Path
) -> None:
    out = tmp_path / "copy"
    shutil.copytree(cli_run, out)
    before = json.loads((out / "metrics.json").read_text())
    # as if killed: the last stream piece and two reconstructors are missing
    (out / "stream" / "piece-00002.npz").unlink()
    for name in ("main-L3", "exclusion-L3-c028"):
        (out / "readouts" / f"{name}.json").unlink()
    kept = (out / "stream" / "piece-00000.npz").stat().st_mtime_ns
    config = SequenceConfig.from_dict(SMALL)
    after = run_sequence(config, out, data_path=digits_npz, figures=False)
    assert (out / "stream" / "piece-00000.npz").stat().st_mtime_ns == kept
    assert after == before


def test_another_config_in_the_same_folder_is_refused(
    cli_run: Path, digits_npz: Path
) -> None:
    config = SequenceConfig.from_dict({**SMALL, "v_max": 1.0})
    with pytest.raises(ConfigError, match="different configuration"):
        run_sequence(config, cli_run, data_path=digits_npz, figures=False)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sequence": "14a5"}, "sequence must be a string of at least two digits"),
        ({"repeats": 2, "washout_repeats": 2}, "raise repeats to 4 or more"),
        ({"exclusion_pad": 7}, "must be distinct"),
        ({"feature_pads": (4,)}, "other than the source"),
        ({"control_windows": (2, 9)}, "control_windows must be distinct lengths"),
        ({"exclusion_window": 1}, "exclusion_window must lie in 2..max_window=8"),
        ({"source_pad": 16}, r"source_pad must be a pad number in 0\.\.15 .* got 16"),
        ({"drain_pad": -2}, r"drain_pad must be a pad number in 0\.\.15 .* got -2"),
        ({"drain_pad": 4}, "source_pad and drain_pad must differ, both are 4"),
        ({"v_max": -1.0}, "v_max > 0"),
        ({"v_max": 1e9}, r"input voltages must lie within \+-100 V"),
        ({"ssim_win_size": 8}, "ssim_win_size must be an odd integer"),
        ({"rls_forgetting": 1.5}, r"rls_forgetting must lie in \(0, 1\]"),
    ],
)
def test_config_errors_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SequenceConfig(**fields)  # type: ignore[arg-type]


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown SequenceConfig keys.*repetitions"):
        SequenceConfig.from_dict({"repetitions": 3})


def test_cli_reports_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["sequence", "--sequence", "1", "--out", str(tmp_path / "x")])
    assert code == 1
    assert "sequence must be a string of at least two digits" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "exclusion", "control"),
    [
        # the reported case: both windows given, the controls had no flag
        (["--max-window", "3", "--exclusion-window", "3"], 3, (2, 3)),
        (["--max-window", "3"], 3, (2, 3)),
        (["--max-window", "2"], 2, (2,)),
        (["--max-window", "6"], 5, (2, 5)),
        (["--max-window", "4", "--control-windows", "3", "4"], 4, (3, 4)),
        (["--control-windows", "2", "7"], 5, (2, 7)),
    ],
)
def test_window_flags_build_a_valid_config(
    tmp_path: Path, flags: list[str], exclusion: int, control: tuple[int, ...]
) -> None:
    from nwnrc.cli import build_parser
    from nwnrc.experiments._sequence_cli import _sequence_config

    args = build_parser().parse_args(["sequence", *flags, "--out", str(tmp_path)])
    config = _sequence_config(args)
    assert config.exclusion_window == exclusion
    assert config.control_windows == control


def test_control_windows_past_max_window_are_refused(tmp_path: Path) -> None:
    from nwnrc.cli import build_parser
    from nwnrc.experiments._sequence_cli import _sequence_config

    argv = ["sequence", "--max-window", "3", "--control-windows", "2", "4"]
    args = build_parser().parse_args([*argv, "--out", str(tmp_path)])
    with pytest.raises(ConfigError, match=r"control_windows .* 2\.\.3, got \(2, 4\)"):
        _sequence_config(args)


def test_a_config_that_makes_no_device_leaves_the_folder_usable(
    digits_npz: Path, tmp_path: Path
) -> None:
    # 10 wires on the 49 um chip cannot join source pad 4 to drain pad 11
    from nwnrc.errors import NetworkError

    out = tmp_path / "seq"
    broken = SequenceConfig.from_dict({**SMALL, "n_wires": 10})
    with pytest.raises(NetworkError):
        run_sequence(broken, out, data_path=digits_npz, figures=False)
    # nothing stamped: the folder takes another configuration (before, it was
    # locked to the one that failed)
    assert not (out / "config.json").exists()
