"""Pixel-to-voltage encoding."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.data import DEFAULT_V_MAX, DEFAULT_V_MIN, encode_images
from nwnrc.errors import ConfigError, StreamError


def test_row_major_order_and_linear_map() -> None:
    images = np.zeros((2, 28, 28))
    images[0, 2, 3] = 0.5  # row 2, column 3: step 2 * 28 + 3 = 59
    images[1, 27, 27] = 1.0  # last pixel: step 783
    images[1, 0, 0] = 0.25
    stream = encode_images(images, v_min=0.2, v_max=1.0)

    assert stream.shape == (2, 784) and stream.dtype == np.float64
    expected = np.full((2, 784), 0.2)
    expected[0, 59] = 0.2 + 0.8 * 0.5  # 0.6 V
    expected[1, 783] = 1.0
    expected[1, 0] = 0.2 + 0.8 * 0.25  # 0.4 V
    np.testing.assert_allclose(stream, expected, rtol=0, atol=1e-15)


def test_flat_input_gives_the_same_stream() -> None:
    rng = np.random.default_rng(3)
    images = rng.random((3, 28, 28)).astype(np.float32)
    flat = images.reshape(3, 784)
    np.testing.assert_array_equal(encode_images(images), encode_images(flat))


def test_defaults_and_inverted_range() -> None:
    pixels = np.linspace(0.0, 1.0, 784)[None, :]
    default = encode_images(pixels)
    np.testing.assert_allclose(
        default, DEFAULT_V_MIN + (DEFAULT_V_MAX - DEFAULT_V_MIN) * pixels, atol=1e-15
    )
    inverted = encode_images(pixels, v_min=0.5, v_max=-0.5)
    assert inverted[0, 0] == 0.5 and inverted[0, -1] == -0.5


def test_input_is_not_modified() -> None:
    images = np.full((1, 784), 0.5)
    encode_images(images, v_min=1.0, v_max=3.0)
    assert np.all(images == 0.5)


def _one(value: float) -> np.ndarray:
    images = np.zeros((2, 784))
    images[1, 10] = value
    return images


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (_one(np.nan), "NaN or infinite pixels .*image 1, pixel 10"),
        (_one(np.inf), "NaN or infinite"),
        (_one(1.0001), r"pixels must lie in \[0, 1\]; got values from 0.0 to 1.0001"),
        (_one(-0.5), r"from -0.5 to 0.0"),
        (np.full((1, 28, 28), 255, np.uint8), "Scale 8-bit images by 1/255"),
        (np.zeros((28, 28)), r"got \(28, 28\).*image\[None\]"),
        (np.zeros((4, 783)), r"got \(4, 783\)"),
        (np.zeros((1, 28, 28, 1)), r"got \(1, 28, 28, 1\)"),
        (np.array([["a"] * 784]), "numeric array"),
    ],
)
def test_bad_images(images: np.ndarray, message: str) -> None:
    with pytest.raises(StreamError, match=message):
        encode_images(images)


@pytest.mark.parametrize(
    ("v_min", "v_max", "message"),
    [
        (np.nan, 1.0, "v_min must be a finite"),
        (0.0, np.inf, "v_max must be a finite"),
        (0.3, 0.3, "both 0.3 V"),
    ],
)
def test_bad_voltages(v_min: float, v_max: float, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        encode_images(np.zeros((1, 784)), v_min=v_min, v_max=v_max)


def test_empty_batch() -> None:
    assert encode_images(np.zeros((0, 28, 28))).shape == (0, 784)
