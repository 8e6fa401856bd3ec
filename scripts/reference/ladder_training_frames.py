"""Training frames from the GPAW ordering ladders: moments in the model's convention.

Reads ``magscreen/data/reference/monoxide_orderings.extxyz`` (GPAW PBE+U, one frame per compound
and ordering, see the .md beside it) and writes ``configs/train/data/monoxide_ladders.extxyz`` with

- moments on the oxygen atoms set to zero (GPAW's small induced O moments; the model, like the
  DeltaSpin data, carries moments on the metal atoms only);
- the Ni moments scaled to ``--ni-length`` (default 1.2737 mu_B, the constrained length of the
  DeltaSpin NiO frames), keeping their signs: the two codes integrate moments over different
  spheres (GPAW's PAW sphere gives 1.75-1.82 mu_B), and the model must see one NiO moment length,
  the one its magnetic forces were measured at. Mn, Fe and Co keep GPAW's lengths (no other data);
- energies, cells, positions and ``energy_group`` (= compound) unchanged: training fits each group
  its own energy offset, so only the energy differences between orderings enter;
- only ``--compounds`` (default NiO). MnO and CoO are left out of the shipped model: three and two
  collinear frames at one lattice are too few for new elements; fitted exactly, they left the
  magnetic energy of Mn and Co swinging by eV under a 1 % strain and unbounded for canted spins
  (docs/model.md);
- left out: ``--exclude`` frames (default CoO AFM-I, whose SCF from a distorted start converged to
  a higher orbital state: gap 1.5 eV against 3.0 eV in AFM-II, +279 meV/Co, J1 = -25 meV, see the
  .md beside the source) and groups with fewer than two frames, which carry no energy difference
  (FeO: only FM finished).

Run:

    python scripts/reference/ladder_training_frames.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase.io import read, write

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "magscreen/data/reference/monoxide_orderings.extxyz"
TARGET = ROOT / "configs/train/data/monoxide_ladders.extxyz"
DELTASPIN_NI_LENGTH = 1.2737  # mu_B, |m| of every Ni in ../shared/data/nio_deltaspin


def convert(source: Path, target: Path, ni_length: float, compounds: list[str], exclude: list[str]) -> int:
    """Write the converted frames; return how many."""
    images = [
        atoms
        for atoms in read(source, index=":", format="extxyz")
        if atoms.info["energy_group"] in compounds
        and f"{atoms.info['energy_group']}:{atoms.info['ordering']}" not in exclude
    ]
    groups = [atoms.info["energy_group"] for atoms in images]
    images = [atoms for atoms, group in zip(images, groups, strict=True) if groups.count(group) > 1]
    for atoms in images:
        moments = np.asarray(atoms.get_magnetic_moments(), dtype=float).copy()
        symbols = np.array(atoms.get_chemical_symbols())
        moments[symbols == "O"] = 0.0
        nickel = symbols == "Ni"
        moments[nickel] = np.sign(moments[nickel]) * ni_length
        atoms.info["energy"] = atoms.get_potential_energy()
        atoms.calc = None
        atoms.arrays["magmoms"] = moments
        atoms.info["moment_convention"] = f"O zeroed; Ni scaled to {ni_length} mu_B; others GPAW"
    target.parent.mkdir(parents=True, exist_ok=True)
    write(target, images, format="extxyz")
    return len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    parser.add_argument("--ni-length", type=float, default=DELTASPIN_NI_LENGTH, help="Ni moment (mu_B)")
    parser.add_argument("--compounds", nargs="+", default=["NiO"], help="energy groups to keep")
    parser.add_argument(
        "--exclude", nargs="*", default=["CoO:AFM-I"], help="COMPOUND:ORDERING frames to leave out"
    )
    args = parser.parse_args()
    count = convert(args.source, args.target, args.ni_length, args.compounds, args.exclude)
    print(f"wrote {count} frames to {args.target}")


if __name__ == "__main__":
    main()
