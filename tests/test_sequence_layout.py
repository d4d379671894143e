"""Feature layout of the sequence task: streams as 28-row images, windows, columns.

Expected arrays are built here element by element from the definition (step
``784 d + 28 r + c`` is row r, column c of digit d; a window's columns are those of
the digits after the target, side by side), not by the reshapes of the code.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from nwnrc.errors import ConfigError
from nwnrc.experiments import _sequence
from nwnrc.experiments._sequence import (
    SequenceConfig,
    SequenceStream,
    _Channels,
    _Job,
    digit_images,
    draw_sequence_digits,
    ink_lag_correlation,
    replace_columns,
    window_images,
)


def test_stream_becomes_one_image_per_digit_row_major() -> None:
    series = np.arange(3 * 784)
    img = digit_images(series)
    assert img.shape == (3, 28, 28)
    # hand-picked steps: digit 0 row 0 col 5 is step 5; digit 1 row 1 col 0 is
    # 784 + 28; digit 2 row 27 col 27 is the last step, 3 * 784 - 1
    assert img[0, 0, 5] == 5
    assert img[1, 1, 0] == 812
    assert img[2, 27, 27] == 2351
    # column 3 of digit 0 holds the steps 3, 31, 59, ... (one per pixel row)
    assert img[0, :, 3].tolist() == [3 + 28 * r for r in range(28)]


def test_leading_axes_are_kept_and_partial_digits_refused() -> None:
    assert digit_images(np.zeros((4, 2, 1568))).shape == (4, 2, 2, 28, 28)
    with pytest.raises(ConfigError, match="whole number of 784-step digits"):
        digit_images(np.zeros(800))


def test_window_puts_the_following_digits_side_by_side() -> None:
    images = digit_images(np.arange(6 * 784))
    targets = np.array([0, 2])
    w = window_images(images, targets, 4)  # target + 3 following digits
    assert w.shape == (2, 28, 84)
    for i, t in enumerate(targets):
        for r in range(28):
            for j in range(3):
                for c in range(28):
                    assert w[i, r, 28 * j + c] == 784 * (t + 1 + j) + 28 * r + c


def test_window_of_one_is_the_targets_own_image() -> None:
    images = digit_images(np.arange(3 * 784))
    w = window_images(images, np.array([1]), 1)
    assert w.shape == (1, 28, 28)
    assert w[0, 0, 0] == 784


def test_window_past_the_last_digit_is_refused() -> None:
    images = digit_images(np.arange(3 * 784))
    with pytest.raises(ConfigError, match="runs past the last of 3 digits"):
        window_images(images, np.array([1]), 3)
    with pytest.raises(ConfigError, match="window must be an integer >= 1"):
        window_images(images, np.array([0]), 0)


def test_replace_columns_swaps_the_first_columns_only() -> None:
    g = np.zeros((2, 28, 56))
    v = np.ones((2, 28, 56))
    out = replace_columns(g, v, 42)
    assert out[:, :, :42].min() == 1.0
    assert out[:, :, 42:].max() == 0.0
    assert g.max() == 0.0  # the input is not modified
    assert replace_columns(g, v, 0).max() == 0.0
    assert replace_columns(g, v, 56).min() == 1.0
    with pytest.raises(ConfigError, match=r"n_columns must lie in 0\.\.56"):
        replace_columns(g, v, 57)


def _small_config(**kw: object) -> SequenceConfig:
    base: dict[str, object] = {
        "sequence": "12",
        "repeats": 3,
        "washout_repeats": 1,
        "max_window": 2,
        "train_streams": 1,
        "test_streams": 1,
        "exclusion_window": 2,
        "control_windows": (2,),
    }
    base.update(kw)
    return SequenceConfig(**base)  # type: ignore[arg-type]


def test_experiment_features_are_voltage_then_conductance_columns() -> None:
    # two streams of 6 digits; pad 7 reads step/1000 V, pad 13 reads -1 V, and
    # log10 G runs over [-6, -4] on the training stream so it scales to [0, 1]
    cfg = _small_config(v_max=2.0)
    steps = 6 * 784
    ramp = np.arange(steps, dtype=np.float64)
    pads = np.zeros((2, 6, 2, 784), dtype=np.float32)
    pads[:, :, 0] = (ramp / 1000.0).reshape(6, 784)
    pads[:, :, 1] = -1.0
    log_g = np.linspace(-6.0, -4.0, steps)
    cond = np.tile((10.0**log_g).reshape(1, 6, 784), (2, 1, 1)).astype(np.float32)
    stream = SequenceStream(
        pad_voltages=pads,
        source_current=np.zeros((2, 6, 784), np.float32),
        conductance=cond,
        volts=np.zeros((2, 6, 784), np.float32),
        state=np.zeros((2, 1)),
    )
    images = np.zeros((2, 6, 28, 28), np.float32)
    ch = _Channels(cfg, stream, images)
    # washout of one repetition (2 digits), window 2: targets are digits 2, 3, 4
    assert ch.targets.tolist() == [2, 3, 4]
    x = ch.features(_Job("main-L2", 2, "main"), "train")
    assert x.shape == (3, 2 * 784)
    # the training stream's log10 G after the washout spans steps 1568 .. 4703
    lo, hi = log_g[1568], log_g[-1]
    for i, t in enumerate([2, 3, 4]):
        d = t + 1  # the one following digit
        for r in (0, 13, 27):
            for c in (0, 14, 27):
                step = 784 * d + 28 * r + c
                # voltage block first (divided by v_max = 2), then conductance
                assert x[i, 28 * r + c] == pytest.approx(step / 1000 / 2, rel=1e-6)
                g = (log_g[step] - lo) / (hi - lo)
                assert x[i, 784 + 28 * r + c] == pytest.approx(g, abs=1e-5)
    # all 28 conductance columns replaced: the second block reads pad 13 / v_max
    xv = ch.features(_Job("voltage-L2", 2, "voltage", 28), "train")
    np.testing.assert_allclose(xv[:, 784:], -0.5)
    np.testing.assert_array_equal(xv[:, :784], x[:, :784])
    # half replaced: columns 0..13 of every row are voltage, 14..27 conductance
    xe = ch.features(_Job("exclusion", 2, "exclusion", 14), "train")
    block = xe[:, 784:].reshape(3, 28, 28)
    np.testing.assert_allclose(block[:, :, :14], -0.5)
    np.testing.assert_array_equal(
        block[:, :, 14:], x[:, 784:].reshape(3, 28, 28)[:, :, 14:]
    )


def test_drawn_digits_follow_the_sequence_without_repeats() -> None:
    cfg = _small_config(sequence="1471", repeats=4, train_streams=2, test_streams=1)
    rng = np.random.default_rng(0)
    train_labels = rng.integers(0, 10, 500)
    test_labels = rng.integers(0, 10, 300)
    idx = draw_sequence_digits(cfg, train_labels, test_labels)
    assert idx.shape == (3, 16)
    want = [1, 4, 7, 1] * 4
    for s in range(2):
        assert train_labels[idx[s]].tolist() == want
    assert test_labels[idx[2]].tolist() == want
    assert np.unique(idx[:2]).size == 32  # no training instance used twice
    again = draw_sequence_digits(cfg, train_labels, test_labels)
    np.testing.assert_array_equal(idx, again)  # seeded


def test_too_few_digits_of_a_class_is_a_config_error() -> None:
    cfg = _small_config(sequence="19", repeats=3)
    labels = np.array([1, 1, 1, 9, 9])  # three 9s needed, two present
    with pytest.raises(ConfigError, match="needs 3 digits of class 9 from the test"):
        draw_sequence_digits(cfg, np.array([1, 1, 1, 9, 9, 9]), labels)


def test_ink_lag_correlation_finds_an_exact_one_digit_echo() -> None:
    # the readout of digit k + 1 is the ink of digit k: correlation 1 at lag 1
    rng = np.random.default_rng(4)
    ink = rng.random((2, 80))
    readout = np.zeros_like(ink)
    readout[:, 1:] = ink[:, :-1]
    corr = ink_lag_correlation(ink, readout, period=4, first=8, max_lag=2)
    assert corr[1] == pytest.approx(1.0, abs=1e-12)
    assert abs(corr[0]) < 0.4 and abs(corr[2]) < 0.4


def test_docstring_examples_run() -> None:
    result = doctest.testmod(_sequence, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
