"""HeisenbergCalculator: magnetic forces are the exact negative gradient, known energies."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from magscreen.errors import InputError
from magscreen.magnetism.heisenberg import HeisenbergCalculator


def chain(n: int = 4, spacing: float = 2.5) -> Atoms:
    positions = [[i * spacing, 0, 0] for i in range(n)]
    return Atoms(f"Fe{n}", positions=positions, cell=[n * spacing, 9, 9], pbc=True)


def energy_at(atoms: Atoms, moments: np.ndarray) -> float:
    atoms.set_initial_magnetic_moments(moments)
    return atoms.get_potential_energy()


@pytest.mark.parametrize("periodic", [True, False])
def test_magnetic_forces_match_finite_differences(periodic):
    """H = -dE/dm, checked by central differences (step 1e-6 mu_B) with every term switched on."""
    atoms = chain(5)
    atoms.pbc = periodic
    atoms.calc = HeisenbergCalculator(
        {1: 0.02, 5.0: -0.01},
        anisotropy=0.003,
        anisotropy_axis=(1, 1, 0),
        moment_stiffness=0.1,
        moment_reference=2.0,
    )
    moments = np.random.default_rng(0).normal(size=(5, 3)) * 2
    energy_at(atoms, moments)
    field = atoms.calc.get_property("magnetic_forces", atoms)
    numeric = np.zeros_like(moments)
    h = 1e-6
    for i, k in np.ndindex(moments.shape):
        step = np.zeros_like(moments)
        step[i, k] = h
        numeric[i, k] = -(energy_at(atoms, moments + step) - energy_at(atoms, moments - step)) / (2 * h)
    np.testing.assert_allclose(field, numeric, atol=1e-8)


def test_forces_are_zero_and_consistent():
    """Couplings depend on the shell only, so small displacements leave E unchanged: F = 0."""
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    atoms.set_initial_magnetic_moments(None)
    atoms.set_initial_magnetic_moments(np.random.default_rng(1).normal(size=(len(atoms), 3)))
    atoms.calc = HeisenbergCalculator({1: 0.0187, 2: 0.0125})
    energy = atoms.get_potential_energy()
    assert np.all(atoms.get_forces() == 0)
    atoms.positions[0] += [0.001, -0.002, 0.001]
    assert atoms.get_potential_energy() == pytest.approx(energy, abs=1e-12)


def test_bcc_ferromagnet_energy_counts_shells():
    """FM bcc: E/atom = -(8 J1 + 6 J2)/2 (8 first, 6 second neighbours, each pair once)."""
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(3)
    atoms.set_initial_magnetic_moments([2.2] * len(atoms))
    atoms.calc = HeisenbergCalculator({1: 0.0187, 2: 0.0125})
    assert atoms.get_potential_energy() / len(atoms) == pytest.approx(-(8 * 0.0187 + 6 * 0.0125) / 2)
    # B2 antiferromagnet: first neighbours antiparallel, second neighbours parallel.
    signs = np.where(np.isclose(atoms.get_scaled_positions() * 6 % 2, 0).all(axis=1), 1.0, -1.0)
    atoms.set_initial_magnetic_moments(2.2 * signs)
    assert atoms.get_potential_energy() / len(atoms) == pytest.approx(-(-8 * 0.0187 + 6 * 0.0125) / 2)


def test_uniaxial_anisotropy_prefers_easy_axis():
    atoms = chain(2)
    atoms.calc = HeisenbergCalculator({1: 0.01}, anisotropy=1e-3, anisotropy_axis=(0, 0, 1))
    along = energy_at(atoms, [[0, 0, 2], [0, 0, 2]])
    across = energy_at(atoms, [[2, 0, 0], [2, 0, 0]])
    assert across - along == pytest.approx(2 * 1e-3)


def test_bad_couplings_are_named():
    with pytest.raises(InputError, match="couplings"):
        HeisenbergCalculator({})
    with pytest.raises(InputError, match="shell index or a distance"):
        HeisenbergCalculator({"first": 0.01})
    atoms = chain(2)
    atoms.pbc = False  # a dimer has one shell
    atoms.set_initial_magnetic_moments([1.0, 1.0])
    atoms.calc = HeisenbergCalculator({1: 0.01, 9: 0.01})
    with pytest.raises(InputError, match="shell 9 not found"):
        atoms.get_potential_energy()
