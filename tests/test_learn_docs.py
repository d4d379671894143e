"""The readout learners' docstrings: examples run, every public name is documented."""

from __future__ import annotations

import doctest
import inspect

import pytest

import nwnrc.learn
from nwnrc.learn import _gd, _ridge, _rls


@pytest.mark.parametrize("module", [_rls, _ridge, _gd], ids=lambda m: m.__name__)
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", nwnrc.learn.__all__)
def test_public_names_are_documented(name: str) -> None:
    obj = getattr(nwnrc.learn, name)
    if name.isupper():
        return
    doc = inspect.getdoc(obj) or ""
    assert "Examples" in doc
    if inspect.isclass(obj):
        for section in ("Parameters", "Attributes"):
            assert section in doc, f"{name} lacks {section}"
        for attr, member in vars(obj).items():
            if not attr.startswith("_") and callable(member):
                assert inspect.getdoc(member), f"{name}.{attr} has no docstring"
