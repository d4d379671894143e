"""Random nanowire geometry: the parameters of a network and the wire sampler.

Wires are straight segments. Their centres are uniform on the square chip, their
angles uniform on [0, pi) and their lengths Gamma distributed, all drawn from one
``numpy.random.default_rng(seed)``, so that a seed fixes the whole network.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from nwnrc.errors import ConfigError

logger = logging.getLogger(__name__)

#: Critical density of the stick-percolation transition, in units of 1 / L^2 for
#: sticks of length L (Li and Zhang, Phys. Rev. E 80, 040104, 2009).
STICK_PERCOLATION_CONSTANT = 5.637

#: Number of MEA pads per side; the array has ``MEA_SIDE ** 2`` pads.
MEA_SIDE = 4


#: Largest network generate_network accepts (memory grows with the wire count).
MAX_WIRES = 1_000_000


@dataclass(frozen=True)
class NetworkParams:
    """Parameters of a random nanowire network on a 4x4 multi-electrode array.

    Parameters
    ----------
    n_wires : int, default 500
        Number of wires, at least 1.
    chip_size_um : float, default 78.0
        Side of the square chip in micrometres. Wire centres are uniform on
        ``[0, chip_size_um]^2``.
    length_mean_um : float, default 12.0
        Mean wire length in micrometres.
    length_std_um : float, default 2.0
        Standard deviation of the wire length in micrometres. Lengths follow a Gamma
        distribution with shape ``mean^2 / std^2`` and scale ``std^2 / mean``; a
        standard deviation of 0 gives every wire the mean length.
    pad_size_um : float, default 4.5
        Side of each square MEA pad in micrometres; less than the pad pitch
        ``chip_size_um / 4`` so that pads do not overlap.
    seed : int, default 0
        Seed of the one random generator that draws the whole network.

    Raises
    ------
    ConfigError
        If a field is of the wrong type or out of its valid range; the message names
        the field, the value and the valid range.

    See Also
    --------
    generate_network : draw the network these parameters describe.

    Notes
    -----
    The defaults place the network at 2.10 times the stick-percolation threshold
    ``n_c = 5.637 / L^2`` (L the mean wire length): density
    ``500 / 78^2 = 0.0822 um^-2`` against ``n_c = 0.0391 um^-2``. The pad pitch is
    19.5 um, so neighbouring pads are 15 um apart, more than the length of 93 % of
    the wires; a wire that shorts two pads needs both that length and an alignment
    with the gap, and is rare.

    Measured over seeds 0..19 with the defaults
    (``python benchmarks/network_stats.py``):

    - junctions: mean 1747 (1685..1832), 6.99 per wire; an unbounded plane would give
      ``n (2 / pi) L^2 = 7.53``, and wires near the chip edge have fewer neighbours;
    - source pad 4 and drain pad 11 are connected for all 20 seeds; the component
      that joins them drops 1.6 wires on average (0..8) and touches all 16 pads for
      every seed, readout pads 1, 2, 7, 12, 13, 15 included;
    - wires per pad: mean 7.4 (2..15), against ``n (a^2 + 4 a L / pi) = 7.3`` for
      pad side a;
    - no pads are bridged by a wire for seeds 0..19; over seeds 0..99 three are
      (seed 40: pads 9 and 10; seed 50: 0 and 4; seed 61: 4 and 8);
    - over seeds 0..99, pads 4 and 11 fail to connect for two: seed 32 (pad 4
      touches no wire) and seed 63 (different components).

    Wires are not clipped at the chip edge: a wire whose centre lies near the edge
    may stick out of the chip, as wires on a real substrate run past the array.

    Examples
    --------
    >>> params = NetworkParams(n_wires=100, seed=3)
    >>> params.pad_pitch_um
    19.5
    >>> NetworkParams(n_wires=0)
    Traceback (most recent call last):
    ...
    nwnrc.errors.ConfigError: n_wires must be an integer >= 1, got 0; ...
    """

    n_wires: int = 500
    chip_size_um: float = 78.0
    length_mean_um: float = 12.0
    length_std_um: float = 2.0
    pad_size_um: float = 4.5
    seed: int = 0

    def __post_init__(self) -> None:
        _check_int("n_wires", self.n_wires, 1, "use at least one wire")
        if self.n_wires > MAX_WIRES:
            raise ConfigError(
                f"n_wires must be at most {MAX_WIRES:,}, got {self.n_wires!r}; a "
                "larger network does not fit in memory on one machine"
            )
        _check_int("seed", self.seed, 0, "use a non-negative integer seed")
        _check_positive("chip_size_um", self.chip_size_um)
        _check_positive("length_mean_um", self.length_mean_um)
        std = self.length_std_um
        if not _is_real(std) or not math.isfinite(std) or std < 0:
            raise ConfigError(
                f"length_std_um must be a finite number >= 0, got {std!r}; "
                "use 0 for wires of equal length"
            )
        _check_positive("pad_size_um", self.pad_size_um)
        pitch = self.chip_size_um / MEA_SIDE
        if self.pad_size_um >= pitch:
            raise ConfigError(
                f"pad_size_um must be less than the pad pitch chip_size_um / "
                f"{MEA_SIDE} = {pitch:g} um so that pads do not overlap, got "
                f"{self.pad_size_um!r}; use a smaller pad or a larger chip"
            )

    @property
    def pad_pitch_um(self) -> float:
        """Distance between the centres of neighbouring pads, micrometres."""
        return self.chip_size_um / MEA_SIDE

    @property
    def density_per_um2(self) -> float:
        """Number of wires per square micrometre of chip."""
        return self.n_wires / self.chip_size_um**2

    @property
    def critical_density_per_um2(self) -> float:
        """Stick-percolation threshold ``5.637 / L^2`` for the mean length L."""
        return STICK_PERCOLATION_CONSTANT / self.length_mean_um**2

    def as_dict(self) -> dict[str, int | float]:
        """Return the fields as a plain dictionary (for files and JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _check_int(name: str, value: object, minimum: int, fix: str) -> None:
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    if not ok or int(value) < minimum:  # type: ignore[call-overload]
        raise ConfigError(
            f"{name} must be an integer >= {minimum}, got {value!r}; {fix}"
        )


def _check_positive(name: str, value: object) -> None:
    if not _is_real(value) or not math.isfinite(value) or value <= 0:  # type: ignore[arg-type, operator]
        raise ConfigError(
            f"{name} must be a finite number > 0 (micrometres), got {value!r}; "
            "give a positive size"
        )


def sample_wires(
    params: NetworkParams,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Draw wire centres, angles and lengths.

    Parameters
    ----------
    params : NetworkParams
        Network parameters; ``params.seed`` seeds ``numpy.random.default_rng``.

    Returns
    -------
    centres : ndarray of shape (n_wires, 2)
        Wire centres, uniform on the chip, micrometres.
    angles : ndarray of shape (n_wires,)
        Wire angles from the x axis, uniform on [0, pi), radians.
    lengths : ndarray of shape (n_wires,)
        Wire lengths, Gamma distributed, micrometres.

    Notes
    -----
    The draws happen in this order from one generator: centres (x and y
    interleaved, ``n_wires x 2``), angles, lengths. Changing the order changes every
    network, so it is part of the file format's meaning.
    """
    rng = np.random.default_rng(params.seed)
    n = params.n_wires
    centres = rng.uniform(0.0, params.chip_size_um, size=(n, 2))
    angles = rng.uniform(0.0, np.pi, size=n)
    mean, std = params.length_mean_um, params.length_std_um
    if std == 0:
        lengths = np.full(n, float(mean))
    else:
        shape = mean**2 / std**2
        scale = std**2 / mean
        lengths = rng.gamma(shape, scale, size=n)
    return centres, angles, lengths


def segment_ends(
    centres: NDArray[np.float64],
    angles: NDArray[np.float64],
    lengths: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the start and end points of wires given by centre, angle and length.

    Examples
    --------
    >>> starts, ends = segment_ends(np.array([[1.0, 1.0]]), np.array([0.0]),
    ...                             np.array([2.0]))
    >>> starts.tolist(), ends.tolist()
    ([[0.0, 1.0]], [[2.0, 1.0]])
    """
    half = 0.5 * np.asarray(lengths, dtype=np.float64)
    direction = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    offset = half[:, None] * direction
    centres = np.asarray(centres, dtype=np.float64)
    return centres - offset, centres + offset
