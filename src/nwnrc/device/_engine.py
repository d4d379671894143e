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

from nwnrc.device._junction import junction_conductance

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@numba.njit(cache=True, fastmath=True, nogil=True)
def _run_block(
    lam: F64,  # (J, B) filament states, updated in place
    volts: F64,  # (T, B) source voltage per step
    dt: float,
    params: F64,
    ends: I64,  # (J, 2) free node, or n for the source and n + 1 for the drain
    diag_pos: I64,  # (n + 2,) the two driven nodes point at scratch slots
    offdiag_pos: I64,  # (J,) a scratch slot where an end is driven
    src_junctions: I64,  # (S,) junctions touching the source
    src_other: I64,  # (S,) their other end
    drn_junctions: I64,  # (D,) junctions touching the drain
    drn_other: I64,  # (D,) their other end
    col_ptr: I64,
    row_idx: I64,
    update_ptr: I64,
    update_target: I64,
    readout_nodes: I64,
    g: F64,  # (J, B) work
    lv: F64,  # (nnzL + 3, B) work: L's values, then three scratch slots
    u: F64,  # (n + 2, B) work: node voltages at 1 V on the source
    geff: F64,  # (B,) work
    out_pads: F64,  # (T, P, B)
    out_current: F64,  # (T, B)
    out_drain_current: F64,  # (T, B)
    out_conductance: F64,  # (T, B)
) -> int:
    n_steps, n_lanes = volts.shape
    n_junctions = ends.shape[0]
    n_nodes = col_ptr.shape[0] - 1
    n_pads = readout_nodes.shape[0]
    g_pristine = junction_conductance(0.0, params)
    lambda_crit = params[2]
    g_formed = junction_conductance(lambda_crit, params)
    v_set = params[0]
    v_reset = params[1]
    lambda_max = params[3]
    b_rate = params[4]

    for t in range(n_steps):
        # 1. conductances; the exp of the tunnelling law is needed only for
        #    filaments part-way formed (most junctions are pristine or fully formed)
        for e in range(n_junctions):
            for r in range(n_lanes):
                x = abs(lam[e, r])
                if x == 0.0:
                    g[e, r] = g_pristine
                elif x >= lambda_crit:
                    g[e, r] = g_formed
                else:
                    g[e, r] = junction_conductance(x, params)

        # 2. assemble L's values and the unit right-hand side
        lv[:, :] = 0.0
        u[:, :] = 0.0
        for e in range(n_junctions):
            pa = diag_pos[ends[e, 0]]
            pb = diag_pos[ends[e, 1]]
            po = offdiag_pos[e]
            for r in range(n_lanes):
                lv[pa, r] += g[e, r]
                lv[pb, r] += g[e, r]
                lv[po, r] -= g[e, r]
        for s in range(src_junctions.shape[0]):
            e = src_junctions[s]
            o = src_other[s]
            for r in range(n_lanes):
                u[o, r] += g[e, r]

        # 3a. numeric Cholesky, right-looking over the fixed pattern
        for k in range(n_nodes):
            pk = col_ptr[k]
            pend = col_ptr[k + 1]
            for r in range(n_lanes):
                if not lv[pk, r] > 0.0:
                    return k + 1
            # the diagonal slot keeps 1 / L[k, k]: multiplications replace divisions
            for r in range(n_lanes):
                lv[pk, r] = 1.0 / math.sqrt(lv[pk, r])
            for p in range(pk + 1, pend):
                for r in range(n_lanes):
                    lv[p, r] *= lv[pk, r]
            q = update_ptr[k]
            for pi in range(pk + 1, pend):
                row_i = lv[pi]
                for pj in range(pk + 1, pi + 1):
                    row_t = lv[update_target[q]]
                    row_j = lv[pj]
                    q += 1
                    for r in range(n_lanes):
                        row_t[r] -= row_i[r] * row_j[r]

        # 3b. forward and backward substitution
        for k in range(n_nodes):
            pk = col_ptr[k]
            for r in range(n_lanes):
                u[k, r] *= lv[pk, r]
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
                u[k, r] *= lv[pk, r]
        for r in range(n_lanes):
            u[n_nodes, r] = 1.0
            u[n_nodes + 1, r] = 0.0

        # 4. readouts and network conductance
        for r in range(n_lanes):
            geff[r] = 0.0
        for s in range(src_junctions.shape[0]):
            e = src_junctions[s]
            o = src_other[s]
            for r in range(n_lanes):
                geff[r] += g[e, r] * (1.0 - u[o, r])
        for r in range(n_lanes):
            out_current[t, r] = volts[t, r] * geff[r]
            out_conductance[t, r] = geff[r]
            geff[r] = 0.0
        # current out through the drain, summed independently (a check of KCL)
        for s in range(drn_junctions.shape[0]):
            e = drn_junctions[s]
            o = drn_other[s]
            for r in range(n_lanes):
                geff[r] += g[e, r] * u[o, r]
        for r in range(n_lanes):
            out_drain_current[t, r] = volts[t, r] * geff[r]
        for p in range(n_pads):
            node = readout_nodes[p]
            for r in range(n_lanes):
                out_pads[t, p, r] = volts[t, r] * u[node, r]

        # 5. filament update (branch-free form of filament_step: growth above v_set
        #    and dissolution below v_reset never act together)
        for e in range(n_junctions):
            a = ends[e, 0]
            b = ends[e, 1]
            for r in range(n_lanes):
                v = volts[t, r] * (u[a, r] - u[b, r])
                av = abs(v)
                grow = max(av - v_set, 0.0)
                shrink = b_rate * max(v_reset - av, 0.0)
                x = lam[e, r]
                x = math.copysign(max(abs(x) - dt * shrink, 0.0), x)
                x += dt * math.copysign(grow, v)
                lam[e, r] = min(max(x, -lambda_max), lambda_max)
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
    src_junctions: I64,
    src_other: I64,
    drn_junctions: I64,
    drn_other: I64,
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
    out_drain_current: F64,
    out_conductance: F64,
    status: I64,  # (n_blocks,)
) -> None:
    """Advance every block of replicas through its input stream."""
    for blk in numba.prange(lam.shape[0]):
        status[blk] = _run_block(
            lam[blk],
            volts[blk],
            dt,
            params,
            ends,
            diag_pos,
            offdiag_pos,
            src_junctions,
            src_other,
            drn_junctions,
            drn_other,
            col_ptr,
            row_idx,
            update_ptr,
            update_target,
            readout_nodes,
            g[blk],
            lv[blk],
            u[blk],
            geff[blk],
            out_pads[blk],
            out_current[blk],
            out_drain_current[blk],
            out_conductance[blk],
        )
