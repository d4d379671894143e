"""Throughput of the stepping engine, measured against the dense reference.

Shared by ``benchmarks/bench_engine.py`` and ``nwnrc bench engine``. One call of
:func:`bench_engine` draws a network at the default wire density, streams a digit-like
input through many replicas of it with :class:`~nwnrc.device.SimulatedDevice`, and
times :class:`~nwnrc.device.DenseReferenceDevice` for a few steps on the same network
in the same process, so that the two rates and their ratio are comparable.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from nwnrc.device._device import (
    DEFAULT_DRAIN_PAD,
    DEFAULT_READOUT_PADS,
    DEFAULT_SOURCE_PAD,
    SimulatedDevice,
)
from nwnrc.device._reference import DenseReferenceDevice
from nwnrc.errors import ConfigError
from nwnrc.network import NetworkParams, generate_network

logger = logging.getLogger(__name__)

#: Side of an MNIST image, pixels; one pixel is one time step.
IMAGE_SIDE = 28
#: Samples and steps per sample of a full MNIST training stream.
MNIST_TRAIN_SAMPLES = 60_000
MNIST_STEPS_PER_SAMPLE = IMAGE_SIDE * IMAGE_SIDE


def scaled_network_params(n_wires: int, seed: int = 0) -> NetworkParams:
    """Network parameters for ``n_wires`` wires at the default wire density.

    The chip side grows as ``78 um * sqrt(n_wires / 500)``, so wires per unit area (and
    junctions per wire) stay those of the default 500-wire network. The pad side stays
    4.5 um, so each pad still touches about seven wires.

    Examples
    --------
    >>> scaled_network_params(2000).chip_size_um
    156.0
    """
    default = NetworkParams()
    # the 4 x 4 pads must fit on the shrunken chip: pitch chip / 4 > pad side
    smallest = math.floor(
        default.n_wires * (4 * default.pad_size_um / default.chip_size_um) ** 2 + 1
    )
    if n_wires < smallest:
        raise ConfigError(
            f"the bench needs at least {smallest} wires (at the default density a "
            f"smaller chip cannot hold the 4 x 4 pads of {default.pad_size_um} um), "
            f"got {n_wires}; ask for more wires"
        )
    chip = default.chip_size_um * math.sqrt(n_wires / default.n_wires)
    return NetworkParams(n_wires=n_wires, chip_size_um=round(chip, 9), seed=seed)


def digit_like_images(n_images: int, seed: int = 0) -> NDArray[np.float64]:
    """Random 28 x 28 images of two to four pen strokes, values in [0, 1].

    A stand-in for MNIST digits with the same size and value range and a similar
    sparsity (84 % of the pixels are 0, mean value 0.12; MNIST: 81 %, 0.13): each
    stroke is a segment between two points of the central 18 x 18 pixels, at full
    value within 1 pixel of the segment, fading to 0 at 2 pixels.

    Examples
    --------
    >>> img = digit_like_images(3, seed=1)
    >>> img.shape, float(img.min()), float(img.max())
    ((3, 28, 28), 0.0, 1.0)
    """
    rng = np.random.default_rng(seed)
    centre = np.arange(IMAGE_SIDE) + 0.5
    x, y = np.meshgrid(centre, centre)
    pixels = np.stack([x.ravel(), y.ravel()], axis=1)  # (784, 2)
    images = np.zeros((n_images, IMAGE_SIDE * IMAGE_SIDE))
    for k in range(n_images):
        for _ in range(int(rng.integers(2, 5))):
            a, b = rng.uniform(5.0, 23.0, size=(2, 2))
            ab = b - a
            t = np.clip((pixels - a) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0)
            dist = np.linalg.norm(pixels - (a + t[:, None] * ab), axis=1)
            images[k] = np.maximum(images[k], np.clip(2.0 - dist, 0.0, 1.0))
    return images.reshape(n_images, IMAGE_SIDE, IMAGE_SIDE)


def digit_like_stream(
    n_replicas: int,
    n_steps: int,
    seed: int = 0,
    v_min: float = 0.0,
    v_max: float = 1.0,
) -> NDArray[np.float64]:
    """Source-voltage streams of digit-like images, one pixel per step.

    Each replica streams its own images in row-major pixel order, back to back, with
    ``V = v_min + (v_max - v_min) * pixel``.

    Returns
    -------
    ndarray, shape (n_replicas, n_steps)

    Examples
    --------
    >>> digit_like_stream(2, 1000).shape
    (2, 1000)
    """
    per_replica = -(-n_steps // MNIST_STEPS_PER_SAMPLE)
    images = digit_like_images(n_replicas * per_replica, seed)
    pixels = images.reshape(n_replicas, -1)[:, :n_steps]
    return v_min + (v_max - v_min) * pixels


_OPENBLAS_THREAD_SYMBOLS = (
    ("openblas_get_num_threads", "openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
)


def _loaded_openblas() -> list[tuple[Any, Any]]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process."""
    try:
        with open("/proc/self/maps") as maps:
            fields = [line.split() for line in maps]
    except OSError:  # not Linux
        return []
    paths = {
        f[-1]
        for f in fields
        if len(f) >= 6 and "openblas" in f[-1].lower() and ".so" in f[-1]
    }
    found = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _OPENBLAS_THREAD_SYMBOLS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                found.append((getattr(lib, get_name), getattr(lib, set_name)))
                break
    return found


