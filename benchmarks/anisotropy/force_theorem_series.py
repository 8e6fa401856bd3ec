"""GPAW force-theorem anisotropy series: one collinear SCF, SOC band energies on many directions.

Each run (compound, k-point density) writes ``runs/<compound>-k<density>.json`` with the band
energy (eV per cell) for every magnetisation direction, the moments, the k-grid and the wall
time; finished runs are skipped, so the series resumes after a kill. The SOC step is GPAW's
``soc_eigenstates`` (magnetic force theorem). Directions are Cartesian (theta, phi) in degrees:
the a-c plane (phi = 0) every 15 degrees, the basal [110] and [010] directions and the cubic
[111]; the cells below have c along z and a along x.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/anisotropy/force_theorem_series.py \
        FePt:3,4.5,6,8 CoPt:6 Co-hcp:6,8 Co-hcp:10@0.01 > benchmarks/anisotropy/runs/series.log 2>&1 &
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
CANDIDATES = HERE.parents[1] / "configs" / "candidates"
WORK = Path("/tmp/force-theorem-work")

#: (theta, phi) in degrees of the magnetisation directions evaluated after each SCF.
DIRECTIONS: list[tuple[float, float]] = [(t, 0.0) for t in (0, 15, 30, 45, 60, 75, 90)] + [
    (90.0, 45.0),
    (90.0, 90.0),
    (54.7356, 45.0),
    (180.0, 0.0),
]

#: Initial collinear moments (mu_B) per element for the FM start.
START_MOMENTS = {"Fe": 3.0, "Co": 2.0, "Ni": 0.8, "Mn": 4.0, "Cr": 2.5, "Pt": 0.3, "Bi": 0.0, "Y": -0.3}

ECUT_EV = 400.0
SMEARING_EV = 0.02


def build_atoms(compound: str):
    """Atoms of one compound, c along z, a along x."""
    from ase import Atoms
    from ase.build import bulk
    from ase.io import read

    if compound == "Fe-bcc":
        return bulk("Fe", "bcc", a=2.83)
    if compound == "Ni-fcc":
        return bulk("Ni", "fcc", a=3.52)
    if compound == "FeNi-L10":
        return Atoms(
            "FeNi", cell=[2.533, 2.533, 3.582], scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], pbc=True
        )
    if compound == "MnAl-L10":
        return Atoms("MnAl", cell=[2.77, 2.77, 3.57], scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], pbc=True)
    return read(CANDIDATES / f"{compound}.cif")


def run(compound: str, density: float, smearing_eV: float = SMEARING_EV) -> dict:
    """SCF at ``density`` k-points per 1/Angstrom, then the force-theorem band energies."""
    from gpaw import GPAW, PW, FermiDirac
    from gpaw.spinorbit import soc_eigenstates

    from magscreen.validation.gpaw.settings import kpoint_grid

    atoms = build_atoms(compound)
    atoms.set_initial_magnetic_moments([START_MOMENTS.get(s, 0.5) for s in atoms.get_chemical_symbols()])
    grid = kpoint_grid(atoms, density)
    WORK.mkdir(parents=True, exist_ok=True)
    tag = f"{compound}-k{density:g}"
    start = time.perf_counter()
    atoms.calc = GPAW(
        mode=PW(ECUT_EV),
        xc="PBE",
        kpts={"size": grid, "gamma": True},
        occupations=FermiDirac(smearing_eV),
        convergence={"energy": 1e-6},
        txt=str(WORK / f"{tag}.txt"),
    )
    energy = atoms.get_potential_energy()
    scf_s = time.perf_counter() - start
    moments = atoms.get_magnetic_moments().tolist()
    band = []
    for theta, phi in DIRECTIONS:
        band.append(soc_eigenstates(atoms.calc, theta=theta, phi=phi).calculate_band_energy())
    return {
        "compound": compound,
        "formula": atoms.get_chemical_formula(),
        "kpoint_density": density,
        "kpoint_grid": grid,
        "ecut_eV": ECUT_EV,
        "smearing_eV": smearing_eV,
        "xc": "PBE",
        "natoms": len(atoms),
        "symbols": atoms.get_chemical_symbols(),
        "cell": atoms.cell.array.tolist(),
        "positions": atoms.positions.tolist(),
        "volume_A3": float(atoms.get_volume()),
        "energy_eV": float(energy),
        "magnetic_moments": moments,
        "directions_theta_phi_deg": [list(d) for d in DIRECTIONS],
        "band_energies_eV": [float(e) for e in band],
        "relative_ueV_per_atom": [float(v) for v in (np.array(band) - band[0]) / len(atoms) * 1e6],
        "scf_s": scf_s,
        "wall_s": time.perf_counter() - start,
    }


def main(argv: list[str]) -> None:
    """Run ``COMPOUND:d1,d2,...[@smearing_eV]`` arguments in order, skipping finished runs.

    The smearing (default ``SMEARING_EV``) is recorded in the run, not in its file name.
    """
    RUNS.mkdir(parents=True, exist_ok=True)
    for arg in argv:
        compound, densities = arg.split(":")
        densities, _, smearing = densities.partition("@")
        for density in (float(d) for d in densities.split(",")):
            out = RUNS / f"{compound}-k{density:g}.json"
            if out.exists():
                print(f"skip {out.name}", flush=True)
                continue
            print(f"{time.strftime('%H:%M:%S')} start {compound} k={density:g}", flush=True)
            record = run(compound, density, float(smearing) if smearing else SMEARING_EV)
            out.write_text(json.dumps(record, indent=1))
            rel = record["relative_ueV_per_atom"]
            print(
                f"{time.strftime('%H:%M:%S')} done {compound} k={density:g} grid={record['kpoint_grid']} "
                f"E[100]-E[001]={rel[6]:.1f} ueV/atom wall={record['wall_s']:.0f}s",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
