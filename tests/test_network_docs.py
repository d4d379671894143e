"""The docstring examples of nwnrc.network run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nwnrc.network",
    "nwnrc.network._geometry",
    "nwnrc.network._junctions",
    "nwnrc.network._mea",
    "nwnrc.network._network",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted > 0
