"""Are the DeltaSpin NiO energies and magnetic forces those of one energy surface?

All 151 frames of ``shared/data/nio_deltaspin`` share one structure; only the Ni moment directions
differ (lengths 1.273-1.282 mu_B). Between two frames a and b every moment turns along its great
circle, and for a conservative model

    E_b - E_a = -integral H . dm  ~  -sum_i |m_i| theta_i (H_a,i . t_a,i + H_b,i . t_b,i) / 2

(trapezoid rule along the simultaneous rotation; t the unit tangents at both ends, so only the
field across the moment enters). For the pairs of frames closest in moment space (total rotation
below 45 degrees) the slope k of a least-squares fit ``dE = k * trapezoid`` is measured for the
DFT labels and, as a control of the quadrature, for the energies and fields of a trained
(conservative) model on the same frames. A label set that is one energy surface gives the control's
k; a larger k means the labelled energy differences are larger than the labelled torques integrate to.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/training/deltaspin_consistency.py \\
        --model magscreen/potential/weights/general.pt --json benchmarks/training/deltaspin_consistency.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from magscreen.potential import MagneticPotential
from magscreen.training.data import Frame, read_deepmd_spin

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "nio_deltaspin"
MAX_ROTATION_DEG = 45.0


def rotation_pairs(moments: np.ndarray, energies: np.ndarray, fields: np.ndarray) -> np.ndarray:
    """Rows (total rotation in rad, E_b - E_a, geodesic trapezoid of the fields) for every pair of
    frames; moments and fields (frames, atoms, 3) of the magnetic atoms, energies (frames,) in eV."""
    lengths = np.linalg.norm(moments, axis=-1)
    unit = moments / lengths[..., None]
    rows = []
    for a in range(len(energies)):
        for b in range(a + 1, len(energies)):
            cosine = np.clip((unit[a] * unit[b]).sum(-1), -1.0, 1.0)
            angle = np.arccos(cosine)
            start = unit[b] - cosine[:, None] * unit[a]
            end = cosine[:, None] * unit[b] - unit[a]
            norm_start = np.linalg.norm(start, axis=-1, keepdims=True)
            norm_end = np.linalg.norm(end, axis=-1, keepdims=True)
            start = np.divide(start, norm_start, out=np.zeros_like(start), where=norm_start > 1e-12)
            end = np.divide(end, norm_end, out=np.zeros_like(end), where=norm_end > 1e-12)
            work = (fields[a] * start).sum(-1) + (fields[b] * end).sum(-1)
            trapezoid = -(0.5 * (lengths[a] + lengths[b]) * angle * 0.5 * work).sum()
            rows.append((np.sqrt((angle**2).sum()), energies[b] - energies[a], trapezoid))
    return np.array(rows)


def slope(rows: np.ndarray) -> dict:
    """Least-squares k of dE = k * trapezoid over pairs rotated by less than MAX_ROTATION_DEG."""
    close = np.degrees(rows[:, 0]) < MAX_ROTATION_DEG
    difference, trapezoid = rows[close, 1], rows[close, 2]
    k = float(difference @ trapezoid / (trapezoid @ trapezoid))
    return {
        "pairs": int(close.sum()),
        "k": k,
        "mae_dE_minus_trapezoid_meV": float(1e3 * np.abs(difference - trapezoid).mean()),
        "mae_dE_meV": float(1e3 * np.abs(difference).mean()),
    }


def model_labels(model: MagneticPotential, frames: list[Frame]) -> tuple[np.ndarray, np.ndarray]:
    """The model's energies (eV) and magnetic forces (eV/mu_B) on ``frames``."""
    energies, fields = [], []
    for frame in frames:
        out = model(frame.graph(model.cutoff, model.dtype), compute_forces=False)
        energies.append(float(out["energy"][0].detach()))
        fields.append(out["magnetic_forces"].detach().numpy())
    return np.array(energies), np.array(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a trained model (.pt), the control")
    parser.add_argument("--json", type=Path, help="where to write the result")
    args = parser.parse_args()
    frames = [f for part in ("data_0", "data_1", "data_2") for f in read_deepmd_spin(DATA / part)]
    magnetic = np.linalg.norm(frames[0].moments, axis=1) > 0
    moments = np.array([f.moments for f in frames])[:, magnetic]
    model = MagneticPotential.load(args.model).double()
    model_energies, model_fields = model_labels(model, frames)
    result = {
        "frames": len(frames),
        "max_rotation_deg": MAX_ROTATION_DEG,
        "dft_labels": slope(
            rotation_pairs(
                moments,
                np.array([f.energy for f in frames]),
                np.array([f.magnetic_forces for f in frames])[:, magnetic],
            )
        ),
        "model": {
            "path": str(args.model),
            **slope(rotation_pairs(moments, model_energies, model_fields[:, magnetic])),
        },
    }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
