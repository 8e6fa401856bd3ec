"""Magnetocrystalline anisotropy by the magnetic force theorem on one collinear GPAW ground state.

Spin-orbit coupling is added non-self-consistently (``gpaw.spinorbit.soc_eigenstates``) with the
spin quantisation axis along each direction; the band-energy differences between directions are
the anisotropy energies. Sign convention shared with the ML ranking
(magscreen/schemas/validation.py): MAE = E[100] - E[001], positive = easy axis along c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magscreen.validation.base import c_and_a_directions, direction_key

__all__ = ["AnisotropyResult", "force_theorem_anisotropy"]


@dataclass
class AnisotropyResult:
    """Force-theorem anisotropy of one collinear ground state.

    Attributes
    ----------
    energies_ueV_per_atom
        Band energy per direction relative to the lowest (micro-eV per atom); keys 'x,y,z'.
    mae_ueV_per_atom
        E[100] - E[001] (micro-eV per atom), [001] along c and [100] perpendicular to c in the
        a-c plane; positive = easy axis along c.
    easy_axis
        Lowest-energy direction among those computed (Cartesian unit vector).
    """

    energies_ueV_per_atom: dict[str, float]
    mae_ueV_per_atom: float
    easy_axis: list[float]


def _angles(direction: np.ndarray) -> tuple[float, float]:
    """Polar and azimuthal angles (degrees) of a Cartesian direction, as GPAW's theta, phi."""
    x, y, z = direction / np.linalg.norm(direction)
    return float(np.degrees(np.arccos(np.clip(z, -1.0, 1.0)))), float(np.degrees(np.arctan2(y, x)))


def force_theorem_anisotropy(calc, extra_directions: list[list[float]] | None = None) -> AnisotropyResult:
    """Anisotropy energies of a converged collinear GPAW calculation.

    Parameters
    ----------
    calc
        GPAW calculator of a converged collinear spin-polarised ground state, with wave functions.
    extra_directions
        Cartesian directions to evaluate besides c and a (normalised here).
    """
    from gpaw.spinorbit import soc_eigenstates

    atoms = calc.get_atoms()
    c_axis, a_axis = c_and_a_directions(atoms.cell.array)
    directions = [c_axis, a_axis] + [np.asarray(d, float) / np.linalg.norm(d) for d in extra_directions or []]
    energies = []
    for direction in directions:
        theta, phi = _angles(direction)
        energies.append(soc_eigenstates(calc, theta=theta, phi=phi).calculate_band_energy())
    per_atom_ueV = (np.asarray(energies) - min(energies)) / len(atoms) * 1e6
    lowest = int(np.argmin(per_atom_ueV))
    return AnisotropyResult(
        energies_ueV_per_atom={
            direction_key(d): float(e) for d, e in zip(directions, per_atom_ueV, strict=True)
        },
        mae_ueV_per_atom=float(per_atom_ueV[1] - per_atom_ueV[0]),
        easy_axis=[float(v) for v in directions[lowest]],
    )
