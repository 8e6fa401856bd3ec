"""k-point check of the reference dataset's training settings on a metal's ordering gaps.

For each k-point density the FM frame and the first other ordering of a compound's dataset ladder
(``configs/dataset/reference.yaml``, its GPAW training settings otherwise) are computed with the
dataset's GPAW engine; the table gives E(other) - E(FM) per magnetic atom (meV) and the moments.
Restart files live under ``--workdir``, so a rerun only adds the missing points.

    OMP_NUM_THREADS=1 python benchmarks/reference/dataset_kpoints.py FeRh --densities 3 4 5 6
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from magscreen.dataset.engine import GPAWEngine
from magscreen.dataset.kinds import FRAME_KINDS
from magscreen.dataset.plan import cached_ladder
from magscreen.dataset.settings import load_dataset_config

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    """Print the gap and moments per k-point density."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compound")
    parser.add_argument("--densities", type=float, nargs="+", default=[3.0, 4.0, 5.0, 6.0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "dataset" / "reference.yaml")
    parser.add_argument(
        "--workdir", type=Path, default=REPO / "benchmarks" / "reference" / "runs" / "kpoints"
    )
    args = parser.parse_args()
    config = load_dataset_config(args.config)
    spec = next(c for c in config.compounds if c.name == args.compound)
    ladder = cached_ladder(spec, config, args.config)
    frames = FRAME_KINDS["ordering"].plan(ladder, config)
    fm = next(f for f in frames if f.ordering == "FM")
    other = next(f for f in frames if f.ordering != "FM")
    print(
        f"{args.compound}: {other.ordering} ({len(other.atoms)} atoms) - FM ({len(fm.atoms)} atoms), "
        f"{config.gpaw.ecut_eV:g} eV, smearing {config.gpaw.smearing_eV:g} eV",
        flush=True,
    )
    print(
        "| k-points per 1/A | k-grid FM | k-grid other | gap (meV/mag. atom) | moments FM | moments other"
        " | wall (s) |"
    )
    print("|---|---|---|---|---|---|---|", flush=True)
    for density in args.densities:
        gpaw = config.gpaw.model_copy(update={"kpoint_density": density, "kpoint_density_gapped": density})
        engine = GPAWEngine(gpaw)
        start = time.perf_counter()
        results = {}
        for frame in (fm, other):
            results[frame.ordering] = engine.compute(frame, args.workdir / f"{frame.frame_id}.k{density:g}")
        r_fm, r_other = results["FM"], results[other.ordering]
        n_fm = int(np.count_nonzero(np.abs(fm.atoms.get_initial_magnetic_moments()) > 1e-3))
        n_other = int(np.count_nonzero(np.abs(other.atoms.get_initial_magnetic_moments()) > 1e-3))
        gap = 1000.0 * (r_other.energy_eV / n_other - r_fm.energy_eV / n_fm)
        grids = ["x".join(map(str, r.details["kpoints"])) for r in (r_fm, r_other)]
        moments = [" ".join(f"{m:+.2f}" for m in r.magmoms) for r in (r_fm, r_other)]
        print(
            f"| {density:g} | {grids[0]} | {grids[1]} | {gap:+.2f} | {moments[0]} | {moments[1]} | "
            f"{time.perf_counter() - start:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
