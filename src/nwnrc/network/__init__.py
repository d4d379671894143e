"""Random nanowire networks on a 4x4 multi-electrode array.

Draw the wires (:func:`generate_network`), find every junction (:func:`find_junctions`),
find which wires each MEA pad contacts, keep the component that joins the driven pads
(:meth:`NanowireNetwork.connected_wires`), save and load it (HDF5), and plot it.

Pads are numbered 0..15 row-major, row 0 at the top of the chip (largest y)::

     0  1  2  3
     4  5  6  7
     8  9 10 11
    12 13 14 15

Examples
--------
>>> from nwnrc.network import NetworkParams, generate_network
>>> net = generate_network(NetworkParams(seed=2))
>>> mask = net.connected_wires([4, 11])
>>> net.n_wires == mask.size
True
"""

from nwnrc.network._geometry import (
    MEA_SIDE,
    STICK_PERCOLATION_CONSTANT,
    NetworkParams,
    segment_ends,
)
from nwnrc.network._io import load_network, save_network
from nwnrc.network._junctions import find_junctions, find_junctions_bruteforce
from nwnrc.network._mea import N_PADS, pad_centres, segments_touch_square
from nwnrc.network._network import (
    DEFAULT_DRIVEN_PADS,
    NanowireNetwork,
    generate_network,
)
from nwnrc.network._plot import plot_network

__all__ = [
    "DEFAULT_DRIVEN_PADS",
    "MEA_SIDE",
    "N_PADS",
    "STICK_PERCOLATION_CONSTANT",
    "NanowireNetwork",
    "NetworkParams",
    "find_junctions",
    "find_junctions_bruteforce",
    "generate_network",
    "load_network",
    "pad_centres",
    "plot_network",
    "save_network",
    "segment_ends",
    "segments_touch_square",
]
