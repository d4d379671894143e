"""Sample boundaries: given (fixed length after an offset, a list of starts) or found
(cross-correlation with the stimulus, onset), cut and averaged; truncated samples
refused or dropped with a warning that names them."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.errors import DataError, DataWarning
from nwnrc.recording import (
    Boundaries,
    find_boundaries,
    fixed_boundaries,
    given_boundaries,
    onset_boundaries,
)
from nwnrc.recording._segment import decimate


def test_fixed_boundaries_after_an_offset() -> None:
    b = fixed_boundaries(3 + 4 * 10, 10, offset=3)
    assert b.starts.tolist() == [3, 13, 23, 33]
    assert (b.n_samples, b.span, b.n_dropped, b.method) == (4, 10, 0, "fixed")


def test_a_truncated_final_sample_is_an_error_or_dropped_by_request() -> None:
    # 3 whole samples of 10 steps after 2 values of junk, then 7 steps of a fourth
    n_values = 2 + 30 + 7
    with pytest.raises(
        DataError, match="ends inside sample 3, which has 7 of its 10 steps"
    ):
        fixed_boundaries(n_values, 10, offset=2)
    with pytest.warns(DataWarning, match="sample 3, which has 7 of its 10 steps"):
        b = fixed_boundaries(n_values, 10, offset=2, drop_incomplete=True)
    assert b.starts.tolist() == [2, 12, 22]
    assert b.n_dropped == 1


def test_a_truncated_sample_counts_steps_not_values() -> None:
    # 2 values a step: 13 values of the last sample are 6 whole steps
    with pytest.raises(DataError, match=r"sample 2, which has 6 of its 10 steps \(13"):
        fixed_boundaries(2 * 2 * 10 + 13, 10, samples_per_step=2)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((5, 10), "fewer than one sample"),
        ((50, 0), "steps must be a positive integer"),
        ((50, 10, -1), "offset must be an index"),
    ],
)
def test_fixed_boundaries_refuse_bad_sizes(args: tuple, match: str) -> None:
    n, steps, *offset = args
    with pytest.raises(DataError, match=match):
        fixed_boundaries(n, steps, offset=offset[0] if offset else 0)


def test_given_boundaries() -> None:
    b = given_boundaries([4, 20, 31], 50, 10)
    assert b.starts.tolist() == [4, 20, 31]
    assert b.trailing == 50 - 41
    with pytest.raises(DataError, match="sample 2 starts at value 25, inside sample 1"):
        given_boundaries([4, 20, 25], 50, 10)
    with pytest.raises(DataError, match="before the series"):
        given_boundaries([-1, 20], 50, 10)
    with pytest.raises(DataError, match="non-empty list of integer indices"):
        given_boundaries([0.5, 20.0], 50, 10)
    with pytest.raises(DataError, match="ends inside sample 2, which has 4 of its 10"):
        given_boundaries([4, 20, 46], 50, 10)
    with pytest.raises(
        DataError, match="sample 1, which has 5 of its 10 steps; sample 2 of the"
    ):
        given_boundaries([4, 45, 60], 50, 10)
    with pytest.warns(DataWarning, match="samples 1-2"):
        b = given_boundaries([4, 50, 60], 50, 10, drop_incomplete=True)
    assert (b.starts.tolist(), b.n_dropped) == ([4], 2)


def test_cut_takes_the_samples_and_averages_each_step() -> None:
    x = np.arange(40.0)
    b = Boundaries(np.array([1, 9, 17]), steps=4, samples_per_step=2)
    got = b.cut(x)
    # sample k: values 1 + 8k ... 8 + 8k, averaged in pairs
    expected = [[1.5 + 8 * k + 2 * j for j in range(4)] for k in range(3)]
    assert got.tolist() == expected
    assert got.dtype == np.float32
    # channels stay on the middle axis; gaps between samples are allowed
    two = np.stack([x, -x])
    b = Boundaries(np.array([0, 20]), steps=5)
    got = b.cut(two)
    assert got.shape == (2, 2, 5)
    assert got[1, 1].tolist() == [-20.0, -21.0, -22.0, -23.0, -24.0]
    assert b.cut(x, np.float64).dtype == np.float64
    with pytest.raises(DataError, match="past the end of the series"):
        Boundaries(np.array([0, 38]), steps=5).cut(x)


def test_locate_maps_an_index_to_sample_and_step() -> None:
    b = Boundaries(np.array([3, 20]), steps=4, samples_per_step=2)
    assert b.locate(3) == (0, 0)
    assert b.locate(10) == (0, 3)
    assert b.locate(11) == (None, None)  # between samples
    assert b.locate(21) == (1, 0)
    assert b.locate(0) == (None, None)


def test_decimate() -> None:
    assert decimate([1.0, 2.0, 3.0, 10.0, 20.0, 30.0], 3).tolist() == [2.0, 20.0]
    with pytest.raises(DataError, match="not a whole number of steps"):
        decimate(np.ones(7), 3)


def played_stream(n: int, steps: int, seed: int = 0) -> np.ndarray:
    """Binary 'digits': a few bars of 2 V in each sample."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, steps))
    for i in range(n):
        for _ in range(3):
            a = rng.integers(0, steps - 8)
            x[i, a : a + rng.integers(2, 8)] = 2.0
    return x


