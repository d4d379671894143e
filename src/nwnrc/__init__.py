"""nwnrc: reservoir computing with neuromorphic nanowire networks.

Simulate a memristive nanowire network on a 4x4 multi-electrode array, stream inputs
through it, and learn linear readouts online (recursive least squares) or in batch.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nwnrc")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
