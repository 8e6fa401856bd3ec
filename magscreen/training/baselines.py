"""Classical baseline for the magnetic potential: a Heisenberg + Landau spin Hamiltonian.

.. math::

    E = \\sum_Z n_Z \\varepsilon_Z
        - \\sum_s J_s \\sum_{\\langle ij \\rangle_s} \\mathbf m_i \\cdot \\mathbf m_j
        - B \\sum_{\\langle ij \\rangle_1} (\\mathbf m_i \\cdot \\mathbf m_j)^2
        + \\sum_i \\left(a |\\mathbf m_i|^2 + b |\\mathbf m_i|^4\\right)

with pair sums over unordered pairs (periodic images included) of moment-carrying atoms in the
neighbour shells ``s`` (Angstrom, :func:`~magscreen.magnetism.heisenberg.find_shells`), a biquadratic
term on the nearest shell and Landau on-site terms. The sign convention is the project's
(:mod:`magscreen.magnetism.heisenberg`): ``J > 0`` is ferromagnetic, ``J < 0`` antiferromagnetic.
Energy and magnetic forces :math:`\\mathbf H_i = -\\partial E / \\partial \\mathbf m_i` are both linear
in the parameters, so the fit is one linear least-squares problem. The model has no lattice term:
its forces are zero.

Units: eV, mu_B; J and B in eV/mu_B^2 and eV/mu_B^4, a in eV/mu_B^2, b in eV/mu_B^4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ase.data import chemical_symbols

from magscreen.errors import InputError
from magscreen.magnetism.heisenberg import find_shells, magnetic_pairs
from magscreen.training.data import Frame


def _magnetic_pairs(frame: Frame, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed pairs (i, j, distance) within ``cutoff`` between atoms that carry a moment."""
    return magnetic_pairs(frame.to_atoms(), np.linalg.norm(frame.moments, axis=1) > 0, cutoff)


def frame_shells(frame: Frame, n_shells: int = 2, *, tolerance: float = 0.1) -> list[float]:
    """Neighbour shells (Angstrom) between the moment-carrying atoms of a frame."""
    carrying = np.linalg.norm(frame.moments, axis=1) > 0
    return find_shells(
        frame.to_atoms(), n_shells, magnetic=carrying, tolerance=tolerance, source=frame.source
    )


