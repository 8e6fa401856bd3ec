"""Graph input of the magnetic potential: atoms, moments and the neighbour list within the cutoff.

:func:`build_graph` turns one structure (atomic numbers, positions, cell, periodic boundary
conditions, moments) into a :class:`MagneticGraph`; :func:`collate` joins several graphs into one
batch that :class:`~magscreen.potential.model.MagneticPotential` evaluates in a single pass.

Edges are directed: edge ``e`` joins the centre atom ``i = edge_index[0, e]`` to the neighbour
``j = edge_index[1, e]`` and its vector is ``r_ij = R_j - R_i + cell_shifts[e] @ cell`` (Angstrom),
the convention of the SevenNet backbone. Both directions of every bond are present, and so are
periodic images of an atom itself (never the atom at zero shift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from matscipy.neighbours import neighbour_list

from magscreen.errors import InputError
from magscreen.magnetism.moments import moment_vectors

__all__ = ["MagneticGraph", "build_graph", "collate", "edge_vectors", "graph_from_atoms"]


@dataclass(frozen=True, eq=False)
class MagneticGraph:
    """One or several structures with moments and their neighbour lists (a batch of ``B`` graphs).

    Attributes
    ----------
    numbers
        Atomic numbers, shape (N,), int64.
    positions
        Cartesian positions (Angstrom), shape (N, 3).
    moments
        Moment vectors (Bohr magnetons), shape (N, 3).
    cell
        Cell vectors as rows (Angstrom), shape (B, 3, 3).
    pbc
        Periodic boundary conditions, shape (B, 3), bool.
    edge_index
        Centre and neighbour atom of every directed edge, shape (2, E), int64.
    cell_shifts
        Integer lattice translation of the neighbour, shape (E, 3), stored in the float dtype.
    batch
        Graph index of every atom, shape (N,), int64.
    """

    numbers: torch.Tensor
    positions: torch.Tensor
    moments: torch.Tensor
    cell: torch.Tensor
    pbc: torch.Tensor
    edge_index: torch.Tensor
    cell_shifts: torch.Tensor
    batch: torch.Tensor

    @property
    def num_graphs(self) -> int:
        """Number of structures in the batch."""
        return int(self.cell.shape[0])

    @property
    def num_atoms(self) -> int:
        """Total number of atoms in the batch."""
        return int(self.numbers.shape[0])

    def volume(self) -> torch.Tensor:
        """Cell volumes (Angstrom^3), shape (B,)."""
        return torch.linalg.det(self.cell).abs()

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> MagneticGraph:
        """Copy onto ``device`` with floating-point fields in ``dtype``."""

        def move(t: torch.Tensor) -> torch.Tensor:
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            return t.to(device) if device is not None else t

        return MagneticGraph(**{name: move(getattr(self, name)) for name in self.__dataclass_fields__})

    def with_moments(self, moments: torch.Tensor | np.ndarray) -> MagneticGraph:
        """The same graph with other moments (Bohr magnetons, shape (N, 3) or (N,) along z)."""
        vectors = moment_vectors(np.asarray(torch.as_tensor(moments).detach().cpu()), self.num_atoms)
        return replace(
            self, moments=torch.as_tensor(vectors, dtype=self.positions.dtype).to(self.positions.device)
        )


def _neighbours(
    positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed neighbour pairs within ``cutoff``: centre, neighbour and integer cell shift."""
    cell = np.array(cell, dtype=float)
    if not np.all(pbc):
        # matscipy needs a cell in every direction: a free direction gets a box far wider than
        # the cutoff, as SevenNet does, so that no atom meets its image there.
        extent = np.ptp(positions, axis=0).max() if len(positions) else 0.0
        for axis in np.flatnonzero(~pbc):
            cell[axis] = np.eye(3)[axis] * (extent + 5.0 * cutoff + 1.0)
    origin = positions.min(axis=0) if len(positions) and not np.all(pbc) else np.zeros(3)
    centre, neighbour, shifts = neighbour_list(
        "ijS", positions=positions - origin, cell=cell, pbc=pbc, cutoff=cutoff
    )
    return centre.astype(np.int64), neighbour.astype(np.int64), shifts.astype(float)


