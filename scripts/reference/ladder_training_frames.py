"""Training frames from the GPAW ordering ladders: moments in the model's convention.

Reads ``magscreen/data/reference/monoxide_orderings.extxyz`` (GPAW PBE+U, one frame per compound,
lattice constant and ordering, see the .md beside it) and writes
``configs/train/data/monoxide_ladders.extxyz`` with

- moments on the oxygen atoms set to zero (GPAW's small induced O moments; the model, like the
  DeltaSpin data, carries moments on the metal atoms only);
- every metal moment set to one length per element (``--lengths``), keeping its sign: Ni at
  1.2737 mu_B, the constrained length of the DeltaSpin NiO frames, the others at the demo
  campaign's starting moments (configs/demo.yaml), where campaigns evaluate the model. GPAW
  integrates moments over its PAW sphere (Ni 1.75-1.82 mu_B) and its lengths differ between
  orderings by ~1 %; left as they are, the fit reads the ordering energies as a steep dependence
  on the length (an energy difference over a length difference of 0.05 mu_B) and the model's
  energy runs away when a length changes;
- energies, cells, positions and ``energy_group`` (the compound at one lattice constant)
  unchanged: training fits each group its own energy offset, so only the energy differences
  between orderings at one lattice constant enter;
- only ``--compounds`` (default NiO, MnO, CoO; FeO's antiferromagnetic SCFs did not converge);
- left out: ``--exclude`` frames and groups (default: CoO at 0.98 a, whose AFM-II SCF landed in a
  higher orbital state than the others: FM 70 meV/Co *below* AFM-II there, against 76 and 64 meV
  above it at a and 1.02 a, so its differences are orbital, not magnetic, energies; see the .md
  beside the source) and groups with fewer than two frames, which carry no energy difference.

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
#: Moment length per element (mu_B): Ni of every frame in ../shared/data/nio_deltaspin, the others
#: configs/demo.yaml's starting moments.
LENGTHS = {"Ni": 1.2737, "Mn": 4.5, "Fe": 3.5, "Co": 2.6}
COMPOUNDS = ["NiO", "MnO", "CoO"]
EXCLUDE = ["CoO@0.98"]


def convert(
    source: Path, target: Path, lengths: dict[str, float], compounds: list[str], exclude: list[str]
) -> int:
    """Write the converted frames; return how many."""
    images = [
        atoms
        for atoms in read(source, index=":", format="extxyz")
        if atoms.info["compound"] in compounds
        and f"{atoms.info['compound']}:{atoms.info['ordering']}" not in exclude
        and atoms.info["energy_group"] not in exclude
    ]
    groups = [atoms.info["energy_group"] for atoms in images]
    images = [atoms for atoms, group in zip(images, groups, strict=True) if groups.count(group) > 1]
    for atoms in images:
        moments = np.asarray(atoms.get_magnetic_moments(), dtype=float).copy()
        symbols = np.array(atoms.get_chemical_symbols())
        moments[symbols == "O"] = 0.0
        for element in set(symbols) - {"O"}:
            if element not in lengths:
                raise ValueError(f"{source}: no moment length for {element}; pass --lengths {element}=...")
            chosen = symbols == element
            moments[chosen] = np.sign(moments[chosen]) * lengths[element]
        atoms.info["energy"] = atoms.get_potential_energy()
        atoms.calc = None
        atoms.arrays["magmoms"] = moments
        atoms.info["moment_convention"] = "O zeroed; metals at " + " ".join(
            f"{e}={v:g}" for e, v in sorted(lengths.items())
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    write(target, images, format="extxyz")
    return len(images)


def _length(text: str) -> tuple[str, float]:
    element, _, value = text.partition("=")
    return element, float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    parser.add_argument(
        "--lengths",
        nargs="*",
        type=_length,
        default=[],
        metavar="ELEMENT=MU_B",
        help=f"override moment lengths (defaults {LENGTHS})",
    )
    parser.add_argument("--compounds", nargs="+", default=COMPOUNDS, help="compounds to keep")
    parser.add_argument(
        "--exclude",
        nargs="*",
        default=EXCLUDE,
        help="COMPOUND:ORDERING frames and energy groups (e.g. CoO@0.98) to leave out",
    )
    args = parser.parse_args()
    lengths = {**LENGTHS, **dict(args.lengths)}
    count = convert(args.source, args.target, lengths, args.compounds, args.exclude)
    print(f"wrote {count} frames to {args.target}")


if __name__ == "__main__":
    main()
