"""Ship a trained run as a named model: copy best.pt to magscreen/potential/weights/<name>.pt and record
its validation errors (recomputed from the copied file) in <name>.json beside it. With
``--calibration`` the readout posterior's one-sigma is scaled by the factor that the
leave-one-compound-out report found (68 % of left-out errors inside one sigma); with
``--trained-calibration`` the compounds of the training data get the factor of the
leave-one-ordering-out report (``cross_validation.py --by ordering``) instead; with
``--fitted-calibration`` a difference between two orderings of the training data (at a trained
volume) gets the factor of the fit's residuals on its own ladders (``cross_validation.py --by none``),
and the orderings (formula, fingerprint, volumes) are stored with it. ``--keep-weights``
recalibrates the shipped file in place (weights and spin-orbit block kept). The coordination numbers
of the training frames' magnetic atoms are recorded again from the config's frames
(:meth:`MagneticPotential.record_magnetic_coordination`), for runs trained before the model kept them.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/training/ship_model.py configs/train/monoxides.yaml --name monoxides
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from cross_validation import frame_info

from magscreen.potential.calculator import SHIPPED_MODELS_DIR
from magscreen.potential.graph import graph_from_atoms
from magscreen.potential.model import MagneticPotential
from magscreen.potential.uncertainty import fitted_key, reduced_formula
from magscreen.training.config import load_train_config
from magscreen.training.data import Frame
from magscreen.training.evaluation import validation_errors
from magscreen.training.trainer import load_frames


def fitted_orderings(frames: list[Frame]) -> dict[str, tuple[float, ...]]:
    """:func:`fitted_key` of every ordering among ``frames`` (orderings and strained copies; the
    fingerprint from the extxyz info, or the third field of the dataset's frame id) -> its volumes per
    atom (Angstrom^3)."""
    volumes: dict[str, set[float]] = defaultdict(set)
    for frame, info in zip(frames, frame_info(frames), strict=True):
        fields = str(info.get("frame_id", "")).split(".")
        fingerprint = str(info.get("fingerprint") or (fields[2] if len(fields) > 2 else ""))
        if info["kind"] not in ("ordering", "strain") or not fingerprint or not np.any(frame.moments):
            continue
        key = fitted_key(reduced_formula([chemical_symbols[z] for z in frame.numbers]), fingerprint)
        volumes[key].add(round(abs(float(np.linalg.det(frame.cell))) / len(frame.numbers), 4))
    return {key: tuple(sorted(v)) for key, v in sorted(volumes.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="the training config of the run")
    parser.add_argument("--name", required=True, help="shipped model name, e.g. nio")
    parser.add_argument(
        "--calibration",
        type=Path,
        help="leave-one-compound-out report (benchmarks/training/cross_validation.py --out ...json) whose "
        "calibration factor scales the model's readout posterior",
    )
    parser.add_argument(
        "--trained-calibration",
        type=Path,
        help="leave-one-ordering-out report (cross_validation.py --by ordering) whose calibration factor "
        "applies to the compounds of the training data",
    )
    parser.add_argument(
        "--fitted-calibration",
        type=Path,
        help="report of the fit on its own ladders (cross_validation.py --by none) whose calibration factor "
        "applies to differences between orderings of the training data",
    )
    parser.add_argument(
        "--keep-weights",
        action="store_true",
        help="recalibrate the shipped <name>.pt in place (its weights and spin-orbit block kept; record keys "
        "this script does not write, such as soc_fit, kept) instead of copying the run's best.pt",
    )
    args = parser.parse_args()
    config = load_train_config(args.config)
    target = SHIPPED_MODELS_DIR / f"{args.name}.pt"
    previous = {}
    if args.keep_weights:
        if not target.is_file():
            raise SystemExit(f"{target}: no shipped model to recalibrate")
        previous = json.loads(target.with_suffix(".json").read_text())
    else:
        shutil.copyfile(Path(config.output) / "best.pt", target)
    model = MagneticPotential.load(target)
    train = load_frames(config.data.train, config.data.format, split="train", source=args.config)
    if model.magnetic_environments:  # the structural part of the domain (runs before it was recorded)
        graphs = [
            graph_from_atoms(Atoms(f.numbers, f.positions, cell=f.cell, pbc=f.pbc), model.cutoff, f.moments)
            for f in train
        ]
        model.record_magnetic_coordination(graphs, [f.moments for f in train])
        model.save(target)
    cross_validation = None
    if args.calibration is not None:
        report = json.loads(args.calibration.read_text())
        factor = report["summary"]["uncertainty"]["calibration_factor"]
        if model.readout_posterior is None or factor is None:
            raise SystemExit(
                f"{args.calibration}: no calibration factor, or the run has no readout posterior"
            )
        trained, formulas, trained_report = None, (), None
        if args.trained_calibration is not None:
            trained_report = json.loads(args.trained_calibration.read_text())
            trained = trained_report["summary"]["uncertainty"]["calibration_factor"]
            formulas = {reduced_formula([chemical_symbols[z] for z in f.numbers]) for f in train}
        fitted, orderings, fitted_report = None, {}, None
        if args.fitted_calibration is not None:
            fitted_report = json.loads(args.fitted_calibration.read_text())
            fitted = fitted_report["summary"]["uncertainty"]["calibration_factor"]
            orderings = fitted_orderings(train)
        model.readout_posterior = model.readout_posterior.calibrated(
            factor, trained, tuple(formulas), fitted, orderings
        )
        model.save(target)
        cross_validation = {
            "report": args.calibration.as_posix(),
            "n_frames": report["n_frames"],
            **report["summary"],
        }
        if fitted_report is not None:
            cross_validation["fitted_orderings"] = {
                "report": args.fitted_calibration.as_posix(),
                "orderings": len(orderings),
                **fitted_report["summary"],
            }
        if trained_report is not None:
            cross_validation["trained_compounds"] = {
                "report": args.trained_calibration.as_posix(),
                "formulas": sorted(formulas),
                **trained_report["summary"],
            }
    frames = load_frames(config.data.validation, config.data.format, split="validation", source=args.config)
    run_metrics = json.loads((Path(config.output) / "metrics.json").read_text())
    record = {
        "model_version": model.model_version,
        "magnetic_domain": list(model.magnetic_domain),
        "command": f"OMP_NUM_THREADS=1 magscreen train {args.config.as_posix()}",
        "config": args.config.as_posix(),
        "seed": config.seed,
        "train": [p.name for p in config.data.train],
        "validation_data": [p.name for p in config.data.validation],
        "n_train": run_metrics["n_train"],
        "reference_energies": run_metrics["reference_energies"],
        "validation": validation_errors(model, frames, forces=True),
        "units": "meV/atom (energy), meV/A (forces), meV/mu_B (magnetic forces)",
        "posterior_samples": 0 if model.readout_posterior is None else model.readout_posterior.samples,
        "leave_one_compound_out": cross_validation,
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    target.with_suffix(".json").write_text(json.dumps({**previous, **record}, indent=1) + "\n")
    print(json.dumps(record["validation"], indent=1))


if __name__ == "__main__":
    main()
