"""MAGMOM for VASP from an ordering's ``magmom`` site property, and the site order VASP sees.

VASP reads MAGMOM in POSCAR site order. pymatgen input sets sort the sites by electronegativity
(stable sort) before writing the POSCAR, so the validation maker sorts first, writes MAGMOM in the
sorted order, and keeps the permutation to report results in the ordering's own site order.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure
from pymatgen.electronic_structure.core import Magmom

from magscreen.errors import StructureError
from magscreen.magnetism.moments import moment_vectors

__all__ = ["collinear_axis", "ordering_moments", "vasp_site_order", "vasp_structure"]

ZERO_MOMENT = 1e-8  # mu_B; below this a site carries no moment (as in magscreen.magnetism)


def ordering_moments(structure: Structure) -> np.ndarray:
    """Cartesian moment vectors (N, 3) in mu_B from the ``magmom`` site property.

    Raises
    ------
    StructureError
        When the structure has no ``magmom`` site property or a moment is not finite.
    """
    if "magmom" not in structure.site_properties:
        raise StructureError(
            f"{structure.reduced_formula} has no magnetic ordering",
            field="magmom",
            expected="a 'magmom' site property (floats along z or 3-vectors, Bohr magnetons)",
        )
    moments = moment_vectors(structure.site_properties["magmom"])
    if not np.all(np.isfinite(moments)):
        raise StructureError(
            f"{structure.reduced_formula} has a non-finite moment", field="magmom", expected="finite moments"
        )
    return moments


def collinear_axis(moments: np.ndarray) -> np.ndarray | None:
    """Unit vector along which all non-zero moments lie (parallel or antiparallel), else None.

    A configuration without any moment is collinear along z.
    """
    nonzero = moments[np.linalg.norm(moments, axis=1) > ZERO_MOMENT]
    if len(nonzero) == 0:
        return np.array([0.0, 0.0, 1.0])
    if not Magmom.are_collinear([Magmom(m) for m in nonzero]):
        return None
    axis = nonzero[0] / np.linalg.norm(nonzero[0])
    # point the axis along the positive direction of its largest component (z for the usual case)
    return axis if axis[np.argmax(np.abs(axis))] > 0 else -axis


def vasp_site_order(structure: Structure) -> list[int]:
    """Indices of ``structure`` in the order pymatgen writes them to POSCAR (electronegativity, stable)."""
    return sorted(range(len(structure)), key=lambda i: structure[i])


def vasp_structure(structure: Structure, magmom: list) -> Structure:
    """Sites sorted as in POSCAR, with ``magmom`` (given in the ordering's site order) attached."""
    order = vasp_site_order(structure)
    sites = structure.copy(site_properties={"magmom": list(magmom)})
    return Structure.from_sites([sites[i] for i in order])
