"""How a trained model ranks the orderings of the rocksalt monoxides, against GPAW, off the lattice.

For each compound: the FM, AFM-I and AFM-II cells of configs/demo.yaml's enumeration, moments at
the demo's lengths, isotropically strained by each ``--scales`` factor; the model's energy per metal
atom relative to AFM-II (meV), beside GPAW's where ``magscreen/data/reference/monoxide_orderings.extxyz``
has that compound at that lattice constant. Then what the frames cannot pin down:

- magnetic energy per metal atom of AFM-II (model energy minus the energy at m = 0, meV) along the
  strain: a model that learned orderings from one lattice can still let it run away off it;
- canting: one moment of a 2x2x2 AFM-II supercell turned by 30 and 90 degrees (meV per cell);
- rattled 2x2x2 AFM-II supercells: forces minus zero-shot SevenNet-0's (MAE, meV/A).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/training/monoxide_check.py magscreen/potential/weights/monoxides.pt \
        --json benchmarks/training/monoxide_check.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml
from ase import Atoms
from ase.io import read
from pymatgen.core import Lattice, Structure

from magscreen.magnetism import enumerate_collinear
from magscreen.potential import MagneticPotential
from magscreen.potential.graph import graph_from_atoms

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.yaml"
GPAW_LADDERS = ROOT / "magscreen" / "data" / "reference" / "monoxide_orderings.extxyz"
#: Reference rocksalt constants (Angstrom): NiO at the DeltaSpin cell, the others experimental,
#: as in scripts/reference/monoxide_orderings.py.
LATTICE = {"NiO": 4.1857, "MnO": 4.445, "FeO": 4.332, "CoO": 4.260}
LABELS = ("FM", "AFM-I", "AFM-II")


def orderings(compound: str, a: float, moments: dict[str, float]) -> dict[str, Atoms]:
    """FM, AFM-I, AFM-II cells of the rocksalt ``compound`` at lattice constant ``a`` (Angstrom)."""
    structure = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), [compound[:-1], "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    result = enumerate_collinear(
        structure, max_magnetic_atoms=2, max_orderings=3, moments=moments, source=DEMO
    )
    return {o.label: o.to_atoms() for o in result.orderings}


def evaluate(model: MagneticPotential, atoms: Atoms, moments: np.ndarray | None = None, forces: bool = False):
    """Energy (eV), magnetic energy (eV) and, if asked, forces (eV/A) of ``atoms``."""
    graph = graph_from_atoms(atoms, model.cutoff, moments, model.dtype)  # moments: initial ones by default
    out = model(graph, compute_forces=forces, compute_magnetic_forces=False)
    result = [float(out["energy"][0].detach()), float(out["magnetic_energy"][0].detach())]
    return (*result, out["forces"].detach().numpy()) if forces else tuple(result)


def gpaw_ladders() -> dict[tuple[str, float], dict[str, float]]:
    """(compound, scale) -> ordering -> E - E(AFM-II) per metal atom (meV) from the GPAW frames."""
    energies: dict[tuple[str, float], dict[str, float]] = {}
    for frame in read(GPAW_LADDERS, index=":", format="extxyz"):
        compound = frame.info["compound"]
        group = str(frame.info["energy_group"])
        scale = float(group.split("@")[1]) if "@" in group else 1.0
        metals = sum(s != "O" for s in frame.get_chemical_symbols())
        energies.setdefault((compound, scale), {})[frame.info["ordering"]] = (
            frame.get_potential_energy() / metals
        )
    return {
        key: {label: 1e3 * (e - values["AFM-II"]) for label, e in values.items()}
        for key, values in energies.items()
        if "AFM-II" in values
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--compounds", nargs="+", default=["NiO", "MnO", "CoO", "FeO"])
    parser.add_argument("--scales", nargs="+", type=float, default=[0.96, 0.98, 1.0, 1.02, 1.04])
    parser.add_argument("--sigmas", nargs="+", type=float, default=[0.02, 0.05, 0.1])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    model = MagneticPotential.load(args.checkpoint)
    reference = MagneticPotential.from_sevennet().to(model.dtype)
    moments = yaml.safe_load(DEMO.read_text())["orderings"]["moments"]
    dft = gpaw_ladders()
    rng = np.random.default_rng(0)
    report: dict[str, dict] = {}
    for compound in args.compounds:
        rows = []
        for scale in args.scales:
            cells = orderings(compound, LATTICE[compound] * scale, moments)
            per_metal = {
                label: evaluate(model, atoms)[0] / sum(s != "O" for s in atoms.get_chemical_symbols())
                for label, atoms in cells.items()
            }
            _, magnetic = evaluate(model, cells["AFM-II"])
            row = {
                "scale": scale,
                "model": {k: 1e3 * (v - per_metal["AFM-II"]) for k, v in per_metal.items()},
                "gpaw": dft.get((compound, scale)),
                "magnetic_energy_afm2_meV_per_metal": 1e3 * magnetic / 2,
            }
            rows.append(row)
            gpaw = row["gpaw"] or {}
            print(
                f"{compound} x{scale:.2f}: "
                + ", ".join(
                    f"{label} {row['model'][label]:+7.1f}"
                    + (f" (GPAW {gpaw[label]:+.1f})" if label in gpaw else "")
                    for label in ("FM", "AFM-I")
                )
                + f"; E_mag(AFM-II) {row['magnetic_energy_afm2_meV_per_metal']:+.0f}"
                " meV/metal",
                flush=True,
            )
        supercell = orderings(compound, LATTICE[compound], moments)["AFM-II"].repeat((2, 2, 2))
        base = np.zeros((len(supercell), 3))
        base[:, 2] = supercell.get_initial_magnetic_moments()
        canting = {}
        metal = next(i for i, s in enumerate(supercell.get_chemical_symbols()) if s != "O")
        for degrees in (30.0, 90.0):
            turned = base.copy()
            length = abs(base[metal, 2])
            angle = np.radians(degrees)
            turned[metal] = np.sign(base[metal, 2]) * length * np.array([np.sin(angle), 0.0, np.cos(angle)])
            canting[degrees] = 1e3 * (
                evaluate(model, supercell, turned)[0] - evaluate(model, supercell, base)[0]
            )
        rattled = {}
        for sigma in args.sigmas:
            atoms = supercell.copy()
            atoms.positions += rng.normal(scale=sigma, size=atoms.positions.shape)
            difference = evaluate(model, atoms, forces=True)[2] - evaluate(reference, atoms, forces=True)[2]
            rattled[sigma] = 1e3 * float(np.abs(difference).mean())
        print(
            f"{compound}: one moment of {len(supercell)} atoms turned 30/90 deg: "
            f"{canting[30.0]:+.1f} / {canting[90.0]:+.1f} meV; rattled forces - SevenNet-0 MAE "
            + ", ".join(f"{v:.1f} (sigma {k})" for k, v in rattled.items())
            + " meV/A",
            flush=True,
        )
        report[compound] = {"ladder": rows, "canting_meV": canting, "rattled_force_mae_meV_per_A": rattled}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
