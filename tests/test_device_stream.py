"""Replica streaming: chunks with warm-up against one continuous stream."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.device import SimulatedDevice
from nwnrc.device._stream import ReplicaPlan, stream_pieces, warmup_error
from nwnrc.errors import ConfigError
from nwnrc.network import NetworkParams, generate_network

STEPS = 200


@pytest.fixture(scope="module")
def device() -> SimulatedDevice:
    net = generate_network(NetworkParams(n_wires=200, chip_size_um=49.0, seed=3))
    return SimulatedDevice(net, readout_pads=(1, 2))


def pulse_samples(n: int, seed: int = 0) -> np.ndarray:
    """Digit-like samples: a burst of 2 V in the first half, then silence."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, STEPS))
    for i in range(n):
        start = rng.integers(0, STEPS // 4)
        x[i, start : start + rng.integers(5, STEPS // 4)] = 2.0
    return x


def test_plan_splits_the_stream_into_contiguous_chunks() -> None:
    plan = ReplicaPlan.split(10, 3, warmup_samples=2)
    assert plan.starts.tolist() == [0, 4, 8]
    assert plan.stops.tolist() == [4, 8, 10]
    assert plan.n_pieces(3) == 2
    assert plan.piece_indices(1, 3).tolist() == [[3, -1, -1], [7, -1, -1], [-1, -1, -1]]
    assert plan.warmup_indices().tolist() == [[-1, -1], [2, 3], [6, 7]]
    # every sample exactly once over all pieces
    seen = np.concatenate([plan.piece_indices(p, 3).ravel() for p in range(2)])
    assert sorted(seen[seen >= 0].tolist()) == list(range(10))


@pytest.mark.parametrize(("n", "r", "w"), [(0, 2, 1), (5, 0, 1), (5, 2, -1)])
def test_plan_rejects_bad_sizes(n: int, r: int, w: int) -> None:
    with pytest.raises(ConfigError):
        ReplicaPlan.split(n, r, w)


def test_replicas_with_warmup_equal_one_continuous_stream(
    device: SimulatedDevice,
) -> None:
    samples = pulse_samples(24)
    continuous = device.run(samples.reshape(1, -1)).pad_voltages[0]
    plan = ReplicaPlan.split(24, 4, warmup_samples=10)
    got = np.full_like(continuous, np.nan)
    for piece in stream_pieces(device, lambda i: samples[i], STEPS, plan, 2):
        r, k = piece.indices.shape
        pads = piece.output.pad_voltages.reshape(r, k, STEPS, -1)
        for rr in range(r):
            for kk in range(k):
                s = piece.indices[rr, kk]
                if s >= 0:
                    got[s * STEPS : (s + 1) * STEPS] = pads[rr, kk]
    assert not np.any(np.isnan(got))
    scale = np.abs(continuous).max()
    assert scale > 0.1
    # A fully formed filament of this preset dissolves in lambda_max / (b v_reset)
    # = 0.3 s of silence, but junctions held in the dead zone (v_reset <= |V| <=
    # v_set) during bursts neither grow nor dissolve, so traces last longer: ten
    # samples (2 s) of warm-up bring the chunks within 1e-3 of the continuous stream.
    np.testing.assert_allclose(got, continuous, rtol=0, atol=1e-3 * scale)


def test_warmup_error_fades_with_the_warmup_length(device: SimulatedDevice) -> None:
    x = pulse_samples(30)
    errors = warmup_error(device, lambda i: x[i], STEPS, 30, [0, 4, 10])
    assert errors[0] > 0.1  # memory of the samples before is real
    assert errors[10] < errors[4] < errors[0]
    assert errors[10] < 1e-3


def test_resuming_from_a_saved_state_continues_the_stream(
    device: SimulatedDevice,
) -> None:
    samples = pulse_samples(16, seed=5)
    plan = ReplicaPlan.split(16, 2, warmup_samples=1)
    source = lambda i: samples[i]  # noqa: E731
    whole = list(stream_pieces(device, source, STEPS, plan, 2))
    resumed = list(
        stream_pieces(
            device, source, STEPS, plan, 2, start_piece=2, state=whole[1].output.state
        )
    )
    assert [p.piece for p in resumed] == [2, 3]
    for a, b in zip(whole[2:], resumed, strict=True):
        np.testing.assert_array_equal(a.output.pad_voltages, b.output.pad_voltages)


def test_resuming_without_a_state_is_refused(device: SimulatedDevice) -> None:
    plan = ReplicaPlan.split(4, 2, warmup_samples=1)
    with pytest.raises(ConfigError, match="filament states"):
        next(
            stream_pieces(
                device,
                lambda i: np.zeros((len(i), STEPS)),
                STEPS,
                plan,
                1,
                start_piece=1,
            )
        )
