"""Canted antiferromagnets: collinear AFM orderings with every moment tilted towards a common axis.

Up moments become ``|m| (sin phi, 0, cos phi)``, down moments ``|m| (sin phi, 0, -cos phi)``: the
staggered moment stays along z and a net moment ``sum |m| sin phi`` appears along x, the
weak-ferromagnetic state that Dzyaloshinskii-Moriya interaction or single-ion anisotropy favours.
"""

from __future__ import annotations

import numpy as np
from pymatgen.electronic_structure.core import Magmom

from magscreen.magnetism.ordering import Ordering
from magscreen.magnetism.parent import short_hash


def canted(ordering: Ordering, angle: float) -> Ordering:
    """Cant a collinear ordering by ``angle`` degrees towards +x (see module docstring)."""
    if ordering.kind != "collinear":
        raise ValueError(f"canting needs a collinear ordering, got {ordering.kind} {ordering.label!r}")
    phi = np.radians(angle)
    values = np.asarray(ordering.structure.site_properties["magmom"], dtype=float)
    vectors = np.stack([np.abs(values) * np.sin(phi), np.zeros_like(values), values * np.cos(phi)], axis=1)
    structure = ordering.structure.copy(site_properties={"magmom": [Magmom(v) for v in vectors]})
    return Ordering(
        label=f"canted {ordering.label} {angle:g}deg",
        kind="noncollinear",
        structure=structure,
        fingerprint=short_hash(f"canted|{ordering.fingerprint}|{angle:.3f}"),
        parameters={
            "supercell_matrix": ordering.parameters["supercell_matrix"],
            "parent_spacegroup": ordering.parameters["parent_spacegroup"],
            "canting_angle": float(angle),
            "collinear_label": ordering.label,
            "collinear_fingerprint": ordering.fingerprint,
        },
    )
