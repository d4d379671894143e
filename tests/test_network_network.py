"""Connectivity: the component joining pads, pad shorts, summary."""

from __future__ import annotations

import numpy as np
import pytest

from nwnrc.errors import ConfigError, NetworkError
from nwnrc.network import (
    NanowireNetwork,
    NetworkParams,
    find_junctions,
    generate_network,
    pad_centres,
)
from nwnrc.network._mea import pad_contacts

CHIP = 80.0  # pitch 20, pads centred at 10, 30, 50, 70
PAD = 4.0


def _network(segments):
    """A network of hand-placed wires ((x0, y0), (x1, y1)) on an 80 um chip."""
    seg = np.asarray(segments, dtype=float)
    starts, ends = seg[:, 0], seg[:, 1]
    d = ends - starts
    centres = 0.5 * (starts + ends)
    angles = np.mod(np.arctan2(d[:, 1], d[:, 0]), np.pi)
    lengths = np.hypot(d[:, 0], d[:, 1])
    pairs, points = find_junctions(starts, ends)
    params = NetworkParams(
        n_wires=len(seg), chip_size_um=CHIP, pad_size_um=PAD, length_std_um=0.0
    )
    contacts = pad_contacts(starts, ends, CHIP, PAD)
    return NanowireNetwork(params, centres, angles, lengths, pairs, points, contacts)


def _hand_network():
    # Pad 4 at (10, 50), pad 5 at (30, 50), pad 6 at (50, 50), pad 0 at (10, 70),
    # pad 15 at (70, 10).
    return _network(
        [
            ((8, 50), (20, 50)),  # 0: on pad 4
            ((18, 45), (18, 55)),  # 1: crosses wire 0
            ((15, 51), (29, 51)),  # 2: crosses wire 1, ends on pad 5
            ((30, 49), (40, 49)),  # 3: from pad 5, joined only through the pad
            ((45, 50), (60, 50)),  # 4: on pad 6, collinear with wire 0, apart
            ((10, 69), (10, 72)),  # 5: on pad 0, alone
            ((60, 11), (75, 11)),  # 6: on pad 15
            ((60, 5), (60, 15)),  # 7: crosses wire 6, touches no pad
        ]
    )


def test_hand_network_geometry():
    net = _hand_network()
    assert net.junction_wires.tolist() == [[0, 1], [1, 2], [6, 7]]
    np.testing.assert_allclose(net.junction_points, [[18, 50], [18, 51], [60, 11]])
    wires = {p: w.tolist() for p, w in enumerate(net.pad_wires) if len(w)}
    assert wires == {0: [5], 4: [0], 5: [2, 3], 6: [4], 15: [6]}


def test_connected_wires_follows_junctions_and_pads():
    net = _hand_network()
    expected = [True, True, True, True, False, False, False, False]
    assert net.connected_wires([4, 5]).tolist() == expected
    assert net.connected_wires([4]).tolist() == expected
    assert net.connected_wires([15]).tolist() == [False] * 6 + [True, True]
    assert net.pads_in_component([4]) == [4, 5]


def test_pads_in_different_components_raise():
    net = _hand_network()
    with pytest.raises(NetworkError, match=r"pads \[4, 6\] lie in different"):
        net.connected_wires([4, 6])


def test_pad_without_wire_raises_naming_it():
    net = _hand_network()
    with pytest.raises(NetworkError, match="pad 9 touches no wire"):
        net.connected_wires([4, 9])


@pytest.mark.parametrize("pads", [[16], [-1], [4, 2.0], []])
def test_bad_pad_numbers_raise_config_error(pads):
    with pytest.raises(ConfigError, match="pad"):
        _hand_network().connected_wires(pads)


def test_bridged_pads():
    net = _network(
        [
            ((10, 70), (30, 70)),  # pads 0 and 1
            ((30, 70), (50, 70)),  # pads 1 and 2: chains into one group
            ((10, 30), (10, 10)),  # pads 8 and 12
            ((70, 10), (75, 10)),  # pad 15 only
        ]
    )
    assert net.bridged_pads() == [(0, 1, 2), (8, 12)]
    assert _hand_network().bridged_pads() == []


