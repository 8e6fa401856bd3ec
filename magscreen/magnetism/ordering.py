"""One magnetic ordering: a supercell with moments, a readable label and a symmetry fingerprint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from ase import Atoms
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.magnetism.moments import structure_moments


@dataclass
class Ordering:
    """A magnetic ordering of a parent structure.

    Attributes
    ----------
    label
        Readable name: ``FM``, ``AFM-I``, ``AFM-II``, ``AFM q=(0,0,1/2)``, ``FiM``,
        ``spiral q=(1/4,0,0)``, ``120-degree q=0``, ``canted AFM-II 10deg``, ...
    kind
        ``"collinear"`` (moments are floats along z) or ``"noncollinear"`` (``Magmom`` vectors).
    structure
        Supercell with the ``magmom`` site property (mu_B).
    fingerprint
        Sixteen hex digits, equal for orderings related by a space-group operation of the parent
        and/or a global spin flip; a store key.
    parameters
        What defines the ordering: ``supercell_matrix`` (rows, in parent primitive cell vectors),
        propagation vectors, cone and canting angles (degrees), ...
    """

    label: str
    kind: Literal["collinear", "noncollinear"]
    structure: Structure
    fingerprint: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def n_magnetic_atoms(self) -> int:
        """Number of sites with a non-zero moment."""
        return int(np.count_nonzero(np.linalg.norm(self.moments, axis=-1) > 1e-8))

    @property
    def moments(self) -> np.ndarray:
        """Moments as Cartesian vectors, shape (N, 3), mu_B."""
        return structure_moments(self.structure, source=self.label)

    def to_atoms(self) -> Atoms:
        """ASE view with initial magnetic moments: shape (N,) if collinear, (N, 3) otherwise."""
        atoms = AseAtomsAdaptor.get_atoms(self.structure)
        moments = self.moments
        atoms.set_initial_magnetic_moments(None)
        atoms.set_initial_magnetic_moments(moments[:, 2] if self.kind == "collinear" else moments)
        return atoms
