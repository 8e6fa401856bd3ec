"""GPAW's analytic plane-wave stress against a finite difference of the energy (MnO FM, 2 atoms).

The cell of the dataset's MnO FM frame is scaled by 0.995 and 1.005 at a fixed 5x5x5 grid; the
isotropic stress dE/d(ln s) / (3 V) is compared with ``get_stress()`` at s = 1. Behind the
"Stress" paragraph of docs/reference.md ("Training settings"):

    OMP_NUM_THREADS=1 python benchmarks/reference/gpaw_stress_check.py --ecut 450 --no-u
    OMP_NUM_THREADS=1 python benchmarks/reference/gpaw_stress_check.py --ecut 800 --no-u
    OMP_NUM_THREADS=1 python benchmarks/reference/gpaw_stress_check.py --ecut 450
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from magscreen.dataset.kinds import FRAME_KINDS
from magscreen.dataset.plan import cached_ladder
from magscreen.dataset.settings import load_dataset_config
from magscreen.validation.gpaw.calculation import gpaw_calculator
from magscreen.validation.gpaw.settings import GPAWSettings

REPO = Path(__file__).resolve().parents[2]
STEP = 0.005


def main() -> None:
    """Print the analytic and the finite-difference isotropic stress (eV/A^3)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ecut", type=float, default=450.0)
    parser.add_argument("--no-u", action="store_true", help="plain PBE instead of PBE+U")
    args = parser.parse_args()
    config_path = REPO / "configs" / "dataset" / "reference.yaml"
    config = load_dataset_config(config_path)
    spec = next(c for c in config.compounds if c.name == "MnO")
    frame = next(
        f
        for f in FRAME_KINDS["ordering"].plan(cached_ladder(spec, config, config_path), config)
        if f.ordering == "FM"
    )
    settings = GPAWSettings(
        ecut_eV=args.ecut,
        kpoint_density=2.0,
        smearing_eV=0.05,
        hubbard=None if args.no_u else "mp",
        extra={"kpts": {"size": [5, 5, 5], "gamma": True}},
    )
    energies, analytic = {}, None
    for scale in (1.0 - STEP, 1.0, 1.0 + STEP):
        atoms = frame.atoms.copy()
        atoms.set_cell(frame.atoms.cell * scale, scale_atoms=True)
        atoms.calc = gpaw_calculator(atoms, settings, txt=None)
        energies[scale] = atoms.get_potential_energy()
        if scale == 1.0:
            analytic = float(np.mean(atoms.get_stress()[:3]))
    slope = (energies[1.0 + STEP] - energies[1.0 - STEP]) / (np.log(1.0 + STEP) - np.log(1.0 - STEP))
    finite = slope / (3.0 * frame.atoms.get_volume())
    print(
        f"MnO FM, {args.ecut:g} eV, {'PBE' if args.no_u else 'PBE+U'}: analytic {analytic:+.4f} eV/A^3, "
        f"finite difference {finite:+.4f} eV/A^3"
    )


if __name__ == "__main__":
    main()
