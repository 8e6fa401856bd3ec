"""The explicit Heisenberg pair term of the magnetic blocks, its length slope, and old checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
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
    """J_ij = J_ji and K_ij = K_ji on every edge, so the pair energy is well defined."""
    atoms = crystal()
    features = torch.randn(len(atoms), model.backbone.feature_dim, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]])
    r = torch.tensor([2.5, 2.7, 3.1, 3.6, 2.9], dtype=torch.float64)
    for forward, backward in zip(
        model.magnetic.pair_coupling(features, edge_index, r),
        model.magnetic.pair_coupling(features, edge_index.flip(0), r),
        strict=True,
    ):
        assert forward.abs().min() > 0
        torch.testing.assert_close(forward, backward, rtol=0, atol=1e-15)


def test_length_slope_separates_longitudinal_from_transverse_stiffness():
    """(J, K) -> (J - d (s_1 + s_2), K + d) keeps the torque on a canted dimer and moves the field along m."""
    magnetic = MagneticHyperparameters(bilinear_exchange=True, spin_invariants=False)
    model = MagneticPotential(soc=False, seed=6, species=SPECIES, magnetic=magnetic).double()
    atoms = Atoms("FeNi", positions=[[0, 0, 0], [0.3, 0.4, 2.55]], pbc=False)
    moments = 1.3 * np.array([[0, 0, 1.0], [np.sin(2.0), 0, np.cos(2.0)]])
    x = torch.tensor((1.3 / model.hyper.moment_scale) ** 2, dtype=torch.float64)
    length = float(model.magnetic._length(x))
    k = model.hyper.bilinear_channels
    radial = model.magnetic.pair_radial[-1]

    def field_on_first(j_bias: float, k_bias: float) -> np.ndarray:
        with torch.no_grad():
            model.magnetic.exchange[-1].weight.zero_()
            model.magnetic.exchange[-1].bias.zero_()
            radial.weight.zero_()
            radial.bias[:k] = j_bias
            radial.bias[k:] = k_bias
        return evaluate(model, atoms, moments)["magnetic_forces"][0]

    before = field_on_first(1.0, 0.0)
    after = field_on_first(1.0 - 0.5 * 2 * length, 0.5)
    assert abs(before[0]) > 1e-4  # a torque is there
    assert abs(after[0] - before[0]) < 1e-12  # across m_1 (x): unchanged
    assert abs(after[2] - before[2]) > 1e-4  # along m_1 (z): moved by K alone


def test_checkpoint_of_an_older_format_is_refused_by_name(tmp_path):
    """A checkpoint from before the length slope (format 1) is an InputError naming the format."""
    from magscreen.errors import InputError

    model = MagneticPotential(soc=False, seed=5, species=SPECIES).double()
    path = tmp_path / "old.pt"
    model.save(path)
    payload = torch.load(path, weights_only=True)
    payload["format"] = "magscreen-magnetic-potential"
    torch.save(payload, path)
    with pytest.raises(InputError, match="format"):
        MagneticPotential.load(path)


def test_moments_outside_the_magnetic_domain_are_ignored():
    """A model trained with moments on Ni only gives Fe no magnetic energy and no magnetic force."""
    model = MagneticPotential(soc=False, seed=8, species=SPECIES).double()
    atoms = Atoms("FeNi", positions=[[0, 0, 0], [0.3, 0.4, 2.55]], pbc=False)
    moments = np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 0.5]])
    untrained = evaluate(model, atoms, moments)
    model.magnetic_domain = ("Ni",)
    trained = evaluate(model, atoms, moments)
    assert np.abs(untrained["magnetic_forces"][0]).max() > 1e-8  # Fe's moment counts without a domain
    np.testing.assert_array_equal(trained["magnetic_forces"][0], 0.0)
    only_ni = evaluate(model, atoms, moments * np.array([[0.0], [1.0]]))
    assert trained["energy"] == pytest.approx(only_ni["energy"], abs=1e-14)
