"""Checkpointed GPAW calculations: spin-polarised SCF single points and relaxations.

Each calculation owns a work directory. A finished SCF is written to ``scf.gpw`` next to
``inputs.json`` (settings, cell, positions and moments that produced it); running again with the
same inputs reads the restart file instead of recomputing. A relaxation appends every ionic step
to ``relax.traj`` and keeps the optimizer's Hessian in ``optimizer.json``, so a killed relaxation
continues from its last finished step. The step count and the Hessian are replaced atomically (written
beside, then renamed): a SIGKILL leaves the old file or the new one, never a truncated one.

Serial by default; under MPI (``mpiexec -n 2 gpaw python ...``, or ``GPAW_MPI_BACKEND=cgpaw``
with plain ``python``) GPAW parallelises over k-points and only rank 0 writes files.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.filters import FrechetCellFilter
from ase.io import Trajectory, read
from ase.optimize import BFGS
from ase.parallel import world

from magscreen.validation.gpaw.ordering_input import OrderingInput
from magscreen.validation.gpaw.settings import GPAWSettings, hubbard_u_for, kpoint_grid

__all__ = ["DistortedStart", "SCFResult", "gpaw_calculator", "gpaw_version", "relax", "single_point"]

RESTART_FILE = "scf.gpw"
INPUTS_FILE = "inputs.json"
LOG_FILE = "gpaw.txt"


@dataclass
class SCFResult:
    """Outcome of one converged collinear or non-collinear SCF.

    Attributes
    ----------
    atoms
        Final cell and positions.
    energy_eV
        Total energy of the cell (eV).
    moments
        Atomic moments (mu_B), shape (N, 3); collinear moments lie along z.
    total_magnetization
        Magnitude of the cell's total moment (mu_B).
    kpoints
        Monkhorst-Pack grid used.
    hubbard_u_eV
        Hubbard U applied per element (eV).
    calc
        The GPAW calculator holding the ground state (wave functions when requested).
    wall_time_s
        Time spent on this run (s); 0 when read from a checkpoint.
    steps
        Ionic steps of a relaxation (0 for a single point).
    converged
        Whether the relaxation reached its force threshold (always True for a single point).
    """

    atoms: Atoms
    energy_eV: float
    moments: np.ndarray
    total_magnetization: float
    kpoints: list[int]
    hubbard_u_eV: dict[str, float]
    calc: object
    wall_time_s: float
    steps: int = 0
    converged: bool = True


def gpaw_version() -> str:
    """Installed GPAW version."""
    import gpaw

    return gpaw.__version__


def gpaw_calculator(
    atoms: Atoms,
    settings: GPAWSettings,
    *,
    txt: str | Path | None,
    noncollinear_moments: np.ndarray | None = None,
):
    """GPAW plane-wave calculator for ``atoms`` with these settings.

    Parameters
    ----------
    atoms
        Cell; its initial magnetic moments (mu_B) start a collinear calculation.
    settings
        Cutoff, k-points, smearing, functional and +U.
    txt
        GPAW log file, or None for no log.
    noncollinear_moments
        Initial moment vectors (mu_B, shape (N, 3)) for a non-collinear SCF; symmetry is then off.
    """
    from gpaw import GPAW, PW, FermiDirac

    hubbard = hubbard_u_for(atoms.get_chemical_symbols(), settings.hubbard)
    keywords: dict = {
        "mode": PW(settings.ecut_eV),
        "xc": settings.xc,
        "kpts": {"size": kpoint_grid(atoms, settings.kpoint_density), "gamma": True},
        "occupations": FermiDirac(settings.smearing_eV),
        "convergence": {"energy": settings.energy_tolerance_eV},
        "maxiter": settings.max_scf_iterations,
        "txt": None if txt is None else str(txt),
    }
    if hubbard:
        keywords["setups"] = {el: f":d,{u}" for el, u in hubbard.items()}
    if noncollinear_moments is not None:
        keywords["magmoms"] = np.asarray(noncollinear_moments, dtype=float)
        keywords["symmetry"] = "off"
    keywords.update(settings.extra)
    return GPAW(**keywords)


def _inputs_record(
    ordering: OrderingInput,
    settings: GPAWSettings,
    wave_functions: bool,
    distorted_start: DistortedStart | None,
) -> dict:
    atoms = ordering.atoms
    record = {
        "settings": settings.as_dict(),
        "symbols": atoms.get_chemical_symbols(),
        "cell": np.round(atoms.cell.array, 6).tolist(),
        "positions": np.round(atoms.positions, 6).tolist(),
        "moments": np.round(ordering.moments, 4).tolist(),
        "wave_functions": wave_functions,
    }
    if distorted_start is not None:
        record["distorted_start"] = {
            "strain": np.round(distorted_start.strain, 6).tolist(),
            "shifts_A": np.round(distorted_start.shifts_A, 6).tolist(),
        }
    return record


@dataclass(frozen=True)
class DistortedStart:
    """A distorted cell whose converged density starts the SCF of the ideal one.

    Orbitally degenerate ions (high-spin Fe2+ d6, Co2+ d7 in rocksalt) converge to metallic states
    with fractional occupations when the ideal cell's symmetry is imposed; an SCF first converged in
    a cell strained by ``strain`` with atoms shifted by ``shifts_A`` (run it with point-group
    symmetry off) keeps an orbitally ordered, gapped state when the ideal cell is restored.

    Attributes
    ----------
    strain
        Symmetric strain (3, 3); the cell becomes ``cell @ (1 + strain)``.
    shifts_A
        Cartesian displacements (Angstrom), shape (N, 3).
    """

    strain: np.ndarray
    shifts_A: np.ndarray


def _matches(workdir: Path, record: dict) -> bool:
    path = workdir / INPUTS_FILE
    if not (workdir / RESTART_FILE).is_file() or not path.is_file():
        return False
    saved = json.loads(path.read_text())
    if record["wave_functions"] and not saved.get("wave_functions"):
        return False
    return {k: v for k, v in saved.items() if k != "wave_functions"} == {
        k: v for k, v in json.loads(json.dumps(record)).items() if k != "wave_functions"
    }


def _moments_of(calc, noncollinear: bool) -> tuple[np.ndarray, float]:
    if noncollinear:
        moments = np.asarray(calc.get_non_collinear_magnetic_moments(), dtype=float)
        total = float(np.linalg.norm(calc.get_non_collinear_magnetic_moment()))
    else:
        collinear = np.asarray(calc.get_magnetic_moments(), dtype=float)
        moments = np.column_stack([np.zeros_like(collinear), np.zeros_like(collinear), collinear])
        total = abs(float(calc.get_magnetic_moment()))
    return moments, total


def single_point(
    ordering: OrderingInput,
    settings: GPAWSettings,
    workdir: str | Path,
    *,
    wave_functions: bool = False,
    distorted_start: DistortedStart | None = None,
) -> SCFResult:
    """Spin-polarised SCF of one ordering, read from ``workdir/scf.gpw`` when already done.

    Parameters
    ----------
    ordering
        Atoms and initial moments; non-collinear moments start a non-collinear SCF.
    settings
        GPAW settings.
    workdir
        Directory of this calculation's restart file and log.
    wave_functions
        Keep the wave functions in the restart file (needed by the force-theorem SOC step).
    distorted_start
        Converge first in this distorted cell, then continue in the ideal one (collinear only).
    """
    from gpaw import GPAW

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    record = _inputs_record(ordering, settings, wave_functions, distorted_start)
    grid = kpoint_grid(ordering.atoms, settings.kpoint_density)
    hubbard = hubbard_u_for(ordering.atoms.get_chemical_symbols(), settings.hubbard)
    start = time.perf_counter()
    if _matches(workdir, record):
        calc = GPAW(str(workdir / RESTART_FILE), txt=None)
        atoms = calc.get_atoms()
        elapsed = 0.0
    else:
        atoms = ordering.atoms.copy()
        atoms.calc = gpaw_calculator(
            atoms,
            settings,
            txt=workdir / LOG_FILE,
            noncollinear_moments=ordering.moments if ordering.noncollinear else None,
        )
        if distorted_start is not None:
            ideal = atoms.copy()
            atoms.set_cell(atoms.cell.array @ (np.eye(3) + distorted_start.strain), scale_atoms=True)
            atoms.positions += distorted_start.shifts_A
            atoms.get_potential_energy()
            atoms.set_cell(ideal.cell, scale_atoms=False)
            atoms.set_positions(ideal.positions)
        atoms.get_potential_energy()
        calc = atoms.calc
        calc.write(str(workdir / RESTART_FILE), mode="all" if wave_functions else "")
        if world.rank == 0:  # under MPI, one rank writes
            (workdir / INPUTS_FILE).write_text(json.dumps(record))
        elapsed = time.perf_counter() - start
    moments, total = _moments_of(calc, ordering.noncollinear)
    return SCFResult(
        atoms=atoms,
        energy_eV=float(calc.get_potential_energy()),
        moments=moments,
        total_magnetization=total,
        kpoints=grid,
        hubbard_u_eV=hubbard,
        calc=calc,
        wall_time_s=elapsed,
    )


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: to a file beside it, then renamed over it."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


class _AtomicBFGS(BFGS):
    """BFGS whose restart file (Hessian, last positions and forces) is replaced atomically; ASE's own
    ``dump`` truncates it first, and a SIGKILL between truncating and writing left an empty file that
    the next run could not read."""

    def dump(self, data) -> None:
        from ase.io.jsonio import encode

        if self.comm.rank == 0 and self.restart is not None:
            _replace(Path(self.restart), encode(data))


def relax(
    ordering: OrderingInput,
    settings: GPAWSettings,
    workdir: str | Path,
    *,
    fmax: float = 0.05,
    relax_cell: bool = False,
    steps: int = 50,
) -> SCFResult:
    """Relax positions (and optionally the cell) of one collinear ordering with BFGS.

    Every ionic step is appended to ``workdir/relax.traj`` and counted in ``relax_state.json``; a
    rerun starts from the last frame, with the moments it had, and the optimizer's saved Hessian.

    Parameters
    ----------
    ordering
        Atoms and initial collinear moments.
    settings
        GPAW settings.
    workdir
        Directory of the trajectory, optimizer state and log.
    fmax
        Force threshold (eV/Angstrom); with ``relax_cell`` it also bounds the stress times volume.
    relax_cell
        Relax the cell too (FrechetCellFilter).
    steps
        Limit on ionic steps over all runs together.
    """
    if ordering.noncollinear:
        raise NotImplementedError("relaxations are collinear only; GPAW has no non-collinear stress")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    trajectory = workdir / "relax.traj"
    state = workdir / "relax_state.json"
    atoms = ordering.atoms.copy()
    done = json.loads(state.read_text())["steps"] if state.is_file() else 0
    if trajectory.is_file() and trajectory.stat().st_size > 0:
        last = read(str(trajectory), index=-1)
        atoms.set_cell(last.cell, scale_atoms=False)
        atoms.set_positions(last.positions)
        atoms.set_initial_magnetic_moments(last.get_magnetic_moments())
    start = time.perf_counter()
    atoms.calc = gpaw_calculator(atoms, settings, txt=workdir / LOG_FILE)
    target = FrechetCellFilter(atoms) if relax_cell else atoms
    with Trajectory(str(trajectory), "a", atoms) as traj:
        optimizer = _AtomicBFGS(
            target, restart=str(workdir / "optimizer.json"), logfile=str(workdir / "relax.log")
        )

        def checkpoint() -> None:
            traj.write()
            if world.rank == 0:
                _replace(state, json.dumps({"steps": done + optimizer.nsteps}))

        optimizer.attach(checkpoint, interval=1)
        converged = bool(optimizer.run(fmax=fmax, steps=max(steps - done, 0)))
    calc = atoms.calc
    moments, total = _moments_of(calc, noncollinear=False)
    return SCFResult(
        atoms=atoms,
        energy_eV=float(atoms.get_potential_energy()),
        moments=moments,
        total_magnetization=total,
        kpoints=kpoint_grid(atoms, settings.kpoint_density),
        hubbard_u_eV=hubbard_u_for(atoms.get_chemical_symbols(), settings.hubbard),
        calc=calc,
        wall_time_s=time.perf_counter() - start,
        steps=done + optimizer.nsteps,
        converged=converged,
    )
