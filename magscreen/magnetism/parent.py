"""The parent cell of an enumeration: standardized primitive cell, its space group and site maps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spglib
from pymatgen.core import Lattice, Structure

from magscreen.errors import StructureError
from magscreen.magnetism.sites import DEFAULT_MAX_ATOMS, magnetic_sites

#: Symmetry tolerance (Angstrom) used by spglib throughout the orderings code (pymatgen's default).
SYMPREC = 1e-2


@dataclass(frozen=True)
class ParentCell:
    """Standardized primitive cell with its symmetry, the reference for supercells and labels.

    Attributes
    ----------
    structure
        Primitive cell in spglib's standard orientation; site property ``magmom`` holds the moment
        magnitude (mu_B) of every site.
    magnetic
        Indices of the magnetic sites of ``structure``.
    rotations, translations
        Space-group operations in fractional coordinates (``x' = W x + w``), shapes (G, 3, 3), (G, 3).
    site_map, site_shift
        Operation ``g`` sends site ``b`` to site ``site_map[g, b]`` in the cell shifted by the
        integer vector ``site_shift[g, b]``; shapes (G, n_sites), (G, n_sites, 3).
    spacegroup
        International space-group number.
    conventional_lattice
        Conventional standard cell vectors (rows, Angstrom) in the orientation of ``structure``.
    key
        Space group and species counts of the primitive cell; part of every ordering fingerprint.
    """

    structure: Structure
    magnetic: np.ndarray
    rotations: np.ndarray
    translations: np.ndarray
    site_map: np.ndarray
    site_shift: np.ndarray
    spacegroup: int
    conventional_lattice: np.ndarray
    key: str

    @property
    def lattice(self) -> np.ndarray:
        """Primitive cell vectors (rows, Angstrom)."""
        return self.structure.lattice.matrix

    @property
    def moments(self) -> np.ndarray:
        """Moment magnitude of every site (mu_B)."""
        return np.array(self.structure.site_properties["magmom"], dtype=float)

    def to_conventional_q(self, q: np.ndarray) -> np.ndarray:
        """Propagation vector from primitive to conventional reciprocal fractional coordinates."""
        return np.asarray(q, dtype=float) @ np.linalg.inv(self.lattice).T @ self.conventional_lattice.T


def parent_cell(
    structure: Structure,
    moments: dict[str, float] | None = None,
    *,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    source: str | Path | None = None,
) -> ParentCell:
    """Standardize ``structure`` to its primitive cell and collect what enumeration needs.

    Parameters are those of :func:`magscreen.magnetism.sites.magnetic_sites`.
    """
    sites = magnetic_sites(structure, moments, max_atoms=max_atoms, source=source)
    species = [site.species_string for site in structure]
    kinds = sorted(set(species))
    numbers = [kinds.index(s) for s in species]
    cell = (structure.lattice.matrix, structure.frac_coords, numbers)
    standard = spglib.standardize_cell(cell, to_primitive=True, symprec=SYMPREC)
    if standard is None:
        raise StructureError(
            "spglib could not find the symmetry of the structure",
            source=source,
            field="sites",
            expected="a valid periodic structure without overlapping atoms",
        )
    lattice, frac, prim_numbers = standard
    prim_numbers = np.asarray(prim_numbers)
    rotations = np.array(spglib.get_symmetry_dataset(standard, symprec=SYMPREC).rotations, dtype=np.int64)
    magnetic_kinds = {kinds.index(species[i]) for i in sites.indices}
    frac = canonical_origin(frac, prim_numbers, np.isin(prim_numbers, list(magnetic_kinds)), rotations)
    order = np.lexsort((frac[:, 2], frac[:, 1], frac[:, 0], prim_numbers))
    frac, prim_numbers = frac[order], prim_numbers[order]
    dataset = spglib.get_symmetry_dataset((lattice, frac, prim_numbers), symprec=SYMPREC)
    moment_of = {species[i]: float(sites.moments[i]) for i in range(len(structure))}
    prim_species = [kinds[k] for k in prim_numbers]
    prim = Structure(
        Lattice(lattice),
        prim_species,
        frac,
        site_properties={"magmom": [moment_of[s] for s in prim_species]},
    )
    rotations = np.array(dataset.rotations, dtype=np.int64)
    translations = np.array(dataset.translations, dtype=float)
    site_map, site_shift = _site_maps(frac, prim_numbers, rotations, translations)
    conventional = np.linalg.inv(dataset.transformation_matrix).T @ lattice
    counts = ",".join(f"{s}{prim_species.count(s)}" for s in sorted(set(prim_species)))
    key = f"{dataset.number}:{counts}"
    return ParentCell(
        structure=prim,
        magnetic=np.flatnonzero(prim.site_properties["magmom"]),
        rotations=rotations,
        translations=translations,
        site_map=site_map,
        site_shift=site_shift,
        spacegroup=int(dataset.number),
        conventional_lattice=conventional,
        key=key,
    )


def normalizer_shifts(rotations: np.ndarray, denominator: int = 24) -> np.ndarray:
    """Origin shifts ``s`` (multiples of 1/denominator) that leave the set of operations unchanged.

    Moving the origin by ``s`` turns ``(W, w)`` into ``(W, w + (1 - W) s)``; the set is the same when
    ``(1 - W) s`` is a lattice vector for every ``W`` (one operation per rotation in a primitive
    cell). These shifts relate the equally valid standard settings (e.g. Ni on 4a or 4b in NiO).
    """
    grid = np.stack(np.meshgrid(*[np.arange(denominator)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    shifts = grid / denominator
    moved = np.einsum("gij,sj->sgi", np.eye(3)[None] - rotations, shifts)
    keep = np.all(np.abs(moved - np.rint(moved)) < 1e-9, axis=(1, 2))
    return shifts[keep]


def canonical_origin(
    frac: np.ndarray, numbers: np.ndarray, magnetic: np.ndarray, rotations: np.ndarray
) -> np.ndarray:
    """Shift the origin to the setting whose sorted magnetic sites come first lexicographically.

    Standard settings related by a normalizer shift describe the same crystal; choosing among them
    by the magnetic sites only makes the labelling of magnetic sites, hence fingerprints, the
    same whichever setting spglib returned, and independent of free coordinates of other atoms.
    """

    def description(shift: np.ndarray) -> list[tuple]:
        moved = np.round((frac[magnetic] + shift) % 1.0, 6) % 1.0
        return sorted(zip(numbers[magnetic].tolist(), map(tuple, moved.tolist()), strict=True))

    best = min(normalizer_shifts(rotations), key=description)
    return np.round((frac + best) % 1.0, 10) % 1.0


def short_hash(text: str) -> str:
    """Sixteen hex digits of the SHA-256 of ``text``: the form of every fingerprint."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _site_maps(
    frac: np.ndarray, numbers: np.ndarray, rotations: np.ndarray, translations: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    images = np.einsum("gij,bj->gbi", rotations, frac) + translations[:, None, :]
    delta = images[:, :, None, :] - frac[None, None, :, :]
    mismatch = np.abs(delta - np.rint(delta)).max(axis=-1)
    mismatch[:, numbers[:, None] != numbers[None, :]] = np.inf
    site_map = mismatch.argmin(axis=-1)
    if not np.all(mismatch.min(axis=-1) < 1e-3):
        raise StructureError("space-group operations do not map the sites onto each other", field="sites")
    shift = np.rint(np.take_along_axis(delta, site_map[:, :, None, None], axis=2)[:, :, 0, :])
    return site_map, shift.astype(np.int64)
