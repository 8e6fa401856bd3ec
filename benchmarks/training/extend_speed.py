"""Speed of ``magscreen extend``: the shipped model extended on 10 DFT-like frames of 40 atoms.

The frames are L1_0 FePd (a = 3.852, c = 3.723 Angstrom) 1x2x5 conventional cells (40 atoms, 20 Fe)
with random collinear Fe moments of 3 mu_B and Heisenberg energies (J1 = 10, J2 = 2 meV per pair):
what is timed is the extension, not DFT. Writes the frames, runs the CLI as a user would and
records its CPU time (user + sys of the process and its threads) and wall time, with the load
average: on a shared box the CPU time is the measure (target: under 2 min on two cores). Run it
with one thread: OpenMP threads that spin while waiting for a busy core add CPU time, not work.

    OMP_NUM_THREADS=1 python benchmarks/training/extend_speed.py
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from magscreen.magnetism.heisenberg import HeisenbergCalculator

HERE = Path(__file__).parent
SITES = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]  # Fe, Fe, Pd, Pd (L1_0, fractional)


def frames(n: int = 10, seed: int = 0) -> list:
    """``n`` 40-atom FePd cells with random collinear moments and Heisenberg energies (eV)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n):
        cell = Atoms("Fe2Pd2", scaled_positions=SITES, cell=[3.852, 3.852, 3.723], pbc=True)
        atoms = cell.repeat((1, 2, 5))
        moments = np.where(atoms.numbers == 26, 3.0 * rng.choice([-1.0, 1.0], size=len(atoms)), 0.0)
        atoms.set_initial_magnetic_moments(moments)
        energy = HeisenbergCalculator({1: 0.010, 2: 0.002}).get_potential_energy(atoms)
        atoms.calc = SinglePointCalculator(atoms, energy=energy - 5.0 * len(atoms))
        atoms.new_array("magmoms", moments)
        images.append(atoms)
    return images


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "FePd-40.extxyz"
        write(path, frames(), format="extxyz")
        command = [
            "magscreen",
            "extend",
            "monoxides",
            str(path),
            "--output",
            str(Path(folder) / "x.pt"),
            "--no-progress",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        tic = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - tic
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = {
        "command": " ".join(["magscreen", "extend", "monoxides", "FePd-40.extxyz", "--output", "x.pt"]),
        "frames": 10,
        "atoms_per_frame": 40,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "nproc": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "python": sys.version.split()[0],
    }
    print(run.stdout)
    print(json.dumps(result, indent=1))
    (HERE / "extend_speed.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
