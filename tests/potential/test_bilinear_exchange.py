"""The explicit Heisenberg pair term of the magnetic blocks, and loading checkpoints written before it."""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms
from potential_helpers import crystal, evaluate

from magscreen.potential import MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters

SPECIES = ("O", "Fe", "Ni")


def dimer_energies(model: MagneticPotential, angles: np.ndarray, moment: float = 1.3) -> np.ndarray:
    """Energies (eV) of an Fe-Ni dimer, 2.6 A apart, with moments at ``angles`` (rad) to each other."""
    atoms = Atoms("FeNi", positions=[[0, 0, 0], [0.3, 0.4, 2.55]], pbc=False)
    energies = []
    for angle in angles:
        moments = moment * np.array([[0, 0, 1.0], [np.sin(angle), 0, np.cos(angle)]])
        energies.append(evaluate(model, atoms, moments)["energy"])
    return np.array(energies)


def test_heisenberg_dimer_is_linear_in_alignment():
    """Heisenberg law: with the node network's output zeroed, E(m_1, m_2) = E_0 + J m_1 . m_2 exactly."""
    magnetic = MagneticHyperparameters(bilinear_exchange=True, spin_invariants=True)
    model = MagneticPotential(soc=False, seed=3, species=SPECIES, magnetic=magnetic).double()
    with torch.no_grad():
        model.magnetic.exchange[-1].weight.zero_()
        model.magnetic.exchange[-1].bias.zero_()
    angles = np.linspace(0.0, np.pi, 7)
    energies = dimer_energies(model, angles)
    slope, intercept = np.polyfit(np.cos(angles), energies, 1)
    assert abs(slope) > 1e-6  # the pair term is on
    np.testing.assert_allclose(energies, intercept + slope * np.cos(angles), rtol=0, atol=1e-12)
    # E_mag(R, 0) = 0: at perpendicular moments the pair term vanishes and E is the m = 0 energy.
    at_zero = evaluate(model, Atoms("FeNi", positions=[[0, 0, 0], [0.3, 0.4, 2.55]]), np.zeros((2, 3)))
    assert abs(intercept - at_zero["energy"]) < 1e-12


def test_heisenberg_plus_on_site_model():
    """Without the spin invariants the energy at fixed |m_i| is exactly linear in m_1 . m_2."""
    magnetic = MagneticHyperparameters(bilinear_exchange=True, spin_invariants=False)
    model = MagneticPotential(soc=False, seed=4, species=SPECIES, magnetic=magnetic).double()
    angles = np.linspace(0.0, np.pi, 7)
    energies = dimer_energies(model, angles)
    slope, intercept = np.polyfit(np.cos(angles), energies, 1)
    assert abs(slope) > 1e-6
    np.testing.assert_allclose(energies, intercept + slope * np.cos(angles), rtol=0, atol=1e-12)


def test_pair_coupling_is_symmetric(model):
    """J_ij = J_ji on every edge, so the pair energy J m_i . m_j is well defined."""
    atoms = crystal()
    features = torch.randn(len(atoms), model.backbone.feature_dim, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]])
    r = torch.tensor([2.5, 2.7, 3.1, 3.6, 2.9], dtype=torch.float64)
    forward = model.magnetic.pair_coupling(features, edge_index, r)
    backward = model.magnetic.pair_coupling(features, edge_index.flip(0), r)
    assert forward.abs().min() > 0
    torch.testing.assert_close(forward, backward, rtol=0, atol=1e-15)


def test_checkpoint_without_the_key_loads_the_old_model(tmp_path):
    """A checkpoint whose hyperparameters lack ``bilinear_exchange`` loads without the pair term."""
    old = MagneticPotential(
        soc=False,
        seed=5,
        species=SPECIES,
        magnetic=MagneticHyperparameters(bilinear_exchange=False, spin_invariants=True),
    ).double()
    path = tmp_path / "old.pt"
    old.save(path)
    payload = torch.load(path, weights_only=True)
    del payload["hyperparameters"]["magnetic"]["bilinear_exchange"]
    del payload["hyperparameters"]["magnetic"]["bilinear_channels"]
    del payload["hyperparameters"]["magnetic"]["spin_invariants"]
    torch.save(payload, path)
    loaded = MagneticPotential.load(path)
    assert loaded.hyper.bilinear_exchange is False and loaded.hyper.spin_invariants is True
    atoms = crystal()
    assert evaluate(loaded.double(), atoms)["energy"] == evaluate(old, atoms)["energy"]
