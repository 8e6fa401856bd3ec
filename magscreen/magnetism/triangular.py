"""120-degree states on triangular and kagome motifs.

On a lattice whose nearest-neighbour bonds form triangles, the classical antiferromagnetic ground
state puts the three moments of every triangle at 120 degrees. Such a state is a proper
three-colouring of the nearest-neighbour graph (colour c -> in-plane angle 120 c degrees). The
colourings are searched on the symmetry-distinct supercells of up to three parent cells
(q = 0 and sqrt(3) x sqrt(3) states of the kagome lattice, the sqrt(3) x sqrt(3) state of the
triangular lattice) and reduced by the supercell's space-group operations and colour
permutations (global spin rotations by 120 degrees and the mirror exchanging two colours).
"""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from magscreen.magnetism.collinear import (
    identity_index,
    supercell_matrix,
    supercell_permutations,
    supercell_structure,
)
from magscreen.magnetism.labels import display_q, format_q, propagation_vectors
from magscreen.magnetism.ordering import Ordering
from magscreen.magnetism.parent import ParentCell, short_hash
from magscreen.magnetism.supercells import (
    distinct_supercells,
    hermite_normal_form,
    translation_representatives,
)


def nearest_neighbour_bonds(parent: ParentCell, hnf: np.ndarray, tolerance: float = 1e-3) -> np.ndarray:
    """Nearest-neighbour bonds ``(k, k')``, ``k <= k'``, between the magnetic sites of a supercell.

    Site ``k = t * m + j`` as in :func:`magscreen.magnetism.collinear.supercell_permutations`.
    A bond of a site to its own image is returned as ``(k, k)``.
    """
    cells = translation_representatives(hnf)
    frac = (cells[:, None, :] + parent.structure.frac_coords[parent.magnetic][None, :, :]).reshape(-1, 3)
    lattice = hnf @ parent.lattice
    atoms = Atoms(numbers=[1] * len(frac), scaled_positions=frac @ np.linalg.inv(hnf), cell=lattice, pbc=True)
    cutoff = 1.05 * min(parent.structure.lattice.abc) + 1.0
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    nearest = d.min()
    keep = (np.abs(d - nearest) < tolerance) & (i <= j)
    return np.unique(np.stack([i[keep], j[keep]], axis=1), axis=0)


def three_colourings(n_sites: int, bonds: np.ndarray) -> list[tuple[int, ...]]:
    """All proper three-colourings of a graph with site 0 coloured 0 (backtracking)."""
    if np.any(bonds[:, 0] == bonds[:, 1]):
        return []
    neighbours: list[set[int]] = [set() for _ in range(n_sites)]
    for first, second in bonds:
        neighbours[first].add(int(second))
        neighbours[second].add(int(first))
    colours = [-1] * n_sites
    found: list[tuple[int, ...]] = []

    def extend(site: int) -> None:
        if site == n_sites:
            found.append(tuple(colours))
            return
        for colour in (0,) if site == 0 else (0, 1, 2):
            if all(colours[other] != colour for other in neighbours[site] if other < site):
                colours[site] = colour
                extend(site + 1)
        colours[site] = -1

    extend(0)
    return found


def triangle_normals(parent: ParentCell, tolerance: float = 1e-3) -> np.ndarray:
    """Unit normals (Cartesian) of the planes of nearest-neighbour triangles of magnetic sites.

    A triangle is three bonds of the nearest-neighbour distance that close in real space
    (``d_ab + d_bc = d_ac``), so periodic images are never mistaken for neighbours.
    """
    magnetic = parent.structure.frac_coords[parent.magnetic]
    atoms = Atoms(numbers=[1] * len(magnetic), scaled_positions=magnetic, cell=parent.lattice, pbc=True)
    i, j, d, vectors = neighbor_list("ijdD", atoms, 1.05 * min(parent.structure.lattice.abc) + 1.0)
    keep = np.abs(d - d.min()) < tolerance
    bonds = {
        (int(a), int(b), tuple(np.round(v, 3)))
        for a, b, v in zip(i[keep], j[keep], vectors[keep], strict=True)
    }
    normals: list[np.ndarray] = []
    for a, b, v1 in bonds:
        for b2, c, v2 in bonds:
            if b2 != b or (a, c, tuple(np.round(np.add(v1, v2), 3))) not in bonds:
                continue
            normal = np.cross(v1, v2)
            normal /= np.linalg.norm(normal)
            if not any(abs(abs(normal @ known) - 1) < 1e-6 for known in normals):
                normals.append(normal)
    return np.array(normals).reshape(-1, 3)


