"""Exact symmetries of the magnetic potential (small random model, float64, soc off and on)."""

from __future__ import annotations

import numpy as np
import pytest
from potential_helpers import crystal, evaluate, random_rotation


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def test_translation_invariance(model, atoms):
    """E(R + t) = E(R): energy, forces and magnetic forces do not depend on the origin."""
    reference = evaluate(model, atoms)
    atoms.positions += np.array([0.37, -1.21, 2.05])
    moved = evaluate(model, atoms)
    assert relative(moved["energy"], reference["energy"]) < 1e-12
    np.testing.assert_allclose(moved["forces"], reference["forces"], atol=1e-10)
    np.testing.assert_allclose(moved["magnetic_forces"], reference["magnetic_forces"], atol=1e-10)


def test_permutation_of_like_atoms(model):
    """Relabelling atoms (with their moments) leaves E unchanged and permutes forces."""
    atoms = crystal()
    atoms.extend(crystal(seed=3)[[0, 3]])  # six atoms: more than one of each kind
    atoms.wrap()
    reference = evaluate(model, atoms)
    order = np.random.default_rng(1).permutation(len(atoms))
    permuted = evaluate(model, atoms[order])
    assert relative(permuted["energy"], reference["energy"]) < 1e-12
    np.testing.assert_allclose(permuted["forces"], reference["forces"][order], atol=1e-10)
    np.testing.assert_allclose(permuted["magnetic_forces"], reference["magnetic_forces"][order], atol=1e-10)


def test_periodic_images(model, atoms):
    """Moving an atom by a lattice vector is no change of the crystal."""
    reference = evaluate(model, atoms)
    atoms.positions[1] += atoms.cell[0] - 2 * atoms.cell[2]
    atoms.positions[3] -= atoms.cell[1]
    imaged = evaluate(model, atoms)
    assert relative(imaged["energy"], reference["energy"]) < 1e-12
    np.testing.assert_allclose(imaged["forces"], reference["forces"], atol=1e-10)


def test_extensivity_of_supercell(model, atoms):
    """A 2x1x1 supercell with repeated moments has exactly twice the energy."""
    single = evaluate(model, atoms)
    double = evaluate(model, atoms.repeat((2, 1, 1)))
    assert relative(double["energy"], 2 * single["energy"]) < 1e-8
    np.testing.assert_allclose(double["forces"][:4], single["forces"], atol=1e-9)


def test_time_reversal(model, atoms):
    """E(R, -m) = E(R, m); forces are even and magnetic forces odd in m."""
    up = evaluate(model, atoms)
    down = evaluate(model, atoms, -atoms.get_initial_magnetic_moments())
    assert relative(down["energy"], up["energy"]) < 1e-10
    np.testing.assert_allclose(down["forces"], up["forces"], atol=1e-10)
    np.testing.assert_allclose(down["magnetic_forces"], -up["magnetic_forces"], atol=1e-10)
    assert np.abs(up["magnetic_forces"]).max() > 1e-6  # the moments matter at all


@pytest.mark.parametrize("proper", [True, False], ids=["proper", "improper"])
def test_without_soc_lattice_rotation_alone(proper):
    """Without SOC, rotating (or inverting) the lattice alone leaves E unchanged."""
    from magscreen.potential import MagneticPotential

    model = MagneticPotential(soc=False, seed=7, species=("O", "Fe", "Ni")).double()
    atoms = crystal()
    reference = evaluate(model, atoms)
    q = random_rotation(11, proper)
    atoms.set_cell(atoms.cell @ q.T)
    atoms.positions = atoms.positions @ q.T  # set_cell without scale_atoms keeps old positions
    rotated = evaluate(model, atoms)
    assert relative(rotated["energy"], reference["energy"]) < 1e-10
    np.testing.assert_allclose(rotated["forces"], reference["forces"] @ q.T, atol=1e-9)
    np.testing.assert_allclose(rotated["magnetic_forces"], reference["magnetic_forces"], atol=1e-9)


def test_without_soc_spin_rotation_alone():
    """Without SOC, rotating every moment together leaves E unchanged; H rotates with them."""
    from magscreen.potential import MagneticPotential

    model = MagneticPotential(soc=False, seed=7, species=("O", "Fe", "Ni")).double()
    atoms = crystal()
    reference = evaluate(model, atoms)
    q = random_rotation(5)
    rotated = evaluate(model, atoms, atoms.get_initial_magnetic_moments() @ q.T)
    assert relative(rotated["energy"], reference["energy"]) < 1e-10
    np.testing.assert_allclose(rotated["forces"], reference["forces"], atol=1e-9)
    np.testing.assert_allclose(rotated["magnetic_forces"], reference["magnetic_forces"] @ q.T, atol=1e-9)


