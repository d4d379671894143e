"""Importers: readouts of the real simulator written as TDMS (NI DAQ layout), CSV and
NumPy files come back as exactly those arrays; broken files are refused or warned of,
naming the sample and the channel."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from daq_files import (
    DT,
    GAIN,
    JUNK,
    N_DIGITS,
    PAD_MAP,
    PADS,
    STEPS,
    V_MAX,
    V_MIN,
    raw_channels,
    simulated,
    write_daq_tdms,
)
from nwnrc.errors import DataError, DataWarning
from nwnrc.recording import Recording, import_table, import_tdms, validate_recording

SIM = simulated()


def tdms_kwargs(**extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "input_channel": "ai0",
        "pad_channels": PAD_MAP,
        "current_channel": "ai4",
        "current_gain_v_per_a": GAIN,
        "labels": SIM.labels,
        "steps": STEPS,
        "offset": JUNK,
    }
    kwargs.update(extra)
    return kwargs


def assert_is_the_simulation(rec: Recording, n: int = N_DIGITS) -> None:
    """The recording holds the simulator's arrays for the first n samples."""
    np.testing.assert_array_equal(rec.pads, SIM.pads[:n].astype(np.float32))
    np.testing.assert_array_equal(rec.input, SIM.input[:n].astype(np.float32))
    assert rec.source_current is not None
    np.testing.assert_array_equal(
        rec.source_current, SIM.current[:n].astype(np.float32)
    )
    np.testing.assert_array_equal(rec.labels, SIM.labels[:n])
    assert rec.pads.dtype == np.float32
    assert rec.pad_numbers == PADS


@pytest.fixture
def tdms(tmp_path: Path) -> Path:
    return write_daq_tdms(tmp_path / "run.tdms", raw_channels(SIM))


def test_tdms_of_the_simulator_imports_to_its_arrays(tdms: Path) -> None:
    rec = import_tdms(
        tdms,
        **tdms_kwargs(dt_s=DT, source_pad=4, drain_pads=(11,), n_train=8),
    )
    assert_is_the_simulation(rec)
    assert rec.dt_s == DT
    assert (rec.n_train, rec.source_pad, rec.drain_pads) == (8, 4, (11,))
    assert rec.kind == "recorded"
    # metadata from the file's root and group properties and the channels
    assert rec.instrument["tdms.name"] == "nanowire run 7"
    assert rec.instrument["tdms.author"] == "device lab"
    assert rec.instrument["tdms.Dev1 task.NI_ExpStartTimeStamp"].startswith(
        "2024-05-17T10:21:03.25"
    )
    assert rec.instrument["ni_channel.ai3"] == "Dev1/ai3"
    assert rec.instrument["unit.ai3"] == "mV"
    assert rec.instrument["sample_rate_hz"] == 1000.0
    assert rec.instrument["current_gain_v_per_a"] == GAIN
    assert rec.config["boundaries"]["first_value"] == JUNK


def test_channels_are_named_by_group_path_or_ni_name(tdms: Path) -> None:
    rec = import_tdms(
        tdms,
        **tdms_kwargs(
            input_channel="Dev1 task/ai0",
            pad_channels={"Dev1/ai1": 1, "ai2": 2, "Dev1/ai3": 12},
        ),
    )
    assert_is_the_simulation(rec)


def test_stimulus_finds_the_boundaries_behind_leading_junk(tdms: Path) -> None:
    rec = import_tdms(
        tdms,
        **tdms_kwargs(
            steps=None,
            offset=0,
            find_boundaries=True,
            stimulus=SIM.stimulus,
            v_min=V_MIN,
            v_max=V_MAX,
        ),
    )
    assert rec.config["boundaries"]["method"] == "stimulus"
    assert rec.config["boundaries"]["first_value"] == JUNK
    assert_is_the_simulation(rec)
    assert rec.stimulus is not None
    np.testing.assert_array_equal(rec.stimulus, SIM.stimulus.astype(np.float32))
    assert (rec.v_min, rec.v_max) == (V_MIN, V_MAX)


