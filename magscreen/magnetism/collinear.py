"""Symmetry-distinct collinear orderings (FM, AFM, FiM) over supercells, without enumlib.

For every supercell size ``n`` (parent primitive cells) with ``n * m <= max_magnetic_atoms``
(``m`` magnetic sites per primitive cell) the supercells are taken as Hermite normal forms reduced
by the parent point group; on each, the up/down assignments are reduced by the operations that
keep the supercell (space-group operations times its internal translations) and by a global spin
flip, and assignments that repeat with a smaller period are dropped (they appear at smaller ``n``).
Spin assignments are bit strings; an assignment is kept when no operation maps it to a smaller
one (Hart and Forcade, Phys. Rev. B 77, 224115 (2008), applied to two "colours", up and down).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from tqdm import tqdm

from magscreen.errors import InputError, StructureError
from magscreen.magnetism.labels import collinear_label
from magscreen.magnetism.ordering import Ordering
from magscreen.magnetism.parent import ParentCell, parent_cell, short_hash
from magscreen.magnetism.sites import DEFAULT_MAX_ATOMS
from magscreen.magnetism.supercells import (
    distinct_supercells,
    reduce_translations,
    translation_representatives,
)

#: Largest number of magnetic sites in one supercell (2**(N-1) assignments are scanned).
MAX_SITES_PER_SUPERCELL = 28

_CHUNK = 1 << 20


@dataclass
class EnumerationResult:
    """Orderings kept after prioritisation, and how many the cap dropped.

    Attributes
    ----------
    parent
        Standardized primitive cell all supercell matrices refer to.
    orderings
        Kept orderings, highest priority first.
    n_found
        Number of symmetry-distinct orderings found.
    n_dropped
        Number of them not kept because of ``max_orderings``.
    """

    parent: ParentCell
    orderings: list[Ordering] = field(default_factory=list)
    n_found: int = 0
    n_dropped: int = 0


def enumerate_collinear(
    structure: Structure,
    *,
    max_magnetic_atoms: int = 8,
    max_orderings: int | None = 64,
    moments: dict[str, float] | None = None,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    source: str | Path | None = None,
    progress: bool = False,
) -> EnumerationResult:
    """All symmetry-distinct collinear orderings up to a supercell size, prioritised.

    Priority follows Horton et al., npj Comput. Mater. 5, 64 (2019): the ferromagnet first, then
    by decreasing symmetry (order of the point group of the spin-decorated crystal), then by
    increasing supercell size; orderings with zero net moment (AFM) come before ferrimagnets.

    Parameters
    ----------
    structure
        Ordered crystal structure (any cell; it is reduced to its primitive cell).
    max_magnetic_atoms
        Largest number of magnetic atoms in a supercell.
    max_orderings
        How many orderings to keep (None keeps all).
    moments
        Moment magnitudes (mu_B) per element, overriding the defaults.
    max_atoms
        Largest number of atoms accepted in ``structure``.
    source
        File the structure came from, for error messages.
    progress
        Show a progress bar over supercells.

    Raises
    ------
    StructureError
        No magnetic site, partial occupancies, more than ``max_atoms`` atoms, or more magnetic
        sites per primitive cell than ``max_magnetic_atoms`` (or than 28).
    """
    if max_magnetic_atoms < 1:
        raise InputError(
            f"max_magnetic_atoms is {max_magnetic_atoms}",
            field="max_magnetic_atoms",
            expected="an integer >= 1",
        )
    parent = parent_cell(structure, moments, max_atoms=max_atoms, source=source)
    m = len(parent.magnetic)
    if m > min(max_magnetic_atoms, MAX_SITES_PER_SUPERCELL):
        raise StructureError(
            f"the primitive cell has {m} magnetic sites, more than max_magnetic_atoms={max_magnetic_atoms}"
            f" or the exhaustive limit of {MAX_SITES_PER_SUPERCELL}",
            source=source,
            field="max_magnetic_atoms",
            expected=f"max_magnetic_atoms of at least {m}; structures above {MAX_SITES_PER_SUPERCELL} "
            "magnetic sites per primitive cell cannot be enumerated exhaustively",
        )
    sizes = range(1, min(max_magnetic_atoms, MAX_SITES_PER_SUPERCELL) // m + 1)
    supercells = [(n, hnf, stab) for n in sizes for hnf, stab in distinct_supercells(n, parent.rotations)]
    columns: list[np.ndarray] = []
    for index, (_, hnf, stabiliser) in enumerate(tqdm(supercells, disable=not progress, desc="supercells")):
        configs, orders = distinct_assignments(parent, hnf, stabiliser)
        n = int(round(np.linalg.det(hnf)))
        net = net_moments(configs, np.tile(parent.moments[parent.magnetic], n))
        category = np.where(np.abs(net) > 1e-6, 2, 1)
        if n == 1:
            category[configs == 0] = 0
        size, supercell = np.full_like(orders, n), np.full_like(orders, index)
        columns.append(np.stack([category, -orders, size, supercell, configs], axis=1))
    table = np.concatenate(columns).astype(np.int64)
    # Priority: category (FM, zero net moment, ferrimagnet), symmetry (descending), supercell size.
    order = np.lexsort((table[:, 3], table[:, 2], table[:, 1], table[:, 0]), axis=0)
    kept = order if max_orderings is None else order[:max_orderings]
    orderings = [
        build_collinear(parent, supercells[table[k, 3]][1], int(table[k, 4]), int(-table[k, 1])) for k in kept
    ]
    return EnumerationResult(
        parent=parent, orderings=orderings, n_found=len(table), n_dropped=len(table) - len(kept)
    )


def supercell_permutations(
    parent: ParentCell, hnf: np.ndarray, operations: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Permutations of the magnetic sites of a supercell under operations times its translations.

    Site ``k = t * m + j`` is magnetic sublattice ``j`` in cell ``t`` (order of
    :func:`translation_representatives`). Returns the permutations, shape (len(operations) * n, n * m)
    (operation-major), with ``perm[k]`` the image of site ``k``, and the operation index of each row.
    """
    cells = translation_representatives(hnf)
    magnetic = parent.magnetic
    position = np.full(len(parent.structure), -1)
    position[magnetic] = np.arange(len(magnetic))
    rows, owners = [], []
    for g in operations:
        moved = (
            np.einsum("ij,tj->ti", parent.rotations[g], cells)[:, None, :]
            + parent.site_shift[g, magnetic][None, :, :]
        )
        target = position[parent.site_map[g, magnetic]]
        for shift in cells:
            cell_index = reduce_translations(moved + shift, hnf)
            rows.append((cell_index * len(magnetic) + target[None, :]).ravel())
            owners.append(g)
    return np.array(rows), np.array(owners)


