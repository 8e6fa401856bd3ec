"""Convergence test of the GPAW defaults on ordering energy differences.

For each compound the AFM - FM energy difference (meV per magnetic atom) is computed at a base
setting and with one parameter changed at a time (cutoff, k-point density, smearing). A setting is
converged when the difference agrees with the tightest value of its series within 1 meV per
magnetic atom. Results of every calculation are checkpointed under ``--workdir``.

Runs behind docs/reference.md (the insulators around a cheaper base than the metal)::

    OMP_NUM_THREADS=1 python -m magscreen.validation.gpaw.convergence --compounds Fe \
        --kpoint-densities 2 3 4 5 6
    OMP_NUM_THREADS=1 python -m magscreen.validation.gpaw.convergence --compounds NiO --base 450 2 0.05 \
        --ecuts 450 550 --kpoint-densities 2 3 --smearings 0.05 0.02
    OMP_NUM_THREADS=1 python -m magscreen.validation.gpaw.convergence --compounds MnF2 --base 450 2 0.05 \
        --ecuts 450 --kpoint-densities 2 3 --smearings 0.05
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from magscreen.validation.gpaw.calculation import single_point
from magscreen.validation.gpaw.ordering_input import ordering_input
from magscreen.validation.gpaw.settings import GPAWSettings
from magscreen.validation.gpaw.textbook import TEXTBOOK_ORDERINGS, textbook_pair

__all__ = ["ConvergencePoint", "ordering_gap_meV", "run_convergence"]

BASE = GPAWSettings(ecut_eV=450.0, kpoint_density=3.0, smearing_eV=0.05)
SERIES: dict[str, list[float]] = {
    "ecut_eV": [350.0, 450.0, 550.0],
    "kpoint_density": [2.0, 3.0, 4.0],
    "smearing_eV": [0.1, 0.05, 0.02],
}


@dataclass
class ConvergencePoint:
    """One AFM - FM energy difference.

    Attributes
    ----------
    compound, parameter, value
        What was computed and which setting was varied (``value`` in the setting's unit).
    gap_meV_per_magnetic_atom
        E(AFM) - E(FM) (meV per magnetic atom).
    kpoints
        Grid used.
    wall_time_s
        Time of both SCF runs (s; 0 when read from checkpoints).
    """

    compound: str
    parameter: str
    value: float
    gap_meV_per_magnetic_atom: float
    kpoints: list[int]
    wall_time_s: float


def ordering_gap_meV(compound: str, settings: GPAWSettings, workdir: Path) -> tuple[float, list[int], float]:
    """E(AFM) - E(FM) of a textbook compound (meV per magnetic atom), its k-grid and wall time (s)."""
    fm_label, afm_label, _ = TEXTBOOK_ORDERINGS[compound]
    tag = f"ecut{settings.ecut_eV:g}_k{settings.kpoint_density:g}_s{settings.smearing_eV:g}"
    results = {}
    for label, structure in textbook_pair(compound).items():
        ordering = ordering_input(structure, source=f"textbook {compound} {label}")
        results[label] = single_point(ordering, settings, workdir / compound / tag / label)
    n_magnetic = ordering_input(textbook_pair(compound)[fm_label]).n_magnetic_atoms
    gap = (results[afm_label].energy_eV - results[fm_label].energy_eV) / n_magnetic * 1000.0
    return gap, results[fm_label].kpoints, sum(r.wall_time_s for r in results.values())


def run_convergence(
    compounds: list[str],
    workdir: Path,
    console: Console | None = None,
    series: dict | None = None,
    base: GPAWSettings = BASE,
) -> list[ConvergencePoint]:
    """Every series (default ``SERIES``, loosest to tightest) around ``base`` for each compound."""
    console = console or Console()
    points = []
    for compound in compounds:
        for parameter, values in (series or SERIES).items():
            for value in values:
                settings = replace(base, **{parameter: value})
                start = time.perf_counter()
                gap, kpoints, wall = ordering_gap_meV(compound, settings, workdir)
                points.append(ConvergencePoint(compound, parameter, value, gap, kpoints, wall))
                console.log(
                    f"{compound} {parameter}={value:g}: {gap:.2f} meV/magnetic atom, "
                    f"k={kpoints}, {time.perf_counter() - start:.0f} s"
                )
    return points


def _table(points: list[ConvergencePoint], series: dict) -> Table:
    table = Table(
        "compound", "parameter", "value", "AFM-FM (meV/mag. atom)", "diff. to tightest", "k-grid", "wall (s)"
    )
    for compound in dict.fromkeys(p.compound for p in points):
        for parameter in series:
            computed = [p for p in points if p.compound == compound and p.parameter == parameter]
            tightest = computed[-1].gap_meV_per_magnetic_atom
            for p in computed:
                table.add_row(
                    compound,
                    parameter,
                    f"{p.value:g}",
                    f"{p.gap_meV_per_magnetic_atom:.2f}",
                    f"{p.gap_meV_per_magnetic_atom - tightest:+.2f}",
                    "x".join(map(str, p.kpoints)),
                    f"{p.wall_time_s:.0f}",
                )
    return table


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: run the study and print (and save as JSON) its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("gpaw-convergence"))
    parser.add_argument(
        "--compounds", nargs="+", default=["Fe", "NiO", "MnF2"], choices=list(TEXTBOOK_ORDERINGS)
    )
    parser.add_argument(
        "--ecuts", nargs="+", type=float, default=SERIES["ecut_eV"], help="cutoff series (eV)"
    )
    parser.add_argument(
        "--kpoint-densities",
        nargs="+",
        type=float,
        default=SERIES["kpoint_density"],
        help="k-point density series (per 1/Angstrom)",
    )
    parser.add_argument(
        "--smearings", nargs="+", type=float, default=SERIES["smearing_eV"], help="smearing series (eV)"
    )
    parser.add_argument(
        "--base",
        nargs=3,
        type=float,
        metavar=("ECUT", "KDENSITY", "SMEARING"),
        default=[BASE.ecut_eV, BASE.kpoint_density, BASE.smearing_eV],
        help="setting that the series vary one parameter of",
    )
    args = parser.parse_args(argv)
    console = Console()
    base = replace(BASE, ecut_eV=args.base[0], kpoint_density=args.base[1], smearing_eV=args.base[2])
    series = {  # ordered from loosest to tightest
        "ecut_eV": sorted(args.ecuts),
        "kpoint_density": sorted(args.kpoint_densities),
        "smearing_eV": sorted(args.smearings, reverse=True),
    }
    points = run_convergence(args.compounds, args.workdir, console, series, base)
    console.print(_table(points, series))
    name = f"convergence_{'_'.join(args.compounds)}.json"
    (args.workdir / name).write_text(json.dumps([asdict(p) for p in points], indent=1))


if __name__ == "__main__":
    main()
