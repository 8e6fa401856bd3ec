"""Element heads: each listed element's magnetic energy has its own output layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from potential_helpers import crystal, evaluate

from magscreen.potential import MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters

SPECIES = ("O", "Fe", "Ni")


def headed_model(seed: int = 5) -> MagneticPotential:
    magnetic = MagneticHyperparameters(element_heads=("Fe", "Ni"))
    model = MagneticPotential(soc=False, seed=seed, species=SPECIES, magnetic=magnetic).double()
    return model


def _perturb_head(model: MagneticPotential, slot: int) -> None:
    """Add noise to the node outputs of one head slot and to every pair slot that involves it."""
    generator = torch.Generator().manual_seed(0)
    heads = model.magnetic.hyper.head_slots
    with torch.no_grad():
        node = model.magnetic.exchange[-1]
        node.weight.view(heads, 2, -1)[slot] += torch.randn(
            2, node.in_features, generator=generator, dtype=torch.float64
        )
        pair = model.magnetic.pair_radial[-1]
        per_pair = pair.weight.view(model.magnetic.hyper.pair_slots, -1, pair.in_features)
        for a in range(heads):
            for b in range(a + 1):
                if slot in (a, b):
                    per_pair[a * (a + 1) // 2 + b] += torch.randn(
                        per_pair.shape[1:], generator=generator, dtype=torch.float64
                    )


def test_a_head_moves_only_its_element():
    """Changing the Ni head changes the energy of a cell with Ni, not of the same cell with Ni -> Fe."""
    model = headed_model()
    with_ni = crystal()  # Fe2NiO
    without_ni = with_ni.copy()
    without_ni.numbers[without_ni.numbers == 28] = 26
    before = [evaluate(model, atoms)["energy"] for atoms in (without_ni, with_ni)]
    _perturb_head(model, slot=2)  # Ni: element_heads ("Fe", "Ni") -> slots 1, 2
    after = [evaluate(model, atoms)["energy"] for atoms in (without_ni, with_ni)]
    assert after[0] == pytest.approx(before[0], abs=1e-12)
    assert abs(after[1] - before[1]) > 1e-4


def test_atoms_without_a_head_carry_no_magnetic_energy():
    """O has no head: moments on O atoms alone give no magnetic energy (with a shared head they do)."""
    atoms = crystal()
    atoms.numbers[:] = 8
    moments = atoms.get_initial_magnetic_moments()
    assert evaluate(headed_model(), atoms, moments)["magnetic_energy"][0] == pytest.approx(0.0, abs=1e-14)
    shared = MagneticPotential(soc=False, seed=5, species=SPECIES).double()
    with torch.no_grad():
        for layer in shared.magnetic.output_layers():
            layer.bias.add_(0.1)
    assert abs(evaluate(shared, atoms, moments)["magnetic_energy"][0]) > 1e-6


def test_mixed_pair_coupling_is_symmetric():
    """J_ij = J_ji for an Fe-Ni pair picked from its own pair head."""
    model = headed_model()
    features = torch.randn(3, model.backbone.feature_dim, dtype=torch.float64)
    slots = model.magnetic.slots(torch.tensor([26, 28, 8]), 3)
    assert slots.tolist() == [1, 2, 0]
    edge_index = torch.tensor([[0, 1, 0], [1, 2, 2]])
    r = torch.tensor([2.5, 2.7, 3.1], dtype=torch.float64)
    forward = model.magnetic.pair_coupling(features, edge_index, r, slots)
    backward = model.magnetic.pair_coupling(features, edge_index.flip(0), r, slots)
    for f, b in zip(forward, backward, strict=True):
        torch.testing.assert_close(f, b, rtol=0, atol=1e-15)


def test_time_reversal_and_zero_moment_hold_with_heads():
    model = headed_model()
    atoms = Atoms(
        "FeNiO", positions=[[0, 0, 0], [0.3, 0.4, 2.4], [2.1, 0.2, 1.0]], cell=np.eye(3) * 6, pbc=True
    )
    moments = np.array([[0.3, -1.2, 1.9], [0.5, 0.4, -1.1], [0.0, 0.0, 0.0]])
    plus, minus = evaluate(model, atoms, moments), evaluate(model, atoms, -moments)
    assert plus["energy"] == pytest.approx(minus["energy"], abs=1e-12)
    np.testing.assert_allclose(plus["magnetic_forces"], -minus["magnetic_forces"], atol=1e-12)
    assert evaluate(model, atoms, np.zeros((3, 3)))["magnetic_energy"][0] == pytest.approx(0.0, abs=1e-14)


def test_element_heads_must_be_elements():
    with pytest.raises(ValueError, match="element_heads"):
        MagneticHyperparameters(element_heads=("Fe", "Xx"))
    with pytest.raises(ValueError, match="element_heads"):
        MagneticHyperparameters(element_heads=("Fe", "Fe"))


def test_heads_survive_a_checkpoint(tmp_path):
    model = headed_model()
    _perturb_head(model, slot=1)
    model.save(tmp_path / "headed.pt")
    loaded = MagneticPotential.load(tmp_path / "headed.pt").double()
    assert loaded.magnetic.hyper.element_heads == ("Fe", "Ni")
    atoms = crystal(seed=2)
    assert evaluate(loaded, atoms)["energy"] == pytest.approx(evaluate(model, atoms)["energy"], abs=1e-10)
