"""Shared helpers of the potential tests: a test crystal, evaluation, random rotations."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from magscreen.potential import MagneticPotential, build_graph


def crystal(seed: int = 0) -> Atoms:
    """Strained, rattled fcc cell of Fe, Fe, Ni, O with random non-collinear moments (mu_B)."""
    rng = np.random.default_rng(seed)
    cell = 3.6 * (np.eye(3) + 0.04 * rng.normal(size=(3, 3)))
    fractional = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) + 0.03 * rng.normal(
        size=(4, 3)
    )
    atoms = Atoms("Fe2NiO", scaled_positions=fractional, cell=cell, pbc=True)
    atoms.set_initial_magnetic_moments(rng.normal(size=(4, 3)) * 1.5)
    return atoms


def evaluate(model: MagneticPotential, atoms: Atoms, moments: np.ndarray | None = None, **kwargs) -> dict:
    """Energy (eV), forces, stress (3, 3) and magnetic forces of ``atoms`` as numpy arrays."""
    if moments is None:
        moments = atoms.get_initial_magnetic_moments()
    graph = build_graph(
        atoms.numbers, atoms.positions, np.asarray(atoms.cell), atoms.pbc, moments, cutoff=model.cutoff
    )
    stress = bool(np.all(atoms.pbc))
    out = model(graph, compute_stress=stress, **kwargs)
    result = {k: v.detach().numpy() for k, v in out.items()}
    result["energy"] = float(result["energy"][0])
    if stress:
        result["stress"] = result["stress"][0]
    return result


def random_rotation(seed: int, proper: bool = True) -> np.ndarray:
    """A random orthogonal matrix with determinant +1 (proper) or -1 (improper)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q if proper else -q
