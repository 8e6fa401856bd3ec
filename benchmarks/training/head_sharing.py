"""Which atoms share a readout head: cross-validation of head layouts on the recipe's own design.

With the backbone and the hidden magnetic layers frozen, the magnetic energy is linear in the readout
(the last layer of every head), and each atom's (each pair's) contribution to a derivative column is
the same function of the hidden features whichever head it is routed to. The design of another head
layout is therefore a linear map of the recipe's (one node head per element, one pair head per element
pair), exact and without new derivatives:

- ``element``: the recipe as it is (the shipped layout);
- ``anion-class``: every head split by the anion class of the structure (halide, oxide, chalcogenide,
  pnictide by the most electronegative anion present, else metal): each column times an indicator of the
  frame's class, one block per class;
- ``shared``: one node head and one pair head for all elements: each head's columns summed over elements;
- ``shared+element:S``: the shared head plus the element heads, these damped S times more than the
  recipe's ridge (the shared head learns what elements have in common, the element heads the rest);
- ``element+anion-class-node:S``: the element heads plus node heads per anion class, these damped S
  times more (the class heads learn what an element does differently among oxygen, fluorine, ...).

Every layout goes through the cross-validation of ``cross_validation.py`` twice: compounds left out
(the regime of a new compound) and nothing left out (the fit's residuals on its own ladders, the regime
of the demo's trained compounds). Hit rate, mean Spearman and gap MAE (meV per magnetic atom), the
calibration factor and the trust rule's claims (claimed, right) go to ``<out>.{json,md}``::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/training/head_sharing.py configs/train/general.yaml \\
        --out benchmarks/training/head_sharing
    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/training/head_sharing.py configs/train/general.yaml \\
        --out benchmarks/training/head_sharing_node \\
        --variants element+anion-class-node:1 element+anion-class-node:100
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse
from ase.data import chemical_symbols
from cross_validation import Folds, layer_columns, recipe_system, summarise

from magscreen.potential.magnetic import MagneticEnergy
from magscreen.training.readout import ReadoutSystem

#: Anions by decreasing electronegativity, and their class.
ANIONS = {
    "F": "halide",
    "O": "oxide",
    "Cl": "halide",
    "N": "pnictide",
    "Br": "halide",
    "S": "chalcogenide",
    "I": "halide",
    "Se": "chalcogenide",
    "Te": "chalcogenide",
    "P": "pnictide",
    "As": "pnictide",
    "Sb": "pnictide",
    "Bi": "pnictide",
}
#: Head layouts (``:S`` scales the damping of the second set of heads, module docstring).
LAYOUTS = ("element", "anion-class", "shared", "shared+element", "element+anion-class-node")
#: The layouts of ``benchmarks/training/head_sharing.md``.
VARIANTS = ("element", "anion-class", "shared", "shared+element:30", "shared+element:1000")


def anion_class(numbers: np.ndarray) -> str:
    """Anion class of a structure: that of its most electronegative anion, 'metal' without one."""
    present = {chemical_symbols[z] for z in numbers}
    return next((ANIONS[e] for e in ANIONS if e in present), "metal")


def shared_map(magnetic: MagneticEnergy, n_readout: int) -> scipy.sparse.csr_matrix:
    """(P, P_shared) 0/1 map summing each element head's columns into one shared head's.

    Node head outputs are (slot, e0 | e1), pair head outputs (pair slot a (a + 1) / 2 + b, 2k terms), in
    the order of :func:`magscreen.training.readout.readout_parameters`; slot 0 and the pair slots (a, 0)
    belong to the shared slot, which carries nothing with element heads, and are left out.
    """
    hyper, keys, rows, cols = magnetic.hyper, {}, [], []
    with_shared_slot = {a * (a + 1) // 2 for a in range(hyper.head_slots)}  # pair slots (a, 0)
    offset = 0
    for layer in magnetic.output_layers():
        if layer is magnetic.exchange[-1]:
            kind, per_slot, unused = "node", 2, {0}
        elif hyper.bilinear_exchange and layer is magnetic.pair_radial[-1]:
            kind, per_slot, unused = "pair", 2 * hyper.bilinear_channels, with_shared_slot
        else:
            raise ValueError(f"head layout: no sharing rule for the layer {layer}")
        n_in = layer.in_features
        for k in range(layer.out_features * (n_in + 1)):
            out, column = (
                (k // n_in, k % n_in)
                if k < layer.out_features * n_in
                else (k - layer.out_features * n_in, "bias")
            )
            if out // per_slot in unused:
                continue
            key = (kind, out % per_slot, column)
            rows.append(offset + k)
            cols.append(keys.setdefault(key, len(keys)))
        offset += layer.out_features * (n_in + 1)
    if offset != n_readout:
        raise ValueError(f"head layout: {offset} readout columns mapped, the design has {n_readout}")
    return scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_readout, len(keys)))


def by_class(columns: np.ndarray, of_row: np.ndarray, classes: list[str]) -> np.ndarray:
    """``columns`` (rows, n) as one block per anion class, each zero outside that class's rows."""
    return np.hstack([columns * (of_row == c)[:, None] for c in classes])


