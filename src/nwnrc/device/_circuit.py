"""The electrical circuit of a nanowire network on its electrode array.

A :class:`Circuit` turns a network's junction graph into the linear system that the
stepping engine solves at every time step. Wires are ideal conductors, so each wire is
one electrical node; a pad shorts every wire it touches into one node. The source and
drain pads are driven (their voltages are given) and are eliminated, leaving the
grounded Laplacian of the remaining free nodes: symmetric positive definite whenever
every free node reaches a driven one, and with a sparsity pattern that never changes.

Two reductions are made once, when the circuit is built:

- Wires outside the connected component that holds the driven pads carry no current and
  are dropped.
- Dangling trees (free nodes of degree one, removed repeatedly) also carry no current:
  their junctions sit at zero voltage for ever, so their filaments only decay. They are
  pruned, except where they hold a readout pad, whose voltage is still recorded.

The remaining free nodes are put in a minimum-degree order and the symbolic Cholesky
factorisation (the pattern of L, and for every column the list of updates it makes to
the later columns) is computed once. The engine then redoes only the numeric work.

References
----------
.. [1] A. George and J. W. H. Liu, "The evolution of the minimum degree ordering
   algorithm", SIAM Review 31(1), 1-19 (1989).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nwnrc.errors import NetworkError

logger = logging.getLogger(__name__)

IntArray = NDArray[np.int64]

#: Code for "this end of a junction is the source pad" in :attr:`Circuit.ends`.
SOURCE = -1
#: Code for "this end of a junction is the drain pad" in :attr:`Circuit.ends`.
DRAIN = -2


@dataclass(frozen=True)
class Circuit:
    """Free nodes, junction ends and the symbolic factorisation of one network.

    Free nodes are numbered in elimination order ``0 .. n_nodes - 1``. A junction end is
    a free node number, or :data:`SOURCE` / :data:`DRAIN` for the driven pads.

    Attributes
    ----------
    n_nodes : int
        Number of free nodes (unknown voltages).
    ends : ndarray of int64, shape (n_junctions, 2)
        The two ends of every simulated junction.
    junction_index : ndarray of int64, shape (n_junctions,)
        Row of each simulated junction in the network's junction list.
    readout_nodes : ndarray of int64, shape (n_readouts,)
        Free node of each readout pad, or :data:`SOURCE` / :data:`DRAIN` for a pad
        that a wire shorts to a driven pad (it reads the driven voltage).
    readout_pads : tuple of int
        The readout pads, in the order of ``readout_nodes``.
    col_ptr, row_idx : ndarray of int64
        Compressed-column pattern of the Cholesky factor L, diagonal first in each
        column, the remaining rows ascending.
    diag_pos : ndarray of int64, shape (n_nodes,)
        Position of each diagonal entry in L's value array.
    offdiag_pos : ndarray of int64, shape (n_junctions,)
        Position in L of the off-diagonal entry of a junction between two free nodes,
        or -1 when one end is driven.
    update_ptr, update_target : ndarray of int64
        For column k, ``update_target[update_ptr[k]:update_ptr[k + 1]]`` lists the
        position in L that receives ``L[i, k] * L[j, k]`` for every pair ``j <= i`` of
        the column's off-diagonal rows, pairs in row-major order of (i, j).
    n_wires_dropped : int
        Wires outside the driven component.
    n_nodes_pruned : int
        Free nodes removed as dangling trees.
    """

    n_nodes: int
    ends: IntArray
    junction_index: IntArray
    readout_nodes: IntArray
    readout_pads: tuple[int, ...]
    source_pad: int
    drain_pad: int
    col_ptr: IntArray
    row_idx: IntArray
    diag_pos: IntArray
    offdiag_pos: IntArray
    update_ptr: IntArray
    update_target: IntArray
    n_wires_dropped: int
    n_nodes_pruned: int

    @property
    def n_junctions(self) -> int:
        """Number of simulated junctions."""
        return int(self.ends.shape[0])

    @property
    def nnz_factor(self) -> int:
        """Number of stored entries of the Cholesky factor L."""
        return int(self.row_idx.shape[0])

    @property
    def factor_flops(self) -> int:
        """Multiply-adds of one numeric factorisation (the per-step cost driver)."""
        return int(self.update_target.shape[0])

    def summary(self) -> dict[str, int]:
        """Sizes that set the cost of a time step."""
        return {
            "free_nodes": self.n_nodes,
            "junctions": self.n_junctions,
            "factor_nonzeros": self.nnz_factor,
            "factor_updates": self.factor_flops,
            "wires_dropped": self.n_wires_dropped,
            "nodes_pruned": self.n_nodes_pruned,
        }


def build_circuit(
    n_wires: int,
    junction_wires: IntArray,
    pad_wires: Sequence[IntArray],
    source_pad: int,
    drain_pad: int,
    readout_pads: Sequence[int] = (),
) -> Circuit:
    """Build the circuit seen from a source and a drain pad.

    Parameters
    ----------
    n_wires : int
        Number of wires in the network.
    junction_wires : ndarray of int, shape (n_junctions, 2)
        The two wires of every junction.
    pad_wires : sequence of int arrays
        For every pad, the wires it touches.
    source_pad, drain_pad : int
        The driven pads: the source is held at the input voltage, the drain at 0 V.
    readout_pads : sequence of int
        Floating pads whose voltages are read out.

    Returns
    -------
    Circuit

    Raises
    ------
    NetworkError
        If a pad number is out of range, the source equals the drain, a driven or
        readout pad touches no wire, a wire shorts the source to the drain, or the pads
        are not all in one connected component.
    """
    junction_wires = np.asarray(junction_wires, dtype=np.int64).reshape(-1, 2)
    n_pads = len(pad_wires)
    readout_pads = tuple(int(p) for p in readout_pads)
    if n_wires <= 0:
        raise NetworkError(
            f"the network has no wires (n_wires={n_wires}); build one "
            "with at least a few hundred wires"
        )
    _check_pads(n_pads, source_pad, drain_pad, readout_pads, pad_wires)

    # A pad shorts the wires it touches: merge them into one node.
    parent = np.arange(n_wires, dtype=np.int64)
    for wires in pad_wires:
        wires = np.asarray(wires, dtype=np.int64)
        for w in wires[1:]:
            _union(parent, int(wires[0]), int(w))
    roots = np.array([_find(parent, w) for w in range(n_wires)], dtype=np.int64)

    source_root = roots[pad_wires[source_pad][0]]
    drain_root = roots[pad_wires[drain_pad][0]]
    if source_root == drain_root:
        raise NetworkError(
            f"a wire touches both the source pad {source_pad} and the drain pad "
            f"{drain_pad}, shorting them; choose other pads or regenerate the network"
        )

    # Junctions between wires of one node are shorted out and carry no current.
    a = roots[junction_wires[:, 0]]
    b = roots[junction_wires[:, 1]]
    live = a != b
    jidx = np.nonzero(live)[0].astype(np.int64)
    a, b = a[live], b[live]

    # Keep the component holding the driven pads.
    comp = _components(n_wires, a, b)
    driven_comp = comp[source_root]
    if comp[drain_root] != driven_comp:
        raise NetworkError(
            f"source pad {source_pad} and drain pad {drain_pad} are not connected by "
            "the network; use a denser network (more or longer wires) or other pads"
        )
    for pad in readout_pads:
        if comp[roots[pad_wires[pad][0]]] != driven_comp:
            raise NetworkError(
                f"readout pad {pad} is not connected to the driven pads; drop it from "
                "the readout pads or use a denser network"
            )
    in_comp = comp[a] == driven_comp
    jidx, a, b = jidx[in_comp], a[in_comp], b[in_comp]
    wires_in = comp[roots] == driven_comp
    n_dropped = int(n_wires - np.count_nonzero(wires_in))

    # Prune dangling trees, keeping readout nodes.
    protected = {int(source_root), int(drain_root)}
    protected.update(int(roots[pad_wires[p][0]]) for p in readout_pads)
    keep, n_pruned = _prune_leaves(n_wires, a, b, protected)
    jidx, a, b = jidx[keep], a[keep], b[keep]

    # Number the free nodes and code the driven ones.
    node_ids = np.unique(np.concatenate([a, b]))
    free = node_ids[(node_ids != source_root) & (node_ids != drain_root)]
    local = np.full(n_wires, -3, dtype=np.int64)
    local[free] = np.arange(free.size)
    local[source_root] = SOURCE
    local[drain_root] = DRAIN
    ends = np.stack([local[a], local[b]], axis=1)
    readout_local = np.array(
        [local[roots[pad_wires[p][0]]] for p in readout_pads], dtype=np.int64
    )

    # Reorder free nodes for low fill and do the symbolic factorisation.
    n_nodes = int(free.size)
    order = minimum_degree_order(n_nodes, ends)
    rank = np.empty(n_nodes, dtype=np.int64)
    rank[order] = np.arange(n_nodes)
    if n_nodes > 0:  # with no free node every end is driven and rank is empty
        ends = np.where(ends >= 0, rank[np.maximum(ends, 0)], ends)
        readout_local = np.where(
            readout_local >= 0, rank[np.maximum(readout_local, 0)], readout_local
        )
    sym = _symbolic(n_nodes, ends)

    circuit = Circuit(
        n_nodes=n_nodes,
        ends=ends,
        junction_index=jidx,
        readout_nodes=readout_local,
        readout_pads=readout_pads,
        source_pad=int(source_pad),
        drain_pad=int(drain_pad),
        n_wires_dropped=n_dropped,
        n_nodes_pruned=n_pruned,
        **sym,
    )
    logger.info("circuit built: %s", circuit.summary())
    return circuit


def _check_pads(
    n_pads: int,
    source_pad: int,
    drain_pad: int,
    readout_pads: tuple[int, ...],
    pad_wires: Sequence[IntArray],
) -> None:
    for name, pad in [("source_pad", source_pad), ("drain_pad", drain_pad)] + [
        ("readout_pads", p) for p in readout_pads
    ]:
        if not 0 <= int(pad) < n_pads:
            raise NetworkError(
                f"{name} must be a pad number in 0..{n_pads - 1}, got {pad}"
            )
        if len(pad_wires[int(pad)]) == 0:
            raise NetworkError(
                f"pad {pad} ({name}) touches no wire; choose another pad or use a "
                "denser network"
            )
    if source_pad == drain_pad:
        raise NetworkError(
            f"source_pad and drain_pad must differ, both are {source_pad}"
        )
    for p in readout_pads:
        if p in (source_pad, drain_pad):
            raise NetworkError(
                f"readout pad {p} is driven (source {source_pad}, drain {drain_pad}); "
                "read out floating pads only"
            )
    if len(set(readout_pads)) != len(readout_pads):
        raise NetworkError(f"readout_pads has repeats: {readout_pads}")


def _find(parent: IntArray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = int(parent[x])
    return x


def _union(parent: IntArray, x: int, y: int) -> None:
    rx, ry = _find(parent, x), _find(parent, y)
    if rx != ry:
        parent[max(rx, ry)] = min(rx, ry)


def _components(n: int, a: IntArray, b: IntArray) -> IntArray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _prune_leaves(
    n: int, a: IntArray, b: IntArray, protected: set[int]
) -> tuple[NDArray[np.bool_], int]:
    """Remove dangling trees; return the junctions kept and the nodes pruned."""
    keep = np.ones(a.size, dtype=bool)
    incident: list[list[int]] = [[] for _ in range(n)]
    for e, (x, y) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        incident[x].append(e)
        incident[y].append(e)
    degree = np.array([len(v) for v in incident], dtype=np.int64)
    stack = [v for v in range(n) if degree[v] == 1 and v not in protected]
    pruned = 0
    while stack:
        v = stack.pop()
        if degree[v] != 1:
            continue
        for e in incident[v]:
            if keep[e]:
                keep[e] = False
                other = int(b[e]) if int(a[e]) == v else int(a[e])
                degree[v] -= 1
                degree[other] -= 1
                pruned += 1
                if degree[other] == 1 and other not in protected:
                    stack.append(other)
                break
    return keep, pruned


def minimum_degree_order(n_nodes: int, ends: IntArray) -> IntArray:
    """Return a minimum-degree elimination order of the free nodes.

    Eliminates, at every step, a node of least degree in the current elimination graph
    (ties broken by the lowest node number, so the order is deterministic), joining its
    neighbours into a clique [1]_.

    Parameters
    ----------
    n_nodes : int
        Number of free nodes.
    ends : ndarray of int, shape (n_junctions, 2)
        Junction ends; negative codes (driven pads) are ignored.

    Returns
    -------
    ndarray of int64, shape (n_nodes,)
        ``order[k]`` is the node eliminated k-th.
    """
    adj: list[set[int]] = [set() for _ in range(n_nodes)]
    for x, y in ends.tolist():
        if x >= 0 and y >= 0 and x != y:
            adj[x].add(y)
            adj[y].add(x)
    heap = [(len(adj[v]), v) for v in range(n_nodes)]
    heapq.heapify(heap)
    done = np.zeros(n_nodes, dtype=bool)
    order = []
    while heap:
        deg, v = heapq.heappop(heap)
        if done[v] or deg != len(adj[v]):
            continue
        done[v] = True
        order.append(v)
        nbrs = adj[v]
        for u in nbrs:
            adj[u].discard(v)
            adj[u].update(w for w in nbrs if w != u)
            heapq.heappush(heap, (len(adj[u]), u))
        adj[v] = set()
    return np.asarray(order, dtype=np.int64)


def _symbolic(n: int, ends: IntArray) -> dict[str, IntArray]:
    """Symbolic Cholesky factorisation of the grounded Laplacian in natural order."""
    # Column structure by the elimination graph: struct(k) = rows below k in column k.
    adj: list[set[int]] = [set() for _ in range(n)]
    for x, y in ends.tolist():
        if x >= 0 and y >= 0 and x != y:
            adj[min(x, y)].add(max(x, y))
    # Elimination tree propagation: struct(k) merges into struct(parent(k)).
    struct: list[list[int]] = []
    pending: list[set[int]] = [set() for _ in range(n)]
    for k in range(n):
        rows = adj[k] | pending[k]
        rows.discard(k)
        s = sorted(rows)
        struct.append(s)
        if s:
            parent = s[0]
            pending[parent].update(s[1:])
        pending[k] = set()

    col_ptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(n):
        col_ptr[k + 1] = col_ptr[k] + 1 + len(struct[k])
    row_idx = np.empty(int(col_ptr[-1]), dtype=np.int64)
    position: dict[tuple[int, int], int] = {}
    for k in range(n):
        p = int(col_ptr[k])
        row_idx[p] = k
        position[(k, k)] = p
        for off, i in enumerate(struct[k], start=1):
            row_idx[p + off] = i
            position[(i, k)] = p + off
    diag_pos = col_ptr[:-1].copy()

    offdiag_pos = np.full(ends.shape[0], -1, dtype=np.int64)
    for e, (x, y) in enumerate(ends.tolist()):
        if x >= 0 and y >= 0:
            offdiag_pos[e] = position[(max(x, y), min(x, y))]

    counts = [len(s) * (len(s) + 1) // 2 for s in struct]
    update_ptr = np.zeros(n + 1, dtype=np.int64)
    update_ptr[1:] = np.cumsum(counts)
    update_target = np.empty(int(update_ptr[-1]), dtype=np.int64)
    q = 0
    for k in range(n):
        s = struct[k]
        for ii, i in enumerate(s):
            for j in s[: ii + 1]:
                update_target[q] = position[(i, j)]
                q += 1
    return {
        "col_ptr": col_ptr,
        "row_idx": row_idx,
        "diag_pos": diag_pos,
        "offdiag_pos": offdiag_pos,
        "update_ptr": update_ptr,
        "update_target": update_target,
    }
