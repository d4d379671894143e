"""Stream a long sequence of samples through replicas of one device.

One stream through a device is sequential: the response to a sample depends on the
filament states left by the samples before it. Parallel work comes from replicas: the
stream of ``n_samples`` samples is cut into ``n_replicas`` contiguous chunks, and every
replica first streams the ``warmup_samples`` samples that precede its chunk (discarding
the readouts) so that its filament states match those of one continuous stream. With
fading memory the match is close; :func:`warmup_error` measures how close.

The chunks advance in lock step, ``piece_samples`` samples at a time, and the caller
gets every piece with the filament states after it, so that a long run can be
checkpointed and resumed at any piece boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nwnrc.device._device import DeviceOutput, SimulatedDevice
from nwnrc.errors import ConfigError

logger = logging.getLogger(__name__)

#: Callable returning the input voltages of the given samples, shape (k, steps).
VoltageSource = Callable[[NDArray[np.int64]], NDArray[np.float64]]


@dataclass(frozen=True)
class ReplicaPlan:
    """How a stream of samples is shared among replicas.

    Attributes
    ----------
    n_samples : int
        Length of the whole stream, in samples.
    warmup_samples : int
        Samples streamed before each chunk, readouts discarded.
    starts, stops : ndarray of int64, shape (n_replicas,)
        Each replica's chunk is samples ``starts[r]`` to ``stops[r] - 1``.

    Examples
    --------
    >>> plan = ReplicaPlan.split(10, 3, warmup_samples=2)
    >>> plan.starts.tolist(), plan.stops.tolist()
    ([0, 4, 8], [4, 8, 10])
    """

    n_samples: int
    warmup_samples: int
    starts: NDArray[np.int64]
    stops: NDArray[np.int64]

    @classmethod
    def split(cls, n_samples: int, n_replicas: int, warmup_samples: int) -> ReplicaPlan:
        """Cut ``n_samples`` into at most ``n_replicas`` chunks of equal length."""
        if n_samples < 1:
            raise ConfigError(f"n_samples must be at least 1, got {n_samples}")
        if n_replicas < 1:
            raise ConfigError(f"n_replicas must be at least 1, got {n_replicas}")
        if warmup_samples < 0:
            raise ConfigError(f"warmup_samples must be >= 0, got {warmup_samples}")
        chunk = -(-n_samples // n_replicas)
        starts = np.arange(0, n_samples, chunk, dtype=np.int64)
        stops = np.minimum(starts + chunk, n_samples)
        return cls(n_samples, warmup_samples, starts, stops)

    @property
    def n_replicas(self) -> int:
        """Number of replicas (chunks)."""
        return int(self.starts.size)

    @property
    def chunk_samples(self) -> int:
        """Length of the longest chunk, in samples."""
        return int(np.max(self.stops - self.starts))

    def n_pieces(self, piece_samples: int) -> int:
        """Number of lock-step pieces of ``piece_samples`` samples."""
        return -(-self.chunk_samples // piece_samples)

    def piece_indices(self, piece: int, piece_samples: int) -> NDArray[np.int64]:
        """Sample indices of a piece, shape (replicas, piece_samples); -1 pads."""
        offsets = piece * piece_samples + np.arange(piece_samples)
        idx = self.starts[:, None] + offsets[None, :]
        return np.where(idx < self.stops[:, None], idx, -1)

    def warmup_indices(self) -> NDArray[np.int64]:
        """Sample indices of the warm-up, shape (replicas, warmup_samples); -1 idles.

        A replica whose chunk starts too early to have a full warm-up idles (0 V) for
        the missing samples: a pristine network stays pristine at 0 V.
        """
        offsets = np.arange(-self.warmup_samples, 0)
        idx = self.starts[:, None] + offsets[None, :]
        return np.where(idx >= 0, idx, -1)


@dataclass(frozen=True)
class StreamPiece:
    """One lock-step piece of a replica stream.

    Attributes
    ----------
    piece : int
        Piece number, from 0.
    indices : ndarray of int64, shape (replicas, piece_samples)
        Sample index of every slot; -1 for padding past the end of a chunk.
    output : DeviceOutput
        Readouts over the piece (steps = piece_samples * steps per sample) and the
        filament states after it.
    """

    piece: int
    indices: NDArray[np.int64]
    output: DeviceOutput


def _gather(
    volts: VoltageSource, idx: NDArray[np.int64], steps: int
) -> NDArray[np.float64]:
    flat = idx.ravel()
    out = np.zeros((flat.size, steps))
    valid = flat >= 0
    if np.any(valid):
        out[valid] = volts(flat[valid])
    return out.reshape(idx.shape[0], idx.shape[1] * steps)


def stream_pieces(
    device: SimulatedDevice,
    volts: VoltageSource,
    steps_per_sample: int,
    plan: ReplicaPlan,
    piece_samples: int,
    *,
    start_piece: int = 0,
    state: NDArray[np.float64] | None = None,
) -> Iterator[StreamPiece]:
    """Yield the pieces of a replica stream, from ``start_piece`` on.

    Parameters
    ----------
    device : SimulatedDevice
    volts : callable
        ``volts(indices)`` returns the input voltages of those samples, shape
        (len(indices), steps_per_sample).
    steps_per_sample : int
        Time steps per sample (784 for an MNIST digit).
    plan : ReplicaPlan
    piece_samples : int
        Samples per replica in one piece.
    start_piece : int
        First piece to run; with ``state`` this resumes a stream.
    state : ndarray, shape (replicas, junctions), optional
        Filament states at the start of ``start_piece``. When omitted, the stream
        starts from pristine replicas and runs the warm-up first (only allowed with
        ``start_piece = 0``).
    """
    if piece_samples < 1:
        raise ConfigError(f"piece_samples must be at least 1, got {piece_samples}")
    if state is None:
        if start_piece != 0:
            raise ConfigError(
                "resuming at a later piece needs the filament states saved after the "
                f"previous piece; got start_piece={start_piece} and no state"
            )
        state = device.initial_state(plan.n_replicas)
        if plan.warmup_samples:
            warm = _gather(volts, plan.warmup_indices(), steps_per_sample)
            state = device.run(warm, state).state
            logger.info(
                "warmed up %d replicas on %d samples each",
                plan.n_replicas,
                plan.warmup_samples,
            )
    for piece in range(start_piece, plan.n_pieces(piece_samples)):
        idx = plan.piece_indices(piece, piece_samples)
        out = device.run(_gather(volts, idx, steps_per_sample), state)
        state = out.state
        yield StreamPiece(piece, idx, out)


def warmup_error(
    device: SimulatedDevice,
    volts: VoltageSource,
    steps_per_sample: int,
    n_samples: int,
    warmups: list[int],
) -> dict[int, float]:
    """How far warmed-up replicas are from one continuous stream.

    Streams samples ``0 .. n_samples - 1`` once continuously, then for every warm-up
    length w starts pristine replicas at each sample ``s >= max(warmups)`` after a
    warm-up on samples ``s - w .. s - 1``, and compares their readouts over sample
    ``s`` with the continuous stream's.

    Returns
    -------
    dict
        Warm-up length -> largest absolute difference of any readout pad voltage over
        the compared samples, divided by the largest absolute pad voltage of the
        continuous stream.
    """
    all_idx = np.arange(n_samples, dtype=np.int64)
    full = device.run(volts(all_idx).reshape(1, -1)).pad_voltages[0]
    scale = float(np.max(np.abs(full))) or 1.0
    first = max(warmups)
    targets = np.arange(first, n_samples)
    errors: dict[int, float] = {}
    for w in warmups:
        idx = targets[:, None] + np.arange(-w, 1)[None, :]
        x = volts(idx.ravel()).reshape(targets.size, -1)
        out = device.run(x).pad_voltages[:, w * steps_per_sample :]
        ref = np.stack(
            [full[s * steps_per_sample : (s + 1) * steps_per_sample] for s in targets]
        )
        errors[w] = float(np.max(np.abs(out - ref)) / scale)
    return errors
