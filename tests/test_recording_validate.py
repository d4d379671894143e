"""The validator: each criterion on hand-built recordings whose faults sit at known
places, and no finding at all on the simulator's clean readouts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from daq_files import DT, PADS, V_MAX, V_MIN, simulated
from nwnrc.errors import DataError, DataWarning
from nwnrc.recording import Finding, Recording, ValidationReport, validate_recording


def noise_recording(
    n: int = 20, t: int = 100, pads: tuple[int, ...] = (1, 12), seed: int = 0, **kw
) -> Recording:
    """Gaussian readouts (0.3 V, σ = 0.05 V) and input (0.5 V, σ = 0.1 V): no fault
    of any kind, and the pads within 0 V..the input as a passive network holds them."""
    rng = np.random.default_rng(seed)
    return Recording(
        pads=rng.normal(0.3, 0.05, (n, len(pads), t)),
        input=rng.normal(0.5, 0.1, (n, t)),
        labels=np.arange(n) % 10,
        dt_s=DT,
        pad_numbers=pads,
        n_train=n,
        **kw,
    )


def where(report: ValidationReport, check: str) -> set[tuple]:
    return {(f.sample, f.channel, f.steps) for f in report.findings if f.check == check}


def test_clean_noise_has_no_finding() -> None:
    assert validate_recording(noise_recording()).findings == []


def test_the_simulators_readouts_have_no_finding() -> None:
    sim = simulated()
    rec = Recording(
        pads=sim.pads,
        input=sim.input,
        labels=sim.labels,
        dt_s=DT,
        pad_numbers=PADS,
        n_train=8,
        kind="simulated",
        v_min=V_MIN,
        v_max=V_MAX,
        source_current=sim.current,
        stimulus=sim.stimulus,
    )
    report = validate_recording(rec, expected_dt_s=DT)
    assert report.findings == []


def test_nonfinite_stretches_are_errors_at_their_places() -> None:
    current = np.random.default_rng(1).normal(1e-6, 1e-7, (20, 100))
    rec = noise_recording(source_current=current)
    rec.pads[2, 1, 10:15] = np.nan
    rec.pads[2, 1, 30] = np.inf
    rec.input[4, 0:3] = np.nan
    assert rec.source_current is not None
    rec.source_current[19, 99] = -np.inf
    report = validate_recording(rec)
    assert where(report, "nonfinite") == {
        (2, "pad 12", (10, 15)),
        (2, "pad 12", (30, 31)),
        (4, "input", (0, 3)),
        (19, "source current", (99, 100)),
    }
    assert all(f.severity == "error" for f in report.findings)
    pads = {f.pad for f in report.findings if f.channel == "pad 12"}
    assert pads == {12}


def test_many_stretches_are_listed_up_to_a_limit_then_counted() -> None:
    rec = noise_recording()
    rec.pads[0, 0, ::2] = np.nan  # 50 one-step stretches
    report = validate_recording(rec, max_findings=20)
    found = [f for f in report.findings if f.check == "nonfinite"]
    assert len(found) == 21
    assert found[-1].message.startswith("and 30 more stretches")
    assert "(50 values in all)" in found[-1].message


def test_a_wrong_time_step_names_both() -> None:
    rec = noise_recording()
    report = validate_recording(rec, expected_dt_s=2e-3)
    (f,) = report.errors
    assert f.check == "dt"
    assert "time step is 0.001 s, expected 0.002 s" in f.message
    assert validate_recording(rec, expected_dt_s=DT * (1 + 1e-9)).ok


def test_time_stamps_with_a_gap_a_reversal_and_a_pause() -> None:
    rec = noise_recording(n=4, t=10)
    t = np.arange(40, dtype=np.float64).reshape(4, 10) * DT
    t[1, 7:] += 5 * DT  # five steps lost inside sample 1, before its step 7
    t[2:] += 5 * DT
    t[3:] -= 0.5  # sample 3 starts before sample 2 ends
    report = validate_recording(rec, time_s=t)
    gaps = [f for f in report.findings if f.check == "gap"]
    assert [(f.severity, f.sample, f.steps) for f in gaps] == [
        ("error", 1, (7, 8)),
        ("error", 3, None),
    ]
    assert "time jumps by 0.006 s (5 missing steps)" in gaps[0].message
    assert "time goes backwards" in gaps[1].message

    # a pause between samples: the device rested, a warning
    t = np.arange(40, dtype=np.float64).reshape(4, 10) * DT
    t[2:] += 0.25
    (f,) = validate_recording(rec, time_s=t).findings
    assert (f.severity, f.sample) == ("warning", 2)
    assert "rested 0.25 s" in f.message


def test_clipping_at_the_instruments_range() -> None:
    rec = noise_recording(instrument={"range_min_v": -1.0, "range_max_v": 0.6})
    rec.pads[3, 0, 20:30] = 0.6  # held at the top of the range
    rec.input[3, 20:30] = 0.7  # even while the input is constant
    report = validate_recording(rec)
    assert where(report, "clipped") == {(3, "pad 1", (20, 30))}
    (f,) = report.findings
    assert f.severity == "warning"
    assert "held at 0.6 (the instrument's range) for 10 steps" in f.message
    # four steps are not a clipped stretch
    rec.pads[3, 0, 24:30] = 0.0
    assert validate_recording(rec).findings == []


def test_clipping_at_the_channels_extreme_needs_a_changing_input() -> None:
    rec = noise_recording()
    top = rec.pads[:, 1].max()
    rec.pads[5, 1, 40:47] = top  # seven steps at the channel's maximum
    report = validate_recording(rec)
    assert where(report, "clipped") == {(5, "pad 12", (40, 47))}
    assert "(its extreme)" in report.findings[0].message
    # under a constant input a flat stretch may be a steady state: not clipping
    rec.input[5, 40:47] = 0.5
    assert validate_recording(rec).findings == []


def test_a_channel_resting_on_one_value_is_not_clipped() -> None:
    # a quiet unipolar pad: exactly 0 V at rest (its minimum and the median of every
    # sample), following the input only above 0.6 V
    rec = noise_recording()
    rec.pads[:, 0] = np.where(rec.input > 0.6, rec.input, 0.0)
    assert np.median(rec.pads[:, 0], axis=1).max() == 0.0
    assert validate_recording(rec).findings == []


def test_clipping_above_the_stated_fraction_is_an_error() -> None:
    rec = noise_recording()
    bottom = rec.pads[:, 0].min()
    rec.pads[0, 0, :25] = bottom  # 25 of 2,000 steps: 1.25%
    report = validate_recording(rec)
    (f,) = report.findings
    assert (f.severity, f.sample, f.pad, f.steps) == ("error", 0, 1, (0, 25))
    assert "clipped on 1.25% of its steps, more than the 1% tolerated" in f.message
    (f,) = validate_recording(rec, clip_error_fraction=0.02).findings
    assert f.severity == "warning"


def test_a_flat_channel() -> None:
    rec = noise_recording()
    rec.pads[:, 1] = 0.25
    (f,) = validate_recording(rec).findings
    assert (f.check, f.severity, f.pad) == ("flat", "warning", 12)


def test_a_drifting_baseline_in_volts_per_1000_samples() -> None:
    n = 40
    rec = noise_recording(n=n, t=200)
    rec.pads[:, 0] += (0.01 * np.arange(n))[:, None]  # 10 mV a sample
    report = validate_recording(rec)
    (f,) = report.findings
    assert (f.check, f.severity, f.pad, f.sample) == ("drift", "warning", 1, None)
    m = re.search(r"drifts by \+([0-9.]+) V per 1,000 samples", f.message)
    assert m is not None
    # the median of 200 values of noise of 0.1 V scatters by about 9 mV a sample,
    # which moves a fitted slope over 40 samples by about 0.1 mV a sample
    assert float(m[1]) == pytest.approx(10.0, rel=0.05)
    # the same drift over fewer samples than the minimum is not judged
    assert validate_recording(rec, drift_min_samples=41).findings == []
    # a drift under the threshold: 0.5 mV a sample is 20 mV over the recording, 4%
    # of the signal range (2 x 2.33 x 0.1 V)
    rec = noise_recording(n=n, t=200)
    rec.pads[:, 0] += (0.0005 * np.arange(n))[:, None]
    assert validate_recording(rec).findings == []


def test_missing_labels() -> None:
    rec = noise_recording(n=5)
    rec.labels[[1, 3]] = -1
    (f,) = validate_recording(rec).findings
    assert (f.check, f.severity, f.sample) == ("labels", "error", 1)
    assert "2 sample(s) have no label (a negative label): samples 1, 3" in f.message


def test_input_against_its_stimulus() -> None:
    n, t = 4, 100
    stimulus = np.zeros((n, t))
    stimulus[:, 40:60] = 1.0
    volts = 0.5 + 1.5 * stimulus
    volts[2] = np.roll(volts[2], 1)  # sample 2 is one step late: two steps differ
    rec = noise_recording(n=n, t=t, stimulus=stimulus, v_min=0.5, v_max=2.0)
    rec.input[:] = volts
    (f,) = validate_recording(rec).findings
    assert (f.check, f.sample, f.channel) == ("input", 2, "input")
    assert "by more than 0.3 V on 2 of 100 steps (largest 1.5 V, first at step 40)" in (
        f.message
    )


def test_a_broken_structure_is_one_error() -> None:
    rec = noise_recording()
    rec.labels = np.zeros(3, dtype=np.int64)
    (f,) = validate_recording(rec).findings
    assert (f.check, f.severity) == ("structure", "error")
    assert "labels must have one entry per sample (20)" in f.message


def test_raise_errors_names_the_first_errors() -> None:
    rec = noise_recording()
    for s in range(7):
        rec.pads[s, 0, 5] = np.nan
    with pytest.raises(DataError) as exc:
        validate_recording(rec).raise_errors(limit=3)
    msg = str(exc.value)
    assert msg.startswith("the recording has 7 error(s): sample 0, pad 1, step 5: ")
    assert "sample 2, pad 1, step 5" in msg
    assert "sample 3" not in msg
    assert msg.endswith("(and 4 more)")


def test_warnings_go_out_as_data_warnings() -> None:
    report = ValidationReport(
        [Finding("warning", "drift", f"w{i}", channel="pad 3", pad=3) for i in range(7)]
    )
    with pytest.warns(DataWarning) as caught:
        report.raise_errors(limit=5)
    messages = [str(w.message) for w in caught]
    assert messages[:5] == [f"pad 3: w{i}" for i in range(5)]
    assert messages[5].startswith("and 2 more warning(s)")
    assert len(messages) == 6


def test_the_table_lists_every_finding() -> None:
    rec = noise_recording()
    rec.pads[2, 1, 10:15] = np.nan
    table = validate_recording(rec, expected_dt_s=2e-3).table()
    lines = table.splitlines()
    assert lines[0].split() == [
        "severity",
        "check",
        "sample",
        "channel",
        "steps",
        "message",
    ]
    assert lines[-1] == "2 error(s), 0 warning(s)"
    assert any(
        ln.split()[:6] == ["error", "nonfinite", "2", "pad", "12", "10-14"]
        for ln in lines
    )
    assert ValidationReport().table().startswith("no findings")


def test_a_finding_has_a_known_severity() -> None:
    with pytest.raises(ValueError, match="severity must be one of"):
        Finding("fatal", "dt", "x")


def test_a_pad_far_outside_the_applied_range_is_a_unit_mistake() -> None:
    # input 0.5 +- 0.1 V, so the range is 0 V..its maximum; pad 12 of sample 7
    # logged in mV and read as V: 300 V, hundreds of spans out
    rec = noise_recording()
    hi = float(rec.input.max())
    rec.pads[7, 1, 33] = 300.0
    report = validate_recording(rec)
    (f,) = report.findings
    assert (f.severity, f.check, f.sample, f.pad, f.steps) == (
        "error",
        "range",
        7,
        12,
        (33, 34),
    )
    assert "pad 12 reads 300 V at sample 7, step 33" in f.message
    assert f"outside 0..{hi:.6g} V" in f.message and "unit or gain" in f.message
    # exactly at 2 spans beyond it: still a warning; just past: an error
    rec.pads[7, 1, 33] = hi + 2 * hi * 0.999
    assert [f.severity for f in validate_recording(rec).findings] == ["warning"]
    rec.pads[7, 1, 33] = hi + 2 * hi * 1.001
    assert [f.severity for f in validate_recording(rec).findings] == ["error"]


def test_a_pad_a_little_outside_the_applied_range_is_a_warning() -> None:
    # an amplifier offset: pad 1 of sample 2 reads -8 % of the span below 0 V;
    # -4 % is within the 5 % tolerated
    rec = noise_recording()
    span = float(rec.input.max())
    rec.pads[2, 0, 10] = -0.04 * span
    assert validate_recording(rec).findings == []
    rec.pads[2, 0, 10] = -0.08 * span
    (f,) = validate_recording(rec).findings
    assert (f.severity, f.check, f.sample, f.pad) == ("warning", "range", 2, 1)
    assert "by 8% of that span, more than the 5% tolerated" in f.message
    assert validate_recording(rec, range_tolerance=0.1).findings == []
    # a negative input widens the range below 0 V: the same pad is then inside
    rec.input[0, 0] = -0.1 * span
    assert validate_recording(rec).findings == []
