"""Least-squares fit of the spin-orbit block's output layer to force-theorem anisotropy energies.

Every other weight is frozen. The spin-orbit energy of atom i is ``sum_k (W z_i + b)_k I_ik``
(:meth:`MagneticEnergy.spin_orbit_features`): z_i, the coefficient network's last hidden layer,
depends on the backbone features and the moment lengths, I_ik on the moment directions, so for
one structure rotated through directions d the anisotropy energy is linear in (W, b):
E(d) - E(d_ref) = [Phi(d) - Phi(d_ref)] . theta. One compound's directions form one energy group
(only differences between its directions are labels). The solve is ridge regression; each group's
rows are divided by the size of its anisotropy (so FePt's meV does not drown hcp Co's 0.1 meV),
floored at ``floor_ueV_per_atom`` (so the noise of cubic metals is not blown up).

The exchange part sees the moments only through spin-space invariants: rotating all moments
together leaves it unchanged, so the fit cannot alter the model's soc-off energies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magscreen.errors import InputError

__all__ = [
    "DirectionGroup",
    "SocFit",
    "apply_soc_weights",
    "fit_soc",
    "leave_one_compound_out",
    "predict_group",
    "read_dataset_record",
    "read_dataset_records",
    "read_force_theorem_runs",
    "soc_design",
]


@dataclass
class DirectionGroup:
    """One compound's energies with all moments along each of several directions.

    Attributes
    ----------
    name
        Compound name (the energy group).
    atoms
        ASE ``Atoms`` of the cell (Angstrom).
    moments
        Signed collinear moments (mu_B), shape (N,); rotated together onto each direction.
    directions
        Cartesian unit vectors, shape (K, 3).
    energies_eV
        Energy of the cell per direction (eV), shape (K,); only differences carry meaning.
    source
        Where the numbers come from (file, engine, k-point grid).
    """

    name: str
    atoms: object
    moments: np.ndarray
    directions: np.ndarray
    energies_eV: np.ndarray
    source: str

    def moment_vectors(self) -> np.ndarray:
        """Moment configurations (K, N, 3): every moment along each direction (mu_B)."""
        return self.moments[None, :, None] * self.directions[:, None, :]

    def relative_ueV_per_atom(self, energies_eV: np.ndarray | None = None) -> np.ndarray:
        """Energies relative to the first direction (micro-eV per atom)."""
        e = self.energies_eV if energies_eV is None else np.asarray(energies_eV)
        return (e - e[0]) / len(self.atoms) * 1e6


def read_force_theorem_runs(paths: list[Path]) -> list[DirectionGroup]:
    """Direction groups from force-theorem run records (``benchmarks/anisotropy/force_theorem_series.py``).

    The time-reversed direction (theta = 180) is dropped: it duplicates theta = 0 in the fit.
    """
    from ase import Atoms

    from magscreen.screening.anisotropy import directions_from_angles

    groups = []
    for path in paths:
        try:
            record = json.loads(Path(path).read_text())
            angles = np.asarray(record["directions_theta_phi_deg"], dtype=float)
            keep = angles[:, 0] < 179.0
            atoms = Atoms(record["symbols"], positions=record["positions"], cell=record["cell"], pbc=True)
            groups.append(
                DirectionGroup(
                    name=record["compound"],
                    atoms=atoms,
                    moments=np.asarray(record["magnetic_moments"], dtype=float),
                    directions=directions_from_angles(angles[keep]),
                    energies_eV=np.asarray(record["band_energies_eV"], dtype=float)[keep],
                    source=f"{Path(path).name} (GPAW force theorem, k-grid {record['kpoint_grid']})",
                )
            )
        except (OSError, KeyError, ValueError) as error:
            raise InputError(
                f"cannot read a force-theorem record ({error})",
                source=path,
                expected="JSON with symbols, positions, cell, magnetic_moments, directions, energies",
            ) from error
    return groups


def read_dataset_record(path: Path) -> DirectionGroup | None:
    """The direction group of one dataset record: a finished ``force_theorem`` frame, else None.

    ``source`` starts with ``path`` as given (repository-relative when the caller's is).
    """
    from ase import Atoms

    path = Path(path)
    record = json.loads(path.read_text())
    if record.get("kind") != "force_theorem" or record.get("status") != "done":
        return None
    scan = record["force_theorem"]
    atoms = Atoms(record["symbols"], positions=record["positions"], cell=record["cell"], pbc=record["pbc"])
    directions = np.asarray(scan["directions"], dtype=float)
    # a direction opposite to an earlier one duplicates it (time reversal)
    keep = np.array([not np.any(directions[:i] @ d < -1 + 1e-6) for i, d in enumerate(directions)])
    return DirectionGroup(
        name=record["compound"],
        atoms=atoms,
        moments=np.asarray(record["magmoms"], dtype=float),
        directions=directions[keep],
        energies_eV=np.asarray(scan["band_energies_eV"], dtype=float)[keep],
        source=f"{path.as_posix()} (dataset force_theorem frame, k-grid {scan['kpoint_grid']})",
    )


def read_dataset_records(records_dir: Path) -> list[DirectionGroup]:
    """Direction groups from a dataset build's ``force_theorem`` frame records (``<work_dir>/records``)."""
    groups = (read_dataset_record(path) for path in sorted(Path(records_dir).glob("*.json")))
    return [g for g in groups if g is not None]


def soc_design(model, group: DirectionGroup) -> np.ndarray:
    """Phi (K, P): the spin-orbit energy of each direction is Phi @ theta, theta the flattened
    output layer [W | b] of shape (4 soc_channels, hidden + 1). Spin-orbit domain ignored."""
    import torch

    from magscreen.potential.graph import graph_from_atoms

    if not model.soc:
        raise ValueError("the model has no spin-orbit block (convert it with MagneticPotential.with_soc)")
    graph = graph_from_atoms(group.atoms, model.cutoff, np.zeros((len(group.atoms), 3)), dtype=model.dtype)
    graph = graph.to(model.device, model.dtype)
    with torch.no_grad():
        edge_vec = model.edge_vectors(graph, graph.positions, None)
        features, _ = model.backbone(graph.numbers, graph.edge_index, edge_vec)
        moments = torch.as_tensor(group.moment_vectors(), dtype=model.dtype, device=model.device)
        hidden, invariants = model.magnetic.spin_orbit_features(features, graph.edge_index, edge_vec, moments)
        hidden = torch.cat([hidden, torch.ones_like(hidden[..., :1])], dim=-1)
        design = torch.einsum("kic,kih->kch", invariants, hidden)
    return design.reshape(design.shape[0], -1).cpu().numpy().astype(float)


@dataclass
class SocFit:
    """Solution of the spin-orbit fit.

    Attributes
    ----------
    theta
        Output layer [W | b] (eV per unit invariant), shape (4 soc_channels, hidden + 1).
    ridge
        Ridge strength (relative to the mean diagonal of the normal matrix).
    groups
        Compounds fitted.
    rms_ueV_per_atom
        Root mean square error per group over its directions (micro-eV per atom).
    """

    theta: np.ndarray
    ridge: float
    groups: list[str]
    rms_ueV_per_atom: dict[str, float]


def _rows(
    design: np.ndarray, group: DirectionGroup, floor_ueV_per_atom: float
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted difference rows of one group: rows @ theta (eV) and targets in micro-eV per atom."""
    target = group.relative_ueV_per_atom()[1:]
    rows = (design[1:] - design[0]) / len(group.atoms) * 1e6
    weight = 1.0 / max(float(np.sqrt(np.mean(target**2))), floor_ueV_per_atom)
    return rows * weight, target * weight


def fit_soc(
    model,
    groups: list[DirectionGroup],
    *,
    ridge: float = 1e-6,
    floor_ueV_per_atom: float = 20.0,
    designs: dict[str, np.ndarray] | None = None,
) -> SocFit:
    """Ridge least squares of the spin-orbit output layer on the groups' energy differences.

    Parameters
    ----------
    model
        A :class:`MagneticPotential` with ``soc=True``.
    groups
        One direction group per compound.
    ridge
        Ridge strength relative to the mean diagonal of the normal matrix (dimensionless).
    floor_ueV_per_atom
        Smallest anisotropy a group is scaled by (micro-eV per atom).
    designs
        Precomputed :func:`soc_design` per group name (saves backbone passes).
    """
    designs = designs or {g.name: soc_design(model, g) for g in groups}
    rows, targets = zip(*(_rows(designs[g.name], g, floor_ueV_per_atom) for g in groups), strict=True)
    a, y = np.concatenate(rows), np.concatenate(targets)
    normal = a.T @ a
    damping = ridge * np.trace(normal) / len(normal)
    theta = np.linalg.solve(normal + damping * np.eye(len(normal)), a.T @ y)
    shape = (4 * model.hyper.soc_channels, model.hyper.hidden + 1)
    theta = theta.reshape(shape)
    rms = {}
    for g in groups:
        error = predict_group(designs[g.name], theta, g) - g.relative_ueV_per_atom()
        rms[g.name] = float(np.sqrt(np.mean(error**2)))
    return SocFit(theta=theta, ridge=ridge, groups=[g.name for g in groups], rms_ueV_per_atom=rms)


def predict_group(design: np.ndarray, theta: np.ndarray, group: DirectionGroup) -> np.ndarray:
    """Model anisotropy energies of a group relative to its first direction (micro-eV per atom)."""
    return group.relative_ueV_per_atom(design @ theta.reshape(-1))


def apply_soc_weights(model, fit: SocFit) -> None:
    """Write the fitted output layer into ``model``."""
    import torch

    layer = model.magnetic.soc_coefficients[-1]
    theta = torch.as_tensor(fit.theta, dtype=layer.weight.dtype, device=layer.weight.device)
    with torch.no_grad():
        layer.weight.copy_(theta[:, :-1])
        layer.bias.copy_(theta[:, -1])


def leave_one_compound_out(
    model, groups: list[DirectionGroup], *, ridge: float = 1e-6, floor_ueV_per_atom: float = 20.0
) -> list[dict]:
    """For each compound, fit on the others and predict it: one row per compound.

    Rows: compound, GPAW and ML MAE (E[100] - E[001] as E(theta = 90, phi = 0) - E(theta = 0),
    micro-eV per atom), the ML / GPAW ratio, and the RMS error over the directions.
    """
    designs = {g.name: soc_design(model, g) for g in groups}
    table = []
    for held in groups:
        rest = [g for g in groups if g.name != held.name]
        fit = fit_soc(model, rest, ridge=ridge, floor_ueV_per_atom=floor_ueV_per_atom, designs=designs)
        predicted = predict_group(designs[held.name], fit.theta, held)
        reference = held.relative_ueV_per_atom()
        hard = _index_of(held.directions, [1.0, 0.0, 0.0])
        table.append(
            {
                "compound": held.name,
                "gpaw_mae_ueV_per_atom": float(reference[hard]),
                "ml_mae_ueV_per_atom": float(predicted[hard]),
                "ratio": float(predicted[hard] / reference[hard]) if reference[hard] else None,
                "rms_ueV_per_atom": float(np.sqrt(np.mean((predicted - reference) ** 2))),
            }
        )
    return table


def _index_of(directions: np.ndarray, target: list[float]) -> int:
    index = np.flatnonzero(directions @ np.asarray(target) > 1 - 1e-6)
    if not len(index):
        raise ValueError(f"direction {target} is not in the group")
    return int(index[0])