def test_a_current_channel_in_amperes(tmp_path: Path) -> None:
    channels = raw_channels(SIM)
    channels["ai4"] = (np.r_[np.zeros(JUNK), SIM.current.ravel() * 1e6], "uA")
    path = write_daq_tdms(tmp_path / "ua.tdms", channels)
    rec = import_tdms(path, **tdms_kwargs(current_gain_v_per_a=None))
    assert_is_the_simulation(rec)


def test_daq_oversampling_is_averaged_to_steps(tmp_path: Path) -> None:
    # four DAQ values per input step, scattered +-1 mV around the step's value
    m = 4
    wiggle = np.tile([1e-3, -1e-3, 1e-3, -1e-3], N_DIGITS * STEPS)
    channels = {}
    for name, (values, unit) in raw_channels(SIM, junk=0).items():
        scale = 1e3 if unit == "mV" else 1.0
        channels[name] = (np.repeat(values, m) + scale * wiggle, unit)
    channels["ai4"] = (np.repeat(SIM.current.ravel(), m), "A")
    path = write_daq_tdms(
        tmp_path / "fast.tdms", channels, dt={n: DT / m for n in channels}
    )
    rec = import_tdms(
        path,
        **tdms_kwargs(offset=0, samples_per_step=m, current_gain_v_per_a=None, dt_s=DT),
    )
    assert rec.dt_s == pytest.approx(DT, rel=1e-12)
    assert rec.instrument["sample_rate_hz"] == pytest.approx(4000.0)
    # the mean of x+d, x-d, x+d, x-d is x (to float32 rounding)
    np.testing.assert_allclose(rec.pads, SIM.pads, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rec.input, SIM.input, rtol=0, atol=1e-6)


def test_csv_export_imports_to_the_arrays(tmp_path: Path) -> None:
    ch = raw_channels(SIM)
    n = ch["ai0"][0].size
    table = np.column_stack(
        [np.arange(n) * DT, *(ch[k][0] for k in ("ai0", "ai1", "ai2", "ai3", "ai4"))]
    )
    path = tmp_path / "run.csv"
    header = "time,Vin,pad1,pad2,pad12 [mV],amp (V)"
    np.savetxt(path, table, delimiter=",", header=header, comments="", fmt="%.17g")
    rec = import_table(
        path,
        input_channel="Vin",
        pad_channels={"pad1": 1, "pad2": 2, "pad12": 12},
        current_channel="amp",
        current_gain_v_per_a=GAIN,
        labels=SIM.labels,
        steps=STEPS,
        offset=JUNK,
        dt_s=DT,
    )
    assert_is_the_simulation(rec)
    assert rec.dt_s == pytest.approx(DT, rel=1e-9)
    assert rec.instrument["channel_time"] == "time"


def test_csv_time_stamps_that_jump_are_an_error(tmp_path: Path) -> None:
    ch = raw_channels(SIM)
    n = ch["ai0"][0].size
    time = np.arange(n) * DT
    jump_at = JUNK + 4 * STEPS + 300  # sample 4, step 300
    time[jump_at:] += 5 * DT  # the clock skipped five steps
    table = np.column_stack([time, ch["ai0"][0], ch["ai1"][0]])
    path = tmp_path / "gap.csv"
    np.savetxt(path, table, delimiter=";", header="t;in;p", comments="", fmt="%.17g")
    with pytest.raises(
        DataError,
        match=r"sample 4, time, step 300: time jumps by "
        r"0\.006 s \(5 missing steps\)",
    ):
        import_table(
            path,
            input_channel="in",
            pad_channels={"p": 1},
            labels=SIM.labels,
            steps=STEPS,
            offset=JUNK,
        )


