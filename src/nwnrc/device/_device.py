"""The simulated device: a nanowire network on its electrode array, driven and read.

A :class:`SimulatedDevice` holds one network, its circuit between a source and a drain
pad, the junction parameters and the time step. :meth:`SimulatedDevice.run` streams
input voltages through any number of replicas of the network in lock step and returns
the readouts with the final filament states, so a stream can be continued or
checkpointed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwnrc.device._circuit import DRAIN, SOURCE, Circuit, build_circuit
from nwnrc.device._junction import JunctionParams
from nwnrc.errors import ConfigError, NumericalError, StreamError

logger = logging.getLogger(__name__)

#: Source and drain pads used unless told otherwise: the middle rows' outer pads, so
#: that the paper's readout pads (1, 2, 12, 13, 15 for MNIST; 7 and 13 for sequences)
#: all float.
DEFAULT_SOURCE_PAD = 4
DEFAULT_DRAIN_PAD = 11
#: The paper's readout channels, in the order in which channel sets grow.
DEFAULT_READOUT_PADS = (1, 2, 12, 13, 15)


class NetworkLike(Protocol):
    """What the device needs of a network: wires, junctions and pad contacts."""

    @property
    def n_wires(self) -> int: ...

    @property
    def junction_wires(self) -> NDArray[np.int64]: ...

    @property
    def pad_wires(self) -> Sequence[NDArray[np.int64]]: ...


@dataclass(frozen=True)
class DeviceOutput:
    """Readouts of a run.

    Attributes
    ----------
    pad_voltages : ndarray, shape (replicas, steps, readout pads)
        Voltage of each readout pad, V.
    source_current : ndarray, shape (replicas, steps)
        Current into the network through the source pad, A.
    drain_current : ndarray, shape (replicas, steps)
        Current out of the network through the drain pad, A, summed independently
        over the drain's junctions; equal to ``source_current`` by Kirchhoff's law.
    conductance : ndarray, shape (replicas, steps)
        Network conductance between source and drain, S: source current over source
        voltage, defined through the circuit even where the source voltage is 0.
    state : ndarray, shape (replicas, junctions)
        Filament states after the last step, V s.
    """

    pad_voltages: NDArray[np.float64]
    source_current: NDArray[np.float64]
    drain_current: NDArray[np.float64]
    conductance: NDArray[np.float64]
    state: NDArray[np.float64]


class SimulatedDevice:
    """A simulated nanowire network driven on one pad and grounded on another.

    Parameters
    ----------
    network : NanowireNetwork or compatible
        The network: ``n_wires``, ``junction_wires`` and ``pad_wires``.
    source_pad, drain_pad : int
        Pad held at the input voltage and pad held at 0 V.
    readout_pads : sequence of int
        Floating pads whose voltages are recorded, in order.
    junction : JunctionParams or str
        Junction parameters, or the name of a preset.
    dt : float
        Time step, s.
    lanes : int
        Replicas advanced together by one thread (the vectorised inner loop).

    Examples
    --------
    >>> from nwnrc.network import NetworkParams, generate_network
    >>> net = generate_network(NetworkParams(n_wires=300, seed=1))
    >>> dev = SimulatedDevice(net, readout_pads=(1, 2))
    >>> out = dev.run(np.full((2, 50), 1.0))
    >>> out.pad_voltages.shape
    (2, 50, 2)
    """

    def __init__(
        self,
        network: NetworkLike,
        source_pad: int = DEFAULT_SOURCE_PAD,
        drain_pad: int = DEFAULT_DRAIN_PAD,
        readout_pads: Sequence[int] = DEFAULT_READOUT_PADS,
        junction: JunctionParams | str = "hochstetter2021",
        dt: float = 1e-3,
        lanes: int = 8,
    ) -> None:
        if isinstance(junction, str):
            junction = JunctionParams.preset(junction)
        if not (isinstance(dt, int | float) and np.isfinite(dt) and dt > 0):
            raise ConfigError(f"dt must be a positive number of seconds, got {dt!r}")
        if not (isinstance(lanes, int) and 1 <= lanes <= 64):
            raise ConfigError(f"lanes must be an integer in 1..64, got {lanes!r}")
        self.network = network
        self.junction = junction
        self.dt = float(dt)
        self.lanes = lanes
        self.circuit: Circuit = build_circuit(
            network.n_wires,
            network.junction_wires,
            network.pad_wires,
            source_pad,
            drain_pad,
            readout_pads,
        )
        self._params = junction.as_array()
        self._kernel_arrays = _kernel_arrays(self.circuit)

    @property
    def readout_pads(self) -> tuple[int, ...]:
        """The readout pads, in the order of the last axis of ``pad_voltages``."""
        return self.circuit.readout_pads

    @property
    def n_junctions(self) -> int:
        """Number of simulated junctions (the length of a replica's state)."""
        return self.circuit.n_junctions

    def initial_state(self, n_replicas: int = 1) -> NDArray[np.float64]:
        """Filament states of a pristine network: no filament anywhere."""
        return np.zeros((n_replicas, self.n_junctions), dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        """Everything needed to rebuild this device, for logs and metrics files."""
        return {
            "source_pad": self.circuit.source_pad,
            "drain_pad": self.circuit.drain_pad,
            "readout_pads": list(self.readout_pads),
            "dt_s": self.dt,
            "junction": self.junction.to_dict(),
            "circuit": self.circuit.summary(),
        }

    def run(self, volts: ArrayLike, state: ArrayLike | None = None) -> DeviceOutput:
        """Stream input voltages through replicas of the network.

        Parameters
        ----------
        volts : array_like, shape (replicas, steps) or (steps,)
            Source-pad voltage at every step, V. A 1-D stream is one replica.
        state : array_like, shape (replicas, junctions), optional
            Filament states to start from; pristine when omitted.

        Returns
        -------
        DeviceOutput

        Raises
        ------
        StreamError
            If the stream has the wrong shape or holds NaN or infinite voltages, or the
            state does not match.
        NumericalError
            If the circuit matrix loses positive definiteness (not expected for a
            connected network with finite conductances).
        """
        from nwnrc.device._engine import run_blocks

        v = np.asarray(volts, dtype=np.float64)
        if v.ndim == 1:
            v = v[None, :]
        if v.ndim != 2 or v.shape[0] == 0 or v.shape[1] == 0:
            raise StreamError(
                "volts must have shape (replicas, steps) with both at least 1, got "
                f"shape {np.shape(volts)}"
            )
        if not np.all(np.isfinite(v)):
            bad = np.argwhere(~np.isfinite(v))[0]
            raise StreamError(
                f"volts holds a NaN or infinite value at replica {bad[0]}, step "
                f"{bad[1]}; clean the input stream"
            )
        n_rep, n_steps = v.shape
        if state is None:
            lam0 = self.initial_state(n_rep)
        else:
            lam0 = np.asarray(state, dtype=np.float64)
            if lam0.shape != (n_rep, self.n_junctions):
                raise StreamError(
                    f"state must have shape (replicas, junctions) = "
                    f"({n_rep}, {self.n_junctions}), got {lam0.shape}"
                )
            if not np.all(np.isfinite(lam0)):
                raise StreamError("state holds NaN or infinite filament states")

        # Pack replicas into blocks of lanes; pad the last block with idle replicas.
        lanes = min(self.lanes, n_rep)
        n_blocks = -(-n_rep // lanes)
        padded = n_blocks * lanes
        c = self.circuit
        k = self._kernel_arrays
        lam = np.zeros((padded, c.n_junctions))
        lam[:n_rep] = lam0
        vin = np.zeros((padded, n_steps))
        vin[:n_rep] = v
        lam_b = np.ascontiguousarray(
            lam.reshape(n_blocks, lanes, -1).transpose(0, 2, 1)
        )
        v_b = np.ascontiguousarray(vin.reshape(n_blocks, lanes, -1).transpose(0, 2, 1))
        n_pads = c.readout_nodes.shape[0]
        out_pads = np.empty((n_blocks, n_steps, n_pads, lanes))
        out_current = np.empty((n_blocks, n_steps, lanes))
        out_drain = np.empty((n_blocks, n_steps, lanes))
        out_g = np.empty((n_blocks, n_steps, lanes))
        status = np.zeros(n_blocks, dtype=np.int64)
        run_blocks(
            lam_b,
            v_b,
            self.dt,
            self._params,
            k["ends"],
            k["diag_pos"],
            k["offdiag_pos"],
            k["src_junctions"],
            k["src_other"],
            k["drn_junctions"],
            k["drn_other"],
            c.col_ptr,
            c.row_idx,
            c.update_ptr,
            c.update_target,
            k["readout_nodes"],
            np.empty((n_blocks, c.n_junctions, lanes)),
            np.empty((n_blocks, c.nnz_factor + 3, lanes)),
            np.empty((n_blocks, c.n_nodes + 2, lanes)),
            np.empty((n_blocks, lanes)),
            out_pads,
            out_current,
            out_drain,
            out_g,
            status,
        )
        if np.any(status):
            blk = int(np.nonzero(status)[0][0])
            raise NumericalError(
                f"the circuit matrix lost positive definiteness at node "
                f"{int(status[blk]) - 1} (replica block {blk}); check the junction "
                "parameters for zero or negative conductances"
            )

        def unblock(a: NDArray[np.float64]) -> NDArray[np.float64]:
            # (blocks, ..., lanes) -> (replicas, ...)
            moved = np.moveaxis(a, -1, 1)
            return np.ascontiguousarray(
                moved.reshape((padded, *moved.shape[2:]))[:n_rep]
            )

        return DeviceOutput(
            pad_voltages=unblock(out_pads),
            source_current=unblock(out_current),
            drain_current=unblock(out_drain),
            conductance=unblock(out_g),
            state=unblock(lam_b),
        )


def _kernel_arrays(c: Circuit) -> dict[str, NDArray[np.int64]]:
    """Index arrays for the branch-free kernel.

    The source becomes node ``n`` and the drain node ``n + 1``; their diagonal entries
    and the off-diagonal entries of junctions with a driven end go to scratch slots
    past the end of L's values, so that assembly needs no branches.
    """
    n, nnz = c.n_nodes, c.nnz_factor
    ends = c.ends.copy()
    ends[ends == SOURCE] = n
    ends[ends == DRAIN] = n + 1
    diag = np.concatenate([c.diag_pos, [nnz, nnz + 1]]).astype(np.int64)
    off = np.where(c.offdiag_pos < 0, nnz + 2, c.offdiag_pos).astype(np.int64)
    # a readout pad shorted to a driven pad by a wire reads u = 1 or 0
    readout = c.readout_nodes.copy()
    readout[readout == SOURCE] = n
    readout[readout == DRAIN] = n + 1
    arrays = {
        "ends": np.ascontiguousarray(ends),
        "diag_pos": diag,
        "offdiag_pos": off,
        "readout_nodes": readout,
    }
    for name, code in (("src", SOURCE), ("drn", DRAIN)):
        at_a = np.nonzero(c.ends[:, 0] == code)[0]
        at_b = np.nonzero(c.ends[:, 1] == code)[0]
        arrays[f"{name}_junctions"] = np.concatenate([at_a, at_b]).astype(np.int64)
        arrays[f"{name}_other"] = np.concatenate([ends[at_a, 1], ends[at_b, 0]]).astype(
            np.int64
        )
    return arrays
