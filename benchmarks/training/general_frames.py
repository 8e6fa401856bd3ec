"""Training frames of the general model from the reference dataset: moments in the model's convention.

Reads every ``reference/dataset/*.extxyz`` (GPAW, one file per compound: orderings, strained and
rattled copies; ``magscreen dataset export``) and writes ``configs/train/data/general_frames.extxyz``
with

- only converged frames (info ``converged``);
- every moment of an element of ``LENGTHS`` set to that element's length with the DFT moment's
  sign, where the DFT moment is at least a quarter of it (smaller ones, collapsed or induced, and
  the moments of every other element set to 0). The lengths are the campaigns' starting moments
  (configs/demo.yaml; Cu from the orderings' default table), where campaigns evaluate the model:
  GPAW's moments differ between orderings by a few percent, and left as they are the fit reads the
  ordering energies as slopes in the moment length (the reason of
  scripts/reference/ladder_training_frames.py, which does the same for the monoxide ladders);
- energies, forces, stress, cells, positions and the info keys (``energy_group``, ``compound``,
  ``ordering``, ``kind``) unchanged; an energy group that collides with one of the monoxide ladders'
  is renamed ``<group>/dataset`` (different DFT settings never share an offset).

Usage::

    python benchmarks/training/general_frames.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase.io import read, write

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "reference" / "dataset"
TARGET = ROOT / "configs" / "train" / "data" / "general_frames.extxyz"
LADDERS = ROOT / "configs" / "train" / "data" / "monoxide_ladders.extxyz"
#: Moment length per element (mu_B): configs/demo.yaml's starting moments (Ni at the DeltaSpin
#: constrained length), Cu from magscreen.magnetism.sites.DEFAULT_MOMENTS.
LENGTHS = {"Cr": 2.5, "Mn": 4.5, "Fe": 3.5, "Co": 2.6, "Ni": 1.2737, "Cu": 1.73}
#: A DFT moment below this fraction of the element's length counts as no moment.
THRESHOLD = 0.25


def training_moments(symbols: np.ndarray, moments: np.ndarray) -> np.ndarray:
    """Collinear DFT moments (N,) -> the model's convention (one length per element, sign kept)."""
    out = np.zeros(len(symbols))
    for element, length in LENGTHS.items():
        chosen = (symbols == element) & (np.abs(moments) >= THRESHOLD * length)
        out[chosen] = np.sign(moments[chosen]) * length
    return out


def convert(sources: list[Path], target: Path) -> tuple[int, int, list[str]]:
    """Write the converted frames; return (frames written, frames skipped unconverged, compounds)."""
    taken = {str(a.info["energy_group"]) for a in read(LADDERS, index=":", format="extxyz")}
    images, skipped = [], 0
    for source in sources:
        for atoms in read(source, index=":", format="extxyz"):
            if not bool(atoms.info.get("converged", True)):
                skipped += 1
                continue
            results = atoms.calc.results if atoms.calc is not None else {}
            if "magmoms" not in results and "magmoms" not in atoms.arrays:
                raise ValueError(f"{source}: a frame without DFT moments ('magmoms')")
            dft = np.asarray(results.get("magmoms", atoms.arrays.get("magmoms")), dtype=float)
            if dft.ndim != 1:
                raise ValueError(f"{source}: non-collinear moments; this converter takes collinear frames")
            labels = {key: results[key] for key in ("energy", "forces", "stress") if key in results}
            atoms.calc = None
            atoms.info["energy"] = float(labels["energy"])
            if "forces" in labels:
                atoms.arrays["forces"] = np.asarray(labels["forces"], dtype=float)
            if "stress" in labels:
                atoms.info["stress"] = np.asarray(labels["stress"], dtype=float)
            atoms.arrays["magmoms"] = training_moments(np.array(atoms.get_chemical_symbols()), dft)
            atoms.arrays.pop("initial_magmoms", None)
            group = str(atoms.info["energy_group"])
            atoms.info["energy_group"] = f"{group}/dataset" if group in taken else group
            atoms.info["moment_convention"] = "DFT sign; " + " ".join(
                f"{e}={v:g}" for e, v in LENGTHS.items()
            )
            images.append(atoms)
    target.parent.mkdir(parents=True, exist_ok=True)
    write(target, images, format="extxyz")
    return len(images), skipped, sorted({str(a.info.get("compound")) for a in images})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="folder of <compound>.extxyz files")
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    sources = sorted(args.source.glob("*.extxyz"))
    if not sources:
        raise SystemExit(f"no .extxyz files in {args.source}")
    written, skipped, compounds = convert(sources, args.target)
    print(f"{written} frames of {len(compounds)} compounds -> {args.target} ({skipped} unconverged skipped)")
    print(" ".join(compounds))


if __name__ == "__main__":
    main()