@contextlib.contextmanager
def single_blas_thread() -> Iterator[bool]:
    """Run the block with OpenBLAS on one thread; yield whether that was possible.

    Only OpenBLAS libraries already loaded (numpy's) are found; the thread counts
    are restored on exit.
    """
    libs = _loaded_openblas()
    before = [int(get()) for get, _ in libs]
    for _, set_threads in libs:
        set_threads(1)
    try:
        yield bool(libs)
    finally:
        for (_, set_threads), n in zip(libs, before, strict=True):
            set_threads(n)


@dataclass(frozen=True)
class EngineBenchmark:
    """Throughput of the engine and of the dense reference on one network.

    Attributes
    ----------
    wires, junctions : int
        Wires and junctions of the network.
    simulated_junctions, free_nodes, factor_updates : int
        Size of the reduced circuit: junctions kept, unknown node voltages, and
        multiply-adds of one numeric factorisation.
    chip_size_um, pad_size_um : float
        Geometry of the network.
    seed : int
        Seed of the network and of the input stream.
    replicas, lanes, steps : int
        Replicas streamed together, replicas per thread, steps per replica.
    repeats : int
        Timed runs of each kind; the best is kept.
    engine_seconds : float
        Best wall time of one engine run of ``replicas x steps`` (first call, which
        compiles or loads the kernel, excluded).
    replica_steps_per_s : float
        ``replicas * steps / engine_seconds``.
    single_replica_steps_per_s : float
        Steps per second of the engine streaming one replica alone.
    dense_steps : int
        Steps timed on the dense reference (one replica).
    dense_seconds : float
        Best wall time of those steps.
    dense_steps_per_s : float
        ``dense_steps / dense_seconds``.
    engine_threads : int
        Threads the engine ran on: one per block of ``lanes`` replicas, at most
        numba's thread count.
    dense_single_blas_thread : bool
        Whether the reference was timed with OpenBLAS held to one thread.
    speedup_vs_dense : float
        ``replica_steps_per_s / dense_steps_per_s``: replica-steps of the engine per
        step of the reference, in the same wall time.
    """

    wires: int
    junctions: int
    simulated_junctions: int
    free_nodes: int
    factor_updates: int
    chip_size_um: float
    pad_size_um: float
    seed: int
    replicas: int
    lanes: int
    steps: int
    repeats: int
    engine_seconds: float
    replica_steps_per_s: float
    single_replica_steps_per_s: float
    dense_steps: int
    dense_seconds: float
    dense_steps_per_s: float
    speedup_vs_dense: float
    engine_threads: int
    dense_single_blas_thread: bool

    def projected_stream_seconds(
        self,
        samples: int = MNIST_TRAIN_SAMPLES,
        steps_per_sample: int = MNIST_STEPS_PER_SAMPLE,
    ) -> float:
        """Wall time to stream ``samples`` samples at the measured throughput, s.

        The stream is split over replicas as measured; warm-up samples that each
        replica streams before its chunk are not counted.
        """
        return samples * steps_per_sample / self.replica_steps_per_s

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON output."""
        return asdict(self)


def _best_of(func: Callable[[], object], repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def bench_engine(
    n_wires: int = 500,
    *,
    steps: int = MNIST_STEPS_PER_SAMPLE,
    replicas: int = 64,
    lanes: int = 32,
    seed: int = 0,
    dense_steps: int = 3,
    repeats: int = 3,
) -> EngineBenchmark:
    """Time the engine and the dense reference on one network at default density.

    Parameters
    ----------
    n_wires : int
        Wires of the network (see :func:`scaled_network_params`).
    steps : int
        Steps per replica of the engine run; 784 is one digit.
    replicas : int
        Replicas streamed together, each with its own digit-like input.
    lanes : int
        Replicas per thread (the vectorised inner loop).
    seed : int
        Seed of the network and of the input.
    dense_steps : int
        Steps of the dense reference to time; it costs about ``n**3 / 3`` flops a
        solve (two solves a step) for ``n`` nodes, so keep this small.
    repeats : int
        Timed runs of each kind; the best counts.

    Returns
    -------
    EngineBenchmark

    Raises
    ------
    ConfigError
        If a count is below 1.
    NetworkError
        If the drawn network does not connect the source and drain pads.

    Notes
    -----
    Timings are wall-clock and depend on the machine and its load; the best of
    ``repeats`` runs is kept to filter out interruptions. The engine uses as many
    threads as there are blocks of ``lanes`` replicas (up to numba's thread count).
    The reference is timed with OpenBLAS held to one thread where that can be done
    (:func:`single_blas_thread`): on a machine shared with other work, several BLAS
    threads on matrices of a few hundred rows spend most of their time waiting for
    each other, which made the reference up to a hundred times slower in our runs
    and would flatter the engine.
    """
    for name, value in (
        ("n_wires", n_wires),
        ("steps", steps),
        ("replicas", replicas),
        ("lanes", lanes),
        ("dense_steps", dense_steps),
        ("repeats", repeats),
    ):
        if not (isinstance(value, int) and value >= 1):
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")

    params = scaled_network_params(n_wires, seed)
    network = generate_network(params)
    pads = (DEFAULT_SOURCE_PAD, DEFAULT_DRAIN_PAD, DEFAULT_READOUT_PADS)
    device = SimulatedDevice(network, *pads, lanes=lanes)
    c = device.circuit
    volts = digit_like_stream(replicas, steps, seed)
    logger.info(
        "engine benchmark: %d wires (seed %d), %d junctions simulated, "
        "%d replicas x %d steps, lanes %d",
        n_wires,
        seed,
        c.n_junctions,
        replicas,
        steps,
        lanes,
    )

    device.run(volts[:, :2])  # compile or load the kernel
    engine_s = _best_of(lambda: device.run(volts), repeats)
    single = volts[:1, : min(steps, 4 * MNIST_STEPS_PER_SAMPLE)]
    single_s = _best_of(lambda: device.run(single), repeats)

    reference = DenseReferenceDevice(network, *pads)
    dense_volts = volts[:1, :dense_steps]
    with single_blas_thread() as single_thread:
        dense_s = _best_of(lambda: reference.run(dense_volts), repeats)

    rate = replicas * steps / engine_s
    dense_rate = dense_steps / dense_s
    return EngineBenchmark(
        wires=network.n_wires,
        junctions=int(network.junction_wires.shape[0]),
        simulated_junctions=c.n_junctions,
        free_nodes=c.n_nodes,
        factor_updates=c.factor_flops,
        chip_size_um=params.chip_size_um,
        pad_size_um=params.pad_size_um,
        seed=seed,
        replicas=replicas,
        lanes=lanes,
        steps=steps,
        repeats=repeats,
        engine_seconds=engine_s,
        replica_steps_per_s=rate,
        single_replica_steps_per_s=single.shape[1] / single_s,
        dense_steps=dense_steps,
        dense_seconds=dense_s,
        dense_steps_per_s=dense_rate,
        speedup_vs_dense=rate / dense_rate,
        engine_threads=min(-(-replicas // lanes), numba.get_num_threads()),
        dense_single_blas_thread=single_thread,
    )


def format_benchmark(result: EngineBenchmark) -> str:
    """A short human-readable report of one benchmark."""
    r = result
    projected = r.projected_stream_seconds()
    lines = [
        f"network      {r.wires} wires, {r.junctions} junctions "
        f"(chip {r.chip_size_um:.1f} um, seed {r.seed})",
        f"circuit      {r.simulated_junctions} junctions, {r.free_nodes} free nodes, "
        f"{r.factor_updates} factor updates",
        f"engine       {r.replica_steps_per_s:,.0f} replica-steps/s "
        f"({r.replicas} replicas x {r.steps} steps, lanes {r.lanes}, "
        f"{r.engine_threads} thread{'s' if r.engine_threads != 1 else ''}, "
        f"best of {r.repeats})",
        f"one replica  {r.single_replica_steps_per_s:,.0f} steps/s",
        f"dense        {r.dense_steps_per_s:,.2f} steps/s ({r.dense_steps} steps, "
        + ("one BLAS thread)" if r.dense_single_blas_thread else "BLAS default)"),
        f"speedup      {r.speedup_vs_dense:,.0f}x",
        f"60,000 x 784 steps at this rate: {projected / 60:,.1f} min",
    ]
    return "\n".join(lines)
