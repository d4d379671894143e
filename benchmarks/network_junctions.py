"""Time the grid junction search against the brute-force reference.

Run ``python benchmarks/network_junctions.py``. Networks keep the default density
(2.1 times the percolation threshold) while the chip grows with the wire count; one
dense case puts 10,000 wires on the default 78 um chip.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nwnrc.network import (
    NetworkParams,
    find_junctions,
    find_junctions_bruteforce,
    segment_ends,
)
from nwnrc.network._geometry import sample_wires


def _segments(n_wires: int, chip: float) -> tuple[Any, Any]:
    params = NetworkParams(n_wires=n_wires, chip_size_um=chip, pad_size_um=1.0)
    return segment_ends(*sample_wires(params))


def _best_of(
    func: Callable[..., Any], *args: Any, repeat: int = 3
) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    default = NetworkParams()
    print(f"{'wires':>7} {'chip um':>8} {'junctions':>10} {'grid s':>8} {'brute s':>8}")
    for n_wires in (500, 2000, 10000, 50000):
        chip = default.chip_size_um * np.sqrt(n_wires / default.n_wires)
        starts, ends = _segments(n_wires, chip)
        t_grid, (pairs, _) = _best_of(find_junctions, starts, ends)
        brute = "-"
        if n_wires <= 2000:
            t_brute, _ = _best_of(find_junctions_bruteforce, starts, ends, repeat=1)
            brute = f"{t_brute:8.3f}"
        print(f"{n_wires:7d} {chip:8.1f} {len(pairs):10d} {t_grid:8.3f} {brute:>8}")
    starts, ends = _segments(10000, default.chip_size_um)
    t_grid, (pairs, _) = _best_of(find_junctions, starts, ends, repeat=1)
    print(f"{10000:7d} {default.chip_size_um:8.1f} {len(pairs):10d} {t_grid:8.3f}")


if __name__ == "__main__":
    main()
