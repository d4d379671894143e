"""The recording modules' docstring examples run; every public name is documented."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import nwnrc.recording

MODULES = [
    "nwnrc.recording._schema",
    "nwnrc.recording._validate",
    "nwnrc.recording._segment",
    "nwnrc.recording._assemble",
    "nwnrc.recording._tdms",
    "nwnrc.recording._tabular",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", nwnrc.recording.__all__)
def test_public_names_are_documented(name: str) -> None:
    obj = getattr(nwnrc.recording, name)
    if name.isupper():
        return
    doc = inspect.getdoc(obj) or ""
    assert len(doc) > 40, name
    if obj.__module__ != "nwnrc.recording._schema":
        assert "Examples" in doc, name
