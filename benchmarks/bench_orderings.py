"""Time collinear enumeration for parents with 8, 16 and 24 magnetic sites, and a supercell sweep.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_orderings.py``. Prints a markdown table: the best
process CPU time of the runs (which other jobs on a shared machine disturb far less) and the wall time
of that run.

Parents with many magnetic sites per primitive cell are the case campaigns meet in practice
(complex oxides, doped cells); they are modelled here by La(1-x)Sr(x)MnO3 perovskite supercells
with one Sr, which keeps all Mn in one primitive cell (P4/mmm or Pm-3m). The sweep shows how the
count of orderings grows with the supercell size on a one-site parent (bcc Fe).
"""

from __future__ import annotations

import platform
import time

import numpy as np
from pymatgen.core import Lattice, Structure

from magscreen.magnetism import enumerate_collinear


def doped_perovskite(repeat: tuple[int, int, int]) -> Structure:
    """LaMnO3 cubic perovskite (a = 3.9 Angstrom) repeated, with the La at the origin replaced by Sr."""
    cell = Structure(
        Lattice.cubic(3.9),
        ["La", "Mn", "O", "O", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    )
    cell.make_supercell(repeat)
    cell.replace(0, "Sr")
    return cell


def bcc_fe() -> Structure:
    return Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def timed(structure: Structure, max_magnetic_atoms: int, repeats: int = 3) -> tuple[float, float, int]:
    """Best CPU time (s) of ``repeats`` runs, that run's wall time (s), and the orderings found."""
    best, wall, found = np.inf, np.inf, 0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = enumerate_collinear(structure, max_magnetic_atoms=max_magnetic_atoms, max_orderings=64)
        cpu = time.process_time() - start_cpu
        if cpu < best:
            best, wall = cpu, time.perf_counter() - start
        found = result.n_found
    return best, wall, found


def main() -> None:
    print(f"python {platform.python_version()}, {platform.machine()}, numpy {np.__version__}")
    print(
        "| parent | magnetic sites / primitive cell | max magnetic atoms | orderings found | CPU time (s) "
        "| wall time (s) |"
    )
    print("|---|---|---|---|---|---|")
    for repeat in ((2, 2, 2), (2, 2, 4), (2, 2, 6)):
        structure = doped_perovskite(repeat)
        n_mn = structure.composition["Mn"]
        seconds, wall, found = timed(structure, int(n_mn), repeats=3 if n_mn < 24 else 1)
        name = f"La{int(n_mn) - 1}SrMn{int(n_mn)}O{int(3 * n_mn)}"
        print(f"| {name} | {int(n_mn)} | {int(n_mn)} | {found} | {seconds:.2f} | {wall:.2f} |")
    for max_atoms in (4, 8, 12):
        seconds, wall, found = timed(bcc_fe(), max_atoms, repeats=3 if max_atoms < 12 else 1)
        print(f"| bcc Fe | 1 | {max_atoms} | {found} | {seconds:.2f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
