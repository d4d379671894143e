"""Memristive junction model: the threshold-flux model of Hochstetter et al.

Every junction between two crossing wires carries a filament state ``lambda`` (units of
flux, V s). Its rate of change follows the junction voltage V [1]_ (Methods, eq. 1):

- ``dlambda/dt = (|V| - v_set) * sign(V)`` when ``|V| > v_set`` (the filament grows);
- ``0`` when ``v_reset <= |V| <= v_set``;
- ``dlambda/dt = -b * (v_reset - |V|) * sign(lambda)`` when ``|V| < v_reset`` (the
  filament dissolves towards zero and never crosses it);

and ``|lambda|`` is clipped to ``lambda_max``. The filament closes the tunnelling gap

    s = s_max * (lambda_crit - |lambda|) / lambda_crit,   floored at 0,

and the junction conductance is a tunnelling path in series with the filament's
quantum-limited resistance, in parallel with the leakage of the insulating coating:

    G = 1 / (R_t(s) + r_on) + 1 / r_off.

The tunnelling resistance is the low-voltage Simmons form with the constants used by
that group [1]_ [2]_ (s in nanometres, resistance in ohms):

    R_t(s) = (2 / A) * s / sqrt(phi) * exp(C0 * phi**2 * s) / J1,

with A = 0.17, phi = 0.81 V, C0 = 10.19 and J1 = 4.71307e-5. The prefactor is linear in
s, as in the low-voltage limit of the Simmons formula [3]_, so R_t(0) = 0 and a fully
formed filament leaves only ``r_on``.

Memory time scales
------------------
With no input a formed junction (``lambda = lambda_max``) forgets in
``lambda_max / (b * v_reset)`` seconds, and it stops conducting much earlier, once
``|lambda|`` drops below about ``0.9 * lambda_crit`` (the tunnelling resistance rises by
three orders of magnitude over the first half nanometre of gap). With a junction
voltage V well above ``v_set`` the filament forms in ``lambda_crit / (|V| - v_set)``
seconds. For the ``hochstetter2021`` preset the full forgetting time is 0.3 s and the
conducting state is lost after about 0.02 s (from ``lambda_crit``) to 0.12 s (from
``lambda_max``); for ``slow_decay`` they are 15 s and about 1 s to 6 s: memory that
outlasts a 784-step digit.

References
----------
.. [1] J. Hochstetter, R. Zhu, A. Loeffler, A. Diaz-Alvarez, T. Nakayama and Z. Kuncic,
   "Avalanches and edge-of-chaos learning in neuromorphic nanowire networks",
   Nat. Commun. 12, 4008 (2021).
.. [2] R. Zhu, J. Hochstetter, A. Loeffler et al., "Information dynamics in
   neuromorphic nanowire networks", Sci. Rep. 11, 13047 (2021).
.. [3] J. G. Simmons, "Generalized formula for the electric tunnel effect between
   similar electrodes separated by a thin insulating film", J. Appl. Phys. 34, 1793
   (1963).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from nwnrc.errors import ConfigError

#: Tunnelling constants of the Simmons form used by the Hochstetter group.
TUNNEL_A = 0.17
TUNNEL_PHI_VOLTS = 0.81
TUNNEL_C0 = 10.19
TUNNEL_J1 = 4.71307e-5


@dataclass(frozen=True)
class JunctionParams:
    """Parameters of the threshold-flux junction model.

    Parameters
    ----------
    v_set : float
        Set threshold voltage, V. Above it the filament grows.
    v_reset : float
        Reset threshold voltage, V. Below it the filament dissolves.
    lambda_crit : float
        Filament state at which the tunnelling gap closes, V s.
    lambda_max : float
        Largest filament state, V s.
    b : float
        Dissolution rate factor (dimensionless: ``dlambda/dt`` is in V).
    r_on : float
        Resistance of a fully formed filament, ohms.
    r_off : float
        Leakage resistance of the insulating coating, ohms.
    s_max_nm : float
        Tunnelling gap of a junction with no filament, nm.

    Examples
    --------
    >>> p = JunctionParams.preset("hochstetter2021")
    >>> p.forgetting_time_s
    0.3
    """

    v_set: float = 1e-2
    v_reset: float = 5e-3
    lambda_crit: float = 1e-2
    lambda_max: float = 1.5e-2
    b: float = 10.0
    r_on: float = 12.9e3
    r_off: float = 12.9e6
    s_max_nm: float = 5.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise ConfigError(
                    f"JunctionParams.{f.name} must be a finite number, got {value!r}"
                )
            if value <= 0 and f.name != "v_reset":
                raise ConfigError(
                    f"JunctionParams.{f.name} must be positive, got {value!r}"
                )
        if not 0 <= self.v_reset <= self.v_set:
            raise ConfigError(
                f"JunctionParams needs 0 <= v_reset <= v_set, got v_reset="
                f"{self.v_reset!r}, v_set={self.v_set!r}"
            )
        if self.lambda_max < self.lambda_crit:
            raise ConfigError(
                f"JunctionParams needs lambda_max >= lambda_crit, got lambda_max="
                f"{self.lambda_max!r}, lambda_crit={self.lambda_crit!r}"
            )
        if self.r_off <= self.r_on:
            raise ConfigError(
                f"JunctionParams needs r_off > r_on, got r_off="
                f"{self.r_off!r}, r_on={self.r_on!r}"
            )

    @classmethod
    def preset(cls, name: str) -> JunctionParams:
        """Return a named published parameter set.

        ``"hochstetter2021"``: the parameters of [1]_. ``"slow_decay"``: the same model
        with ten times the critical flux, a 1 mV reset threshold and 10 kohm / 10 Mohm
        resistances, which forgets in seconds rather than tenths of seconds.
        """
        try:
            return cls(**PRESETS[name])
        except KeyError:
            raise ConfigError(
                f"unknown junction preset {name!r}; choose one of {sorted(PRESETS)}"
            ) from None

    @property
    def forgetting_time_s(self) -> float:
        """Time for a fully formed filament to dissolve with no input, s."""
        if self.v_reset == 0:
            return math.inf
        return round(self.lambda_max / (self.b * self.v_reset), 12)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, for metrics files and saved runs."""
        return asdict(self)

    def as_array(self) -> NDArray[np.float64]:
        """The parameters packed for the compiled kernels."""
        return np.array(
            [
                self.v_set,
                self.v_reset,
                self.lambda_crit,
                self.lambda_max,
                self.b,
                self.r_on,
                self.r_off,
                self.s_max_nm,
            ],
            dtype=np.float64,
        )


