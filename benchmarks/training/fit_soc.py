"""Fit a checkpoint's spin-orbit block to GPAW force-theorem anisotropy energies (everything else frozen).

A step applied on top of any checkpoint: a model without a spin-orbit block gets one
(``MagneticPotential.with_soc``: soc-off energies unchanged), its output layer is solved by ridge
least squares on the direction groups (``magscreen.training.soc_fit``), the spin-orbit domain is
recorded from the fitted compounds, and the result is written to ``--out``. A leave-one-compound-out
table (ML vs GPAW, E[100] - E[001] in micro-eV per atom) goes to ``--record`` and, when ``--out``
has a ``<name>.json`` sidecar (a shipped model), into its ``soc_fit`` key.

The direction groups: the ``force_theorem`` frames of the dataset builds named by ``--dataset``
(``configs/dataset/anisotropy.yaml``), and for compounds no build has, the densest k-mesh run
of each compound in ``benchmarks/anisotropy/runs`` (unless ``--runs`` names files). A build's
compound replaces the runs of the same compound (same name, or the run's name with a
``-<structure>`` suffix: the run ``FeNi-L10`` is the build's ``FeNi``). ``--exclude`` names
compounds of either source. To re-apply to the default model (whatever model that is)::

    OMP_NUM_THREADS=1 python benchmarks/training/fit_soc.py \
        --checkpoint magscreen/potential/weights/monoxides.pt --out magscreen/potential/weights/monoxides.pt \
        --dataset dataset-work-anisotropy/records --exclude MnBi Fe-bcc Ni-fcc

Run it from the repository root (the recorded sources are paths relative to it, which
``tests/potential/test_shipped_soc.py`` reads back).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RUNS = HERE.parent / "anisotropy" / "runs"


def same_compound(a: str, b: str) -> bool:
    """Whether two compound names mean one compound: equal, or one is the other with a
    ``-<structure>`` suffix (``FeNi-L10`` and ``FeNi``; ``Fe-bcc`` and ``Fe-fcc`` differ)."""
    return a == b or a.split("-")[0] == b or b.split("-")[0] == a


def densest_runs(folder: Path, exclude: set[str]) -> list[Path]:
    """The densest k-mesh run of every compound in ``folder`` (files ``<compound>-k<density>.json``)."""
    best: dict[str, tuple[float, Path]] = {}
    for path in folder.glob("*-k*.json"):
        match = re.fullmatch(r"(.+)-k([0-9.]+)", path.stem)
        if not match or any(same_compound(match.group(1), name) for name in exclude):
            continue
        density = float(match.group(2))
        if match.group(1) not in best or density > best[match.group(1)][0]:
            best[match.group(1)] = (density, path)
    return [best[name][1] for name in sorted(best)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="model to start from (.pt)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the fitted model (.pt)")
    parser.add_argument(
        "--runs", type=Path, nargs="*", help="force-theorem run records (default: densest per compound)"
    )
    parser.add_argument(
        "--dataset", type=Path, nargs="*", default=[], help="dataset records folders (force_theorem frames)"
    )
    parser.add_argument("--exclude", nargs="*", default=[], help="compounds to leave out of the fit")
    parser.add_argument("--ridge", type=float, default=1e-6, help="ridge strength, relative (default 1e-6)")
    parser.add_argument("--seed", type=int, default=0, help="seed of a new spin-orbit block's hidden weights")
    parser.add_argument("--record", type=Path, default=HERE / "soc_fit.json", help="fit record (JSON)")
    args = parser.parse_args(argv)

    from pymatgen.io.ase import AseAtomsAdaptor

    from magscreen.potential.graph import graph_from_atoms
    from magscreen.potential.model import MagneticPotential
    from magscreen.screening.anisotropy_ml import ml_anisotropy
    from magscreen.training.soc_fit import (
        apply_soc_weights,
        fit_soc,
        leave_one_compound_out,
        read_dataset_records,
        read_force_theorem_runs,
    )

    runs = args.runs or densest_runs(RUNS, set(args.exclude))
    groups = read_force_theorem_runs(runs)
    for folder in args.dataset:  # dataset frames replace runs of the same compound
        extra = [
            g for g in read_dataset_records(folder) if not any(same_compound(g.name, n) for n in args.exclude)
        ]
        groups = [g for g in groups if not any(same_compound(g.name, e.name) for e in extra)] + extra
    if not groups:
        sys.exit(f"no force-theorem runs found in {RUNS} or {args.dataset}")
    base = MagneticPotential.load(args.checkpoint)
    model = base if base.soc else base.with_soc(seed=args.seed)
    model = model.double()  # micro-eV differences on eV totals: solve and check in float64
    loco = leave_one_compound_out(model, groups, ridge=args.ridge) if len(groups) > 1 else []
    fit = fit_soc(model, groups, ridge=args.ridge)
    apply_soc_weights(model, fit)
    graphs = [graph_from_atoms(g.atoms, model.cutoff, np.zeros((len(g.atoms), 3))) for g in groups]
    model.record_soc_domain(graphs, [g.moment_vectors()[0] for g in groups])
    model = model.to(base.dtype)
    model.save(args.out)
    shipped = MagneticPotential.load(args.out)
    reproduced = {}
    for group in groups:  # what the written model predicts on the fitted cells (tests compare to these)
        structure = AseAtomsAdaptor.get_structure(group.atoms)
        structure.add_site_property("magmom", list(group.moments))
        analysis = ml_anisotropy(structure, shipped, curves=False).analysis
        reproduced[group.name] = {
            "mae_ueV_per_atom": analysis.mae_ueV_per_atom,
            "K1_MJ_m3": analysis.K1_MJ_m3,
            "easy_axis": analysis.easy_axis,
        }
    record = {
        "model_version": model.model_version,
        "soc_domain": model.soc_environments,
        "command": "OMP_NUM_THREADS=1 python benchmarks/training/fit_soc.py "
        + " ".join(argv or sys.argv[1:]),
        "checkpoint": args.checkpoint.as_posix(),
        "ridge": args.ridge,
        "seed": args.seed,
        "runs": [g.source for g in groups],
        "fit_rms_ueV_per_atom": fit.rms_ueV_per_atom,
        "model_on_fitted_cells": reproduced,
        "leave_one_compound_out": loco,
        "units": "micro-eV per atom; MAE = E[100] - E[001], positive = easy axis c",
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    args.record.write_text(json.dumps(record, indent=1) + "\n")
    sidecar = args.out.with_suffix(".json")
    if sidecar.is_file():
        shipped = json.loads(sidecar.read_text())
        shipped["model_version"] = model.model_version
        shipped["soc_fit"] = {k: v for k, v in record.items() if k != "model_version"}
        sidecar.write_text(json.dumps(shipped, indent=1) + "\n")
    print(f"{'compound':10s} {'GPAW':>9s} {'ML (LOCO)':>10s} {'ratio':>6s} {'fit rms':>8s}")
    for row in loco:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"{row['compound']:10s} {row['gpaw_mae_ueV_per_atom']:9.1f} {row['ml_mae_ueV_per_atom']:10.1f} "
            f"{ratio:>6s} {fit.rms_ueV_per_atom[row['compound']]:8.2f}"
        )
    print(f"wrote {args.out} ({model.model_version}) and {args.record}")


if __name__ == "__main__":
    main()
