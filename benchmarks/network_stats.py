"""Statistics of random nanowire networks over seeds: junctions, pads, driven component.

Run ``python benchmarks/network_stats.py [--wires N] [--chip-size UM] ...`` to print,
over seeds 0..19 by default, the numbers quoted in the ``NetworkParams`` Notes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nwnrc.network import N_PADS, NetworkParams, generate_network

READOUT_PADS = (1, 2, 7, 12, 13, 15)


def main() -> None:
    defaults = NetworkParams()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wires", type=int, default=defaults.n_wires)
    parser.add_argument("--chip-size", type=float, default=defaults.chip_size_um)
    parser.add_argument("--length-mean", type=float, default=defaults.length_mean_um)
    parser.add_argument("--length-std", type=float, default=defaults.length_std_um)
    parser.add_argument("--pad-size", type=float, default=defaults.pad_size_um)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--pads", type=int, nargs=2, default=[4, 11])
    args = parser.parse_args()

    junctions, degree, dropped, connected, bridged = [], [], [], 0, []
    contacts = np.zeros((args.seeds, N_PADS), dtype=int)
    in_component = np.zeros(N_PADS, dtype=int)
    elapsed = 0.0
    for seed in range(args.seeds):
        params = NetworkParams(
            n_wires=args.wires,
            chip_size_um=args.chip_size,
            length_mean_um=args.length_mean,
            length_std_um=args.length_std,
            pad_size_um=args.pad_size,
            seed=seed,
        )
        start = time.perf_counter()
        net = generate_network(params)
        elapsed += time.perf_counter() - start
        s = net.summary(pads=args.pads)
        junctions.append(s["n_junctions"])
        degree.append(s["mean_junctions_per_wire"])
        contacts[seed] = s["pad_contacts"]
        if s["bridged_pads"]:
            bridged.append((seed, s["bridged_pads"]))
        if s["driven_connected"]:
            connected += 1
            dropped.append(s["dropped_wires"])
            for p in s["pads_in_component"]:
                in_component[p] += 1

    print(f"parameters: {params.as_dict()} (seed varies)")
    ratio = params.density_per_um2 / params.critical_density_per_um2
    print(f"density / critical: {ratio:.2f}")
    print(f"seeds: {args.seeds}, generation {elapsed / args.seeds * 1e3:.1f} ms each")
    span = f"{min(junctions)}..{max(junctions)}"
    print(f"junctions: mean {np.mean(junctions):.1f}, range {span}")
    print(f"junctions per wire (2J/N): mean {np.mean(degree):.2f}")
    print(f"driven pads {args.pads} connected: {connected}/{args.seeds}")
    if dropped:
        span = f"{min(dropped)}..{max(dropped)}"
        print(f"wires dropped: mean {np.mean(dropped):.1f}, range {span}")
    print(f"seeds with bridged pads: {len(bridged)} {bridged}")
    print("pad  wires/pad mean  min  max  in driven component (seeds)")
    for p in range(N_PADS):
        mark = " readout" if p in READOUT_PADS else ""
        print(
            f"{p:3d}  {contacts[:, p].mean():13.1f}  {contacts[:, p].min():3d}  "
            f"{contacts[:, p].max():3d}  {in_component[p]:3d}{mark}"
        )


if __name__ == "__main__":
    main()
