"""Wall time of the ML anisotropy (``magscreen anisotropy --engine ml``) for cells up to 30 atoms.

The shipped model with a spin-orbit block whose domain is set to each structure's own environments
(timing does not depend on the weights): model load, neighbour list, backbone pass, and one batched
evaluation of the scan directions plus the two E(theta) curves (90 moment configurations).

    OMP_NUM_THREADS=1 python benchmarks/bench_anisotropy.py [--threads 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args()

    import torch
    from pymatgen.core import Structure

    from magscreen.potential import MagneticCalculator
    from magscreen.potential.graph import graph_from_atoms
    from magscreen.screening.anisotropy_ml import ml_anisotropy

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    base = MagneticCalculator("monoxides").model
    model = base if base.soc else base.with_soc(seed=0)
    load_s = time.perf_counter() - start
    rows = []
    for name, repeat in (
        ("FePt", (1, 1, 1)),
        ("FePt", (2, 2, 3)),
        ("YCo5", (1, 1, 5)),
        ("Co-hcp", (3, 3, 1)),
    ):
        structure = Structure.from_file(ROOT / "configs" / "candidates" / f"{name}.cif") * repeat
        atoms = structure.to_ase_atoms()
        graph = graph_from_atoms(atoms, model.cutoff, np.zeros((len(atoms), 3)))
        model.record_soc_domain([graph], [np.tile([0.0, 0.0, 1.0], (len(atoms), 1))])
        start = time.perf_counter()
        result = ml_anisotropy(structure, model)
        wall = time.perf_counter() - start
        rows.append(
            {
                "structure": f"{name} x{repeat}",
                "atoms": len(structure),
                "wall_s": round(wall, 2),
                "configurations": len(result.analysis.directions)
                + sum(len(t) for t, _ in result.curves.values()),
            }
        )
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"model_load_s": round(load_s, 2), "load_average": load, "rows": rows}, indent=1))
        return
    print(f"model load {load_s:.1f} s; load average {load:.1f}; torch threads {args.threads}")
    for row in rows:
        configs = f"{row['configurations']} configurations"
        print(f"{row['structure']:18s} {row['atoms']:3d} atoms  {configs}  {row['wall_s']:.2f} s")


if __name__ == "__main__":
    main()