@pytest.mark.parametrize("layout", ["values-channels", "channels-values", "npz"])
def test_numpy_arrays_import_to_the_arrays(tmp_path: Path, layout: str) -> None:
    ch = raw_channels(SIM)
    cols = [ch[k][0] for k in ("ai0", "ai1", "ai2", "ai3", "ai4")]
    if layout == "npz":
        path = tmp_path / "run.npz"
        np.savez(path, vin=cols[0], a=cols[1], b=cols[2], c=cols[3], amp=cols[4])
        names = ["vin", "a", "b", "c", "amp"]
    else:
        path = tmp_path / "run.npy"
        arr = np.column_stack(cols)
        np.save(path, arr if layout == "values-channels" else arr.T)
        names = ["0", "1", "2", "3", "4"]
    rec = import_table(
        path,
        input_channel=names[0],
        pad_channels={names[1]: 1, names[2]: 2, names[3]: 12},
        current_channel=names[4],
        current_gain_v_per_a=GAIN,
        units={names[3]: "mV"},
        labels=SIM.labels,
        steps=STEPS,
        offset=JUNK,
        dt_s=DT,
    )
    assert_is_the_simulation(rec)
    assert rec.dt_s == DT


@pytest.mark.parametrize("suffix", [".npy", ".txt", ".csv"])
def test_labels_from_files(tmp_path: Path, tdms: Path, suffix: str) -> None:
    path = tmp_path / f"labels{suffix}"
    if suffix == ".npy":
        np.save(path, SIM.labels)
    else:
        head = "label\n" if suffix == ".csv" else ""
        path.write_text(head + "\n".join(str(x) for x in SIM.labels) + "\n")
    rec = import_tdms(tdms, **tdms_kwargs(labels=path))
    np.testing.assert_array_equal(rec.labels, SIM.labels)


# ----------------------------------------------------------------- broken files


def test_a_missing_channel_is_named_with_those_present(tdms: Path) -> None:
    with pytest.raises(DataError) as exc:
        import_tdms(tdms, **tdms_kwargs(pad_channels={"ai1": 1, "ai7": 13}))
    msg = str(exc.value)
    assert "no channel 'ai7'" in msg
    for name in ("ai0", "ai1", "ai2", "ai3", "ai4"):
        assert f"Dev1 task/{name} (Dev1/{name})" in msg


def test_channels_of_different_lengths(tmp_path: Path) -> None:
    channels = raw_channels(SIM)
    values, unit = channels["ai2"]
    channels["ai2"] = (values[:-10], unit)
    path = write_daq_tdms(tmp_path / "short.tdms", channels)
    n = values.size
    with pytest.raises(
        DataError, match=f"channel 'ai2' has {n - 10} values, channel 'ai0' {n}"
    ):
        import_tdms(path, **tdms_kwargs())


def test_channels_of_different_time_steps(tmp_path: Path) -> None:
    path = write_daq_tdms(tmp_path / "dt.tdms", raw_channels(SIM), dt={"ai3": 2 * DT})
    with pytest.raises(
        DataError,
        match=re.escape("channel 'ai3' was sampled every 0.002 s, channel 'ai0' every"),
    ):
        import_tdms(path, **tdms_kwargs())


def test_channels_that_start_at_different_times(tmp_path: Path) -> None:
    path = write_daq_tdms(
        tmp_path / "late.tdms", raw_channels(SIM), start_offset={"ai2": 5 * DT}
    )
    with pytest.raises(DataError, match=r"channel 'ai2' starts \+0\.005 s \(\+5\.0 "):
        import_tdms(path, **tdms_kwargs())


def test_truncated_final_sample(tmp_path: Path) -> None:
    end = JUNK + 11 * STEPS + 500
    channels = {k: (v[:end], u) for k, (v, u) in raw_channels(SIM).items()}
    path = write_daq_tdms(tmp_path / "cut.tdms", channels)
    with pytest.raises(
        DataError, match="ends inside sample 11, which has 500 of its 784 steps"
    ):
        import_tdms(path, **tdms_kwargs())
    with pytest.warns(DataWarning, match="sample 11, which has 500 of its 784 steps"):
        rec = import_tdms(path, **tdms_kwargs(drop_incomplete=True))
    assert_is_the_simulation(rec, n=11)


