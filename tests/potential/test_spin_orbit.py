"""Spin-orbit block: adding it keeps soc-off energies, soc off has no anisotropy, time reversal, domain."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from ase import Atoms

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.graph import graph_from_atoms
from magscreen.potential.magnetic import MagneticHyperparameters

SPECIES = ("O", "Fe", "Ni")


def layered() -> Atoms:
    """L1_0-like FeNi: tetragonal, so single-ion anisotropy is allowed."""
    return Atoms("FeNi", cell=[2.5, 2.5, 3.6], scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], pbc=True)


def rocksalt() -> Atoms:
    return Atoms(
        "NiO",
        cell=[[0, 2.1, 2.1], [2.1, 0, 2.1], [2.1, 2.1, 0]],
        positions=[[0, 0, 0], [2.1, 2.1, 2.1]],
        pbc=True,
    )


def rotations(n: int, seed: int = 0) -> np.ndarray:
    """Random proper rotation matrices (n, 3, 3)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    return q * np.linalg.det(q)[:, None, None]


@pytest.fixture(scope="module")
def base() -> MagneticPotential:
    magnetic = MagneticHyperparameters(bilinear_exchange=True, spin_invariants=True)
    return MagneticPotential(soc=False, seed=3, species=SPECIES, magnetic=magnetic).double()


@pytest.fixture(scope="module")
def with_soc(base) -> MagneticPotential:
    """The base model plus a spin-orbit block with random (non-zero) output weights."""
    model = base.with_soc(seed=5)
    with torch.no_grad():
        layer = model.magnetic.soc_coefficients[-1]
        layer.weight.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(1))
        layer.bias.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(2))
    return model


def configurations(atoms: Atoms, n: int = 6) -> np.ndarray:
    """Random non-collinear moments (n, N, 3), lengths 0.5-3 mu_B."""
    rng = np.random.default_rng(11)
    return rng.normal(size=(n, len(atoms), 3)) * rng.uniform(0.5, 3.0, size=(n, len(atoms), 1))


def test_adding_the_block_keeps_energies_and_fields(base):
    """with_soc copies every weight and starts the spin-orbit output at zero: identical outputs."""
    atoms = layered()
    moments = configurations(atoms)
    before = MagneticCalculator(base).evaluate_batch(atoms, moments)
    after = MagneticCalculator(base.with_soc(seed=5)).evaluate_batch(atoms, moments)
    np.testing.assert_allclose(after["energy"], before["energy"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(after["magnetic_forces"], before["magnetic_forces"], rtol=0, atol=1e-12)


def test_soc_off_gives_zero_anisotropy(base):
    """Without spin-orbit coupling, rotating all moments together leaves E unchanged (spin-space
    invariance): the MAE of a soc-off model is zero to rounding (1e-12 eV per cell)."""
    atoms = layered()
    moments = configurations(atoms, 1)[0]
    rotated = np.einsum("rij,nj->rni", rotations(8), moments)
    energies = MagneticCalculator(base).evaluate_batch(atoms, rotated)["energy"]
    assert np.ptp(energies) < 1e-12


def test_soc_on_is_anisotropic_and_time_reversal_even(with_soc):
    """With spin-orbit terms, a global spin rotation changes E (anisotropy), flipping every moment
    does not: E(R, m) = E(R, -m)."""
    atoms = layered()
    moments = configurations(atoms)
    calc = MagneticCalculator(with_soc)
    forward = calc.evaluate_batch(atoms, moments)
    backward = calc.evaluate_batch(atoms, -moments)
    np.testing.assert_allclose(backward["energy"], forward["energy"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(backward["magnetic_forces"], -forward["magnetic_forces"], rtol=0, atol=1e-12)
    rotated = np.einsum("rij,nj->rni", rotations(8), moments[0])
    assert np.ptp(calc.evaluate_batch(atoms, rotated)["energy"]) > 1e-6


def test_soc_domain_limits_anisotropy_and_round_trips(with_soc, base, tmp_path):
    """After a fit on FeNi, NiO (Ni among Ni, O) is outside the spin-orbit domain: its energies are the
    soc-off model's exactly; FeNi keeps its anisotropy; the domain survives save/load."""
    model = copy.deepcopy(with_soc)
    alloy = layered()
    graph = graph_from_atoms(alloy, model.cutoff, np.zeros((2, 3)))
    model.record_soc_domain([graph], [np.array([[0, 0, 2.5], [0, 0, 0.6]])])
    assert model.soc_environments == {"Fe": [["Fe", "Ni"]], "Ni": [["Fe", "Ni"]]}
    assert model.soc_moments == {"Fe": {"Fe,Ni": 2.5}, "Ni": {"Fe,Ni": 0.6}}
    outside = rocksalt()
    moments = configurations(outside)
    np.testing.assert_allclose(
        MagneticCalculator(model).evaluate_batch(outside, moments)["energy"],
        MagneticCalculator(base).evaluate_batch(outside, moments)["energy"],
        rtol=0,
        atol=1e-12,
    )
    loaded = MagneticPotential.load(model.save(tmp_path / "soc.pt"))
    assert loaded.soc and loaded.soc_domain == ("Fe", "Ni") and loaded.soc_moments == model.soc_moments
    rotated = np.einsum("rij,nj->rni", rotations(4), configurations(alloy, 1)[0])
    energies = MagneticCalculator(loaded).evaluate_batch(alloy, rotated)["energy"]
    np.testing.assert_allclose(
        energies, MagneticCalculator(model).evaluate_batch(alloy, rotated)["energy"], atol=1e-12
    )
    assert np.ptp(energies) > 1e-6
