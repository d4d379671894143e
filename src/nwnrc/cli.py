"""Command-line interface: ``nwnrc <command> ...``.

Each area of the package contributes its commands through a ``register`` function in
its private ``_cli`` module, so that this file stays a thin dispatcher and heavy
imports (numba, matplotlib) happen only when a command runs.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

from nwnrc import __version__
from nwnrc.errors import (
    ConvergenceWarning,
    DataWarning,
    NumericalWarning,
    NwnrcError,
)

_OWN_WARNINGS = (DataWarning, NumericalWarning, ConvergenceWarning)

_COMMAND_MODULES = (
    "nwnrc.network._cli",
    "nwnrc.device._cli",
    "nwnrc.experiments._cli",
    "nwnrc.experiments._sequence_cli",
    "nwnrc.analysis._cli",
    "nwnrc.recording._cli",
    "nwnrc.recording._export_cli",
    "nwnrc.sweep._cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="nwnrc",
        description="Reservoir computing with neuromorphic nanowire networks.",
    )
    parser.add_argument("--version", action="version", version=f"nwnrc {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # a command area not in this installation (its package is absent)
            if exc.name is None or not name.startswith(exc.name):
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    shown = warnings.showwarning
    warnings.showwarning = _one_line_warnings(shown)
    try:
        return int(args.handler(args) or 0)
    except (NwnrcError, OSError) as exc:
        print(f"nwnrc: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "nwnrc: interrupted; finished work is kept, run again to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        warnings.showwarning = shown


def _one_line_warnings(fallback: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints nwnrc's own warnings as one line."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, _OWN_WARNINGS):
            print(f"nwnrc: warning: {message}", file=file or sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