def test_truncated_stream_found_from_the_stimulus(tmp_path: Path) -> None:
    end = JUNK + 10 * STEPS + 30
    channels = {k: (v[:end], u) for k, (v, u) in raw_channels(SIM).items()}
    path = write_daq_tdms(tmp_path / "cut.tdms", channels)
    kwargs = tdms_kwargs(
        steps=None, find_boundaries=True, stimulus=SIM.stimulus, v_min=0.0, v_max=2.0
    )
    with pytest.raises(
        DataError,
        match="sample 10, which has 30 of its 784 steps; sample 11 of the stimulus "
        "are not in the recording",
    ):
        import_tdms(path, **kwargs)
    with pytest.warns(DataWarning, match="sample 10"):
        rec = import_tdms(path, **kwargs, drop_incomplete=True)
    assert_is_the_simulation(rec, n=10)


def test_a_nan_stretch_names_sample_pad_and_steps(tmp_path: Path) -> None:
    channels = raw_channels(SIM)
    values = channels["ai2"][0].copy()
    first = JUNK + 3 * STEPS + 100
    values[first : first + 20] = np.nan
    channels["ai2"] = (values, "V")
    path = write_daq_tdms(tmp_path / "nan.tdms", channels)
    with pytest.raises(DataError, match="sample 3, pad 2, steps 100-119: 20 step"):
        import_tdms(path, **tdms_kwargs())


def test_a_wrong_time_step(tdms: Path) -> None:
    with pytest.raises(DataError, match=r"time step is 0\.001 s, .* --dt is 0\.002 s"):
        import_tdms(tdms, **tdms_kwargs(dt_s=2e-3))


def test_fewer_labels_than_samples(tdms: Path) -> None:
    with pytest.raises(
        DataError, match="12 samples but there are 10 labels: samples 10-11 have no"
    ):
        import_tdms(tdms, **tdms_kwargs(labels=SIM.labels[:10]))
    with pytest.warns(DataWarning, match="samples 10-11 have no label"):
        rec = import_tdms(
            tdms,
            **tdms_kwargs(labels=SIM.labels[:10], drop_unlabelled=True),
        )
    assert_is_the_simulation(rec, n=10)


def test_more_labels_than_samples(tdms: Path) -> None:
    labels = np.r_[SIM.labels, 3]
    with pytest.raises(DataError, match="13 labels but the recording holds 12"):
        import_tdms(tdms, **tdms_kwargs(labels=labels))


def test_units_that_are_not_volts(tmp_path: Path) -> None:
    channels = raw_channels(SIM)
    channels["ai3"] = (channels["ai3"][0], "degC")
    path = write_daq_tdms(tmp_path / "unit.tdms", channels)
    with pytest.raises(
        DataError, match="channel 'ai3' has the unit 'degC', which is not recognised"
    ):
        import_tdms(path, **tdms_kwargs())


def test_a_current_in_volts_needs_its_gain(tdms: Path) -> None:
    with pytest.raises(DataError, match="give the transimpedance gain"):
        import_tdms(tdms, **tdms_kwargs(current_gain_v_per_a=None))


def test_without_nptdms_the_error_says_what_to_install(
    tdms: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "nptdms", None)
    with pytest.raises(DataError, match=re.escape('pip install "nwnrc[recordings]"')):
        import_tdms(tdms, **tdms_kwargs())


def noisy_channels(seed: int = 1) -> dict[str, tuple[np.ndarray, str]]:
    """The channels with 1 mV of instrument noise, as a real DAQ reads them."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, (values, unit) in raw_channels(SIM).items():
        scale = 1e3 if unit == "mV" else 1.0
        out[name] = (values + rng.normal(0.0, 1e-3 * scale, values.size), unit)
    return out


def clipped_stretches(pads: np.ndarray, inp: np.ndarray, min_steps: int) -> set:
    """Reference: (sample, first, stop) of every stretch of at least min_steps
    steps at the channel's maximum during which the input changes."""
    top = pads.max()
    found = set()
    for s in range(pads.shape[0]):
        k = 0
        while k < pads.shape[1]:
            if pads[s, k] != top:
                k += 1
                continue
            j = k
            while j < pads.shape[1] and pads[s, j] == top:
                j += 1
            if j - k >= min_steps and len(set(inp[s, k:j].tolist())) > 1:
                found.add((s, k, j))
            k = j
    return found