def layout(
    system: ReadoutSystem, variant: str, magnetic: MagneticEnergy, classes: np.ndarray
) -> ReadoutSystem:
    """The readout system of a head layout (see the module docstring)."""
    p = system.n_readout
    readout, energy, damping = system.design[:, :p], system.energy_features, system.damping
    name, _, scale_text = variant.partition(":")
    scale = float(scale_text or 1.0)
    names, row_class = sorted(set(classes)), classes[system.frame_of_row]
    if name == "element":
        return system
    if name in ("anion-class", "element+anion-class-node"):
        split = (
            layer_columns(magnetic, magnetic.exchange[-1])
            if name.endswith("-node")
            else np.ones(p, dtype=bool)
        )
        blocks = [by_class(readout[:, split], row_class, names)]
        features = [by_class(energy[:, split], classes, names)]
        dampings = [scale * np.tile(damping[split], len(names))]
        if name == "element+anion-class-node":
            blocks, features, dampings = [readout, *blocks], [energy, *features], [damping, *dampings]
    elif name in ("shared", "shared+element"):
        summed = shared_map(magnetic, p)
        counts = np.asarray(summed.sum(axis=0)).ravel()
        blocks, features = [np.asarray(summed.T @ readout.T).T], [np.asarray(summed.T @ energy.T).T]
        dampings = [np.asarray(summed.T @ damping).ravel() / counts]
        if name == "shared+element":
            blocks, features, dampings = blocks + [readout], features + [energy], dampings + [scale * damping]
    else:
        raise ValueError(f"head layout: unknown variant {variant!r}, expected one of {LAYOUTS} (and :S)")
    return replace(
        system,
        design=np.hstack(blocks + [system.design[:, p:]]),
        energy_features=np.hstack(features),
        damping=np.concatenate(dampings),
    )


def scores(summary: dict) -> dict:
    """The numbers of one cross-validation that the table reports."""
    model, resolved = summary["model"], summary["resolved"]
    return {
        "hit_rate": model["ground_state_hit_rate"],
        "mean_spearman": model["mean_spearman"],
        "gap_mae_meV": model["gap_mae_meV"],
        "calibration_factor": summary["uncertainty"]["calibration_factor"],
        "claimed": resolved["posterior"]["claimed"],
        "claimed_right": resolved["posterior"]["claimed_right"],
        "claimed_environment": resolved["posterior_and_environment"]["claimed"],
        "claimed_environment_right": resolved["posterior_and_environment"]["claimed_right"],
    }


def markdown(report: dict) -> str:
    """One row per layout: compounds left out, then the fit's own ladders."""
    lines = [
        f"`{report['command']}` ({report['seconds']} s; {report['ladders']} ladders). Hit rate / mean "
        "Spearman / gap MAE in meV per magnetic atom; claims of the trust rule (posterior, calibrated "
        "in the same run) as claimed (right); for left-out compounds also with the environment domain.",
        "",
        "| layout | readout columns | compound left out | factor | claims | + environment | own ladders "
        "| factor | claims |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["layouts"]:
        out, own = row["compound"], row["none"]
        lines.append(
            f"| {row['layout']} | {row['columns']} | {out['hit_rate']:.2f} / {out['mean_spearman']:.2f} / "
            f"{out['gap_mae_meV']:.1f} | {out['calibration_factor']:.2f} | {out['claimed']} "
            f"({out['claimed_right']}) | {out['claimed_environment']} ({out['claimed_environment_right']}) | "
            f"{own['hit_rate']:.2f} / {own['mean_spearman']:.2f} / {own['gap_mae_meV']:.1f} | "
            f"{own['calibration_factor']:.2f} | {own['claimed']} ({own['claimed_right']}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="output prefix (.json, .md)")
    parser.add_argument(
        "--variants", nargs="+", default=list(VARIANTS), help=f"head layouts, of {LAYOUTS} (and :S)"
    )
    parser.add_argument("--samples", type=int, default=128, help="posterior draws per fold")
    args = parser.parse_args()
    tic = time.perf_counter()
    config, trainer, system = recipe_system(args.config)
    classes = np.array([anion_class(f.numbers) for f in trainer.train_frames])
    rows = []
    for variant in args.variants:
        variant_system = layout(system, variant, trainer.model.magnetic, classes)
        row = {"layout": variant}
        for by in ("compound", "none"):
            folds = Folds(trainer, variant_system, by=by)
            row["columns"] = len(folds.total.columns)
            differences, ladders = folds.run(variant_system.damping, args.samples, config.seed)
            row[by] = scores(summarise(differences, ladders)["summary"])
            row["ladders"] = len(ladders)
        print(json.dumps(row), flush=True)
        rows.append(row)
    report = {
        "command": f"OMP_NUM_THREADS=1 python benchmarks/training/head_sharing.py {args.config.as_posix()} "
        f"--out {args.out.as_posix()}"
        + ("" if args.variants == list(VARIANTS) else f" --variants {' '.join(args.variants)}"),
        "config": args.config.as_posix(),
        "n_frames": len(trainer.train_frames),
        "ladders": rows[0]["ladders"] if rows else 0,
        "frames_per_class": {c: int((classes == c).sum()) for c in sorted(set(classes))},
        "layouts": rows,
        "seconds": round(time.perf_counter() - tic),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    Path(f"{args.out}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
