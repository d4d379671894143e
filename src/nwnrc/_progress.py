"""Silent stand-ins for progress bars.

The library prints nothing: long loops take a ``progress`` factory with the signature
of ``tqdm.tqdm`` and use :func:`no_progress` unless the command line passes a real one.
"""

from __future__ import annotations

from typing import Any


class Silent:
    """A progress bar that shows nothing."""

    def __init__(self, iterable: Any = None, **_: Any) -> None:
        self.iterable = iterable

    def __iter__(self) -> Any:
        return iter(self.iterable)

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None

    def set_postfix_str(self, s: str) -> None:
        return None


def no_progress(iterable: Any = None, **_: Any) -> Silent:
    """Factory of :class:`Silent` bars, a drop-in for ``tqdm.tqdm``."""
    return Silent(iterable)
