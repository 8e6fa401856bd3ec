"""The one converter between the ways magnetic moments are written (Bohr magnetons throughout).

- floats: collinear moments along z;
- 3-vectors: non-collinear moments, Cartesian;
- pymatgen ``Magmom`` (anything with a ``global_moment``), as found in the ``magmom`` site
  property of a ``Structure`` (floats, 3-vectors or ``Magmom``, mixed);
- ASE ``Atoms`` initial magnetic moments, shape (N,) collinear or (N, 3) non-collinear.

Every reader returns Cartesian vectors of shape (N, 3) (:func:`moment_vectors`); the writers give
floats back where all moments lie along z (:func:`site_magmoms`, :func:`structure_to_atoms`).
Only numpy is imported at module level: the ML potential uses this module without pymatgen.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magscreen.errors import InputError

if TYPE_CHECKING:
    from ase import Atoms
    from pymatgen.core import Structure

__all__ = [
    "ZERO_MOMENT",
    "atoms_moments",
    "is_collinear_along_z",
    "moment_vectors",
    "site_magmoms",
    "structure_moments",
    "structure_to_atoms",
]

#: Moments shorter than this (mu_B) count as zero.
ZERO_MOMENT = 1e-8


def _site_vector(value: Any, index: int, source: str | Path, field: str) -> np.ndarray:
    """One site's moment: a float (along z), a 3-vector or a ``Magmom``."""
    try:
        array = np.asarray(getattr(value, "global_moment", value), dtype=float)
    except (TypeError, ValueError):
        array = np.zeros(0)
    if array.ndim == 0:
        return np.array([0.0, 0.0, float(array)])
    if array.shape != (3,):
        raise InputError(
            f"moment {value!r} of site {index} is not a number or a 3-vector",
            source=source,
            field=f"{field}[{index}]",
            expected="a float or 3 floats (mu_B)",
        )
    return array


def moment_vectors(
    moments: Any,
    n_atoms: int | None = None,
    *,
    source: str | Path = "moments",
    field: str = "magmoms",
) -> np.ndarray:
    """Moments as Cartesian 3-vectors (mu_B), shape (N, 3); collinear values lie along z.

    Parameters
    ----------
    moments
        None (all zero; needs ``n_atoms``), an array of shape (N,) or (N, 3), or a sequence of
        per-site values (floats, 3-vectors, pymatgen ``Magmom``), as in a ``magmom`` site property.
    n_atoms
        Number of atoms N the moments must match; None accepts any N.
    source, field
        Where the moments came from (file or object) and under which name, for error messages.

    Raises
    ------
    InputError
        A shape that does not match ``n_atoms``, a site value that is neither a number nor a
        3-vector, or a NaN or infinite moment.
    """
    if moments is None:
        if n_atoms is None:
            raise InputError("no moments given", source=source, field=field, expected="one moment per atom")
        return np.zeros((n_atoms, 3))
    if isinstance(moments, np.ndarray) and moments.dtype != object:
        values = moments.astype(float)
    else:
        sites = list(moments)
        values = None
        if not any(hasattr(m, "global_moment") for m in sites):
            try:
                values = np.asarray(sites, dtype=float)
            except (TypeError, ValueError):  # floats mixed with vectors, or not numbers
                values = None
        if values is None:
            values = np.array([_site_vector(m, i, source, field) for i, m in enumerate(sites)]).reshape(-1, 3)
    if values.ndim == 1:
        vectors = np.zeros((len(values), 3))
        vectors[:, 2] = values
        values = vectors
    expected_n = "N" if n_atoms is None else str(n_atoms)
    if values.ndim != 2 or values.shape[1] != 3 or (n_atoms is not None and len(values) != n_atoms):
        raise InputError(
            f"moments have shape {np.shape(moments)}",
            source=source,
            field=field,
            expected=f"shape ({expected_n},) for collinear moments along z or ({expected_n}, 3)",
        )
    if not np.all(np.isfinite(values)):
        raise InputError("moments hold NaN or infinity", source=source, field=field, expected="finite values")
    return values.copy()


def atoms_moments(atoms: Atoms) -> np.ndarray:
    """Initial magnetic moments of ASE ``Atoms`` as (N, 3) vectors (mu_B)."""
    return moment_vectors(atoms.get_initial_magnetic_moments(), len(atoms), source="atoms")


def structure_moments(structure: Structure, *, source: str | Path = "structure") -> np.ndarray:
    """The ``magmom`` site property of a pymatgen ``Structure`` as (N, 3) vectors (mu_B).

    Raises
    ------
    InputError
        No ``magmom`` site property, or a value that is not a moment (see :func:`moment_vectors`).
    """
    magmoms = structure.site_properties.get("magmom")
    if magmoms is None:
        raise InputError(
            "the structure has no 'magmom' site property",
            source=source,
            field="magmom",
            expected="one moment per site (mu_B): floats along z, 3-vectors or Magmom",
        )
    return moment_vectors(list(magmoms), len(structure), source=source, field="magmom")


def is_collinear_along_z(vectors: np.ndarray, tolerance: float = 1e-6) -> bool:
    """Whether every moment (N, 3) lies along z (x and y components below ``tolerance``, mu_B)."""
    return bool(np.all(np.abs(np.asarray(vectors)[:, :2]) <= tolerance))


def site_magmoms(vectors: np.ndarray, *, collinear: bool | None = None, decimals: int = 6) -> list:
    """A ``magmom`` site property (JSON-ready): floats when collinear along z, else 3-lists.

    Parameters
    ----------
    vectors
        Moments (N, 3) or (N,) in mu_B.
    collinear
        Force floats (True) or 3-lists (False); None: floats when all moments lie along z.
    decimals
        Rounding (mu_B).
    """
    values = np.asarray(vectors, dtype=float)
    if values.ndim == 1:
        values = moment_vectors(values)
    if collinear is None:
        collinear = is_collinear_along_z(values)
    if collinear:
        return [round(float(m), decimals) for m in values[:, 2]]
    return np.round(values, decimals).tolist()


def structure_to_atoms(structure: Structure) -> Atoms:
    """ASE ``Atoms`` whose initial magnetic moments are the structure's ``magmom`` site property.

    Floats (collinear, mu_B) give an (N,) array; 3-vectors or ``Magmom`` give (N, 3); without the
    property every moment is zero.
    """
    from pymatgen.core import Structure as PymatgenStructure
    from pymatgen.io.ase import AseAtomsAdaptor

    magmoms = structure.site_properties.get("magmom")
    atoms = AseAtomsAdaptor.get_atoms(
        PymatgenStructure(structure.lattice, structure.species, structure.frac_coords)
    )
    if magmoms is None:
        atoms.set_initial_magnetic_moments(np.zeros(len(atoms)))
    elif all(np.ndim(m) == 0 and not hasattr(m, "global_moment") for m in magmoms):
        atoms.set_initial_magnetic_moments(np.asarray(magmoms, dtype=float))
    else:
        atoms.set_initial_magnetic_moments(structure_moments(structure))
    return atoms
