"""A plain dense reference of the device, for tests and benchmarks.

:class:`DenseReferenceDevice` simulates the same physics as
:class:`~nwnrc.device.SimulatedDevice` in the most direct way: every wire of the
network's driven component is a node (wires under one pad merged), every junction is
kept (no pruning, no reordering), and every step builds the full dense Laplacian and
solves it with LAPACK at the actual source voltage. It shares only the junction law
with the engine; circuit reduction, ordering, factorisation and the unit-voltage trick
are all independent, which is what makes it a reference. It is slow on purpose: about
``n**3 / 3`` flops per step for ``n`` nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from nwnrc.device._device import DeviceOutput, NetworkLike
from nwnrc.device._junction import JunctionParams, conductances, filament_steps
from nwnrc.errors import NetworkError, StreamError


class DenseReferenceDevice:
    """Dense, step-by-step reference simulation of a driven nanowire network.

    The state covers every junction of the network, in the network's order.

    Parameters
    ----------
    network, source_pad, drain_pad, readout_pads, junction, dt
        As for :class:`~nwnrc.device.SimulatedDevice`.
    """

    def __init__(
        self,
        network: NetworkLike,
        source_pad: int,
        drain_pad: int,
        readout_pads: Sequence[int],
        junction: JunctionParams | str = "hochstetter2021",
        dt: float = 1e-3,
    ) -> None:
        if isinstance(junction, str):
            junction = JunctionParams.preset(junction)
        self.params = junction.as_array()
        self.dt = float(dt)
        n_wires = int(network.n_wires)
        n_pads = len(network.pad_wires)
        jw = np.asarray(network.junction_wires, dtype=np.int64).reshape(-1, 2)
        self.n_junctions = jw.shape[0]

        # Electrical nodes: components of the wire-pad contact graph.
        rows, cols = [], []
        for pad, wires in enumerate(network.pad_wires):
            for w in np.asarray(wires, dtype=np.int64):
                rows.append(int(w))
                cols.append(n_wires + pad)
        contact = coo_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(n_wires + n_pads,) * 2
        )
        _, node_of = connected_components(contact, directed=False)
        node_of_wire = node_of[:n_wires]
        pad_node = node_of[n_wires:]

        # Driven component: components of the junction graph over those nodes.
        a, b = node_of_wire[jw[:, 0]], node_of_wire[jw[:, 1]]
        n_all = int(node_of.max()) + 1
        junction_graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n_all, n_all))
        _, comp = connected_components(junction_graph, directed=False)
        src, drn = int(pad_node[source_pad]), int(pad_node[drain_pad])
        if comp[src] != comp[drn]:
            raise NetworkError("source and drain pads are not connected")
        members = np.nonzero(comp == comp[src])[0]
        index = np.full(n_all, -1, dtype=np.int64)
        index[members] = np.arange(members.size)
        self.n_nodes = int(members.size)
        self.src = int(index[src])
        self.drn = int(index[drn])
        self.readout = np.array(
            [index[pad_node[p]] for p in readout_pads], dtype=np.int64
        )
        if np.any(self.readout < 0):
            raise NetworkError(
                f"readout pads {list(readout_pads)} include a pad outside the driven "
                "component; read out pads of that component only"
            )
        self.active = (index[a] >= 0) & (index[b] >= 0) & (a != b)
        self.a = index[a[self.active]]
        self.b = index[b[self.active]]
        free = np.ones(self.n_nodes, dtype=bool)
        free[[self.src, self.drn]] = False
        self.free = np.nonzero(free)[0]

    def node_voltages(
        self, g_active: NDArray[np.float64], v_source: float
    ) -> NDArray[np.float64]:
        """Solve Kirchhoff's current law for all node voltages (dense LAPACK solve)."""
        n = self.n_nodes
        lap = np.zeros((n, n))
        np.add.at(lap, (self.a, self.a), g_active)
        np.add.at(lap, (self.b, self.b), g_active)
        np.add.at(lap, (self.a, self.b), -g_active)
        np.add.at(lap, (self.b, self.a), -g_active)
        v = np.zeros(n)
        v[self.src] = v_source
        f = self.free
        rhs = -lap[f, self.src] * v_source
        v[f] = np.linalg.solve(lap[np.ix_(f, f)], rhs)
        return v

    def run(self, volts: ArrayLike, state: ArrayLike | None = None) -> DeviceOutput:
        """Run one or more replicas, one after the other, step by step."""
        v_in = np.asarray(volts, dtype=np.float64)
        if v_in.ndim == 1:
            v_in = v_in[None, :]
        if v_in.ndim != 2 or not np.all(np.isfinite(v_in)):
            raise StreamError("volts must be a finite array of shape (replicas, steps)")
        n_rep, n_steps = v_in.shape
        lam_all = (
            np.zeros((n_rep, self.n_junctions))
            if state is None
            else np.array(state, dtype=np.float64, copy=True)
        )
        pads = np.empty((n_rep, n_steps, self.readout.size))
        current = np.empty((n_rep, n_steps))
        drain_current = np.empty((n_rep, n_steps))
        conductance = np.empty((n_rep, n_steps))
        for r in range(n_rep):
            lam = lam_all[r]
            for t in range(n_steps):
                g = conductances(lam, self.params)
                g_act = g[self.active]
                v = self.node_voltages(g_act, v_in[r, t])
                vj = np.zeros(self.n_junctions)
                vj[self.active] = v[self.a] - v[self.b]
                pads[r, t] = v[self.readout]
                current[r, t] = self.terminal_current(g_act, v, self.src)
                drain_current[r, t] = -self.terminal_current(g_act, v, self.drn)
                unit = self.node_voltages(g_act, 1.0)
                conductance[r, t] = self.terminal_current(g_act, unit, self.src)
                lam[:] = filament_steps(lam, vj, self.dt, self.params)
        return DeviceOutput(pads, current, drain_current, conductance, lam_all)

    def terminal_current(
        self, g_active: NDArray[np.float64], v: NDArray[np.float64], node: int
    ) -> float:
        """Current flowing from ``node`` into the network through its junctions, A."""
        out_a = self.a == node
        out_b = self.b == node
        return float(
            np.sum(g_active[out_a] * (v[node] - v[self.b[out_a]]))
            + np.sum(g_active[out_b] * (v[node] - v[self.a[out_b]]))
        )
