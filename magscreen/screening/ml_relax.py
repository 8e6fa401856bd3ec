"""ML relaxation of one magnetic ordering: lattice at fixed moments, then the moments.

1. Positions and cell with ASE ``FIRE`` (cell through ``FrechetCellFilter``) while the moments stay
   at the ordering's values (``atoms.get_initial_magnetic_moments()``).
2. Moment directions (and magnitudes) with :func:`magscreen.magnetism.spin_relax.relax_spins`, when the
   calculator provides magnetic forces ``H_i = -dE/dm_i`` (eV/mu_B).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixAtoms
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from ase.units import GPa

from magscreen.magnetism.moments import atoms_moments
from magscreen.magnetism.spin_relax import relax_spins
from magscreen.screening.settings import RelaxSettings

log = logging.getLogger(__name__)

#: Volumes (relative to the starting cell) a lattice relaxation may reach. Beyond them a machine-learned
#: energy is extrapolating, not relaxing: a magnetic term fitted near the DFT lattice can open a hole
#: at short distances into which the cell collapses (bcc Fe under the general model: 11.8 -> 5.8
#: A^3/atom, -750 eV/atom). The relaxation stops at the last cell inside and is reported unconverged.
VOLUME_RANGE = (0.75, 1.33)
#: Farthest an atom may move from its start (Angstrom, in the starting cell's fractional frame) in a
#: lattice relaxation. The models are trained on rattles of 0.03-0.05 A and strains of 3 %; beyond this
#: the magnetic terms extrapolate, and fixed-cell relaxations fall into holes (Fe2O3 under the general
#: model: forces of 22 eV/A, orderings 9 eV per Fe apart). Stopped and reported unconverged like VOLUME_RANGE.
MAX_DISPLACEMENT = 0.5

__all__ = ["MAX_DISPLACEMENT", "RelaxResult", "has_magnetic_forces", "relax_ordering"]


@dataclass
class RelaxResult:
    """Outcome of :func:`relax_ordering`.

    Attributes
    ----------
    atoms
        Relaxed structure; its initial magnetic moments hold the relaxed moments (Bohr magnetons).
    energy_eV
        Total energy (eV).
    max_force_eV_per_A
        Largest atomic force (eV/Angstrom).
    max_stress_GPa
        Largest stress component (GPa); None when the calculator gives no stress.
    max_magnetic_force_eV_per_muB
        Largest |H_i| (eV/mu_B); None without magnetic forces.
    max_torque_eV
        Largest |m_i x H_i| (eV); None without magnetic forces.
    lattice_steps, spin_steps
        Optimizer steps taken.
    converged
        Whether every relaxation that ran reached its threshold.
    wall_time_s
        Wall time (s).
    """

    atoms: Atoms
    energy_eV: float
    max_force_eV_per_A: float
    max_stress_GPa: float | None
    max_magnetic_force_eV_per_muB: float | None
    max_torque_eV: float | None
    lattice_steps: int
    spin_steps: int
    converged: bool
    wall_time_s: float


def has_magnetic_forces(calculator: Calculator) -> bool:
    """Whether the calculator implements ``magnetic_forces`` (eV/mu_B)."""
    return "magnetic_forces" in getattr(calculator, "implemented_properties", ())


def relax_ordering(
    atoms: Atoms, calculator: Calculator, settings: RelaxSettings | None = None
) -> RelaxResult:
    """Relax the lattice of one ordering at fixed moments, then its moments.

    Parameters
    ----------
    atoms
        Supercell of the ordering; moments in ``atoms.get_initial_magnetic_moments()`` (mu_B).
    calculator
        ASE calculator (energy; forces and stress for the lattice relaxation; ``magnetic_forces``
        for the spin relaxation).
    settings
        Thresholds and what moves (:class:`~magscreen.screening.settings.RelaxSettings`; its
        ``calculator`` and ``device`` are not used here): ``fmax`` (eV/Angstrom; the cell filter
        applies it to the stress times volume), ``steps`` (FIRE steps, 0 skips the lattice),
        ``relax_positions``, ``relax_cell``, ``relax_moments`` (when the calculator has magnetic
        forces), ``relax_magnitudes`` (else directions only), ``torque_tol`` (largest torque
        |m x H|, eV) and ``spin_steps``.

    The lattice relaxation stops at the last step inside :data:`VOLUME_RANGE` and
    :data:`MAX_DISPLACEMENT` and is then reported unconverged.
    """
    settings = settings or RelaxSettings()
    fmax, steps, spin_steps = settings.fmax, settings.steps, settings.spin_steps
    relax_positions, relax_cell = settings.relax_positions, settings.relax_cell
    start = time.perf_counter()
    atoms = atoms.copy()
    atoms.calc = calculator
    converged = True
    lattice_steps = 0
    properties = getattr(calculator, "implemented_properties", ())
    relax_cell = relax_cell and "stress" in properties
    relax_positions = relax_positions and "forces" in properties
    if steps > 0 and (relax_positions or relax_cell):
        if relax_cell and not relax_positions:
            atoms.set_constraint(FixAtoms(indices=range(len(atoms))))
        target = FrechetCellFilter(atoms) if relax_cell else atoms
        optimizer = FIRE(target, logfile=None)
        volume = atoms.get_volume()
        start_cell, start_fractional = atoms.get_cell().copy(), atoms.get_scaled_positions(wrap=False)
        inside = (atoms.get_positions(), atoms.get_cell().copy())
        for converged in optimizer.irun(fmax=fmax, steps=steps):
            ratio = atoms.get_volume() / volume
            moved = atoms.get_scaled_positions(wrap=False) - start_fractional
            displacement = float(np.linalg.norm(moved @ start_cell.array, axis=1).max())
            outside = []
            if not VOLUME_RANGE[0] <= ratio <= VOLUME_RANGE[1]:
                outside.append(f"volume {ratio:.2f} of the start's (outside {VOLUME_RANGE})")
            if displacement > MAX_DISPLACEMENT:
                outside.append(f"an atom {displacement:.2f} A from its start (more than {MAX_DISPLACEMENT})")
            if outside:
                log.warning(
                    "%s: lattice relaxation stopped at step %d, %s: the model extrapolates there; "
                    "reported unconverged",
                    atoms.get_chemical_formula(),
                    optimizer.get_number_of_steps(),
                    " and ".join(outside),
                )
                atoms.set_cell(inside[1])
                atoms.set_positions(inside[0], apply_constraint=False)
                converged = False
                break
            inside = (atoms.get_positions(), atoms.get_cell().copy())
        converged = bool(converged)
        lattice_steps = optimizer.get_number_of_steps()
        atoms.set_constraint()

    n_spin_steps = 0
    initial = np.asarray(atoms.get_initial_magnetic_moments(), dtype=float)
    if settings.relax_moments and spin_steps > 0 and has_magnetic_forces(calculator) and np.any(initial):
        spins = relax_spins(
            atoms,
            calculator,
            torque_tol=settings.torque_tol,
            steps=spin_steps,
            relax_magnitudes=settings.relax_magnitudes,
        )
        converged = converged and bool(spins.converged)
        n_spin_steps = int(spins.n_steps)
        moments = np.asarray(spins.atoms.get_initial_magnetic_moments(), dtype=float)
        if initial.ndim == 1 and np.allclose(moments[:, :2], 0.0, atol=1e-6):
            moments = moments[:, 2]  # a collinear ordering that stayed collinear keeps float moments
        atoms.set_array("initial_magmoms", None)  # spin-orbit torques may turn (N,) into (N, 3)
        atoms.set_initial_magnetic_moments(moments)

    energy = float(atoms.get_potential_energy())
    max_force = float(np.linalg.norm(atoms.get_forces(), axis=1).max()) if "forces" in properties else 0.0
    max_stress = float(np.abs(atoms.get_stress()).max() / GPa) if "stress" in properties else None
    max_h = max_torque = None
    if has_magnetic_forces(calculator):
        field = np.asarray(calculator.get_property("magnetic_forces", atoms), dtype=float).reshape(
            len(atoms), 3
        )
        max_h = float(np.linalg.norm(field, axis=1).max())
        max_torque = float(np.linalg.norm(np.cross(atoms_moments(atoms), field), axis=1).max())
    return RelaxResult(
        atoms=atoms,
        energy_eV=energy,
        max_force_eV_per_A=max_force,
        max_stress_GPa=max_stress,
        max_magnetic_force_eV_per_muB=max_h,
        max_torque_eV=max_torque,
        lattice_steps=lattice_steps,
        spin_steps=n_spin_steps,
        converged=converged,
        wall_time_s=time.perf_counter() - start,
    )