def test_a_clipped_channel(tmp_path: Path) -> None:
    # pad 12 clipped at 1.05 V, below its plateau of 1.11 V during the long rows
    # of the horizontal bars: about 3% of its steps, more than the 1% tolerated
    channels = noisy_channels()
    values, unit = channels["ai3"]
    channels["ai3"] = (np.minimum(values, 1.05e3), unit)
    path = write_daq_tdms(tmp_path / "clip.tdms", channels)
    with pytest.raises(
        DataError, match=r"sample \d+, pad 12, steps \d+-\d+: held at 1\.05 "
    ):
        import_tdms(path, **tdms_kwargs())

    rec = import_tdms(path, **tdms_kwargs(validate=False))
    expected = clipped_stretches(rec.pads[:, 2], rec.input, 5)
    fraction = sum(b - a for _, a, b in expected) / (N_DIGITS * STEPS)
    assert 0.01 < fraction < 0.05
    report = validate_recording(rec, clip_error_fraction=0.05, max_findings=100)
    assert report.ok
    named = {
        (f.sample, f.steps[0], f.steps[1])
        for f in report.warnings
        if f.check == "clipped" and f.pad == 12 and f.steps is not None
    }
    assert named == expected
    assert all(f.pad == 12 for f in report.warnings)


def test_a_drifting_baseline(tmp_path: Path) -> None:
    # pad 1 drifts up by 30 mV per sample: 30 V per 1,000 samples
    channels = raw_channels(SIM)
    values, unit = channels["ai1"]
    ramp = np.zeros(values.size)
    ramp[JUNK:] = np.arange(values.size - JUNK) * (0.03 / STEPS)
    channels["ai1"] = (values + ramp, unit)
    path = write_daq_tdms(tmp_path / "drift.tdms", channels)
    with pytest.warns(DataWarning, match="pad 1: baseline drifts by") as caught:
        import_tdms(path, **tdms_kwargs())
    m = re.search(r"by \+([0-9.]+) V per 1,000 samples", str(caught[0].message))
    assert m is not None
    assert float(m[1]) == pytest.approx(30.0, rel=0.05)


def test_a_sample_whose_input_is_not_its_stimulus(tdms: Path) -> None:
    # the stimulus file has another digit in place of sample 5
    stimulus = SIM.stimulus.copy()
    other = next(i for i in range(N_DIGITS) if SIM.labels[i] != SIM.labels[5])
    stimulus[5] = SIM.stimulus[other]
    kwargs = tdms_kwargs(stimulus=stimulus, v_min=V_MIN, v_max=V_MAX)
    with pytest.raises(
        DataError, match="sample 5, input: input differs from the encoded stimulus"
    ):
        import_tdms(tdms, **kwargs)
    kwargs.update(find_boundaries=True, steps=None, offset=0)
    with pytest.raises(DataError, match=r"has 1 error.*sample 5, input"):
        import_tdms(tdms, **kwargs)


def test_given_sample_starts_around_a_pause(tmp_path: Path) -> None:
    # the DAQ idled for 50 values between samples 5 and 6
    split = JUNK + 6 * STEPS
    channels = {
        k: (np.r_[v[:split], np.full(50, v[split - 1]), v[split:]], u)
        for k, (v, u) in raw_channels(SIM).items()
    }
    path = write_daq_tdms(tmp_path / "pause.tdms", channels)
    starts = [JUNK + STEPS * i + (50 if i >= 6 else 0) for i in range(N_DIGITS)]
    starts_file = tmp_path / "starts.txt"
    starts_file.write_text("\n".join(map(str, starts)))
    rec = import_tdms(path, **tdms_kwargs(starts=starts_file, offset=0))
    assert_is_the_simulation(rec)
    assert rec.config["boundaries"]["method"] == "given"
    # fixed steps from the same start run through the pause: 12 whole samples (6
    # of them off by the pause) and 50 values of a thirteenth
    with pytest.raises(
        DataError, match="ends inside sample 12, which has 50 of its 784"
    ):
        import_tdms(path, **tdms_kwargs())