def build_graph(
    numbers: Sequence[int] | np.ndarray,
    positions: np.ndarray,
    cell: np.ndarray | None,
    pbc: Sequence[bool] | np.ndarray | bool,
    moments: np.ndarray | None = None,
    *,
    cutoff: float,
    dtype: torch.dtype = torch.float64,
) -> MagneticGraph:
    """Graph of one structure with the neighbour list within ``cutoff``.

    Parameters
    ----------
    numbers
        Atomic numbers, shape (N,).
    positions
        Cartesian positions (Angstrom), shape (N, 3).
    cell
        Cell vectors as rows (Angstrom), shape (3, 3); ignored along non-periodic directions.
    pbc
        Periodic boundary conditions, three bools or one for all directions.
    moments
        Moments (Bohr magnetons), (N,) along z or (N, 3); None means all zero.
    cutoff
        Neighbour cutoff (Angstrom); the model's ``cutoff``.
    dtype
        Floating-point dtype of the tensors.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    positions = np.asarray(positions, dtype=float)
    num_atoms = len(numbers)
    if positions.shape != (num_atoms, 3) or not np.all(np.isfinite(positions)):
        raise InputError(
            f"positions have shape {positions.shape}",
            field="positions",
            expected=f"finite values, shape ({num_atoms}, 3)",
        )
    pbc = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,)).copy()
    cell = np.zeros((3, 3)) if cell is None else np.asarray(cell, dtype=float)
    if cell.shape != (3, 3):
        raise InputError(f"cell has shape {cell.shape}", field="cell", expected="shape (3, 3)")
    if np.any(pbc) and abs(np.linalg.det(cell)) < 1e-8:
        raise InputError(
            "periodic cell has zero volume", field="cell", expected="three independent lattice vectors"
        )
    vectors = moment_vectors(moments, num_atoms)
    centre, neighbour, shifts = _neighbours(positions, cell, pbc, cutoff)
    cell = np.where(pbc[:, None], cell, 0.0)
    return MagneticGraph(
        numbers=torch.as_tensor(numbers),
        positions=torch.as_tensor(positions, dtype=dtype),
        moments=torch.as_tensor(vectors, dtype=dtype),
        cell=torch.as_tensor(cell, dtype=dtype).unsqueeze(0),
        pbc=torch.as_tensor(pbc).unsqueeze(0),
        edge_index=torch.as_tensor(np.stack([centre, neighbour])),
        cell_shifts=torch.as_tensor(shifts, dtype=dtype),
        batch=torch.zeros(num_atoms, dtype=torch.int64),
    )


def graph_from_atoms(
    atoms, cutoff: float, moments: np.ndarray | None = None, dtype: torch.dtype = torch.float64
) -> MagneticGraph:
    """Graph of an ASE ``Atoms``; moments default to ``atoms.get_initial_magnetic_moments()``."""
    if moments is None:
        moments = atoms.get_initial_magnetic_moments()
    return build_graph(
        atoms.get_atomic_numbers(),
        atoms.get_positions(),
        np.asarray(atoms.get_cell()),
        atoms.get_pbc(),
        moments,
        cutoff=cutoff,
        dtype=dtype,
    )


def edge_vectors(
    graph: MagneticGraph, positions: torch.Tensor | None = None, cell: torch.Tensor | None = None
) -> torch.Tensor:
    """``r_ij = R_j - R_i + cell_shifts @ cell`` of every edge (Angstrom), shape (E, 3), with the
    graph's positions (N, 3) and cells (B, 3, 3) unless others (e.g. strained ones) are given."""
    positions = graph.positions if positions is None else positions
    cell = graph.cell if cell is None else cell
    centre, neighbour = graph.edge_index
    shift = torch.einsum("ei,eij->ej", graph.cell_shifts, cell[graph.batch[centre]])
    return positions[neighbour] - positions[centre] + shift


def collate(graphs: Sequence[MagneticGraph]) -> MagneticGraph:
    """Join graphs into one batch: atoms concatenated, edge indices offset, ``batch`` numbered."""
    if not graphs:
        raise ValueError("collate needs at least one graph")
    offsets = np.cumsum([0] + [g.num_atoms for g in graphs[:-1]])
    graph_offsets = np.cumsum([0] + [g.num_graphs for g in graphs[:-1]])
    return MagneticGraph(
        numbers=torch.cat([g.numbers for g in graphs]),
        positions=torch.cat([g.positions for g in graphs]),
        moments=torch.cat([g.moments for g in graphs]),
        cell=torch.cat([g.cell for g in graphs]),
        pbc=torch.cat([g.pbc for g in graphs]),
        edge_index=torch.cat([g.edge_index + int(o) for g, o in zip(graphs, offsets, strict=True)], dim=1),
        cell_shifts=torch.cat([g.cell_shifts for g in graphs]),
        batch=torch.cat([g.batch + int(o) for g, o in zip(graphs, graph_offsets, strict=True)]),
    )