def _canonical(colouring: np.ndarray, perms: np.ndarray) -> tuple[int, ...]:
    """Smallest relabelled image of a colouring under site permutations and colour permutations."""
    best = None
    for perm in perms:
        image = np.empty_like(colouring)
        image[perm] = colouring
        for relabel in itertools.permutations(range(3)):
            candidate = tuple(int(relabel[c]) for c in image)
            if best is None or candidate < best:
                best = candidate
    return best


def states_120(parent: ParentCell, *, max_magnetic_atoms: int = 8, max_cells: int = 3) -> list[Ordering]:
    """Symmetry-distinct 120-degree states on supercells of up to ``max_cells`` parent cells."""
    m = len(parent.magnetic)
    normals = triangle_normals(parent)
    if len(normals) == 0:
        return []
    orderings: list[Ordering] = []
    for n in range(1, min(max_cells, max_magnetic_atoms // m) + 1):
        for hnf, stabiliser in distinct_supercells(n, parent.rotations):
            if not _in_triangle_planes(parent, hnf, normals):
                continue
            bonds = nearest_neighbour_bonds(parent, hnf)
            perms, owners = supercell_permutations(parent, hnf, stabiliser)
            translations = perms[owners == identity_index(parent)][1:]
            seen: set[tuple[int, ...]] = set()
            for colouring in three_colourings(n * m, bonds):
                colours = np.array(colouring)
                if any(np.array_equal(colours[t], colours) for t in translations):
                    continue  # repeats with a smaller period: found at smaller n
                key = _canonical(colours, perms)
                if key in seen:
                    continue
                seen.add(key)
                orderings.append(_ordering_120(parent, hnf, np.array(key)))
    return orderings


def _in_triangle_planes(parent: ParentCell, hnf: np.ndarray, normals: np.ndarray) -> bool:
    """Whether the supercell only enlarges the cell within the triangle planes.

    Every propagation vector the supercell allows must be perpendicular to every triangle normal;
    otherwise the extra freedom is a stacking of independent planes, not a 120-degree motif.
    """
    reciprocal = translation_representatives(hermite_normal_form(hnf.T)) @ np.linalg.inv(hnf).T
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)))
    for q in reciprocal:
        k = (q[None, :] % 1.0 + shifts) @ np.linalg.inv(parent.lattice).T
        if not np.any(np.all(np.abs(k @ normals.T) < 1e-8, axis=1)):
            return False
    return True


def _ordering_120(parent: ParentCell, hnf: np.ndarray, colours: np.ndarray) -> Ordering:
    cells = translation_representatives(hnf)
    m = len(parent.magnetic)
    angle = 2 * np.pi * colours.reshape(len(cells), m) / 3
    magnitude = parent.moments[parent.magnetic][None, :]
    vectors = np.stack([magnitude * np.cos(angle), magnitude * np.sin(angle), 0 * angle], axis=-1)
    qs = propagation_vectors(hnf, np.exp(1j * angle), cells)
    nonzero = [q for q in qs if not np.allclose(q, 0)]
    if not nonzero:
        label = "120-degree q=0"
    elif len(nonzero) == 1:
        label = f"120-degree q={format_q(display_q(parent, nonzero[0]))}"
    else:
        label = f"120-degree multi-q ({len(cells) * m} sites)"
    structure = supercell_structure(parent, hnf, vectors)
    return Ordering(
        label=label,
        kind="noncollinear",
        structure=structure,
        fingerprint=short_hash(f"120|{parent.key}|{hnf.ravel().tolist()}|{colours.tolist()}"),
        parameters={
            "supercell_matrix": supercell_matrix(parent, structure),
            "sublattice_angles": (np.degrees(angle).ravel()).tolist(),
            "parent_spacegroup": parent.spacegroup,
        },
    )
