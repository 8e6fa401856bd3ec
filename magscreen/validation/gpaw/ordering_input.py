"""An ordering as GPAW input: ASE ``Atoms`` and initial moments from a pymatgen ``magmom`` property."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.errors import InputError
from magscreen.magnetism.moments import structure_moments

__all__ = ["OrderingInput", "ordering_input", "structure_fingerprint"]

#: Moments below this (mu_B) count as zero.
ZERO_MOMENT = 1e-3


@dataclass(frozen=True)
class OrderingInput:
    """Atoms and initial moments of one ordering.

    Attributes
    ----------
    atoms
        Cell without a calculator; collinear moments are set as its initial magnetic moments.
    moments
        Initial moments (mu_B), shape (N, 3); collinear moments lie along z.
    noncollinear
        True when some moment has a component off the z axis.
    """

    atoms: Atoms
    moments: np.ndarray
    noncollinear: bool

    @property
    def n_magnetic_atoms(self) -> int:
        """Sites of the elements that carry a moment anywhere in the cell."""
        magnetic = np.linalg.norm(self.moments, axis=1) > ZERO_MOMENT
        elements = {s for s, m in zip(self.atoms.get_chemical_symbols(), magnetic, strict=True) if m}
        return sum(s in elements for s in self.atoms.get_chemical_symbols())


def ordering_input(structure: Structure, source: str = "structure") -> OrderingInput:
    """Convert a structure whose ``magmom`` site property holds the ordering.

    Parameters
    ----------
    structure
        Ordered structure with a ``magmom`` site property: floats (collinear, mu_B along z),
        3-vectors or pymatgen ``Magmom`` objects (non-collinear).
    source
        Where the structure came from, named in error messages.

    Raises
    ------
    InputError
        No ``magmom`` property, a disordered site, or a moment that is neither a float nor a 3-vector.
    """
    if not structure.is_ordered:
        raise InputError(
            "the structure has partially occupied sites",
            source=source,
            field="sites",
            expected="an ordered structure",
        )
    moments = structure_moments(structure, source=source)  # raises when there is no 'magmom'
    if not np.any(np.linalg.norm(moments, axis=1) > ZERO_MOMENT):
        raise InputError(
            "every moment is zero",
            source=source,
            field="magmom",
            expected="at least one site with a moment (mu_B)",
        )
    noncollinear = bool(np.any(np.abs(moments[:, :2]) > ZERO_MOMENT))
    atoms = AseAtomsAdaptor.get_atoms(structure.copy(site_properties={}))
    # GPAW's log writer fails on cells with negative diagonal entries: rotate lattice, positions
    # and (for non-collinear input) moments together into ASE's lower-triangular standard form.
    standard_cell, rotation = atoms.cell.standard_form()
    atoms.set_cell(standard_cell, scale_atoms=True)
    if noncollinear:
        moments = moments @ rotation.T
    if not noncollinear:
        atoms.set_initial_magnetic_moments(moments[:, 2])
    return OrderingInput(atoms=atoms, moments=moments, noncollinear=noncollinear)


def structure_fingerprint(structure: Structure) -> str:
    """Sixteen hex digits from species, fractional coordinates (1e-3) and moments (0.1 mu_B).

    A stand-in key for structures that arrive without an ordering fingerprint (e.g. from a file);
    unlike the orderings module's fingerprint it is not invariant under symmetry operations.
    """
    moments = ordering_input(structure).moments
    rows = [
        f"{site.specie}:{np.round(site.frac_coords % 1.0, 3).tolist()}:{np.round(m, 1).tolist()}"
        for site, m in zip(structure, moments, strict=True)
    ]
    lattice = np.round(structure.lattice.matrix, 3).tolist()
    return hashlib.sha1(f"{lattice}|{'|'.join(rows)}".encode()).hexdigest()[:16]
