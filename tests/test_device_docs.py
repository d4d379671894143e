"""The device modules' docstring examples run, and every public name is documented."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import nwnrc.device

MODULES = [
    "nwnrc.device._junction",
    "nwnrc.device._device",
    "nwnrc.device._bench",
    "nwnrc.device._demos",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.parametrize(
    "name",
    [
        "nwnrc.device._bench.bench_engine",
        "nwnrc.device._bench.EngineBenchmark",
        "nwnrc.device._demos.dc_bias_demo",
        "nwnrc.device._demos.iv_sweep_demo",
        "nwnrc.device._demos.DcBiasResult",
        "nwnrc.device._demos.IvSweepResult",
        "nwnrc.device._demos.make_device_figures",
        *(f"nwnrc.device.{n}" for n in nwnrc.device.__all__),
    ],
)
def test_public_names_are_documented(name):
    module_name, _, attr = name.rpartition(".")
    obj = getattr(importlib.import_module(module_name), attr)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return  # constants
    doc = inspect.getdoc(obj) or ""
    assert len(doc) > 20, name
