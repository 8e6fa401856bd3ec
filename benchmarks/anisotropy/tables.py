"""Markdown tables of docs/anisotropy.md from the force-theorem runs, the dataset build and the fit record.

    python benchmarks/anisotropy/tables.py [--model magscreen/potential/weights/general.pt] \
        [--dataset dataset-work-anisotropy/records] [--series benchmarks/anisotropy/series]

Prints: the k-point convergence series (every run of every compound: script runs of ``runs/``,
``force_theorem`` frames of the dataset build, and the build's earlier frames of other meshes,
copied to ``series/`` before a denser mesh replaced them), the GPAW analysis of the record each
compound contributes to the spin-orbit fit (the build's frame, else the densest run: the rule of
``benchmarks/training/fit_soc.py``), and ML against GPAW (the shipped model's prediction in the
fitted domain and the leave-one-compound-out prediction of the model's ``<model>.json`` sidecar,
else of ``benchmarks/training/soc_fit.json``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
FIT_RECORD = HERE.parent / "training" / "soc_fit.json"
sys.path.insert(0, str(HERE.parent / "training"))
from fit_soc import same_compound  # noqa: E402


def _structure(record: dict):
    from pymatgen.core import Structure

    return Structure(record["cell"], record["symbols"], record["positions"], coords_are_cartesian=True)


def _analysis(record: dict):
    from magscreen.screening.anisotropy import analyse_anisotropy

    keep = np.asarray(record["keep"])
    return analyse_anisotropy(
        _structure(record),
        np.asarray(record["directions"])[keep],
        np.asarray(record["band_energies_eV"])[keep],
        record["magnetic_moments"],
        source=record["compound"],
    )


def _summary(record: dict) -> dict:
    """Add MAE = E[100] - E[001] and E(-c) - E(c) (ueV/atom) and the directions kept for the fit."""
    d = np.asarray(record["directions"])
    e = np.asarray(record["band_energies_eV"]) / len(record["symbols"]) * 1e6
    c, a, minus_c = (int(np.argmax(d @ v)) for v in ([0, 0, 1], [1, 0, 0], [0, 0, -1]))
    keep = [not np.any(d[:i] @ x < -1 + 1e-6) for i, x in enumerate(d)]  # -c duplicates c
    return {**record, "mae": e[a] - e[c], "time_reversal": e[minus_c] - e[c], "keep": keep}


def _script_runs() -> dict[str, list[dict]]:
    from magscreen.screening.anisotropy import directions_from_angles

    by_compound: dict[str, list[dict]] = {}
    for path in sorted(RUNS.glob("*-k*.json")):
        if re.fullmatch(r".+-k[0-9.]+", path.stem):
            r = json.loads(path.read_text())
            record = {
                **r,
                "source": "script",
                "directions": directions_from_angles(r["directions_theta_phi_deg"]).tolist(),
            }
            by_compound.setdefault(r["compound"], []).append(_summary(record))
    return by_compound


def _dataset_frames(folder: Path) -> list[dict]:
    frames = []
    for path in sorted(folder.glob("*.json")):
        r = json.loads(path.read_text())
        if r.get("kind") != "force_theorem" or r.get("status") != "done":
            continue
        scan = r["force_theorem"]
        record = {
            **r,
            "source": "builder",
            "directions": scan["directions"],
            "band_energies_eV": scan["band_energies_eV"],
            "kpoint_density": scan["kpoint_density"],
            "kpoint_grid": scan["kpoint_grid"],
            "smearing_eV": scan["smearing_eV"],
            "ecut_eV": r["settings"]["ecut_eV"],
            "magnetic_moments": r["magmoms"],
            "wall_s": r["wall_time_s"],
        }
        frames.append(_summary(record))
    return frames


def _runs(dataset: list[Path], series: list[Path]) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """Every run per compound (by density; the build's compound name where both have it) and the
    record each compound contributes to the fit (the build's, else the densest script run).

    ``series``: folders of earlier dataset records (other meshes of the build's compounds).
    """
    runs = _script_runs()
    built = {r["compound"]: r for folder in dataset for r in _dataset_frames(folder)}
    current = {(r["compound"], tuple(r["kpoint_grid"]), r["smearing_eV"]) for r in built.values()}
    earlier = [
        r
        for folder in series
        for r in _dataset_frames(folder)
        if (r["compound"], tuple(r["kpoint_grid"]), r["smearing_eV"]) not in current
    ]
    for name in sorted({*built, *(r["compound"] for r in earlier)}):
        same = [run for run in runs if same_compound(run, name)]
        runs[name] = [r for run in same for r in runs.pop(run)]
        runs[name] += [r for r in earlier if r["compound"] == name] + ([built[name]] if name in built else [])
    for records in runs.values():
        records.sort(key=lambda r: (r["kpoint_density"], -r["smearing_eV"], r["source"] == "builder"))
    fitted = {
        name: built.get(name) or max(records, key=lambda r: r["kpoint_density"])
        for name, records in sorted(runs.items())
    }
    return dict(sorted(runs.items())), fitted


def convergence_table(runs: dict[str, list[dict]]) -> list[str]:
    lines = [
        "| compound | source, cutoff | k per 1/A | k-grid | smearing (eV) | E[100] - E[001] (ueV/atom) | "
        "change to previous | E(-c) - E(c) (ueV/atom, time reversal: 0) | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for compound, records in runs.items():
        previous = None
        for r in records:
            mae = r["mae"]
            change = "-" if previous is None else f"{100 * (mae - previous) / abs(previous):+.0f}%"
            grid = "x".join(map(str, r["kpoint_grid"]))
            lines.append(
                f"| {compound} | {r['source']}, {r['ecut_eV']:g} eV | {r['kpoint_density']:g} | {grid} | "
                f"{r['smearing_eV']:g} | "
                f"{mae:+.1f} | {change} | {r['time_reversal']:+.1f} | {r['wall_s']:.0f} |"
            )
            previous = mae
    return lines


def gpaw_table(fitted: dict[str, dict]) -> list[str]:
    lines = [
        "| compound | source | k-grid | form | easy axis | MAE (ueV/atom) | MAE (MJ/m^3) | K1 (MJ/m^3) | "
        "K2 (MJ/m^3) | fit rms (ueV/atom) | moments (mu_B) | mu0 Ms (T) | kappa |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for compound, r in fitted.items():
        a = _analysis(r)
        k2 = "-" if a.K2_MJ_m3 is None else f"{a.K2_MJ_m3:+.2f}"
        kappa = "-" if a.kappa is None else f"{a.kappa:.2f}"
        axis = f"{a.easy_axis_label} {a.easy_axis}" if a.easy_axis else a.easy_axis_label
        moments = ", ".join(f"{m:.2f}" for m in r["magnetic_moments"])
        grid = "x".join(map(str, r["kpoint_grid"]))
        lines.append(
            f"| {compound} | {r['source']} | {grid} | {a.symmetry} | {axis} | "
            f"{a.mae_ueV_per_atom:+.1f} | {a.mae_MJ_m3:+.2f} | {a.K1_MJ_m3:+.2f} | {k2} | "
            f"{a.fit_rms_ueV_per_atom:.1f} | {moments} | {a.Ms_T:.2f} | {kappa} |"
        )
    return lines


def ml_table(fitted: dict[str, dict], model_path: Path) -> list[str]:
    from magscreen.potential.model import MagneticPotential
    from magscreen.screening.anisotropy_ml import OutsideSocDomain, ml_anisotropy

    model = MagneticPotential.load(model_path)
    sidecar = model_path.with_suffix(".json")  # a shipped model's own fit record, else the last fit's
    shipped = json.loads(sidecar.read_text()).get("soc_fit") if sidecar.is_file() else None
    record = shipped or (json.loads(FIT_RECORD.read_text()) if FIT_RECORD.is_file() else {})
    loco = {row["compound"]: row for row in record.get("leave_one_compound_out", [])}
    lines = [
        "| compound | GPAW MAE (ueV/atom) | ML, fitted (ueV/atom) | ML easy axis | ML kappa | "
        "ML left out (ueV/atom) | left out / GPAW |",
        "|---|---|---|---|---|---|---|",
    ]
    for compound, r in fitted.items():
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
    parser.add_argument("--model", type=Path, default=Path("magscreen/potential/weights/general.pt"))
    parser.add_argument(
        "--dataset", type=Path, nargs="*", default=[], help="dataset records folders (force_theorem frames)"
    )
    parser.add_argument(
        "--series", type=Path, nargs="*", default=[], help="folders of earlier dataset records (other meshes)"
    )
    args = parser.parse_args()
    runs, fitted = _runs(args.dataset, args.series)
    print("\n".join(convergence_table(runs)), end="\n\n")
    print("\n".join(gpaw_table(fitted)), end="\n\n")
    print("\n".join(ml_table(fitted, args.model)))


if __name__ == "__main__":
    main()
