"""Gap errors of cross-validation reports: per compound for one report, or two reports compared on
the ordering differences both score.

Two runs of ``cross_validation.py`` (for example the shipped recipe before and after the dataset
grew) are scored on different ladders; given two reports this prints the gap errors (meV per
magnetic atom) of each on the differences they share, keyed by ladder, ordering, reference
ordering and DFT gap (labels repeat: Cr2O3 has several AFM q=(0,0,0) orderings, and a new one can
become a ladder's reference). Given one, it prints per compound the mean error and the median
one-sigma (raw, before calibration) of its differences, worst first::

    python benchmarks/training/compare_cv.py REPORT.json
    python benchmarks/training/compare_cv.py OLD.json NEW.json
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

Key = tuple[str, str, str, float]


def differences(report: Path) -> list[dict]:
    """Every left-out difference of a report."""
    return json.loads(report.read_text())["differences"]


def keyed(rows: list[dict]) -> dict[Key, dict]:
    """Differences by (ladder, ordering, reference, DFT gap to 10^-3 meV)."""
    return {(d["group"], d["ordering"], d["reference"], round(d["dft_meV"], 3)): d for d in rows}


def absolute_error(difference: dict) -> float:
    """|model - DFT| of one difference (meV per magnetic atom)."""
    return abs(difference["model_meV"] - difference["dft_meV"])


def per_compound(report: Path) -> None:
    """Print per compound its differences' mean error and median raw one-sigma, worst first."""
    by_compound = defaultdict(list)
    for d in differences(report):
        by_compound[d["compound"]].append((absolute_error(d), d["sigma_meV"]))
    rows = sorted(by_compound.items(), key=lambda item: -np.mean([e for e, _ in item[1]]))
    print("compound   differences   MAE (meV)   median sigma, raw (meV)")
    for compound, values in rows:
        errors, sigmas = np.array(values).T
        print(f"{compound:10s} {len(values):11d} {errors.mean():11.1f} {np.median(sigmas):13.1f}")


def compare(old_report: Path, new_report: Path) -> None:
    """Print both reports' mean and median error on the differences they share."""
    old_rows, new_rows = differences(old_report), differences(new_report)
    old, new = keyed(old_rows), keyed(new_rows)
    shared = sorted(set(old) & set(new))
    if not shared:
        raise SystemExit("the two reports share no ordering difference")
    a = np.array([absolute_error(old[k]) for k in shared])
    b = np.array([absolute_error(new[k]) for k in shared])
    print(f"{len(shared)} shared differences (of {len(old_rows)} and {len(new_rows)}), meV per magnetic atom")
    print(f"MAE     {a.mean():8.1f} -> {b.mean():8.1f}")
    print(f"median  {np.median(a):8.1f} -> {np.median(b):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="+", help="one or two cross_validation.py .json reports")
    reports = parser.parse_args().reports
    if len(reports) > 2:
        parser.error("give one report (per compound) or two (compared)")
    if len(reports) == 1:
        per_compound(reports[0])
    else:
        compare(*reports)


if __name__ == "__main__":
    main()
