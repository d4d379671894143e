"""Compiled stepping engine: many replicas of one circuit in lock step.

Each time step, for every replica:

1. junction conductances from the filament states;
2. the grounded Laplacian assembled straight into the value array of its Cholesky
   factor (pattern fixed by :mod:`nwnrc.device._circuit`), with the right-hand side of
   a unit source voltage;
3. numeric Cholesky factorisation and two triangular solves, giving the node voltages
   ``u`` for 1 V on the source; the circuit is linear at fixed conductances, so the
   node voltages for the input ``V(t)`` are ``V(t) * u`` and the network conductance
   (source current over source voltage) is defined even at ``V(t) = 0``;
4. junction voltages, readouts, and one explicit Euler step of every filament state.

Replicas form blocks of ``lanes`` that share every index array; the lane is the
innermost loop, so the compiler vectorises it, and blocks run on separate threads.
Nothing is allocated inside the time loop.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from nwnrc.device._junction import filament_step, junction_conductance

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@numba.njit(cache=True, fastmath=True, nogil=True)
def _run_block(
    lam: F64,  # (J, B) filament states, updated in place
    volts: F64,  # (T, B) source voltage per step
    dt: float,
    params: F64,
    ends: I64,
    diag_pos: I64,
    offdiag_pos: I64,
    col_ptr: I64,
    row_idx: I64,
    update_ptr: I64,
    update_target: I64,
    readout_nodes: I64,
    g: F64,  # (J, B) work
    lv: F64,  # (nnzL, B) work
    u: F64,  # (n, B) work
    geff: F64,  # (B,) work
    out_pads: F64,  # (T, P, B)
    out_current: F64,  # (T, B)
    out_conductance: F64,  # (T, B)
) -> int:
    n_steps, n_lanes = volts.shape
    n_junctions = ends.shape[0]
    n_nodes = diag_pos.shape[0]
    n_pads = readout_nodes.shape[0]

    for t in range(n_steps):
        # 1. conductances
        for e in range(n_junctions):
            for r in range(n_lanes):
                g[e, r] = junction_conductance(lam[e, r], params)

        # 2. assemble L's values and the unit right-hand side
        lv[:, :] = 0.0
        u[:, :] = 0.0
        for e in range(n_junctions):
            a = ends[e, 0]
            b = ends[e, 1]
            if a >= 0:
                pa = diag_pos[a]
                for r in range(n_lanes):
                    lv[pa, r] += g[e, r]
            if b >= 0:
                pb = diag_pos[b]
                for r in range(n_lanes):
                    lv[pb, r] += g[e, r]
            if a >= 0 and b >= 0:
                po = offdiag_pos[e]
                for r in range(n_lanes):
                    lv[po, r] -= g[e, r]
            elif a >= 0 and b == -1:
                for r in range(n_lanes):
                    u[a, r] += g[e, r]
            elif b >= 0 and a == -1:
                for r in range(n_lanes):
                    u[b, r] += g[e, r]

        # 3a. numeric Cholesky, right-looking over the fixed pattern
        for k in range(n_nodes):
            pk = col_ptr[k]
            pend = col_ptr[k + 1]
            for r in range(n_lanes):
                if not lv[pk, r] > 0.0:
                    return k + 1
            for r in range(n_lanes):
                lv[pk, r] = math.sqrt(lv[pk, r])
            for p in range(pk + 1, pend):
                for r in range(n_lanes):
                    lv[p, r] /= lv[pk, r]
            q = update_ptr[k]
            for pi in range(pk + 1, pend):
                for pj in range(pk + 1, pi + 1):
                    tgt = update_target[q]
                    q += 1
                    for r in range(n_lanes):
                        lv[tgt, r] -= lv[pi, r] * lv[pj, r]

        # 3b. forward and backward substitution
        for k in range(n_nodes):
            pk = col_ptr[k]
            for r in range(n_lanes):
                u[k, r] /= lv[pk, r]
            for p in range(pk + 1, col_ptr[k + 1]):
                i = row_idx[p]
                for r in range(n_lanes):
                    u[i, r] -= lv[p, r] * u[k, r]
        for k in range(n_nodes - 1, -1, -1):
            pk = col_ptr[k]
            for p in range(pk + 1, col_ptr[k + 1]):
                i = row_idx[p]
                for r in range(n_lanes):
                    u[k, r] -= lv[p, r] * u[i, r]
            for r in range(n_lanes):
                u[k, r] /= lv[pk, r]

        # 4. readouts, network conductance, filament update
        for r in range(n_lanes):
            geff[r] = 0.0
        for e in range(n_junctions):
            a = ends[e, 0]
            b = ends[e, 1]
            for r in range(n_lanes):
                ua = u[a, r] if a >= 0 else (1.0 if a == -1 else 0.0)
                ub = u[b, r] if b >= 0 else (1.0 if b == -1 else 0.0)
                if a == -1:
                    geff[r] += g[e, r] * (1.0 - ub)
                elif b == -1:
                    geff[r] += g[e, r] * (1.0 - ua)
                lam[e, r] = filament_step(
                    lam[e, r], volts[t, r] * (ua - ub), dt, params
                )
        for r in range(n_lanes):
            out_current[t, r] = volts[t, r] * geff[r]
            out_conductance[t, r] = geff[r]
        for p in range(n_pads):
            node = readout_nodes[p]
            for r in range(n_lanes):
                out_pads[t, p, r] = volts[t, r] * u[node, r]
    return 0


@numba.njit(cache=True, parallel=True)
def run_blocks(
    lam: F64,  # (n_blocks, J, B)
    volts: F64,  # (n_blocks, T, B)
    dt: float,
    params: F64,
    ends: I64,
    diag_pos: I64,
    offdiag_pos: I64,
    col_ptr: I64,
    row_idx: I64,
    update_ptr: I64,
    update_target: I64,
    readout_nodes: I64,
    g: F64,
    lv: F64,
    u: F64,
    geff: F64,
    out_pads: F64,  # (n_blocks, T, P, B)
    out_current: F64,  # (n_blocks, T, B)
    out_conductance: F64,
    status: I64,  # (n_blocks,)
) -> None:
    """Advance every block of replicas through its input stream."""
    for blk in numba.prange(lam.shape[0]):
        status[blk] = _run_block(
            lam[blk], volts[blk], dt, params, ends, diag_pos, offdiag_pos, col_ptr,
            row_idx, update_ptr, update_target, readout_nodes, g[blk], lv[blk], u[blk],
            geff[blk], out_pads[blk], out_current[blk], out_conductance[blk],
        )