@pytest.mark.parametrize("proper", [True, False], ids=["proper", "improper"])
def test_with_soc_joint_rotation(proper):
    """With SOC, rotating lattice and moments together is a symmetry; moments are axial vectors.

    Under an orthogonal Q positions go to Q r and moments to det(Q) Q m (axial: unchanged by
    inversion); forces rotate as polar vectors, magnetic forces as axial ones.
    """
    from magscreen.potential import MagneticPotential

    model = MagneticPotential(soc=True, seed=7, species=("O", "Fe", "Ni")).double()
    atoms = crystal()
    reference = evaluate(model, atoms)
    q = random_rotation(13, proper)
    axial = np.linalg.det(q) * q
    moments = atoms.get_initial_magnetic_moments() @ axial.T
    atoms.set_cell(atoms.cell @ q.T)
    atoms.positions = atoms.positions @ q.T
    rotated = evaluate(model, atoms, moments)
    assert relative(rotated["energy"], reference["energy"]) < 1e-10
    np.testing.assert_allclose(rotated["forces"], reference["forces"] @ q.T, atol=1e-9)
    np.testing.assert_allclose(rotated["magnetic_forces"], reference["magnetic_forces"] @ axial.T, atol=1e-9)


def test_with_soc_moments_alone_rotation_changes_energy():
    """With SOC the spin-orbit path is live: rotating the moments alone changes E (anisotropy)."""
    from magscreen.potential import MagneticPotential

    model = MagneticPotential(soc=True, seed=7, species=("O", "Fe", "Ni")).double()
    atoms = crystal()
    reference = evaluate(model, atoms)
    rotated = evaluate(model, atoms, atoms.get_initial_magnetic_moments() @ random_rotation(5).T)
    assert abs(rotated["energy"] - reference["energy"]) > 1e-6 * abs(reference["magnetic_energy"][0])
    assert abs(rotated["energy"] - reference["energy"]) > 1e-9


def test_with_soc_cubic_crystal_cube_axes_equivalent_body_diagonal_not():
    """Cubic symmetry: a ferromagnet along x, y or z has one energy; along [111] another (l = 4 term)."""
    from ase.build import bulk

    from magscreen.potential import MagneticPotential

    model = MagneticPotential(soc=True, seed=7, species=("O", "Fe", "Ni")).double()
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True)
    energies = {}
    for name, axis in {"x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1], "111": [1, 1, 1]}.items():
        direction = np.array(axis, dtype=float) / np.linalg.norm(axis)
        energies[name] = evaluate(model, atoms, np.tile(2.2 * direction, (len(atoms), 1)))["energy"]
    assert relative(energies["x"], energies["z"]) < 1e-12
    assert relative(energies["y"], energies["z"]) < 1e-12
    assert abs(energies["111"] - energies["z"]) > 1e-9


def test_dzyaloshinskii_moriya_vanishes_at_inversion_centres():
    """Moriya's rule: no DM interaction where every site is an inversion centre (bcc), some otherwise."""
    import torch
    from ase.build import bulk

    from magscreen.potential import MagneticPotential, build_graph

    model = MagneticPotential(soc=True, seed=7, species=("O", "Fe", "Ni")).double()
    channels = model.hyper.soc_channels
    rng = np.random.default_rng(2)
    for atoms, centrosymmetric in (
        (bulk("Fe", "bcc", a=2.87, cubic=True).repeat((2, 1, 1)), True),
        (crystal(), False),
    ):
        graph = build_graph(
            atoms.numbers,
            atoms.positions,
            atoms.cell[:],
            atoms.pbc,
            rng.normal(size=(len(atoms), 3)),
            cutoff=model.cutoff,
        )
        edge_vec = model.edge_vectors(graph, graph.positions, None)
        features, _ = model.backbone(graph.numbers, graph.edge_index, edge_vec)
        weights = model.magnetic.radial(model.magnetic.radial_basis(torch.linalg.norm(edge_vec, dim=-1)))
        weights = weights * model.magnetic.sender(features)[graph.edge_index[1]]
        invariants = model.magnetic.spin_orbit_invariants(
            weights[:, model.magnetic.exchange_width :], graph.edge_index, edge_vec, graph.moments, len(atoms)
        )
        dm = invariants[:, -channels:].abs().max().item()
        assert (dm < 1e-12) if centrosymmetric else (dm > 1e-6)
