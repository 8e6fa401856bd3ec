"""Planar and conical spin spirals with commensurate propagation vectors on high-symmetry lines.

A spiral with propagation vector ``q`` (primitive reciprocal fractional coordinates) gives the
moment of magnetic site ``b`` in cell ``R`` the phase ``theta = 2 pi q . (R + x_b)`` and the
direction ``(sin a cos theta, sin a sin theta, cos a)``, ``a`` the cone angle (90 degrees:
planar). Without spin-orbit coupling the spin-space orientation of the cone is irrelevant, so it
is fixed. ``q`` runs over ``k / q_grid`` times the shortest reciprocal lattice vector along each
rotation axis of the point group (the high-symmetry lines through Gamma); the supercell is the
smallest one that ``q`` fits.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from magscreen.magnetism.collinear import supercell_matrix, supercell_structure
from magscreen.magnetism.labels import display_q, format_fraction, format_q, star
from magscreen.magnetism.ordering import Ordering
from magscreen.magnetism.parent import ParentCell, short_hash
from magscreen.magnetism.supercells import hnfs_of_index, translation_representatives


def symmetry_axes(parent: ParentCell) -> list[np.ndarray]:
    """Shortest reciprocal lattice vectors along the rotation axes of the point group, one per star."""
    axes: list[np.ndarray] = []
    for rotation in parent.rotations:
        if round(np.linalg.det(rotation)) != 1 or np.array_equal(rotation, np.eye(3)):
            continue
        # q is fixed by W when q W^-1 = q, i.e. W^T q = q.
        _, values, vectors = np.linalg.svd(rotation.T - np.eye(3))
        if values[-2] < 1e-8:
            continue
        axis = _integer_vector(vectors[-1])
        if not any(_on_star(parent, axis, known) for known in axes):
            axes.append(axis)
    return axes


def _integer_vector(vector: np.ndarray) -> np.ndarray:
    scaled = vector / np.abs(vector)[np.abs(vector) > 1e-8].min()
    fractions = [Fraction(float(c)).limit_denominator(24) for c in scaled]
    common = np.lcm.reduce([f.denominator for f in fractions])
    integer = np.array([int(f * common) for f in fractions])
    integer //= np.gcd.reduce(integer[integer != 0])
    return integer if integer[np.flatnonzero(integer)[0]] > 0 else -integer


def _on_star(parent: ParentCell, q: np.ndarray, reference: np.ndarray) -> bool:
    """Whether ``reference`` is exactly an image of ``+-q`` under the point group."""
    return bool(np.any(np.all(np.abs(star(parent, np.asarray(q, dtype=float)) - reference) < 1e-8, axis=1)))


def _contains_q(known: np.ndarray, q: np.ndarray) -> bool:
    """Whether ``q`` equals one of ``known`` modulo reciprocal lattice vectors."""
    delta = known - q
    return bool(np.any(np.all(np.abs(delta - np.rint(delta)) < 1e-6, axis=1)))


def commensurate_supercell(q: np.ndarray, max_cells: int) -> np.ndarray | None:
    """Smallest supercell (Hermite normal form) whose lattice vectors R all satisfy q . R integer."""
    for n in range(1, max_cells + 1):
        for hnf in hnfs_of_index(n):
            phase = hnf @ q
            if np.allclose(phase, np.rint(phase), atol=1e-9):
                return hnf
    return None


def spin_spirals(
    parent: ParentCell,
    *,
    max_magnetic_atoms: int = 8,
    q_grid: int = 6,
    cone_angles: tuple[float, ...] = (90.0, 45.0),
) -> list[Ordering]:
    """Spirals with ``q = k / q_grid * axis`` (k = 1 .. q_grid - 1) on every symmetry axis.

    Vectors with ``2q`` on the reciprocal lattice (collinear states) and supercells with more than
    ``max_magnetic_atoms`` magnetic atoms are skipped; symmetry-equivalent ``q`` appear once.

    Parameters
    ----------
    parent
        Parent cell.
    max_magnetic_atoms
        Largest number of magnetic atoms in a spiral's supercell.
    q_grid
        Divisions of each axis.
    cone_angles
        Cone half-angles (degrees); 90 is a planar spiral.
    """
    m = len(parent.magnetic)
    seen = np.zeros((0, 3))
    orderings = []
    for axis in symmetry_axes(parent):
        for k in range(1, q_grid):
            q = (k / q_grid * axis) % 1.0
            if _contains_q(np.zeros((1, 3)), 2 * q) or _contains_q(seen, q):
                continue  # collinear (2q on the reciprocal lattice) or equivalent to one already made
            hnf = commensurate_supercell(q, max_magnetic_atoms // m)
            if hnf is None:
                continue
            seen = np.concatenate([seen, star(parent, q)])
            orderings.extend(spiral_ordering(parent, hnf, q, cone) for cone in cone_angles)
    return orderings


def spiral_ordering(parent: ParentCell, hnf: np.ndarray, q: np.ndarray, cone_angle: float) -> Ordering:
    """The :class:`Ordering` of one spiral on a supercell that ``q`` fits."""
    cells = translation_representatives(hnf)
    positions = cells[:, None, :] + parent.structure.frac_coords[parent.magnetic][None, :, :]
    theta = 2 * np.pi * positions @ q
    alpha = np.radians(cone_angle)
    magnitude = parent.moments[parent.magnetic][None, :]
    vectors = np.stack(
        [
            magnitude * np.sin(alpha) * np.cos(theta),
            magnitude * np.sin(alpha) * np.sin(theta),
            magnitude * np.cos(alpha) * np.ones_like(theta),
        ],
        axis=-1,
    )
    shown = display_q(parent, q)
    name = "spiral" if np.isclose(cone_angle, 90.0) else "conical spiral"
    label = f"{name} q={format_q(shown)}" + ("" if name == "spiral" else f" cone={cone_angle:g}deg")
    structure = supercell_structure(parent, hnf, vectors)
    return Ordering(
        label=label,
        kind="noncollinear",
        structure=structure,
        fingerprint=short_hash(f"spiral|{parent.key}|{format_q(shown)}|{cone_angle:.3f}"),
        parameters={
            "supercell_matrix": supercell_matrix(parent, structure),
            "q": [format_fraction(c) for c in q],
            "q_conventional": [float(c) for c in shown],
            "cone_angle": float(cone_angle),
            "parent_spacegroup": parent.spacegroup,
        },
    )