PRESETS: dict[str, dict[str, float]] = {
    "hochstetter2021": {},
    "slow_decay": {
        "v_reset": 1e-3,
        "lambda_crit": 0.1,
        "lambda_max": 0.15,
        "r_on": 10e3,
        "r_off": 10e6,
    },
}


@numba.njit(cache=True, fastmath=False, inline="always")
def junction_conductance(lam: float, params: NDArray[np.float64]) -> float:
    """Conductance (S) of a junction in filament state ``lam`` (V s)."""
    lambda_crit = params[2]
    r_on = params[5]
    r_off = params[6]
    s_max = params[7]
    s = s_max * (lambda_crit - abs(lam)) / lambda_crit
    if s <= 0.0:
        # Formed filament: no tunnelling gap (and no exp to evaluate).
        return 1.0 / r_on + 1.0 / r_off
    r_tunnel = (
        (2.0 / TUNNEL_A)
        * s
        / math.sqrt(TUNNEL_PHI_VOLTS)
        * math.exp(TUNNEL_C0 * TUNNEL_PHI_VOLTS * TUNNEL_PHI_VOLTS * s)
        / TUNNEL_J1
    )
    return 1.0 / (r_tunnel + r_on) + 1.0 / r_off


@numba.njit(cache=True, fastmath=False, inline="always")
def filament_step(
    lam: float, v: float, dt: float, params: NDArray[np.float64]
) -> float:
    """One explicit Euler step of the filament state under junction voltage ``v``."""
    v_set = params[0]
    v_reset = params[1]
    lambda_max = params[3]
    b = params[4]
    av = abs(v)
    if av > v_set:
        lam = lam + dt * (av - v_set) * (1.0 if v > 0 else -1.0)
    elif av < v_reset:
        if lam > 0.0:
            lam = lam - dt * b * (v_reset - av)
            if lam < 0.0:
                lam = 0.0
        elif lam < 0.0:
            lam = lam + dt * b * (v_reset - av)
            if lam > 0.0:
                lam = 0.0
    if lam > lambda_max:
        lam = lambda_max
    elif lam < -lambda_max:
        lam = -lambda_max
    return lam


@numba.njit(cache=True)
def conductances(
    lam: NDArray[np.float64], params: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Conductance of every junction for an array of filament states."""
    out = np.empty_like(lam)
    flat_in = lam.ravel()
    flat_out = out.ravel()
    for i in range(flat_in.size):
        flat_out[i] = junction_conductance(flat_in[i], params)
    return out


@numba.njit(cache=True)
def filament_steps(
    lam: NDArray[np.float64],
    v: NDArray[np.float64],
    dt: float,
    params: NDArray[np.float64],
) -> NDArray[np.float64]:
    """One Euler step for arrays of filament states and junction voltages."""
    out = np.empty_like(lam)
    flat_lam = lam.ravel()
    flat_v = v.ravel()
    flat_out = out.ravel()
    for i in range(flat_lam.size):
        flat_out[i] = filament_step(flat_lam[i], flat_v[i], dt, params)
    return out
