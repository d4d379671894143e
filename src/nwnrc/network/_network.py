"""The nanowire network: wires, junctions and MEA contacts, and its connectivity.

The electrical graph has one node per wire and one per pad. Junctions link wires;
a pad links every wire it touches, because a metal pad shorts the wires under it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwnrc.errors import ConfigError, NetworkError
from nwnrc.network._geometry import NetworkParams, sample_wires, segment_ends
from nwnrc.network._junctions import find_junctions
from nwnrc.network._mea import N_PADS, check_pad, pad_contacts

logger = logging.getLogger(__name__)

#: Source and drain pads of the paper's experiments (source 4, drain 11).
DEFAULT_DRIVEN_PADS: tuple[int, int] = (4, 11)


def _frozen(array: Any, dtype: type, shape: tuple[int | None, ...]) -> NDArray[Any]:
    out: NDArray[Any] = np.array(array, dtype=dtype, copy=True)
    if out.ndim != len(shape) or any(
        want is not None and got != want
        for got, want in zip(out.shape, shape, strict=True)
    ):
        raise NetworkError(
            f"array of shape {out.shape} does not match the expected shape "
            f"{tuple('n' if s is None else s for s in shape)}; rebuild the network"
        )
    out.setflags(write=False)
    return out


class NanowireNetwork:
    """A random nanowire network on a 4x4 multi-electrode array.

    Build one with :func:`generate_network` or :meth:`load`; the constructor takes
    arrays already computed. Arrays are read-only copies (float64 or int64).

    Parameters
    ----------
    params : NetworkParams
        The parameters the network was drawn from.
    centres : array_like of shape (n_wires, 2)
        Wire centres, micrometres.
    angles : array_like of shape (n_wires,)
        Wire angles from the x axis, radians in [0, pi).
    lengths : array_like of shape (n_wires,)
        Wire lengths, micrometres.
    junction_wires : array_like of int, shape (n_junctions, 2)
        Wire pairs ``(i, j)``, ``i < j``, rows sorted lexicographically.
    junction_points : array_like of shape (n_junctions, 2)
        Junction positions, micrometres.
    pad_wires : sequence of 16 array_like of int
        For pad p, the sorted indices of the wires that touch it.

    Attributes
    ----------
    params, centres, angles, lengths, junction_wires, junction_points, pad_wires
        As given.

    Raises
    ------
    NetworkError
        If the arrays are inconsistent (shapes, wire indices out of range, unsorted
        junctions, not 16 pads).

    Notes
    -----
    Pads are numbered 0..15 row-major with row 0 at the top (largest y), as drawn in
    the :mod:`nwnrc.network` docstring. A wire that touches two pads shorts them
    together (:meth:`bridged_pads`).

    Limitations: wires are ideal segments of zero width, so two wires that pass
    within a wire diameter of each other without crossing form no junction, and
    wires do not bend. A pad contacts a wire wherever the segment meets the square,
    with no contact resistance. Wires are not clipped at the chip edge.
    """

    def __init__(
        self,
        params: NetworkParams,
        centres: Any,
        angles: Any,
        lengths: Any,
        junction_wires: Any,
        junction_points: Any,
        pad_wires: Sequence[Any],
    ) -> None:
        self.params = params
        self.centres = _frozen(centres, np.float64, (None, 2))
        n = len(self.centres)
        self.angles = _frozen(angles, np.float64, (n,))
        self.lengths = _frozen(lengths, np.float64, (n,))
        self.junction_wires = _frozen(
            np.asarray(junction_wires).reshape(-1, 2), np.int64, (None, 2)
        )
        self.junction_points = _frozen(
            np.asarray(junction_points).reshape(-1, 2),
            np.float64,
            (len(self.junction_wires), 2),
        )
        if len(pad_wires) != N_PADS:
            raise NetworkError(
                f"pad_wires must hold {N_PADS} arrays, one per pad, got "
                f"{len(pad_wires)}; rebuild the network"
            )
        self.pad_wires = tuple(
            _frozen(np.asarray(w).reshape(-1), np.int64, (None,)) for w in pad_wires
        )
        self._check_indices()
        self._labels: NDArray[np.int64] | None = None

    def _check_indices(self) -> None:
        n = self.n_wires
        jw = self.junction_wires
        if len(jw):
            if jw.min() < 0 or jw.max() >= n or np.any(jw[:, 0] >= jw[:, 1]):
                raise NetworkError(
                    f"junction_wires must hold pairs (i, j) with 0 <= i < j < {n}; "
                    "rebuild the network"
                )
            keys = jw[:, 0] * n + jw[:, 1]
            if np.any(np.diff(keys) <= 0):
                raise NetworkError(
                    "junction_wires must be sorted lexicographically without "
                    "repeats; rebuild the network"
                )
        for pad, wires in enumerate(self.pad_wires):
            if len(wires) and (
                wires.min() < 0 or wires.max() >= n or np.any(np.diff(wires) <= 0)
            ):
                raise NetworkError(
                    f"pad_wires[{pad}] must hold sorted distinct wire indices in "
                    f"0..{n - 1}; rebuild the network"
                )

    # Geometry ---------------------------------------------------------------

    @property
    def n_wires(self) -> int:
        """Number of wires."""
        return len(self.centres)

    @property
    def n_junctions(self) -> int:
        """Number of junctions."""
        return len(self.junction_wires)

    @property
    def starts(self) -> NDArray[np.float64]:
        """Start points of the wire segments, shape (n_wires, 2)."""
        return segment_ends(self.centres, self.angles, self.lengths)[0]

    @property
    def ends(self) -> NDArray[np.float64]:
        """End points of the wire segments, shape (n_wires, 2)."""
        return segment_ends(self.centres, self.angles, self.lengths)[1]

    def __repr__(self) -> str:
        return (
            f"NanowireNetwork(n_wires={self.n_wires}, "
            f"n_junctions={self.n_junctions}, seed={self.params.seed})"
        )

    # Connectivity -----------------------------------------------------------

    def _component_labels(self) -> NDArray[np.int64]:
        """Component label of every node: wires 0..N-1, then pads N..N+15."""
        if self._labels is None:
            import scipy.sparse as sp
            from scipy.sparse.csgraph import connected_components

            n = self.n_wires
            pad_rows = [
                np.stack([w, np.full(len(w), n + p, dtype=np.int64)], axis=1)
                for p, w in enumerate(self.pad_wires)
            ]
            edges = np.concatenate([self.junction_wires, *pad_rows], axis=0)
            graph = sp.coo_matrix(
                (np.ones(len(edges)), (edges[:, 0], edges[:, 1])),
                shape=(n + N_PADS, n + N_PADS),
            )
            _, labels = connected_components(graph, directed=False)
            self._labels = labels.astype(np.int64)
        return self._labels

    def connected_wires(self, pads: Sequence[int]) -> NDArray[np.bool_]:
        """Return the wires of the connected component that joins the given pads.

        Parameters
        ----------
        pads : sequence of int
            Pad numbers (0..15), typically the source and drain pads.

        Returns
        -------
        ndarray of bool, shape (n_wires,)
            True for each wire in the component.

        Raises
        ------
        NetworkError
            If a pad touches no wire, or the pads lie in different components.
        ConfigError
            If a pad number is not in 0..15, or no pad is given.

        Examples
        --------
        >>> net = generate_network(NetworkParams(seed=1))
        >>> mask = net.connected_wires([4, 11])
        >>> mask.shape, bool(mask.any())
        ((500,), True)
        """
        pad_list = [check_pad(p, f"pads[{k}]") for k, p in enumerate(pads)]
        if not pad_list:
            raise ConfigError("pads must name at least one pad, got an empty list")
        for p in pad_list:
            if len(self.pad_wires[p]) == 0:
                raise NetworkError(
                    f"pad {p} touches no wire; choose another pad, or a denser "
                    "network or larger pads"
                )
        labels = self._component_labels()
        n = self.n_wires
        pad_labels = labels[n + np.asarray(pad_list)]
        if np.any(pad_labels != pad_labels[0]):
            groups: dict[int, list[int]] = {}
            for p, lab in zip(pad_list, pad_labels, strict=True):
                groups.setdefault(int(lab), []).append(p)
            described = "; ".join(str(g) for g in groups.values())
            raise NetworkError(
                f"pads {pad_list} lie in different connected components "
                f"({described}); choose other pads, another seed, or a denser network"
            )
        return labels[:n] == pad_labels[0]

    def pads_in_component(self, pads: Sequence[int]) -> list[int]:
        """Return every pad that touches the component joining ``pads``."""
        mask = self.connected_wires(pads)
        return [p for p in range(N_PADS) if mask[self.pad_wires[p]].any()]

    def bridged_pads(self) -> list[tuple[int, ...]]:
        """Return the groups of pads that single wires short together.

        A wire that touches two pads joins them into one electrical node without a
        junction in between. Groups are closed under chains (wire a joins pads 1 and
        2, wire b pads 2 and 3: one group 1, 2, 3).

        Returns
        -------
        list of tuple of int
            Each group sorted, groups sorted by their first pad; only groups of two or
            more pads.
        """
        parent = list(range(N_PADS))

        def root(p: int) -> int:
            while parent[p] != p:
                parent[p] = parent[parent[p]]
                p = parent[p]
            return p

        owner: dict[int, int] = {}
        for pad, wires in enumerate(self.pad_wires):
            for w in wires.tolist():
                if w in owner:
                    parent[root(pad)] = root(owner[w])
                else:
                    owner[w] = pad
        groups: dict[int, list[int]] = {}
        for p in range(N_PADS):
            groups.setdefault(root(p), []).append(p)
        return sorted(tuple(g) for g in groups.values() if len(g) > 1)

    def summary(self, pads: Sequence[int] = DEFAULT_DRIVEN_PADS) -> dict[str, Any]:
        """Return the network's vital numbers as a JSON-ready dictionary.

        Parameters
        ----------
        pads : sequence of int, default (4, 11)
            The driven pads whose connected component is kept.

        Returns
        -------
        dict
            ``params`` (every field), ``n_wires``, ``n_junctions``,
            ``density_over_critical`` (wire density over the stick-percolation
            threshold), ``mean_junctions_per_wire`` (mean degree ``2 J / N``),
            ``pad_contacts`` (wires per pad), ``bridged_pads``, ``driven_pads``,
            ``driven_connected``, ``kept_wires``, ``dropped_wires``,
            ``kept_junctions``, ``pads_in_component``, and ``driven_error`` (the
            reason when the driven pads are not connected, else None).
        """
        p = self.params
        out: dict[str, Any] = {
            "params": p.as_dict(),
            "n_wires": self.n_wires,
            "n_junctions": self.n_junctions,
            "density_over_critical": p.density_per_um2 / p.critical_density_per_um2,
            "mean_junctions_per_wire": 2.0 * self.n_junctions / self.n_wires,
            "pad_contacts": [len(w) for w in self.pad_wires],
            "bridged_pads": [list(g) for g in self.bridged_pads()],
            "driven_pads": [int(x) for x in pads],
        }
        try:
            mask = self.connected_wires(pads)
        except NetworkError as exc:
            out.update(
                driven_connected=False,
                kept_wires=0,
                dropped_wires=self.n_wires,
                kept_junctions=0,
                pads_in_component=[],
                driven_error=str(exc),
            )
            return out
        jw = self.junction_wires
        out.update(
            driven_connected=True,
            kept_wires=int(mask.sum()),
            dropped_wires=int((~mask).sum()),
            kept_junctions=int(mask[jw[:, 0]].sum()) if len(jw) else 0,
            pads_in_component=[
                q for q in range(N_PADS) if mask[self.pad_wires[q]].any()
            ],
            driven_error=None,
        )
        return out

    # Files -------------------------------------------------------------------

    def save(self, path: str | PathLike[str]) -> None:
        """Write the network to an HDF5 file, atomically.

        See :func:`nwnrc.network.save_network` for the layout.
        """
        from nwnrc.network._io import save_network

        save_network(self, path)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> NanowireNetwork:
        """Read a network written by :meth:`save`.

        Raises
        ------
        DataError
            If the file is missing, not HDF5, or not a network file.
        """
        from nwnrc.network._io import load_network

        return load_network(path)


def generate_network(params: NetworkParams) -> NanowireNetwork:
    """Draw a random nanowire network and find its junctions and pad contacts.

    Parameters
    ----------
    params : NetworkParams
        Network parameters, seed included; the same parameters give the same network.

    Returns
    -------
    NanowireNetwork

    Examples
    --------
    >>> net = generate_network(NetworkParams(n_wires=50, seed=7))
    >>> net.n_wires, net.junction_wires.dtype.name
    (50, 'int64')
    """
    centres, angles, lengths = sample_wires(params)
    starts, ends = segment_ends(centres, angles, lengths)
    pairs, points = find_junctions(starts, ends)
    contacts = pad_contacts(starts, ends, params.chip_size_um, params.pad_size_um)
    logger.info(
        "generated network: %d wires, %d junctions, seed %d, chip %g um, "
        "length %g +- %g um, pads %g um",
        params.n_wires,
        len(pairs),
        params.seed,
        params.chip_size_um,
        params.length_mean_um,
        params.length_std_um,
        params.pad_size_um,
    )
    return NanowireNetwork(params, centres, angles, lengths, pairs, points, contacts)
