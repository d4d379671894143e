"""SSIM as the sequence task scores it: hand-worked values, data range 1, errors."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from nwnrc.analysis import _ssim
from nwnrc.analysis._ssim import ssim, ssim_batch
from nwnrc.errors import ConfigError

C1 = (0.01 * 1.0) ** 2  # K1 = 0.01, data_range = 1
C2 = (0.03 * 1.0) ** 2  # K2 = 0.03


def test_identical_images_score_one() -> None:
    img = np.random.default_rng(0).random((28, 28))
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)


def test_constant_image_against_itself_scores_one() -> None:
    img = np.full((28, 28), 0.3)
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)


def test_two_constant_images_follow_the_luminance_term() -> None:
    # variances and covariance vanish: (2ab + C1) / (a^2 + b^2 + C1)
    # a = 0.2, b = 0.6: 0.2401 / 0.4001
    value = ssim(np.full((10, 10), 0.2), np.full((10, 10), 0.6))
    assert value == pytest.approx(0.2401 / 0.4001, rel=1e-12)


def test_float32_dark_images_use_data_range_one() -> None:
    # a = 0.01, b = 0.03: (0.0006 + 0.0001) / (0.0001 + 0.0009 + 0.0001) = 7 / 11.
    # A data range taken from the images (0.02) would give 0.6000... instead.
    a = np.full((8, 8), 0.01, dtype=np.float32)
    b = np.full((8, 8), 0.03, dtype=np.float32)
    assert ssim(a, b) == pytest.approx(7 / 11, rel=1e-5)


def test_one_window_checkerboard_against_half_contrast_copy() -> None:
    # A 7 x 7 image holds exactly one 7 x 7 window. x: checkerboard of 25 ones and
    # 24 zeros; y = x / 2. Sample statistics (N - 1 = 48):
    # mu_x = 25/49, var_x = 25 * 24 / (49 * 48), mu_y = mu_x / 2, var_y = var_x / 4,
    # cov = var_x / 2.
    x = (np.indices((7, 7)).sum(axis=0) % 2 == 0).astype(float)
    assert x.sum() == 25
    mx = 25 / 49
    vx = 25 * 24 / (49 * 48)
    my, vy, cxy = mx / 2, vx / 4, vx / 2
    expected = ((2 * mx * my + C1) * (2 * cxy + C2)) / (
        (mx**2 + my**2 + C1) * (vx + vy + C2)
    )
    assert ssim(x, x / 2) == pytest.approx(expected, rel=1e-10)


def test_reconstruction_is_clipped_to_the_unit_range() -> None:
    x = (np.random.default_rng(1).random((12, 12)) > 0.5).astype(float)
    # 3x overshoots white and -1 undershoots black: clipped, it equals x
    overshoot = np.where(x > 0, 3.0, -1.0)
    assert ssim(x, overshoot) == pytest.approx(1.0, abs=1e-12)


def test_batch_matches_pairwise_scores() -> None:
    rng = np.random.default_rng(2)
    t = rng.random((3, 28, 28))
    r = t + 0.2 * rng.standard_normal(t.shape)
    batch = ssim_batch(t, r)
    assert batch.shape == (3,)
    for i in range(3):
        assert batch[i] == pytest.approx(ssim(t[i], r[i]), abs=1e-15)


def test_window_size_changes_the_score() -> None:
    rng = np.random.default_rng(3)
    t = rng.random((28, 28))
    r = np.clip(t + 0.3 * rng.standard_normal(t.shape), 0, 1)
    assert ssim(t, r, win_size=3) != pytest.approx(ssim(t, r, win_size=11))


def test_images_smaller_than_the_window_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"smaller than the SSIM window.*win_size=7"):
        ssim(np.zeros((5, 5)), np.zeros((5, 5)))
    with pytest.raises(ConfigError, match="smaller than the SSIM window"):
        ssim_batch(np.zeros((2, 28, 6)), np.zeros((2, 28, 6)))


@pytest.mark.parametrize("win", [4, 1, 2.0, True])
def test_window_must_be_an_odd_integer(win: object) -> None:
    with pytest.raises(ConfigError, match="win_size must be an odd integer"):
        ssim(np.zeros((28, 28)), np.zeros((28, 28)), win_size=win)  # type: ignore[arg-type]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match="differs from target shape"):
        ssim(np.zeros((28, 28)), np.zeros((28, 27)))
    with pytest.raises(ConfigError, match=r"target pixels must lie in \[0, 1\]"):
        ssim(np.full((28, 28), 255.0), np.zeros((28, 28)))
    with pytest.raises(ConfigError, match="finite"):
        ssim(np.zeros((28, 28)), np.full((28, 28), np.nan))
    with pytest.raises(ConfigError, match=r"an image \(h, w\)"):
        ssim(np.zeros((2, 28, 28)), np.zeros((2, 28, 28)))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(_ssim, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
