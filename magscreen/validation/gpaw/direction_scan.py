"""Force-theorem energies on any set of magnetisation directions: one collinear SCF, one SOC step each.

The SCF is the GPAW engine's ``single_point`` (checkpointed in ``workdir``); each direction costs
one ``gpaw.spinorbit.soc_eigenstates`` band energy. The anisotropy analysis
(:mod:`magscreen.screening.anisotropy`) turns the energies into easy axis, MAE and constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ForceTheoremScan", "force_theorem_energies"]


@dataclass
class ForceTheoremScan:
    """Force-theorem energies of one collinear ground state.

    Attributes
    ----------
    energies_eV
        SOC band energy of the cell per direction (eV), shape (K,); only differences are physical.
    moments
        Self-consistent collinear moment per site (mu_B), shape (N,).
    kpoint_grid
        Monkhorst-Pack grid of the SCF.
    scf_energy_eV
        Total energy of the collinear SCF (eV per cell).
    """

    energies_eV: np.ndarray
    moments: np.ndarray
    kpoint_grid: list[int]
    scf_energy_eV: float


def _angles(direction: np.ndarray) -> tuple[float, float]:
    """GPAW's polar and azimuthal angles (degrees) of a Cartesian direction."""
    x, y, z = direction / np.linalg.norm(direction)
    return float(np.degrees(np.arccos(np.clip(z, -1.0, 1.0)))), float(np.degrees(np.arctan2(y, x)))


def force_theorem_energies(
    structure, directions: np.ndarray, settings, workdir: str | Path, *, source: str = "structure"
) -> ForceTheoremScan:
    """Band energies (eV per cell) with the magnetisation along each direction.

    Parameters
    ----------
    structure
        pymatgen ``Structure`` with collinear ``magmom`` (mu_B) for the SCF start.
    directions
        Cartesian directions (K, 3) in the structure's frame (the GPAW cell may be rotated into
        ASE's standard form; directions are carried over through fractional coordinates).
    settings
        :class:`~magscreen.validation.gpaw.settings.GPAWSettings` (dense k-points, small smearing).
    workdir
        Directory of the SCF checkpoint.

    """
    from gpaw.spinorbit import soc_eigenstates

    from magscreen.validation.gpaw.calculation import single_point
    from magscreen.validation.gpaw.ordering_input import ordering_input
    from magscreen.validation.gpaw.settings import kpoint_grid

    ordering = ordering_input(structure, source=source)
    result = single_point(ordering, settings, Path(workdir), wave_functions=True)
    fractional = np.asarray(directions, dtype=float) @ np.linalg.inv(structure.lattice.matrix)
    in_gpaw_frame = fractional @ np.asarray(result.atoms.cell)
    energies = []
    for direction in in_gpaw_frame:
        theta, phi = _angles(direction)
        energies.append(soc_eigenstates(result.calc, theta=theta, phi=phi).calculate_band_energy())
    return ForceTheoremScan(
        energies_eV=np.array(energies),
        moments=np.asarray(result.moments, dtype=float)[:, 2],
        kpoint_grid=kpoint_grid(result.atoms, settings.kpoint_density),
        scf_energy_eV=float(result.energy_eV),
    )
