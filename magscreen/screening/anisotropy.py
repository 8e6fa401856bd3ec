"""Magnetocrystalline anisotropy from energies on a set of magnetisation directions.

Engine-independent (the ML potential and the GPAW force theorem both feed it): given the energy
of one structure with all moments along each of several directions, it returns the easy axis,
the anisotropy energy and constants, the saturation magnetisation, the anisotropy field and the
magnetic hardness.

Conventions (docs/anisotropy.md):

- **MAE = E[100] - E[001]**, per atom (micro-eV) and per volume (MJ/m^3); [001] is the crystal's
  unique axis c, [100] the direction perpendicular to c in the a-c plane. **Positive = easy axis c.**
- Uniaxial crystals (tetragonal, hexagonal, trigonal and lower): E(theta) = K0 + K1 sin^2 theta
  + K2 sin^4 theta, theta from c; in-plane anisotropy is not fitted (it shows in ``fit_rms``).
- Cubic crystals: E = K0 + K1 (a1^2 a2^2 + a2^2 a3^2 + a3^2 a1^2) + K2 a1^2 a2^2 a3^2, a_i the
  direction cosines to the cubic axes; MAE is then zero by symmetry and the easy axis is <100>,
  <110> or <111>.
- Ms = |sum_i m_i| mu_B / V; mu0 H_A = 2 K1 / Ms (T); kappa = sqrt(K1 / (mu0 Ms^2)) (only for
  K1 > 0: permanent magnets want kappa > 1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from magscreen.errors import InputError

__all__ = [
    "AnisotropyAnalysis",
    "MU0",
    "analyse_anisotropy",
    "crystal_axes",
    "directions_from_angles",
    "lattice_direction",
    "sample_directions",
]

#: Vacuum permeability (T m / A).
MU0 = 4e-7 * math.pi
#: Bohr magneton (J/T), electron-volt (J).
MU_B_J_T = 9.2740100783e-24
EV_J = 1.602176634e-19

Symmetry = Literal["uniaxial", "cubic"]


@dataclass
class AnisotropyAnalysis:
    """Anisotropy of one magnetic structure (all moments rotated together).

    Attributes
    ----------
    symmetry
        'uniaxial' (E in sin^2 theta from c) or 'cubic' (E in the cubic invariants).
    easy_axis
        Lowest-energy direction as a lattice direction [u, v, w] of the input cell (smallest
        integers, components up to 6; None when no small-integer direction matches).
    easy_axis_cartesian
        The same direction, a Cartesian unit vector.
    easy_axis_label
        'c', 'plane' (perpendicular to c), 'cone' (uniaxial), or '<100>', '<110>', '<111>' (cubic).
    mae_ueV_per_atom, mae_MJ_m3
        E[100] - E[001] per atom (micro-eV) and per volume (MJ/m^3); positive = easy axis c.
    K1_ueV_per_atom, K2_ueV_per_atom, K1_MJ_m3, K2_MJ_m3
        Anisotropy constants of the uniaxial or cubic form; K2 None when the directions cannot
        separate it from K1.
    fit_rms_ueV_per_atom
        Root mean square residual of the fitted form over the given directions.
    Ms_T, Ms_kA_m
        Saturation magnetisation mu0 Ms (T) and Ms (kA/m).
    mu0_HA_T
        Anisotropy field 2 K1 / Ms (T).
    kappa
        Magnetic hardness sqrt(K1 / (mu0 Ms^2)); None for K1 <= 0 or Ms = 0.
    axis_cartesian
        The unique axis c (uniaxial) or the cubic [001] axis, Cartesian unit vector.
    directions, energies_ueV_per_atom
        The directions analysed (Cartesian unit vectors) and their energies relative to the
        lowest (micro-eV per atom).
    """

    symmetry: Symmetry
    easy_axis: list[int] | None
    easy_axis_cartesian: list[float]
    easy_axis_label: str
    mae_ueV_per_atom: float
    mae_MJ_m3: float
    K1_ueV_per_atom: float
    K2_ueV_per_atom: float | None
    K1_MJ_m3: float
    K2_MJ_m3: float | None
    fit_rms_ueV_per_atom: float
    Ms_T: float
    Ms_kA_m: float
    mu0_HA_T: float | None
    kappa: float | None
    axis_cartesian: list[float]
    directions: list[list[float]]
    energies_ueV_per_atom: list[float]

    def as_dict(self) -> dict:
        """Plain-JSON dictionary (the candidate document's ``anisotropy`` fields)."""
        return asdict(self)


def _unit(vector: np.ndarray) -> np.ndarray:
    return np.asarray(vector, dtype=float) / np.linalg.norm(vector)


def crystal_axes(structure) -> tuple[Symmetry, np.ndarray]:
    """Symmetry class and the conventional cell's axes in the input's Cartesian frame.

    Returns 'cubic' or 'uniaxial' and a (3, 3) array whose rows are unit vectors along the
    conventional a, b, c (for uniaxial crystals row 2 is the unique axis c). Magnetic moments are
    ignored: the crystal's symmetry sets the form of the anisotropy.
    """
    from pymatgen.core import Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    bare = Structure(structure.lattice, structure.species, structure.frac_coords)
    analyzer = SpacegroupAnalyzer(bare, symprec=1e-3)
    dataset = analyzer.get_symmetry_dataset()
    transformation = np.asarray(dataset.transformation_matrix, dtype=float)
    conventional = np.linalg.inv(transformation).T @ structure.lattice.matrix
    axes = np.array([_unit(v) for v in conventional])
    system = analyzer.get_crystal_system()
    if system == "cubic":
        return "cubic", axes
    if system in {"tetragonal", "hexagonal", "trigonal"}:
        return "uniaxial", axes
    # lower symmetry: the input's own c axis, a flagged approximation (fit_rms shows it)
    lattice = structure.lattice.matrix
    return "uniaxial", np.array([_unit(lattice[0]), _unit(lattice[1]), _unit(lattice[2])])


def _perpendicular_a(axes: np.ndarray) -> np.ndarray:
    """[100] of the MAE: the part of a perpendicular to c."""
    c = axes[2]
    a = axes[0] - np.dot(axes[0], c) * c
    return _unit(a)


def sample_directions(structure, *, step_deg: float = 15.0) -> np.ndarray:
    """Magnetisation directions (K, 3) for an anisotropy scan of ``structure``.

    The a-c plane from c to [100] every ``step_deg``, the basal plane (30, 60, 90 degrees from
    [100]), the cubic [110] and [111] of the conventional axes, and -c (time reversal check).
    """
    _, axes = crystal_axes(structure)
    c, a = axes[2], _perpendicular_a(axes)
    b = np.cross(c, a)
    angles = np.radians(np.arange(0.0, 90.0 + 1e-9, step_deg))
    directions = [np.cos(t) * c + np.sin(t) * a for t in angles]
    directions += [np.cos(p) * a + np.sin(p) * b for p in np.radians([30.0, 60.0, 90.0])]
    directions += [_unit(axes[0] + axes[1]), _unit(axes.sum(axis=0)), -c]
    return np.array([_unit(d) for d in directions])


def directions_from_angles(angles_deg: list[tuple[float, float]] | np.ndarray) -> np.ndarray:
    """Cartesian unit vectors (K, 3) of (theta, phi) pairs in degrees (theta from z, phi from x)."""
    out = []
    for theta, phi in angles_deg:
        t, p = math.radians(theta), math.radians(phi)
        out.append([math.sin(t) * math.cos(p), math.sin(t) * math.sin(p), math.cos(t)])
    return np.array(out)


def lattice_direction(structure, vector: np.ndarray, max_index: int = 6) -> list[int] | None:
    """Smallest-integer lattice direction [u, v, w] of the input cell along ``vector`` (Cartesian).

    None when no direction with components up to ``max_index`` lies within 0.5 degrees.
    """
    fractional = np.linalg.solve(structure.lattice.matrix.T, np.asarray(vector, dtype=float))
    best = None
    for scale in range(1, max_index + 1):
        candidate = fractional / np.abs(fractional).max() * scale
        rounded = np.round(candidate)
        if np.abs(rounded).max() == 0:
            continue
        cartesian = rounded @ structure.lattice.matrix
        if np.degrees(np.arccos(np.clip(np.dot(_unit(cartesian), _unit(vector)), -1, 1))) < 0.5:
            best = rounded
            break
    if best is None:
        return None
    divisor = math.gcd(*[abs(int(x)) for x in best])
    return [int(x) // divisor for x in best]


def _cubic_invariants(cosines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a2 = cosines**2
    first = a2[:, 0] * a2[:, 1] + a2[:, 1] * a2[:, 2] + a2[:, 2] * a2[:, 0]
    return first, a2[:, 0] * a2[:, 1] * a2[:, 2]


def _fit(design: np.ndarray, energies: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares with a constant column; drops the last column when it is not resolved."""
    full = np.column_stack([np.ones(len(energies)), design])
    coefficients, *_ = np.linalg.lstsq(full, energies, rcond=None)
    rank = np.linalg.matrix_rank(full, tol=1e-8)
    if rank < full.shape[1]:
        reduced = full[:, :-1]
        coefficients, *_ = np.linalg.lstsq(reduced, energies, rcond=None)
        coefficients = np.append(coefficients, np.nan)
        residual = energies - reduced @ coefficients[:-1]
    else:
        residual = energies - full @ coefficients
    return coefficients[1:], float(np.sqrt(np.mean(residual**2)))


def analyse_anisotropy(
    structure,
    directions: np.ndarray,
    energies_eV: np.ndarray,
    moments_muB: np.ndarray,
    *,
    source: str = "anisotropy input",
) -> AnisotropyAnalysis:
    """Anisotropy of ``structure`` from its energy with all moments along each direction.

    Parameters
    ----------
    structure
        pymatgen ``Structure`` of the cell the energies are for.
    directions
        Magnetisation directions (K, 3), Cartesian; normalised here.
    energies_eV
        Energy of the cell (eV) with the magnetisation along each direction, shape (K,).
    moments_muB
        Signed collinear moment of every site (mu_B, shape (N,)) for Ms; ferrimagnets subtract.
    source
        Where the numbers came from, for error messages.
    """
    directions = np.asarray(directions, dtype=float)
    energies = np.asarray(energies_eV, dtype=float)
    if directions.ndim != 2 or directions.shape[1] != 3 or len(directions) != len(energies):
        raise InputError(
            f"directions {directions.shape} and energies {energies.shape} do not match",
            source=source,
            field="directions",
            expected="shape (K, 3) with K energies",
        )
    if len(energies) < 2 or not np.all(np.isfinite(energies)):
        raise InputError(
            "need at least two finite energies",
            source=source,
            field="energies",
            expected="one finite energy (eV) per direction",
        )
    directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    natoms = len(structure)
    volume_m3 = structure.volume * 1e-30
    per_atom_ueV = energies / natoms * 1e6
    to_MJ_m3 = natoms * 1e-6 * EV_J / volume_m3 / 1e6  # ueV/atom -> MJ/m^3

    symmetry, axes = crystal_axes(structure)
    c_axis, a_perp = axes[2], _perpendicular_a(axes)
    if symmetry == "cubic":
        first, second = _cubic_invariants(directions @ axes.T)
        (k1, k2), rms = _fit(np.column_stack([first, second]), per_atom_ueV)
    else:
        sin2 = 1.0 - (directions @ c_axis) ** 2
        (k1, k2), rms = _fit(np.column_stack([sin2, sin2**2]), per_atom_ueV)
    k2_value = None if np.isnan(k2) else float(k2)
    k2_fit = 0.0 if k2_value is None else k2_value

    mae = _mae(directions, per_atom_ueV, c_axis, a_perp, symmetry, k1, k2_fit)
    label, easy = _easy_axis(symmetry, axes, k1, k2_fit, directions, per_atom_ueV)

    magnetisation = abs(float(np.sum(moments_muB))) * MU_B_J_T / volume_m3  # A/m
    k1_j_m3 = k1 * to_MJ_m3 * 1e6
    mu0_ha = 2.0 * k1_j_m3 / magnetisation if magnetisation > 0 else None
    kappa = math.sqrt(k1_j_m3 / (MU0 * magnetisation**2)) if magnetisation > 0 and k1_j_m3 > 0 else None
    return AnisotropyAnalysis(
        symmetry=symmetry,
        easy_axis=lattice_direction(structure, easy),
        easy_axis_cartesian=[float(x) for x in easy],
        easy_axis_label=label,
        mae_ueV_per_atom=float(mae),
        mae_MJ_m3=float(mae * to_MJ_m3),
        K1_ueV_per_atom=float(k1),
        K2_ueV_per_atom=k2_value,
        K1_MJ_m3=float(k1 * to_MJ_m3),
        K2_MJ_m3=None if k2_value is None else float(k2_value * to_MJ_m3),
        fit_rms_ueV_per_atom=rms,
        Ms_T=float(MU0 * magnetisation),
        Ms_kA_m=float(magnetisation / 1e3),
        mu0_HA_T=None if mu0_ha is None else float(mu0_ha),
        kappa=None if kappa is None else float(kappa),
        axis_cartesian=[float(x) for x in c_axis],
        directions=directions.tolist(),
        energies_ueV_per_atom=(per_atom_ueV - per_atom_ueV.min()).tolist(),
    )


def _mae(directions, per_atom_ueV, c_axis, a_perp, symmetry, k1, k2) -> float:
    """E[100] - E[001] from the computed directions when both are present, else from the fit."""
    along_c = np.flatnonzero(directions @ c_axis > 1 - 1e-6)
    along_a = np.flatnonzero(directions @ a_perp > 1 - 1e-6)
    if len(along_c) and len(along_a):
        return float(per_atom_ueV[along_a[0]] - per_atom_ueV[along_c[0]])
    return 0.0 if symmetry == "cubic" else float(k1 + k2)


def _easy_axis(symmetry, axes, k1, k2, directions, per_atom_ueV) -> tuple[str, np.ndarray]:
    """Label and Cartesian unit vector of the minimum of the fitted form."""
    if symmetry == "cubic":
        candidates = {
            "<100>": (0.0, axes[2]),
            "<110>": (k1 / 4.0, _unit(axes[0] + axes[1])),
            "<111>": (k1 / 3.0 + k2 / 27.0, _unit(axes.sum(axis=0))),
        }
        label = min(candidates, key=lambda key: candidates[key][0])
        return label, candidates[label][1]
    c_axis, a_perp = axes[2], _perpendicular_a(axes)
    # E(s) = K1 s + K2 s^2 on s = sin^2 theta in [0, 1]
    options = {"c": 0.0, "plane": k1 + k2}
    cone = -k1 / (2.0 * k2) if k2 > 0 else None
    if cone is not None and 0.0 < cone < 1.0:
        options["cone"] = k1 * cone + k2 * cone**2
    label = min(options, key=options.get)
    if label == "c":
        return label, c_axis
    if label == "plane":
        in_plane = np.flatnonzero(np.abs(directions @ c_axis) < 1e-6)
        if len(in_plane):
            return label, directions[in_plane[np.argmin(per_atom_ueV[in_plane])]]
        return label, a_perp
    theta = math.asin(math.sqrt(cone))
    return label, math.cos(theta) * c_axis + math.sin(theta) * a_perp
