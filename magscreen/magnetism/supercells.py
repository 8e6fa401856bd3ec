"""Supercells of a parent lattice as Hermite normal forms, reduced by the parent's point group.

A supercell is an integer matrix ``H`` whose rows are the supercell vectors in fractional
coordinates of the parent cell (Cartesian rows ``H @ parent.lattice``). Every sublattice of index
``n`` has exactly one lower-triangular Hermite normal form (Hart and Forcade, Phys. Rev. B 77,
224115 (2008)).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def hermite_normal_form(matrix: np.ndarray) -> np.ndarray:
    """Lower-triangular Hermite normal form of a non-singular integer matrix (rows span the lattice).

    The result ``[[a,0,0],[b,c,0],[d,e,f]]`` has positive diagonal, ``0 <= b, d < a`` and
    ``0 <= e < c``; it spans the same lattice as ``matrix``.
    """
    h = np.array(np.rint(matrix), dtype=np.int64)
    for col, top in ((2, 2), (1, 1)):
        rows = list(range(top + 1))
        while True:
            nonzero = [r for r in rows if h[r, col] != 0]
            if len(nonzero) <= 1:
                break
            pivot = min(nonzero, key=lambda r: abs(h[r, col]))
            for r in nonzero:
                if r != pivot:
                    h[r] -= (h[r, col] // h[pivot, col]) * h[pivot]
        pivot = next(r for r in rows if h[r, col] != 0)
        h[[pivot, top]] = h[[top, pivot]]
    for r in range(3):
        if h[r, r] < 0:
            h[r] = -h[r]
    h[2] -= (h[2, 1] // h[1, 1]) * h[1]
    h[2] -= (h[2, 0] // h[0, 0]) * h[0]
    h[1] -= (h[1, 0] // h[0, 0]) * h[0]
    return h


def hnfs_of_index(n: int) -> Iterator[np.ndarray]:
    """All lower-triangular Hermite normal forms of determinant ``n``."""
    for a in range(1, n + 1):
        if n % a:
            continue
        for c in range(1, n // a + 1):
            if (n // a) % c:
                continue
            f = n // (a * c)
            for b in range(a):
                for d in range(a):
                    for e in range(c):
                        yield np.array([[a, 0, 0], [b, c, 0], [d, e, f]], dtype=np.int64)


def rotate_supercell(hnf: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """HNF of the supercell rotated by a fractional rotation (column convention, ``x' = W x``)."""
    return hermite_normal_form(hnf @ rotation.T)


def distinct_supercells(n: int, rotations: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Symmetry-distinct supercells of index ``n``, each with the indices of its stabilising rotations.

    Parameters
    ----------
    n
        Supercell size (number of parent cells).
    rotations
        Fractional rotation parts of the parent space group, shape (G, 3, 3).
    """
    seen: set[bytes] = set()
    result = []
    for hnf in hnfs_of_index(n):
        key = hnf.tobytes()
        if key in seen:
            continue
        images = [rotate_supercell(hnf, rotation) for rotation in rotations]
        seen.update(image.tobytes() for image in images)
        stabiliser = np.array([g for g, image in enumerate(images) if np.array_equal(image, hnf)])
        result.append((hnf, stabiliser))
    return result


def translation_representatives(hnf: np.ndarray) -> np.ndarray:
    """The ``det(hnf)`` parent lattice vectors inside the supercell, shape (n, 3), canonical order."""
    a, c, f = hnf[0, 0], hnf[1, 1], hnf[2, 2]
    grid = np.stack(np.meshgrid(np.arange(a), np.arange(c), np.arange(f), indexing="ij"), axis=-1)
    return grid.transpose(2, 1, 0, 3).reshape(-1, 3)


def reduce_translations(vectors: np.ndarray, hnf: np.ndarray) -> np.ndarray:
    """Index (in :func:`translation_representatives` order) of integer vectors modulo the supercell."""
    v = np.array(vectors, dtype=np.int64)
    v = v - np.floor_divide(v[..., 2], hnf[2, 2])[..., None] * hnf[2]
    v = v - np.floor_divide(v[..., 1], hnf[1, 1])[..., None] * hnf[1]
    v = v - np.floor_divide(v[..., 0], hnf[0, 0])[..., None] * hnf[0]
    a, c = hnf[0, 0], hnf[1, 1]
    return v[..., 0] + a * (v[..., 1] + c * v[..., 2])
