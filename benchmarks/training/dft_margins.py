"""How far apart the known ground state and its rivals are in the training DFT itself.

A model fitted to a compound's DFT ordering ladder can resolve its ground state only where the DFT
does: by a margin above the settings' convergence (~2 meV per magnetic atom, docs/reference.md) and
above twice the fit's calibrated error. For every ladder of a snapshot compound (those with an
experimental ordering in the offline snapshot) this prints the DFT ground state, the
runner-up and its gap, and the margin of the known order: the lowest ordering that disagrees with
experiment minus the lowest that agrees (:func:`magscreen.screening.ranking.agrees_with_experiment`),
negative where the DFT puts a disagreeing ordering lowest. Energies in meV per magnetic atom, from a
``cross_validation.py`` report (any regime: the DFT side is the same)::

    python benchmarks/training/dft_margins.py benchmarks/training/cross_validation_general_fitted.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from magscreen.screening.ranking import agrees_with_experiment
from magscreen.sources.snapshot import INDEX_NAME, default_snapshot_dir, load_snapshot


def experimental_orderings() -> dict[str, str]:
    """Snapshot name (the dataset's compound name, e.g. 'Fe-bcc') -> experimental ordering."""
    index = json.loads((default_snapshot_dir() / INDEX_NAME).read_text())
    names = [row["name"] for row in index]
    candidates = load_snapshot(names=names)  # in index order
    return {
        n: c.experimental_ordering for n, c in zip(names, candidates, strict=True) if c.experimental_ordering
    }


def margins(report: dict, known: dict[str, str]) -> list[dict]:
    """One row per ladder of a compound with a known ordering."""
    rows = []
    for ladder in report["ladders"]:
        compound = ladder["group"].split("@")[0]
        if compound not in known:
            continue
        energies = 1e3 * np.asarray(ladder["dft"])
        labels, order = ladder["labels"], np.argsort(energies)
        agree = [bool(agrees_with_experiment(label, known[compound])) for label in labels]
        right = [energies[k] for k in order if agree[k]]
        wrong = [energies[k] for k in order if not agree[k]]
        rows.append(
            {
                "ladder": ladder["group"],
                "experiment": known[compound],
                "ground_state": labels[order[0]],
                "runner_up": labels[order[1]],
                "gap_meV": float(energies[order[1]] - energies[order[0]]),
                "margin_meV": float(wrong[0] - right[0]) if right and wrong else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="a cross_validation.py report (.json)")
    args = parser.parse_args()
    rows = margins(json.loads(args.report.read_text()), experimental_orderings())
    print("| ladder | experiment | DFT ground state | runner-up (gap) | margin of the known order |")
    print("|---|---|---|---|---|")
    for row in rows:
        margin = "-" if row["margin_meV"] is None else f"{row['margin_meV']:.1f}"
        print(
            f"| {row['ladder']} | {row['experiment']} | {row['ground_state']} | {row['runner_up']} "
            f"({row['gap_meV']:.1f}) | {margin} |"
        )


if __name__ == "__main__":
    main()
