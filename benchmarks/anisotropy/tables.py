"""Markdown tables of docs/anisotropy.md from the force-theorem runs and the spin-orbit fit record.

    python benchmarks/anisotropy/tables.py [--model magscreen/potential/weights/monoxides.pt]

Prints: the k-point convergence series (every run of every compound), the GPAW analysis of each
compound's densest run (easy axis, MAE, K1, K2, Ms, kappa), and ML against GPAW (the shipped
model's prediction in the fitted domain and the leave-one-compound-out prediction of
``benchmarks/training/soc_fit.json``).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
FIT_RECORD = HERE.parent / "training" / "soc_fit.json"


def _structure(record: dict):
    from pymatgen.core import Structure

    return Structure(record["cell"], record["symbols"], record["positions"], coords_are_cartesian=True)


def _analysis(record: dict):
    from magscreen.screening.anisotropy import analyse_anisotropy, directions_from_angles

    angles = np.asarray(record["directions_theta_phi_deg"])
    keep = angles[:, 0] < 179.0
    return analyse_anisotropy(
        _structure(record),
        directions_from_angles(angles[keep]),
        np.asarray(record["band_energies_eV"])[keep],
        record["magnetic_moments"],
        source=record["compound"],
    )


def _runs() -> dict[str, list[dict]]:
    by_compound: dict[str, list[dict]] = {}
    for path in sorted(RUNS.glob("*-k*.json")):
        if re.fullmatch(r".+-k[0-9.]+", path.stem):
            record = json.loads(path.read_text())
            by_compound.setdefault(record["compound"], []).append(record)
    for records in by_compound.values():
        records.sort(key=lambda r: r["kpoint_density"])
    return by_compound


def convergence_table(runs: dict[str, list[dict]]) -> list[str]:
    lines = [
        "| compound | k per 1/A | k-grid | E[100] - E[001] (ueV/atom) | change to previous | "
        "E(-c) - E(c) (ueV/atom, time reversal: 0) | wall (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for compound, records in runs.items():
        previous = None
        for r in records:
            rel = r["relative_ueV_per_atom"]
            mae = rel[6]
            change = "-" if previous is None else f"{100 * (mae - previous) / abs(previous):+.0f}%"
            grid = "x".join(map(str, r["kpoint_grid"]))
            lines.append(
                f"| {compound} | {r['kpoint_density']:g} | {grid} | {mae:+.1f} | {change} | {rel[-1]:+.1f} | "
                f"{r['wall_s']:.0f} |"
            )
            previous = mae
    return lines


def gpaw_table(runs: dict[str, list[dict]]) -> list[str]:
    lines = [
        "| compound | k-grid | form | easy axis | MAE (ueV/atom) | MAE (MJ/m^3) | K1 (MJ/m^3) | "
        "K2 (MJ/m^3) | fit rms (ueV/atom) | moments (mu_B) | mu0 Ms (T) | kappa |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for compound, records in runs.items():
        r = records[-1]
        a = _analysis(r)
        k2 = "-" if a.K2_MJ_m3 is None else f"{a.K2_MJ_m3:+.2f}"
        kappa = "-" if a.kappa is None else f"{a.kappa:.2f}"
        axis = f"{a.easy_axis_label} {a.easy_axis}" if a.easy_axis else a.easy_axis_label
        moments = ", ".join(f"{m:.2f}" for m in r["magnetic_moments"])
        lines.append(
            f"| {compound} | {'x'.join(map(str, r['kpoint_grid']))} | {a.symmetry} | {axis} | "
            f"{a.mae_ueV_per_atom:+.1f} | {a.mae_MJ_m3:+.2f} | {a.K1_MJ_m3:+.2f} | {k2} | "
            f"{a.fit_rms_ueV_per_atom:.1f} | {moments} | {a.Ms_T:.2f} | {kappa} |"
        )
    return lines


def ml_table(runs: dict[str, list[dict]], model_path: Path) -> list[str]:
    from magscreen.potential.model import MagneticPotential
    from magscreen.screening.anisotropy_ml import OutsideSocDomain, ml_anisotropy

    model = MagneticPotential.load(model_path)
    record = json.loads(FIT_RECORD.read_text()) if FIT_RECORD.is_file() else {}
    loco = {row["compound"]: row for row in record.get("leave_one_compound_out", [])}
    lines = [
        "| compound | GPAW MAE (ueV/atom) | ML, fitted (ueV/atom) | ML easy axis | ML kappa | "
        "ML left out (ueV/atom) | left out / GPAW |",
        "|---|---|---|---|---|---|---|",
    ]
    for compound, records in runs.items():
        r = records[-1]
        gpaw = _analysis(r)
        structure = _structure(r)
        structure.add_site_property("magmom", r["magnetic_moments"])
        try:
            ml = ml_anisotropy(structure, model, curves=False).analysis
            fitted, axis = f"{ml.mae_ueV_per_atom:+.1f}", f"{ml.easy_axis_label} {ml.easy_axis}"
            kappa = "-" if ml.kappa is None else f"{ml.kappa:.2f}"
        except OutsideSocDomain:
            fitted, axis, kappa = "outside domain", "-", "-"
        row = loco.get(compound)
        left = "-" if row is None else f"{row['ml_mae_ueV_per_atom']:+.1f}"
        ratio = "-" if row is None or row["ratio"] is None else f"{row['ratio']:.2f}"
        lines.append(
            f"| {compound} | {gpaw.mae_ueV_per_atom:+.1f} | {fitted} | {axis} | {kappa} | {left} | {ratio} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("magscreen/potential/weights/monoxides.pt"))
    args = parser.parse_args()
    runs = _runs()
    print("\n".join(convergence_table(runs)), end="\n\n")
    print("\n".join(gpaw_table(runs)), end="\n\n")
    print("\n".join(ml_table(runs, args.model)))


if __name__ == "__main__":
    main()
