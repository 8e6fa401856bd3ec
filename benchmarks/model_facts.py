"""The numbers docs/model.md quotes about the network itself: weight counts and SevenNet-0's inversion error.

Prints, as JSON (``--json`` also writes it to a file):

- the SevenNet-0 backbone: elements, cutoff (Angstrom), weights, whether its features have parity;
- weights of fresh magnetic blocks (default hyperparameters) with soc off and on, and of the shipped
  model's blocks (four element heads);
- readout weights of the least-squares solve (the last layer of every magnetic head) of the shipped
  model, and of the same blocks with one shared head;
- inversion: E(-R) - E(R) of a rattled 8-atom NiO cell (rocksalt, a = 4.17 Angstrom, conventional cell,
  ASE ``rattle(0.2, seed)`` for seeds 0, 1, 2) with the pretrained backbone alone (fresh magnetic
  blocks are zero, so the model is SevenNet-0) in float64, against a proper rotation of the same
  crystal.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/model_facts.py --json benchmarks/results/model_facts.json
"""

from __future__ import annotations

import argparse
import json
import warnings
from dataclasses import replace


def _count(parameters) -> int:
    return int(sum(p.numel() for p in parameters))


def _inversion_meV(seeds: tuple[int, ...] = (0, 1, 2)) -> dict[str, list[float]]:
    """E(inverted) - E and E(rotated) - E (meV) of rattled NiO cells with the pretrained backbone."""
    from ase.build import bulk
    from scipy.spatial.transform import Rotation

    from magscreen.potential import MagneticCalculator, MagneticPotential

    calculator = MagneticCalculator(MagneticPotential.from_sevennet(soc=False).double())
    rotation = Rotation.from_euler("zyx", [0.3, -0.7, 1.1]).as_matrix()

    def energy(atoms) -> float:
        atoms.calc = calculator
        return float(atoms.get_potential_energy())

    inverted, rotated = [], []
    for seed in seeds:
        atoms = bulk("NiO", "rocksalt", a=4.17, cubic=True)
        atoms.rattle(0.2, seed=seed)
        base = energy(atoms.copy())
        mirror = atoms.copy()
        mirror.set_cell(-atoms.cell[:], scale_atoms=False)
        mirror.positions = -atoms.positions
        turned = atoms.copy()
        turned.set_cell(atoms.cell[:] @ rotation.T, scale_atoms=False)
        turned.positions = atoms.positions @ rotation.T
        inverted.append(1e3 * (energy(mirror) - base))
        rotated.append(1e3 * (energy(turned) - base))
    return {
        "seeds": list(seeds),
        "inverted_minus_original_meV": inverted,
        "rotated_minus_original_meV": rotated,
    }


def model_facts() -> dict:
    """Weight counts and the inversion error (see the module docstring)."""
    from magscreen.potential import MagneticPotential
    from magscreen.potential.calculator import SHIPPED_MODELS_DIR
    from magscreen.potential.magnetic import MagneticEnergy

    fresh = {soc: MagneticPotential.from_sevennet(soc=soc) for soc in (False, True)}
    backbone = fresh[False].backbone
    shipped = MagneticPotential.load(SHIPPED_MODELS_DIR / "monoxides.pt")
    shared = replace(shipped.hyper, element_heads=())
    shared_blocks = MagneticEnergy(backbone.feature_dim, backbone.cutoff, shipped.soc, shared)

    def readout(blocks: MagneticEnergy) -> int:  # weights and biases of the last layer of every head
        return _count(p for layer in blocks.output_layers() for p in (layer.weight, layer.bias))

    return {
        "sevennet0": {
            "elements": len(backbone.species),
            "cutoff_A": backbone.cutoff,
            "weights": _count(backbone.parameters()),
            "is_parity": bool(backbone.is_parity),
        },
        "magnetic_weights": {
            "fresh_soc_off": _count(fresh[False].magnetic_parameters()),
            "fresh_soc_on": _count(fresh[True].magnetic_parameters()),
            "shipped_monoxides": _count(shipped.magnetic_parameters()),
            "shipped_element_heads": list(shipped.hyper.element_heads),
        },
        "readout_weights": {
            "shipped_monoxides": readout(shipped.magnetic),
            "one_shared_head": readout(shared_blocks),
        },
        "inversion": _inversion_meV(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", help="also write the facts to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    facts = model_facts()
    text = json.dumps(facts, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