@pytest.mark.parametrize("m", [1, 3])
def test_the_stimulus_is_found_behind_junk(m: int) -> None:
    rng = np.random.default_rng(1)
    played = played_stream(6, 50)
    junk = 37
    recorded = np.concatenate(
        [rng.normal(0, 0.3, junk), np.repeat(played.ravel(), m), np.zeros(11)]
    )
    recorded += rng.normal(0, 0.02, recorded.size)
    b = find_boundaries(recorded, played, samples_per_step=m)
    assert b.starts.tolist() == [junk + 50 * m * k for k in range(6)]
    assert (b.method, b.trailing, b.samples_per_step) == ("stimulus", 11, m)


def test_a_stimulus_not_in_the_recording_is_refused() -> None:
    rng = np.random.default_rng(2)
    with pytest.raises(DataError, match="does not match the recorded input anywhere"):
        find_boundaries(rng.normal(size=600), played_stream(4, 50))


def test_max_offset_limits_the_search() -> None:
    # the stimulus played twice: a noisy copy at 20, an exact one at 170
    played = played_stream(3, 50)
    noisy = played.ravel() + np.random.default_rng(3).normal(0, 0.2, 150)
    recorded = np.r_[np.zeros(20), noisy, played.ravel()]
    assert find_boundaries(recorded, played).starts[0] == 170
    with pytest.warns(DataWarning, match="150 values .3 whole samples. after"):
        b = find_boundaries(recorded, played, max_offset=30)
    assert b.starts[0] == 20


def test_a_recording_that_stops_early() -> None:
    played = played_stream(5, 50)
    recorded = np.r_[np.zeros(9), played.ravel()[: 3 * 50 + 20]]
    with pytest.raises(
        DataError,
        match="sample 3, which has 20 of its 50 steps; sample 4 of the stimulus",
    ):
        find_boundaries(recorded, played)
    with pytest.warns(DataWarning, match="sample 3"):
        b = find_boundaries(recorded, played, drop_incomplete=True)
    assert (b.starts.tolist(), b.n_dropped) == ([9, 59, 109], 2)


def test_onset_boundaries() -> None:
    # each sample: a marker step of 1 V, then silence; the stream starts at 5
    x = np.r_[np.zeros(5), np.tile([1.0, 0.0, 0.3, 0.0], 3)]
    assert onset_boundaries(x, 4).starts.tolist() == [5, 9, 13]
    # the first sample begins two steps before its marker
    y = np.r_[np.zeros(5), np.tile([0.0, 0.0, 1.0, 0.0], 3)]
    b = onset_boundaries(y, 4, lead_steps=2)
    assert (b.starts.tolist(), b.method) == ([5, 9, 13], "onset")
    with pytest.raises(DataError, match="never departs from its rest level"):
        onset_boundaries(np.zeros(50), 4)
    with pytest.raises(DataError, match="would start before the recording"):
        onset_boundaries(x, 4, lead_steps=6)


def test_a_short_recording_behind_long_junk_is_still_found() -> None:
    # 400 values of junk, then 2.5 of the 5 samples: no slack to search, so the
    # whole recording is searched
    rng = np.random.default_rng(5)
    played = played_stream(5, 50)
    recorded = np.r_[rng.normal(0, 0.3, 400), played.ravel()[:125]]
    with pytest.warns(DataWarning, match="sample 2, which has 25 of its 50 steps"):
        b = find_boundaries(recorded, played, drop_incomplete=True)
    assert b.starts.tolist() == [400, 450]