@dataclass
class HeisenbergLandauModel:
    """Heisenberg (bilinear + biquadratic) + Landau spin Hamiltonian.

    Attributes
    ----------
    shells
        Neighbour-shell distances (Angstrom); a pair belongs to the shell within ``tolerance``.
    elements
        Chemical symbols with a reference energy (eV/atom) each, in parameter order.
    parameters
        Fitted parameters: reference energies, ``J_s`` per shell, ``B``, ``a``, ``b``.
    tolerance
        Half-width of a shell (Angstrom).
    """

    shells: list[float]
    elements: list[str]
    parameters: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tolerance: float = 0.1

    @property
    def names(self) -> list[str]:
        """Parameter names in the order of :attr:`parameters`."""
        return (
            [f"E_{el}" for el in self.elements]
            + [f"J{s + 1}" for s in range(len(self.shells))]
            + ["B", "a", "b"]
        )

    def as_dict(self) -> dict[str, float]:
        """Fitted parameters by name (eV, mu_B units)."""
        return dict(zip(self.names, map(float, self.parameters), strict=True))

    def design(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the linear model for one frame.

        Returns
        -------
        energy_row
            Shape (P,): ``E = energy_row @ parameters``.
        magnetic_force_rows
            Shape (N, 3, P): ``H = magnetic_force_rows @ parameters`` (eV/mu_B).
        """
        m = frame.moments
        n_atoms, n_el, n_sh = frame.n_atoms, len(self.elements), len(self.shells)
        energy_row = np.zeros(n_el + n_sh + 3)
        gradient = np.zeros((n_atoms, 3, n_el + n_sh + 3))  # dE/dm
        symbols = [chemical_symbols[z] for z in frame.numbers]
        for k, element in enumerate(self.elements):
            energy_row[k] = symbols.count(element)
        unknown = set(symbols) - set(self.elements)
        if unknown:
            raise InputError(
                f"element(s) {sorted(unknown)} have no reference energy in the baseline",
                source=frame.source,
                field="numbers",
                expected=f"elements among {self.elements}",
            )
        i, j, d = _magnetic_pairs(frame, max(self.shells) + self.tolerance)
        dots = np.einsum("pa,pa->p", m[i], m[j])
        for s, radius in enumerate(self.shells):
            in_shell = np.abs(d - radius) <= self.tolerance
            column = n_el + s
            energy_row[column] = -0.5 * dots[in_shell].sum()  # each unordered pair appears twice
            np.add.at(gradient[:, :, column], i[in_shell], -m[j[in_shell]])
            if s == 0:
                column_b = n_el + n_sh
                energy_row[column_b] = -0.5 * (dots[in_shell] ** 2).sum()
                np.add.at(gradient[:, :, column_b], i[in_shell], -2 * dots[in_shell, None] * m[j[in_shell]])
        norms2 = np.einsum("ia,ia->i", m, m)
        energy_row[-2] = norms2.sum()
        energy_row[-1] = (norms2**2).sum()
        gradient[:, :, -2] = 2 * m
        gradient[:, :, -1] = 4 * norms2[:, None] * m
        return energy_row, -gradient

    @classmethod
    def fit(
        cls,
        frames: Sequence[Frame],
        *,
        shells: Sequence[float] | None = None,
        n_shells: int = 2,
        tolerance: float = 0.1,
        energy_weight: float = 1.0,
        magnetic_force_weight: float = 1.0,
        longitudinal_weight: float = 1.0,
    ) -> HeisenbergLandauModel:
        """Fit by linear least squares on energies per atom and magnetic forces.

        Each label type enters as a mean square divided by the variance of its labels, so that
        both are dimensionless: the loss is ``energy_weight * mean(dE^2 / N^2) / var(E / N)
        + magnetic_force_weight * mean(dH^2) / var(H)`` over the frames that carry the label and
        the atoms that carry a moment. The minimum-norm solution (in column-normalised units) is
        taken, so parameters the data cannot separate (one composition makes the per-element
        reference energies degenerate; fixed moment magnitudes make ``a``, ``b`` and the
        references degenerate) are split evenly rather than made arbitrary.

        Parameters
        ----------
        frames
            Training frames; at least one must carry an energy or magnetic forces.
        shells
            Shell distances (Angstrom); found from the first frame when None.
        n_shells
            Number of shells to find when ``shells`` is None.
        tolerance
            Half-width of a shell (Angstrom).
        energy_weight, magnetic_force_weight
            Relative weights of the two label types.
        longitudinal_weight
            Weight of the magnetic-force residual along the moment relative to the part across it
            (1: plain least squares; 0: transverse part only), as in the network's loss.
        """
        if not frames:
            raise InputError("no frames to fit", field="frames", expected="at least one frame")
        shells = (
            list(shells) if shells is not None else frame_shells(frames[0], n_shells, tolerance=tolerance)
        )
        elements = sorted({chemical_symbols[z] for f in frames for z in f.numbers})
        model = cls(shells=shells, elements=elements, tolerance=tolerance)
        energy_rows, energy_targets, force_rows, force_targets = [], [], [], []
        for frame in frames:
            row, h_rows = model.design(frame)
            if frame.energy is not None:
                energy_rows.append(row / frame.n_atoms)
                energy_targets.append(frame.energy / frame.n_atoms)
            if frame.magnetic_forces is not None:
                carrying = np.linalg.norm(frame.moments, axis=1) > 0
                u = frame.moments[carrying] / np.linalg.norm(frame.moments[carrying], axis=1, keepdims=True)
                # Scale the component along the moment by sqrt(weight): P = 1 - (1 - sqrt(w)) u u^T.
                project = np.eye(3) - (1 - np.sqrt(longitudinal_weight)) * np.einsum("ia,ib->iab", u, u)
                force_rows.append(np.einsum("iab,ibp->iap", project, h_rows[carrying]).reshape(-1, len(row)))
                force_targets.append(
                    np.einsum("iab,ib->ia", project, frame.magnetic_forces[carrying]).reshape(-1)
                )
        blocks, targets = [], []
        for rows, values, weight in (
            (energy_rows, energy_targets, energy_weight),
            (force_rows, force_targets, magnetic_force_weight),
        ):
            if not rows:
                continue
            a = np.concatenate(rows) if rows[0].ndim == 2 else np.array(rows)
            y = np.concatenate(values) if np.ndim(values[0]) else np.array(values)
            w = np.sqrt(weight / (len(y) * max(float(np.var(y)), 1e-12)))
            blocks.append(w * a)
            targets.append(w * y)
        if not blocks:
            raise InputError(
                "no frame carries energy or magnetic forces",
                field="labels",
                expected="energy or magnetic_forces labels",
            )
        matrix, target = np.concatenate(blocks), np.concatenate(targets)
        # Scale columns to unit norm so that the rank cut-off is relative, then undo.
        scale = np.linalg.norm(matrix, axis=0)
        scale[scale == 0] = 1.0
        solution, *_ = np.linalg.lstsq(matrix / scale, target, rcond=1e-10)
        model.parameters = solution / scale
        return model

    def predict(self, frame: Frame) -> tuple[float, np.ndarray, np.ndarray]:
        """Energy (eV), forces (eV/Angstrom, zero: no lattice term) and magnetic forces (eV/mu_B)."""
        row, h_rows = self.design(frame)
        return float(row @ self.parameters), np.zeros((frame.n_atoms, 3)), h_rows @ self.parameters