def _byte_tables(perms: np.ndarray, dtype: type) -> np.ndarray:
    """``tables[p, c, v]``: image under permutation ``p`` of byte ``v`` placed at bits 8c..8c+7."""
    n_perm, n_bits = perms.shape
    n_chunks = (n_bits + 7) // 8
    padded = np.zeros((n_perm, n_chunks * 8), dtype=np.int64)
    padded[:, :n_bits] = np.left_shift(np.int64(1), perms.astype(np.int64))
    bits = (np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1
    return np.einsum("vj,pcj->pcv", bits, padded.reshape(n_perm, n_chunks, 8)).astype(dtype)


def _digits(x: np.ndarray, n_chunks: int) -> list[np.ndarray]:
    """The bytes of ``x``, least significant first."""
    return [((x >> (8 * c)) & 255).astype(np.uint8) for c in range(n_chunks)]


def _apply(tables: np.ndarray, p: int, digits: list[np.ndarray]) -> np.ndarray:
    """Images of assignments (given by their bytes) under permutation ``p``."""
    image = tables[p, 0][digits[0]]
    for c in range(1, len(digits)):
        image |= tables[p, c][digits[c]]
    return image


def distinct_assignments(
    parent: ParentCell, hnf: np.ndarray, stabiliser: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Canonical spin assignments of one supercell and the point-group order of each.

    An assignment is an integer whose bit ``k`` is 1 for an up moment on magnetic site ``k``. It is
    canonical when it is the smallest integer among its images under the supercell's operations
    combined with a global spin flip, and it is kept when no internal translation leaves it
    unchanged (otherwise its true period is a smaller supercell).
    """
    perms, owners = supercell_permutations(parent, hnf, stabiliser)
    n_bits = perms.shape[1]
    dtype = np.int32 if n_bits < 31 else np.int64
    mask = dtype((1 << n_bits) - 1)
    tables = _byte_tables(perms, dtype)
    n_chunks = tables.shape[1]
    identity_op = identity_index(parent)
    n_cells = len(translation_representatives(hnf))
    pure_translation = (owners == identity_op) & (np.arange(len(perms)) % n_cells != 0)
    keep = []
    for start in range(0, 1 << (n_bits - 1), _CHUNK):
        x = np.arange(start, min(start + _CHUNK, 1 << (n_bits - 1)), dtype=dtype)
        digits = _digits(x, n_chunks)
        for p in range(len(perms)):
            image = _apply(tables, p, digits)
            ok = (x <= image) & (x <= (~image & mask))
            if pure_translation[p]:
                ok &= image != x
            x = x[ok]
            digits = [d[ok] for d in digits]
        keep.append(x)
    configs = np.concatenate(keep).astype(np.int64)
    digits = _digits(configs, n_chunks)
    fixed = np.zeros((len(configs), parent.rotations.shape[0]), dtype=bool)
    for p in range(len(perms)):
        fixed[:, owners[p]] |= _apply(tables, p, digits) == configs
    return configs, fixed.sum(axis=1)


def identity_index(parent: ParentCell) -> int:
    """Index of the identity among the parent's space-group operations."""
    eye = np.all(parent.rotations == np.eye(3, dtype=np.int64), axis=(1, 2))
    trivial = np.all(np.abs(parent.translations - np.rint(parent.translations)) < 1e-6, axis=1)
    return int(np.flatnonzero(eye & trivial)[0])


def net_moments(configs: np.ndarray, moments: np.ndarray) -> np.ndarray:
    """Net moment (mu_B) of each assignment, given the moment magnitude of every magnetic site."""
    n_chunks = (len(moments) + 7) // 8
    padded = np.zeros(8 * n_chunks)
    padded[: len(moments)] = moments
    bits = (np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1
    up = bits @ padded.reshape(n_chunks, 8).T  # (256, n_chunks): moment of the up sites of each byte
    total = sum(up[digit, c] for c, digit in enumerate(_digits(configs, n_chunks)))
    return 2 * total - moments.sum()


def spins_of(config: int, n_bits: int) -> np.ndarray:
    """Signs (+1 up, -1 down) of the magnetic sites encoded in ``config``."""
    return np.where((config >> np.arange(n_bits)) & 1, 1.0, -1.0)


def supercell_structure(parent: ParentCell, hnf: np.ndarray, magnetic_moments: np.ndarray) -> Structure:
    """Supercell of the parent (Niggli-reduced, right-handed) with the ``magmom`` site property.

    Sites are ordered by parent site, then by cell (:func:`translation_representatives`).
    ``magnetic_moments`` has shape (n_cells, n_magnetic) (floats) or (n_cells, n_magnetic, 3).
    """
    cells = translation_representatives(hnf)
    inverse = np.linalg.inv(hnf)
    position = {b: j for j, b in enumerate(parent.magnetic)}
    species, coords, magmoms = [], [], []
    zero = np.zeros(3) if np.ndim(magnetic_moments) == 3 else 0.0
    for b, site in enumerate(parent.structure):
        for t, cell in enumerate(cells):
            species.append(site.specie)
            coords.append(((cell + site.frac_coords) @ inverse) % 1.0)
            magmoms.append(magnetic_moments[t, position[b]] if b in position else zero)
    if np.ndim(magnetic_moments) == 3:
        from pymatgen.electronic_structure.core import Magmom

        magmoms = [Magmom(np.asarray(v, dtype=float)) for v in magmoms]
    else:
        magmoms = [float(v) for v in magmoms]
    structure = Structure(Lattice(hnf @ parent.lattice), species, coords, site_properties={"magmom": magmoms})
    if len(cells) == 1:
        return structure
    reduced = structure.get_reduced_structure(reduction_algo="niggli")
    if np.linalg.det(reduced.lattice.matrix) > 0:
        return reduced
    return Structure(  # keep the cell right-handed
        Lattice(-reduced.lattice.matrix),
        reduced.species,
        -reduced.frac_coords % 1.0,
        site_properties=reduced.site_properties,
    )


def supercell_matrix(parent: ParentCell, structure: Structure) -> list[list[int]]:
    """Integer matrix whose rows are the cell vectors of ``structure`` in parent primitive vectors."""
    return np.rint(structure.lattice.matrix @ np.linalg.inv(parent.lattice)).astype(int).tolist()


def build_collinear(parent: ParentCell, hnf: np.ndarray, config: int, point_group_order: int) -> Ordering:
    """The :class:`Ordering` of a canonical assignment on a supercell."""
    cells = translation_representatives(hnf)
    m = len(parent.magnetic)
    signs = spins_of(config, len(cells) * m).reshape(len(cells), m)
    spins = signs * parent.moments[parent.magnetic][None, :]
    if spins.sum() < -1e-9 or (abs(spins.sum()) < 1e-9 and spins[0, 0] < 0):
        spins = -spins
    label, qs = collinear_label(parent, hnf, spins, cells)
    structure = supercell_structure(parent, hnf, spins)
    return Ordering(
        label=label,
        kind="collinear",
        structure=structure,
        fingerprint=short_hash(f"collinear|{parent.key}|{hnf.ravel().tolist()}|{config}"),
        parameters={
            "supercell_matrix": supercell_matrix(parent, structure),
            "propagation_vectors": qs,
            "point_group_order": point_group_order,
            "net_moment": float(spins.sum()),
            "parent_spacegroup": parent.spacegroup,
        },
    )
