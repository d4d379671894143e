"""Exceptions and warnings raised by nwnrc.

Every error says what was wrong, the value received and what to do about it.
"""


class NwnrcError(Exception):
    """Base class of every error raised by nwnrc."""


class NetworkError(NwnrcError, ValueError):
    """A nanowire network cannot serve as asked (no wires, unreachable pads, ...)."""


class StreamError(NwnrcError, ValueError):
    """An input stream has the wrong shape, or holds NaN or infinite voltages."""


class DataError(NwnrcError, ValueError):
    """A data file is missing, corrupt, or does not match its expected checksum."""


class ConfigError(NwnrcError, ValueError):
    """A parameter is out of its valid range."""


class NumericalError(NwnrcError, ArithmeticError):
    """A computation lost its numerical footing (a non-positive pivot, a NaN)."""


class NotFittedError(NwnrcError, AttributeError):
    """A learner was asked for a fitted quantity before it saw any data."""


class NumericalWarning(UserWarning):
    """A computation is close to losing its numerical footing."""


class ConvergenceWarning(UserWarning):
    """An iterative learner stopped before it converged, or started to diverge."""


class DataWarning(UserWarning):
    """A data file is usable but suspect (a drifting baseline, a clipped stretch)."""
