"""Validation table on NiO data_2 (trained on data_0 + data_1): model, baselines, zero-shot SevenNet-0.

Rows:
- Heisenberg + Landau (baseline a), fitted here by least squares (magscreen.training.baselines);
- SevenNet-0 zero-shot, with only its per-element reference energies refitted on the training set
  (moments ignored: the magnetic blocks start at zero);
- every run folder given with --run (its metrics.json, e.g. the shipped model and baseline b).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/training/nio_validation_table.py \
        --run "MagneticPotential (monoxides.pt)=benchmarks/training/runs/monoxides" \
        --run "zero moments (baseline b)=benchmarks/training/runs/nio-zero-moments" \
        --json benchmarks/training/nio_validation_table.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from magscreen.potential import MagneticPotential
from magscreen.training.baselines import HeisenbergLandauModel
from magscreen.training.data import read_deepmd_spin
from magscreen.training.metrics import UNITS, evaluate
from magscreen.training.trainer import fit_reference_energies

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nio_deltaspin"


def heisenberg_row(train, validation) -> tuple[dict, dict]:
    model = HeisenbergLandauModel.fit(train)
    return evaluate(model.predict, validation), model.as_dict()


def sevennet_zero_shot_row(train, validation) -> dict:
    model = MagneticPotential.from_sevennet()

    def predict(frame):
        graph = frame.graph(model.cutoff, model.dtype)
        out = model(graph, compute_forces=True)
        return (
            float(out["energy"][0]),
            out["forces"].detach().numpy(),
            out["magnetic_forces"].detach().numpy(),
        )

    with torch.no_grad():
        energies = np.array(
            [
                float(
                    model(
                        f.graph(model.cutoff, model.dtype),
                        compute_forces=False,
                        compute_magnetic_forces=False,
                    )["energy"][0]
                )
                for f in train
            ]
        )
    shifts, _ = fit_reference_energies(train, energies)

    def shifted(frame):
        energy, forces, field = predict(frame)
        return energy + sum(shifts[s] for s in frame.to_atoms().get_chemical_symbols()), forces, field

    return evaluate(shifted, validation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", default=[], help="LABEL=RUN_FOLDER with a metrics.json")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--no-zero-shot", action="store_true", help="skip the SevenNet-0 zero-shot row")
    args = parser.parse_args()
    train = read_deepmd_spin(DATA / "data_0") + read_deepmd_spin(DATA / "data_1")
    validation = read_deepmd_spin(DATA / "data_2")
    rows = {}
    rows["Heisenberg + Landau (baseline a)"], parameters = heisenberg_row(train, validation)
    print("Heisenberg + Landau parameters (eV, mu_B):", json.dumps(parameters))
    if not args.no_zero_shot:
        rows["SevenNet-0 zero-shot, refitted references"] = sevennet_zero_shot_row(train, validation)
    for spec in args.run:
        label, folder = spec.split("=", 1)
        rows[label] = json.loads((Path(folder) / "metrics.json").read_text())["validation"]
    names = list(UNITS)
    print("| model | " + " | ".join(f"MAE {n} ({UNITS[n]})" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for label, values in rows.items():
        print(
            f"| {label} | "
            + " | ".join(f"{values[n]['mae']:.3g}" if n in values else "" for n in names)
            + " |"
        )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "heisenberg_parameters": parameters}, indent=1))


if __name__ == "__main__":
    main()
