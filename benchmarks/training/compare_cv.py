"""Compare two cross-validation reports on the ordering differences both score.

Two runs of ``cross_validation.py`` (for example the shipped recipe before and after the dataset
grew) are scored on different ladders; this prints the gap errors (meV per magnetic atom) of each
on the differences they share, keyed by ladder, ordering and reference ordering::

    python benchmarks/training/compare_cv.py OLD.json NEW.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def absolute_errors(report: Path) -> dict[tuple[str, str, str], float]:
    """|model - DFT| of every left-out difference of a report, by (ladder, ordering, reference)."""
    differences = json.loads(report.read_text())["differences"]
    return {
        (d["group"], d["ordering"], d["reference"]): abs(d["model_meV"] - d["dft_meV"]) for d in differences
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs=2, help="two cross_validation.py .json reports")
    old, new = (absolute_errors(path) for path in parser.parse_args().reports)
    shared = sorted(set(old) & set(new))
    if not shared:
        raise SystemExit("the two reports share no ordering difference")
    a, b = np.array([old[k] for k in shared]), np.array([new[k] for k in shared])
    print(f"{len(shared)} shared differences (of {len(old)} and {len(new)}), meV per magnetic atom")
    print(f"MAE     {a.mean():8.1f} -> {b.mean():8.1f}")
    print(f"median  {np.median(a):8.1f} -> {np.median(b):8.1f}")


if __name__ == "__main__":
    main()
