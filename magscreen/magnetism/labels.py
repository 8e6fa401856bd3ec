"""Readable names of magnetic orderings, derived from their propagation vectors.

Propagation vectors ``q`` are the wavevectors at which the Fourier transform of the moments over
the parent lattice translations is non-zero. Labels quote ``q`` in reciprocal lattice units of
the parent's conventional cell. Where the magnetic sites form one cubic Bravais lattice (one
magnetic site per primitive cell), single-q antiferromagnets get their textbook names:
fcc type I, II, III (Smart, Phys. Rev. 86, 968 (1952)); bcc B2 (CsCl) type; simple cubic
A, C and G types (Wollan and Koehler, Phys. Rev. 100, 545 (1955)).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from magscreen.magnetism.parent import ParentCell
from magscreen.magnetism.supercells import hermite_normal_form, translation_representatives

#: Textbook names of single-q antiferromagnets on cubic lattices: centering -> (q, name), q in
#: conventional reciprocal lattice units.
CUBIC_TYPES: dict[str, list[tuple[tuple[float, float, float], str]]] = {
    "F": [((0, 0, 1), "AFM-I"), ((0.5, 0.5, 0.5), "AFM-II"), ((1, 0.5, 0), "AFM-III")],
    "I": [((0, 0, 1), "AFM-B2")],
    "P": [((0.5, 0.5, 0.5), "AFM-G"), ((0, 0, 0.5), "AFM-A"), ((0.5, 0.5, 0), "AFM-C")],
}


def format_fraction(value: float) -> str:
    """``0.25 -> "1/4"``, ``0 -> "0"``, ``-0.5 -> "-1/2"``."""
    return str(Fraction(float(value)).limit_denominator(96))


def format_q(q: np.ndarray) -> str:
    """``(1/4,0,0)``."""
    return "(" + ",".join(format_fraction(c) for c in q) + ")"


def propagation_vectors(hnf: np.ndarray, spins: np.ndarray, translations: np.ndarray) -> np.ndarray:
    """Propagation vectors of moments on a supercell, one per ``+-q`` pair, shape (k, 3).

    Parameters
    ----------
    hnf
        Supercell matrix (rows in parent primitive vectors).
    spins
        Moments (any real numbers), shape (n_translations, n_sublattices).
    translations
        Parent lattice vectors of the supercell's cells, shape (n_translations, 3).

    Returns
    -------
    numpy.ndarray
        q in primitive reciprocal fractional coordinates, reduced to [0, 1).
    """
    reciprocal = translation_representatives(hermite_normal_form(np.asarray(hnf).T))
    candidates = np.round((reciprocal @ np.linalg.inv(hnf).T) % 1.0, 9) % 1.0
    phases = np.exp(-2j * np.pi * candidates @ translations.T)
    amplitude = np.abs(phases @ spins).max(axis=1)
    found = candidates[amplitude > 1e-8 * max(1.0, np.abs(spins).max())]
    pairs: list[np.ndarray] = []
    for q in found:
        if not any(same_q(q, p) or same_q(q, -p) for p in pairs):
            pairs.append(q)
    return np.array(pairs).reshape(-1, 3)


def same_q(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two wavevectors differ by a reciprocal lattice vector (fractional coordinates)."""
    delta = np.asarray(a) - np.asarray(b)
    return bool(np.all(np.abs(delta - np.rint(delta)) < 1e-6))


def star(parent: ParentCell, q: np.ndarray) -> np.ndarray:
    """All images of ``q`` and ``-q`` under the parent point group (primitive reciprocal coords)."""
    images = np.einsum("j,gji->gi", np.asarray(q, dtype=float), np.linalg.inv(parent.rotations))
    return np.concatenate([images, -images])


def display_q(parent: ParentCell, q: np.ndarray, *, whole_star: bool = True) -> np.ndarray:
    """Shortest representative of ``+-q`` (or of its whole star) in conventional reciprocal units.

    Among reciprocal-lattice-equivalent vectors the shortest is chosen, then the one with the
    fewest negative components, then the lexicographically smallest.
    """
    q = np.asarray(q, dtype=float)
    arms = star(parent, q) if whole_star else np.array([q, -q])
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)))
    members = (arms[:, None, :] % 1.0 + shifts[None]).reshape(-1, 3)
    conventional = np.round(parent.to_conventional_q(members), 9) + 0.0
    reciprocal = np.linalg.inv(parent.conventional_lattice).T  # rows: conventional reciprocal vectors / 2 pi
    norms = np.round(np.linalg.norm(conventional @ reciprocal, axis=1) ** 2, 6)
    negatives = np.sum(conventional < 0, axis=1)
    order = np.lexsort((conventional[:, 2], conventional[:, 1], conventional[:, 0], negatives, norms))
    return conventional[order[0]]


def cubic_centering(parent: ParentCell) -> str | None:
    """``"P"``, ``"I"`` or ``"F"`` for a cubic parent, else None."""
    if parent.spacegroup < 195:
        return None
    ratio = abs(np.linalg.det(parent.conventional_lattice) / np.linalg.det(parent.lattice))
    return {1: "P", 2: "I", 4: "F"}.get(round(ratio))


def textbook_name(parent: ParentCell, q: np.ndarray) -> str | None:
    """Textbook name of a single-q antiferromagnet on a cubic magnetic lattice, else None."""
    centering = cubic_centering(parent)
    if centering is None or len(parent.magnetic) != 1:
        return None
    members = star(parent, q) % 1.0
    to_primitive = np.linalg.inv(parent.to_conventional_q(np.eye(3)))
    for target, name in CUBIC_TYPES[centering]:
        reference = np.asarray(target, dtype=float) @ to_primitive
        delta = members - reference
        if np.any(np.all(np.abs(delta - np.rint(delta)) < 1e-6, axis=1)):
            return name
    return None


def collinear_label(
    parent: ParentCell, hnf: np.ndarray, spins: np.ndarray, translations: np.ndarray
) -> tuple[str, list[list[float]]]:
    """Label and propagation vectors (conventional units) of a collinear ordering.

    Parameters
    ----------
    parent
        Parent cell.
    hnf
        Supercell matrix.
    spins
        Signed moments (mu_B), shape (n_translations, n_magnetic_sublattices).
    translations
        Parent lattice vectors of the supercell's cells.
    """
    signs = np.sign(spins)
    if np.all(signs == signs.flat[0]):
        return "FM", [[0.0, 0.0, 0.0]]
    net = spins.sum()
    kind = "FiM" if abs(net) > 1e-6 * np.abs(spins).sum() else "AFM"
    qs = propagation_vectors(hnf, spins - spins.mean(axis=0) * (kind == "FiM"), translations)
    shown = [display_q(parent, q, whole_star=False) for q in qs]
    if len(qs) == 0:
        return kind, [[0.0, 0.0, 0.0]]
    if len(qs) == 1:
        name = textbook_name(parent, qs[0]) if kind == "AFM" else None
        return name or f"{kind} q={format_q(display_q(parent, qs[0]))}", [list(map(float, q)) for q in shown]
    return f"{kind} multi-q ({spins.size} sites)", [list(map(float, q)) for q in shown]
