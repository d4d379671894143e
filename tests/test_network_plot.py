"""Network plots."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from matplotlib.image import imread

from nwnrc.errors import ConfigError, DataError
from nwnrc.network import NetworkParams, generate_network, plot_network


def _rgb(path):
    image = imread(path)
    return image[..., :3]


def test_plot_writes_png_with_grey_dropped_wires(tmp_path):
    # A sparse network drops many wires, drawn grey (184, 184, 184).
    net = generate_network(NetworkParams(n_wires=300, seed=5))
    assert net.summary()["dropped_wires"] > 20
    path = tmp_path / "net.png"
    plot_network(net, path, pads=[4, 11], highlight=[1, 2, 7])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rgb = np.round(_rgb(path) * 255)
    grey = np.all(np.abs(rgb - 184) <= 2, axis=-1)
    assert grey.sum() > 100

    plain = tmp_path / "plain.png"
    plot_network(net, plain, pads=None)
    rgb = np.round(_rgb(plain) * 255)
    assert np.all(np.abs(rgb - 184) <= 2, axis=-1).sum() < grey.sum() / 10


def test_plot_of_unconnected_pads_still_draws(tmp_path, caplog):
    net = generate_network(NetworkParams(n_wires=250, seed=0))
    # Pads of two different components in this sparse network.
    labels: dict[int, int] = {}
    for p in range(16):
        if len(net.pad_wires[p]):
            labels.setdefault(int(np.flatnonzero(net.connected_wires([p]))[0]), p)
    a, b = list(labels.values())[:2]
    path = tmp_path / "net.png"
    with caplog.at_level(logging.WARNING, logger="nwnrc.network._plot"):
        plot_network(net, path, pads=[a, b])
    assert path.stat().st_size > 0
    assert "different connected components" in caplog.text


def test_plot_bad_arguments(tmp_path):
    net = generate_network(NetworkParams(n_wires=20))
    with pytest.raises(ConfigError, match="highlight"):
        plot_network(net, tmp_path / "x.png", highlight=[16])
    with pytest.raises(DataError, match="does not exist"):
        plot_network(net, tmp_path / "missing" / "x.png")
