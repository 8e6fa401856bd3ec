"""Does fine-tuning on NiO (atoms barely move) erase what SevenNet-0 knows about distorted lattices?

Rattles a data_2 NiO cell (Gaussian displacements of standard deviation sigma, fixed seed), and
compares the forces of a fine-tuned model with those of zero-shot SevenNet-0 (the untouched
backbone; its magnetic blocks start at zero). Prints, per sigma, the RMS force of SevenNet-0 and
the MAE / RMS of the difference (meV/A).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/training/rattled_nio.py magscreen/potential/weights/monoxides.pt \
        --json benchmarks/training/rattled_nio.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from magscreen.potential import MagneticPotential
from magscreen.training.data import read_deepmd_spin

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nio_deltaspin"


def forces(model: MagneticPotential, frame, positions: np.ndarray) -> np.ndarray:
    graph = replace(frame, positions=positions).graph(model.cutoff, model.dtype)
    return model(graph, compute_forces=True, compute_magnetic_forces=False)["forces"].detach().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    parser.add_argument("--samples", type=int, default=3, help="rattled cells per sigma")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    tuned = MagneticPotential.load(args.checkpoint)
    reference = MagneticPotential.from_sevennet().to(tuned.dtype)
    frame = read_deepmd_spin(DATA / "data_2")[0]
    rng = np.random.default_rng(0)
    rows = []
    for sigma in [0.0, *args.sigmas]:
        differences, magnitudes = [], []
        for _ in range(args.samples if sigma > 0 else 1):
            positions = frame.positions + rng.normal(scale=sigma, size=frame.positions.shape)
            f_ref = forces(reference, frame, positions)
            differences.append((forces(tuned, frame, positions) - f_ref).ravel())
            magnitudes.append(f_ref.ravel())
        d, m = 1e3 * np.concatenate(differences), 1e3 * np.concatenate(magnitudes)
        row = {
            "sigma_A": sigma,
            "rms_force_sevennet0": float(np.sqrt((m**2).mean())),
            "mae_difference": float(np.abs(d).mean()),
            "rms_difference": float(np.sqrt((d**2).mean())),
        }
        rows.append(row)
        print(
            f"sigma {sigma:.2f} A: RMS force (SevenNet-0) {row['rms_force_sevennet0']:.1f} meV/A, "
            f"fine-tuned - SevenNet-0: MAE {row['mae_difference']:.2f}, RMS {row['rms_difference']:.2f} meV/A"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
