"""All non-collinear starting states of a structure: spirals, 120-degree states, canted AFMs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from ase.neighborlist import neighbor_list
from pymatgen.core import Structure

from magscreen.magnetism.canted import canted
from magscreen.magnetism.collinear import EnumerationResult, enumerate_collinear
from magscreen.magnetism.ordering import Ordering
from magscreen.magnetism.parent import parent_cell
from magscreen.magnetism.sites import DEFAULT_MAX_ATOMS
from magscreen.magnetism.spirals import spin_spirals
from magscreen.magnetism.triangular import states_120


def enumerate_noncollinear(
    structure: Structure,
    *,
    max_magnetic_atoms: int = 8,
    q_grid: int = 6,
    cone_angles: tuple[float, ...] = (90.0, 45.0),
    canting_angles: tuple[float, ...] = (10.0,),
    n_canted: int = 3,
    collinear: EnumerationResult | None = None,
    moments: dict[str, float] | None = None,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    source: str | Path | None = None,
) -> list[Ordering]:
    """Non-collinear orderings: 120-degree states, spin spirals, then canted antiferromagnets.

    A spiral that coincides with a 120-degree state (same :func:`spin_signature`) is left out.

    Parameters
    ----------
    structure
        Ordered crystal structure.
    max_magnetic_atoms
        Largest number of magnetic atoms in a supercell.
    q_grid
        Divisions of each high-symmetry line for the spiral wavevectors.
    cone_angles
        Spiral cone half-angles (degrees); 90 is planar.
    canting_angles
        Canting angles (degrees) applied to each of the first ``n_canted`` collinear AFMs.
    n_canted
        How many collinear antiferromagnets to cant: single-q before multi-q, smallest cells first.
    collinear
        A collinear enumeration of the same structure to cant (computed here if None).
    moments, max_atoms, source
        As in :func:`magscreen.magnetism.enumerate_collinear`.
    """
    parent = parent_cell(structure, moments, max_atoms=max_atoms, source=source)
    orderings = states_120(parent, max_magnetic_atoms=max_magnetic_atoms)
    known = {spin_signature(o) for o in orderings}
    spirals = spin_spirals(
        parent, max_magnetic_atoms=max_magnetic_atoms, q_grid=q_grid, cone_angles=cone_angles
    )
    # e.g. the planar spiral at K on a triangular lattice is its 120-degree state
    orderings += [s for s in spirals if spin_signature(s) not in known]
    if collinear is None:
        collinear = enumerate_collinear(
            structure,
            max_magnetic_atoms=max_magnetic_atoms,
            moments=moments,
            max_atoms=max_atoms,
            source=source,
        )
    antiferromagnets = sorted(
        (o for o in collinear.orderings if o.label.startswith("AFM")),
        key=lambda o: ("multi-q" in o.label, o.n_magnetic_atoms),
    )[:n_canted]
    orderings += [canted(o, angle) for o in antiferromagnets for angle in canting_angles]
    return orderings


def spin_signature(ordering: Ordering, shells: float = 1.5) -> tuple:
    """Pair correlations of an ordering, invariant under space-group operations and global spin rotations.

    The multiset of (distance, e_i . e_j) over magnetic pairs closer than ``shells`` times the
    nearest-neighbour distance, per magnetic atom, rounded to 1e-3 (Angstrom, dimensionless).
    """
    atoms = ordering.to_atoms()
    moments = ordering.moments
    magnetic = np.flatnonzero(np.linalg.norm(moments, axis=1) > 1e-8)
    sub = atoms[magnetic]
    directions = moments[magnetic] / np.linalg.norm(moments[magnetic], axis=1)[:, None]
    i, j, d = neighbor_list("ijd", sub, 1.05 * min(sub.cell.lengths()) + 2.0)
    keep = d < shells * d.min()
    dots = np.einsum("ki,ki->k", directions[i[keep]], directions[j[keep]])
    counts = Counter(zip(np.round(d[keep], 3).tolist(), np.round(dots, 3).tolist(), strict=True))
    return tuple(sorted((key, round(count / len(magnetic), 6)) for key, count in counts.items()))
