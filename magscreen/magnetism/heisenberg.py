"""The Heisenberg model of the project: one sign convention, one shell finder, an ASE calculator.

Energy (eV), with unit spin directions ``e_i = m_i / |m_i|`` of the magnetic atoms::

    E = - sum_{i<j} J_ij e_i . e_j  -  K sum_i (e_i . n)^2  +  A sum_i (|m_i| - M)^2

Sign convention: ``J > 0`` is ferromagnetic, ``J < 0`` antiferromagnetic; ``K > 0`` makes ``n`` an
easy axis. The sum over pairs runs over all periodic images within each coupled shell, each pair
once. Couplings are in eV per pair (as in TB2J's ``E = -sum_{i<j} J_ij S_i . S_j`` with unit
spins); the optional longitudinal term (``A`` in eV/mu_B^2, ``M`` in mu_B) gives the moment
magnitudes an energy minimum. The magnetic force is ``H_i = -dE/dm_i`` (eV/mu_B). Forces on atoms
are zero: couplings depend only on which shell a pair belongs to.

The fitted baseline :class:`~magscreen.training.baselines.HeisenbergLandauModel` uses the same
sign and the same shells (:func:`find_shells`) with moments instead of unit spins,
``E = - sum_s J_s sum_<ij>_s m_i . m_j``: at fixed magnitudes ``|m_i| = M`` its ``J_s M^2`` is the
``J`` of this calculator (eV per pair).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.neighborlist import neighbor_list

from magscreen.errors import InputError
from magscreen.magnetism.moments import ZERO_MOMENT, atoms_moments

__all__ = ["HeisenbergCalculator", "find_shells", "magnetic_pairs", "shell_distances"]


class HeisenbergCalculator(Calculator):
    """Heisenberg exchange with single-ion anisotropy on any periodic or finite ``Atoms``.

    Parameters
    ----------
    couplings
        ``{shell: J}`` with J in eV. An ``int`` key is a neighbour shell index (1 = nearest
        magnetic neighbours, 2 = next nearest, ...); a ``float`` key is a pair distance in
        Angstrom (matched within ``distance_tolerance``).
    anisotropy
        Single-ion anisotropy constant K (eV); K > 0 favours moments along ``anisotropy_axis``.
    anisotropy_axis
        Cartesian direction n of the anisotropy (normalised here).
    moment_stiffness, moment_reference
        Longitudinal term ``A (|m| - M)^2``: A in eV/mu_B^2 (0 switches it off), M in mu_B.
    distance_tolerance
        Tolerance (Angstrom) for assigning pairs to shells.
    magnetic_threshold
        Atoms whose moment is smaller than this (mu_B) take no part.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "magnetic_forces"]

    def __init__(
        self,
        couplings: Mapping[int | float, float],
        *,
        anisotropy: float = 0.0,
        anisotropy_axis: tuple[float, float, float] = (0.0, 0.0, 1.0),
        moment_stiffness: float = 0.0,
        moment_reference: float = 0.0,
        distance_tolerance: float = 0.01,
        magnetic_threshold: float = 1e-6,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if not couplings:
            raise InputError("no couplings given", field="couplings", expected="{shell or distance: J in eV}")
        for key in couplings:
            numeric = isinstance(key, int | float | np.integer | np.floating) and not isinstance(key, bool)
            if not numeric or key <= 0:
                raise InputError(
                    f"coupling key {key!r} is not a shell index or a distance",
                    field="couplings",
                    expected="positive int (shell index) or float (distance in Angstrom)",
                )
        self.couplings = dict(couplings)
        axis = np.asarray(anisotropy_axis, dtype=float)
        self.anisotropy = float(anisotropy)
        self.anisotropy_axis = axis / np.linalg.norm(axis)
        self.moment_stiffness = float(moment_stiffness)
        self.moment_reference = float(moment_reference)
        self.distance_tolerance = float(distance_tolerance)
        self.magnetic_threshold = float(magnetic_threshold)
        self._pair_cache: tuple[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def pairs(self, atoms: Atoms, magnetic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coupled ordered pairs ``(i, j, J_ij)`` among magnetic atoms, both directions listed."""
        key = b"".join(
            np.ascontiguousarray(a).tobytes() for a in (atoms.positions, atoms.cell[:], atoms.pbc, magnetic)
        )
        if self._pair_cache is None or self._pair_cache[0] != key:
            self._pair_cache = (key, self._find_pairs(atoms, magnetic))
        return self._pair_cache[1]

    def _find_pairs(self, atoms: Atoms, magnetic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        distance_keys = [float(k) for k in self.couplings if not isinstance(k, int | np.integer)]
        shell_keys = [int(k) for k in self.couplings if isinstance(k, int | np.integer)]
        cutoff = max(distance_keys, default=0.0) + 2 * self.distance_tolerance
        sub = atoms[magnetic]
        while True:
            i, j, d = neighbor_list("ijd", sub, max(cutoff, 1e-3))
            shells = shell_distances(d[d < cutoff - self.distance_tolerance], self.distance_tolerance)
            if not shell_keys or len(shells) >= max(shell_keys) or cutoff > 100.0:
                break
            cutoff = max(2.0 * cutoff, 3.0)
        coupling = np.zeros(len(d))
        for key, value in self.couplings.items():
            if isinstance(key, int | np.integer):
                if key > len(shells):
                    raise InputError(
                        f"shell {key} not found within {cutoff:.1f} Angstrom",
                        field="couplings",
                        expected="shell indices that exist in the structure",
                    )
                target = shells[key - 1]
            else:
                target = float(key)
            coupling[np.abs(d - target) <= self.distance_tolerance] += value
        keep = coupling != 0
        return magnetic[i[keep]], magnetic[j[keep]], coupling[keep]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        moments = atoms_moments(self.atoms)
        magnitude = np.linalg.norm(moments, axis=1)
        magnetic = np.flatnonzero(magnitude > self.magnetic_threshold)
        direction = np.zeros_like(moments)
        direction[magnetic] = moments[magnetic] / magnitude[magnetic, None]
        i, j, coupling = self.pairs(self.atoms, magnetic)
        dot = np.einsum("ki,ki->k", direction[i], direction[j])
        projection = direction @ self.anisotropy_axis
        energy = -0.5 * np.sum(coupling * dot) - self.anisotropy * np.sum(projection[magnetic] ** 2)
        # dE/de_i (eV), then H_i = -dE/dm_i through e_i = m_i / |m_i|.
        gradient = np.zeros_like(moments)
        np.add.at(gradient, i, -coupling[:, None] * direction[j])
        gradient -= 2.0 * self.anisotropy * projection[:, None] * self.anisotropy_axis[None, :]
        tangential = gradient - np.einsum("ni,ni->n", gradient, direction)[:, None] * direction
        field = np.zeros_like(moments)
        field[magnetic] = -tangential[magnetic] / magnitude[magnetic, None]
        if self.moment_stiffness:
            stretch = magnitude[magnetic] - self.moment_reference
            energy += self.moment_stiffness * np.sum(stretch**2)
            field[magnetic] -= 2.0 * self.moment_stiffness * stretch[:, None] * direction[magnetic]
        self.results = {
            "energy": float(energy),
            "free_energy": float(energy),
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.zeros(6),
            "magnetic_forces": field,
        }


def shell_distances(distances: np.ndarray, tolerance: float) -> list[float]:
    """First distance of each neighbour shell (Angstrom), ascending.

    A distance more than ``tolerance`` beyond the current shell's first distance opens the next
    shell, so thermal noise below ``tolerance`` keeps a shell together.
    """
    shells: list[float] = []
    for value in np.sort(distances):
        if not shells or value - shells[-1] > tolerance:
            shells.append(float(value))
    return shells


def magnetic_pairs(
    atoms: Atoms, magnetic: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed pairs ``(i, j, distance)`` within ``cutoff`` (Angstrom) between the atoms where
    ``magnetic`` is True, periodic images included; ``i`` and ``j`` index ``atoms``."""
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    keep = magnetic[i] & magnetic[j]
    return i[keep], j[keep], d[keep]


def find_shells(
    atoms: Atoms,
    n_shells: int = 2,
    *,
    magnetic: np.ndarray | None = None,
    tolerance: float = 0.1,
    r_max: float = 8.0,
    source: str | None = None,
) -> list[float]:
    """Distances (Angstrom) of the first ``n_shells`` neighbour shells between magnetic atoms.

    Parameters
    ----------
    atoms
        Structure; without ``magnetic``, the atoms whose initial moment is not zero are magnetic.
    n_shells
        How many shells.
    magnetic
        Boolean mask of the magnetic atoms, shape (N,).
    tolerance
        Half-width of a shell (Angstrom), see :func:`shell_distances`.
    r_max
        Largest distance searched (Angstrom).
    source
        Where the structure came from, for the error message.

    Raises
    ------
    InputError
        Fewer than ``n_shells`` shells within ``r_max``.
    """
    if magnetic is None:
        magnetic = np.linalg.norm(atoms_moments(atoms), axis=1) > ZERO_MOMENT
    shells = shell_distances(magnetic_pairs(atoms, magnetic, r_max)[2], tolerance)
    if len(shells) < n_shells:
        raise InputError(
            f"found only {len(shells)} neighbour shells between magnetic atoms within {r_max} A",
            source=source,
            field="moments",
            expected=f"{n_shells} shells",
        )
    return shells[:n_shells]
