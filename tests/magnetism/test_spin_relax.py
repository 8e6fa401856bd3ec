"""Spin relaxation finds the classical ground states of Heisenberg models with known couplings."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from magscreen.magnetism.heisenberg import HeisenbergCalculator
from magscreen.magnetism.spin_relax import relax_spins


def directions(atoms: Atoms) -> np.ndarray:
    moments = atoms.get_initial_magnetic_moments()
    return moments / np.linalg.norm(moments, axis=1)[:, None]


def random_moments(n: int, seed: int, size: float = 2.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3)) * size


@pytest.mark.parametrize("seed", [0, 1])
def test_square_lattice_relaxes_to_neel_state(seed):
    """J1 < 0 (antiferromagnetic) on a square lattice: every nearest-neighbour pair antiparallel,
    E/site = 2 J1 (z = 4 neighbours, e_i . e_j = -1)."""
    side, a, j1 = 4, 3.0, -0.01
    atoms = Atoms(
        f"Mn{side * side}",
        positions=[[i * a, j * a, 0] for i in range(side) for j in range(side)],
        cell=[side * a, side * a, 10],
        pbc=True,
    )
    atoms.set_initial_magnetic_moments(random_moments(len(atoms), seed))
    result = relax_spins(atoms, HeisenbergCalculator({1: j1}), torque_tol=1e-7)
    assert result.converged and result.max_torque <= 1e-7
    e = directions(result.atoms).reshape(side, side, 3)
    np.testing.assert_allclose(np.einsum("xyi,xyi->xy", e, np.roll(e, 1, axis=0)), -1, atol=1e-6)
    np.testing.assert_allclose(np.einsum("xyi,xyi->xy", e, np.roll(e, 1, axis=1)), -1, atol=1e-6)
    assert result.energy / len(atoms) == pytest.approx(2 * j1, abs=1e-9)
    assert result.trajectory[0].info["energy"] > result.energy
    assert np.linalg.norm(result.atoms.get_initial_magnetic_moments(), axis=1) == pytest.approx(
        np.linalg.norm(atoms.get_initial_magnetic_moments(), axis=1)
    )


def test_triangular_lattice_relaxes_to_120_degree_state():
    """J1 < 0 on a triangular lattice: neighbours at 120 degrees (e_i . e_j = -1/2), E/site = 3 J1 / 2."""
    side, a, j1 = 3, 3.0, -0.01
    cell = np.array([[a, 0, 0], [a / 2, a * np.sqrt(3) / 2, 0], [0, 0, 10]])
    positions = [i * cell[0] + j * cell[1] for i in range(side) for j in range(side)]
    atoms = Atoms(f"Cr{side * side}", positions=positions, cell=cell * [[side], [side], [1]], pbc=True)
    atoms.set_initial_magnetic_moments(random_moments(len(atoms), 3))
    result = relax_spins(atoms, HeisenbergCalculator({1: j1}), torque_tol=1e-9)
    assert result.converged
    e = directions(result.atoms)
    i, j = np.triu_indices(len(atoms), 1)
    distance = atoms.get_distances(i, j, mic=True)
    dots = np.einsum("ki,ki->k", e[i], e[j])
    np.testing.assert_allclose(dots[np.isclose(distance, a)], -0.5, atol=1e-6)
    assert result.energy / len(atoms) == pytest.approx(1.5 * j1, abs=1e-9)
    # Coplanar: the three sublattice directions sum to zero.
    np.testing.assert_allclose(e.sum(axis=0), 0, atol=1e-6)


@pytest.mark.parametrize(("j1", "j2"), [(0.02, -0.01), (-0.02, -0.01)])
def test_j1_j2_chain_relaxes_to_analytic_spiral(j1, j2):
    """E = -sum J e_i . e_j with J2 < 0 and |J1| < 4|J2|: the ground state is a spiral with
    cos q = -J1 / (4 J2) (here q = 60 or 120 degrees), E/site = -J1 cos q - J2 cos 2q."""
    n, a = 12, 2.5
    atoms = Atoms(f"Fe{n}", positions=[[i * a, 0, 0] for i in range(n)], cell=[n * a, 9, 9], pbc=True)
    atoms.set_initial_magnetic_moments(random_moments(n, 5))
    result = relax_spins(atoms, HeisenbergCalculator({a: j1, 2 * a: j2}), torque_tol=1e-9, steps=5000)
    assert result.converged
    cos_q = -j1 / (4 * j2)
    e = directions(result.atoms)
    np.testing.assert_allclose(np.einsum("ni,ni->n", e, np.roll(e, -1, axis=0)), cos_q, atol=1e-6)
    np.testing.assert_allclose(np.einsum("ni,ni->n", e, np.roll(e, -2, axis=0)), 2 * cos_q**2 - 1, atol=1e-6)
    assert result.energy / n == pytest.approx(-j1 * cos_q - j2 * (2 * cos_q**2 - 1), abs=1e-9)


def test_magnitudes_relax_to_longitudinal_minimum():
    """With the longitudinal term A (|m| - M)^2 the magnitudes relax to M while directions order."""
    atoms = Atoms("Fe2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[5, 9, 9], pbc=True)
    atoms.set_initial_magnetic_moments([[0.3, 0, 1.1], [0, 0.8, -2.9]])
    calculator = HeisenbergCalculator({1: 0.01}, moment_stiffness=0.05, moment_reference=2.2)
    result = relax_spins(atoms, calculator, relax_magnitudes=True, torque_tol=1e-8)
    assert result.converged
    moments = result.atoms.get_initial_magnetic_moments()
    np.testing.assert_allclose(np.linalg.norm(moments, axis=1), 2.2, atol=1e-6)
    assert directions(result.atoms)[0] @ directions(result.atoms)[1] == pytest.approx(1, abs=1e-9)


def test_relax_positions_with_zero_forces_converges():
    atoms = Atoms("Fe2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[5, 9, 9], pbc=True)
    atoms.set_initial_magnetic_moments([[1, 0, 1], [0, 1, 0]])
    result = relax_spins(atoms, HeisenbergCalculator({1: -0.01}), relax_positions=True, torque_tol=1e-8)
    assert result.converged
    np.testing.assert_allclose(result.atoms.positions, atoms.positions)


def test_unconverged_run_says_so():
    atoms = Atoms("Fe2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[5, 9, 9], pbc=True)
    atoms.set_initial_magnetic_moments([[1, 0, 1], [0, 1, 0]])
    result = relax_spins(atoms, HeisenbergCalculator({1: -0.01}), torque_tol=1e-12, steps=3)
    assert not result.converged and result.n_steps == 3 and len(result.trajectory) == 4


def test_calculator_without_magnetic_forces_is_named():
    from ase.calculators.emt import EMT

    from magscreen.errors import InputError

    atoms = Atoms("Ni2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[5, 9, 9], pbc=True)
    atoms.set_initial_magnetic_moments([[1, 0, 1], [0, 1, 0]])
    with pytest.raises(InputError, match="EMT does not provide magnetic forces"):
        relax_spins(atoms, EMT())