def _components_reference(net):
    """Breadth-first search over wires, joined by junctions and shared pads."""
    neighbours: list[set[int]] = [set() for _ in range(net.n_wires)]
    for i, j in net.junction_wires.tolist():
        neighbours[i].add(j)
        neighbours[j].add(i)
    for wires in net.pad_wires:
        for w in wires.tolist():
            neighbours[w].update(wires.tolist())
    label = [-1] * net.n_wires
    for root in range(net.n_wires):
        if label[root] >= 0:
            continue
        label[root] = root
        stack = [root]
        while stack:
            w = stack.pop()
            for v in neighbours[w]:
                if label[v] < 0:
                    label[v] = root
                    stack.append(v)
    return np.array(label)


@pytest.mark.parametrize("seed", range(4))
def test_connected_wires_matches_search_on_sparse_networks(seed):
    # Near the percolation threshold several components touch pads.
    net = generate_network(NetworkParams(n_wires=250, seed=seed))
    label = _components_reference(net)
    touched = [p for p in range(16) if len(net.pad_wires[p])]
    for p in touched:
        expected = label == label[net.pad_wires[p][0]]
        np.testing.assert_array_equal(net.connected_wires([p]), expected)
    for a in touched:
        for b in touched:
            same = label[net.pad_wires[a][0]] == label[net.pad_wires[b][0]]
            if same:
                assert net.connected_wires([a, b]).sum() > 0
            else:
                with pytest.raises(NetworkError):
                    net.connected_wires([a, b])


def test_summary_counts():
    net = generate_network(NetworkParams(seed=3))
    s = net.summary()
    assert s["n_wires"] == 500 and s["n_junctions"] == len(net.junction_wires)
    assert s["mean_junctions_per_wire"] == pytest.approx(2 * s["n_junctions"] / 500)
    assert s["pad_contacts"] == [len(w) for w in net.pad_wires]
    label = _components_reference(net)
    kept = label == label[net.pad_wires[4][0]]
    assert s["driven_connected"] and s["driven_pads"] == [4, 11]
    assert s["kept_wires"] == kept.sum() and s["dropped_wires"] == (~kept).sum()
    assert s["kept_junctions"] == kept[net.junction_wires[:, 0]].sum()
    assert s["params"] == NetworkParams(seed=3).as_dict()


def test_summary_of_unconnected_pads_does_not_raise():
    s = _hand_network().summary(pads=[4, 6])
    assert not s["driven_connected"] and "different" in s["driven_error"]
    assert s["kept_wires"] == 0 and s["dropped_wires"] == 8


def test_default_network_connects_source_and_drain_for_seeds_0_to_19():
    readout = (1, 2, 7, 12, 13, 15)
    reached = dict.fromkeys(readout, 0)
    for seed in range(20):
        net = generate_network(NetworkParams(seed=seed))
        pads = net.pads_in_component([4, 11])
        for p in readout:
            reached[p] += p in pads
    assert min(reached.values()) >= 15


def test_constructor_rejects_inconsistent_arrays():
    net = _hand_network()
    parts = dict(
        params=net.params,
        centres=net.centres,
        angles=net.angles,
        lengths=net.lengths,
        junction_wires=net.junction_wires,
        junction_points=net.junction_points,
        pad_wires=net.pad_wires,
    )
    with pytest.raises(NetworkError, match="junction_wires"):
        NanowireNetwork(**{**parts, "junction_wires": [[0, 99], [1, 2], [6, 7]]})
    with pytest.raises(NetworkError, match="sorted"):
        NanowireNetwork(**{**parts, "junction_wires": [[1, 2], [0, 1], [6, 7]]})
    with pytest.raises(NetworkError, match="16"):
        NanowireNetwork(**{**parts, "pad_wires": net.pad_wires[:4]})
    with pytest.raises(NetworkError, match="shape"):
        NanowireNetwork(**{**parts, "angles": net.angles[:3]})


def test_pad_centres_follow_documented_layout():
    # Row 0 at the top: pad 0 top-left, pad 15 bottom-right.
    c = pad_centres(CHIP)
    assert c[0, 1] > c[4, 1] > c[8, 1] > c[12, 1]
    assert c[0, 0] < c[1, 0] < c[2, 0] < c[3, 0]
