"""The MI modules' docstrings: examples run, every public name is documented."""

from __future__ import annotations

import doctest
import inspect

import pytest

from nwnrc.analysis import _information, _mi_run

NAMES = [(m, name) for m in (_information, _mi_run) for name in m.__all__]


@pytest.mark.parametrize("module", [_information, _mi_run], ids=lambda m: m.__name__)
def test_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("module,name", NAMES, ids=[n for _, n in NAMES])
def test_public_names_are_documented(module, name: str) -> None:
    obj = getattr(module, name)
    if name.isupper():
        return
    doc = inspect.getdoc(obj) or ""
    assert "Parameters" in doc, f"{name} lacks Parameters"
    if inspect.isfunction(obj) and name not in ("analyse_mi",):
        assert "Examples" in doc, f"{name} lacks Examples"
    if inspect.isclass(obj):
        for attr, member in vars(obj).items():
            if not attr.startswith("_") and callable(member):
                assert inspect.getdoc(member), f"{name}.{attr} has no docstring"
