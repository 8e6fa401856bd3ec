"""Forces, stress and magnetic forces are derivatives of the energy; smoothness at the cutoff and at m = 0."""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms
from potential_helpers import evaluate

STEP = 1e-5


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    return float(np.abs(analytic - numeric).max() / np.abs(analytic).max())


def test_forces_are_minus_energy_gradient(model, atoms):
    """F = -dE/dR against central differences of the energy."""
    analytic = evaluate(model, atoms)["forces"]
    numeric = np.zeros_like(analytic)
    for a in range(len(atoms)):
        for k in range(3):
            energies = []
            for sign in (1, -1):
                moved = atoms.copy()
                moved.positions[a, k] += sign * STEP
                energies.append(evaluate(model, moved)["energy"])
            numeric[a, k] = -(energies[0] - energies[1]) / (2 * STEP)
    assert relative_error(analytic, numeric) < 1e-5


def test_magnetic_forces_are_minus_moment_gradient(model, atoms):
    """H = -dE/dm against central differences of the energy."""
    moments = atoms.get_initial_magnetic_moments()
    analytic = evaluate(model, atoms)["magnetic_forces"]
    numeric = np.zeros_like(analytic)
    for a in range(len(atoms)):
        for k in range(3):
            energies = []
            for sign in (1, -1):
                shifted = moments.copy()
                shifted[a, k] += sign * STEP
                energies.append(evaluate(model, atoms, shifted)["energy"])
            numeric[a, k] = -(energies[0] - energies[1]) / (2 * STEP)
    assert relative_error(analytic, numeric) < 1e-5


def test_stress_is_strain_derivative(model, atoms):
    """sigma = (1/V) dE/d(epsilon) for a homogeneous symmetric strain of cell and atoms (ASE sign)."""
    analytic = evaluate(model, atoms)["stress"]
    numeric = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            energies = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[i, j] += 0.5 * sign * STEP
                strain[j, i] += 0.5 * sign * STEP
                strained = atoms.copy()
                strained.set_cell(atoms.cell @ strain, scale_atoms=True)
                energies.append(evaluate(model, strained)["energy"])
            numeric[i, j] = (energies[0] - energies[1]) / (2 * STEP) / atoms.get_volume()
    assert relative_error(analytic, numeric) < 1e-5


def dimer(distance: float) -> Atoms:
    atoms = Atoms("FeNi", positions=[[0, 0, 0], [distance * 0.6, distance * 0.8, 0]], pbc=False)
    atoms.set_initial_magnetic_moments([[1.0, 2.0, -0.5], [-2.0, 0.3, 1.2]])
    return atoms


def test_continuity_across_the_cutoff(model):
    """Energy, forces and magnetic forces are continuous as a neighbour leaves the cutoff sphere."""
    inside = evaluate(model, dimer(model.cutoff - 1e-4))
    outside = evaluate(model, dimer(model.cutoff + 1e-4))
    far = evaluate(model, dimer(model.cutoff + 1.0))
    assert far["energy"] == outside["energy"]
    assert abs(inside["energy"] - outside["energy"]) < 1e-9
    np.testing.assert_allclose(inside["forces"], outside["forces"], atol=1e-7)
    np.testing.assert_allclose(inside["magnetic_forces"], outside["magnetic_forces"], atol=1e-9)
    # the pair does interact, magnetically too, well inside the cutoff
    near = evaluate(model, dimer(0.6 * model.cutoff))
    assert np.abs(near["forces"]).max() > 1e-4
    assert np.abs(near["magnetic_forces"] - far["magnetic_forces"]).max() > 1e-6


def test_finite_at_zero_moments(model, atoms):
    """All moments zero: E is the backbone energy, H = 0 (E is even), training gradients are finite."""
    from magscreen.potential import build_graph

    zero = np.zeros((len(atoms), 3))
    result = evaluate(model, atoms, zero)
    assert result["magnetic_energy"][0] == 0.0
    assert np.all(np.isfinite(result["forces"]))
    np.testing.assert_array_equal(result["magnetic_forces"], 0.0)

    graph = build_graph(atoms.numbers, atoms.positions, atoms.cell[:], atoms.pbc, zero, cutoff=model.cutoff)
    model.zero_grad()
    out = model(graph, compute_stress=True, create_graph=True)
    loss = out["energy"].sum() + (out["forces"] ** 2).sum() + (out["magnetic_forces"] ** 2).sum()
    loss = loss + (out["stress"] ** 2).sum()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    model.zero_grad()


def test_curvature_at_zero_moment_is_finite(model, atoms):
    """The moment Hessian at m = 0 (Landau coefficient) is finite and non-zero: smooth in m, never |m|."""
    from magscreen.potential import build_graph

    graph = build_graph(
        atoms.numbers,
        atoms.positions,
        atoms.cell[:],
        atoms.pbc,
        np.zeros((len(atoms), 3)),
        cutoff=model.cutoff,
    )
    edge_vec = model.edge_vectors(graph, graph.positions, None)
    features, _ = model.backbone(graph.numbers, graph.edge_index, edge_vec)

    def magnetic_energy(moments: torch.Tensor) -> torch.Tensor:
        return model.magnetic(features, graph.edge_index, edge_vec, moments).sum()

    hessian = torch.autograd.functional.hessian(magnetic_energy, graph.moments)
    assert torch.isfinite(hessian).all()
    assert hessian.abs().max() > 1e-6
