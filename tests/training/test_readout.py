"""Least-squares readout: a Heisenberg toy with known J is recovered; energy groups get their offsets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from ase.build import bulk

from magscreen.magnetism.heisenberg import HeisenbergCalculator
from magscreen.potential import MagneticPotential
from magscreen.potential.graph import graph_from_atoms
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.training.data import Frame
from magscreen.training.readout import fit_readout, readout_parameters, ridge_per_weight

J1 = -0.012  # eV per pair, antiferromagnetic nearest neighbours (HeisenbergCalculator: J > 0 is FM)
LENGTH = 2.0  # mu_B, every moment


def heisenberg_frames(n: int, seed: int) -> list[Frame]:
    """bcc Fe 2x2x2 (16 atoms), random moment directions of one length, Heisenberg labels."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
        atoms.set_initial_magnetic_moments(None)
        directions = rng.normal(size=(len(atoms), 3))
        moments = LENGTH * directions / np.linalg.norm(directions, axis=1, keepdims=True)
        atoms.set_initial_magnetic_moments(moments)
        atoms.calc = HeisenbergCalculator({1: J1})
        frames.append(
            Frame(
                numbers=atoms.numbers.copy(),
                positions=atoms.positions.copy(),
                cell=atoms.cell[:].copy(),
                pbc=atoms.pbc.copy(),
                moments=moments,
                energy=atoms.get_potential_energy(),
                magnetic_forces=atoms.calc.get_property("magnetic_forces", atoms),
                source=f"toy#{k}",
            )
        )
    return frames


def fit(model: MagneticPotential, frames: list[Frame], weights: dict[str, float], **priors: float):
    graphs = [f.graph(model.cutoff) for f in frames]
    caches = [model.backbone_cache(g) for g in graphs]
    variances = {"energy": 1e-4, "magnetic_forces": 1e-3, "forces": 1e-3}
    return fit_readout(
        model, frames, graphs, caches, weights=weights, variances=variances, progress=False, **priors
    )


@pytest.fixture
def model() -> MagneticPotential:
    return MagneticPotential(soc=False, seed=11, species=("Fe",), cutoff=3.0).double()


def test_heisenberg_toy_with_known_j_is_recovered(model):
    """Fitted on 12 random configurations, the model reproduces unseen ones and the FM - AFM gap."""
    train, test = heisenberg_frames(12, seed=1), heisenberg_frames(4, seed=2)
    fit(model, train, {"energy": 1.0, "magnetic_forces": 1.0})
    label_scale = np.mean([np.abs(f.magnetic_forces).mean() for f in test])
    for frame in test:
        assert np.abs(magnetic_forces(model, frame) - frame.magnetic_forces).mean() < 0.01 * label_scale
    # 8 nearest neighbours per atom: E(FM) - E(B2 AFM) = -8 J1 per atom (each pair once, unit spins)
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True)
    energies = []
    for signs in ([1, 1], [1, -1]):
        moments = np.outer(signs, [0, 0, LENGTH])
        graph = graph_from_atoms(atoms, model.cutoff, moments)
        energies.append(
            float(model(graph, compute_forces=False, compute_magnetic_forces=False)["energy"][0].detach())
        )
    gap_per_atom = (energies[0] - energies[1]) / 2
    assert gap_per_atom == pytest.approx(-8 * J1, rel=0.02)


def test_reported_loss_is_the_weighted_loss_of_the_fitted_model(model):
    """ReadoutFit.loss, recomputed from the fitted model: energy per atom and magnetic forces, each
    squared error divided by the label variance and the number of entries, summed over terms."""
    frames = [replace(f, energy=f.energy + 0.01 * k) for k, f in enumerate(heisenberg_frames(6, seed=5))]
    result = fit(model, frames, {"energy": 1.0, "magnetic_forces": 1.0})
    n_h = sum(3 * f.n_atoms for f in frames)
    loss = 0.0
    for frame in frames:
        out = model(frame.graph(model.cutoff), compute_forces=False)
        energy = float(out["energy"][0].detach()) + result.reference_shifts["Fe"] * frame.n_atoms
        loss += ((energy - frame.energy) / frame.n_atoms) ** 2 / (1e-4 * len(frames))
        loss += np.sum((out["magnetic_forces"].detach().numpy() - frame.magnetic_forces) ** 2) / (1e-3 * n_h)
    assert loss > 1e-6  # the shifted energies are not a Heisenberg model: the fit is not exact
    assert result.loss == pytest.approx(loss, rel=1e-6)


def test_magnetization_prior_pins_what_energy_groups_leave_free(model):
    """Frames whose energies only compare within their group fix the magnetic energy up to a constant
    per atom, which the group offset absorbs; the magnetisation prior sets the frames' mean magnetic
    energy to zero and leaves the fitted fields as they were."""
    frames = [replace(f, energy_group="toy") for f in heisenberg_frames(12, seed=7)]
    probe = heisenberg_frames(1, seed=8)[0]
    scale = np.abs(probe.magnetic_forces).mean()
    mean_energy, field_error = [], []
    for prior in (0.0, 1e-3):
        fit(model, frames, {"energy": 1.0, "magnetic_forces": 1.0}, magnetization_prior=prior)
        mean_energy.append(np.mean([magnetic_energy(model, f) / f.n_atoms for f in frames]))
        field_error.append(np.abs(magnetic_forces(model, probe) - probe.magnetic_forces).mean())
    assert abs(mean_energy[0]) > 1e-4  # eV/atom: free without the prior
    assert abs(mean_energy[1]) < 1e-7
    assert field_error[1] < 1e-3 * scale


def magnetic_energy(model: MagneticPotential, frame: Frame) -> float:
    """Energy with the frame's moments minus with none (eV)."""
    energies = []
    for moments in (frame.moments, np.zeros_like(frame.moments)):
        graph = replace(frame, moments=moments).graph(model.cutoff)
        out = model(graph, compute_forces=False, compute_magnetic_forces=False)
        energies.append(float(out["energy"][0].detach()))
    return energies[0] - energies[1]


def test_energy_group_gets_its_own_offset(model):
    """Energies shifted by a constant per atom in one group: the fit returns that constant and
    predicts the same magnetic forces as without the shift."""
    frames = heisenberg_frames(12, seed=3)
    probe = heisenberg_frames(1, seed=4)[0]
    shifted = [replace(f, energy=f.energy + 0.7 * f.n_atoms, energy_group="other code") for f in frames[6:]]
    fit_one = fit(model, frames, {"energy": 1.0, "magnetic_forces": 1.0})
    before = magnetic_forces(model, probe)
    fit_two = fit(model, frames[:6] + shifted, {"energy": 1.0, "magnetic_forces": 1.0})
    assert fit_one.group_offsets == {}
    assert fit_two.group_offsets["other code"] - fit_two.reference_shifts["Fe"] == pytest.approx(
        0.7, abs=1e-6
    )
    np.testing.assert_allclose(
        magnetic_forces(model, probe), before, rtol=0, atol=1e-6 * np.abs(before).max()
    )


def magnetic_forces(model: MagneticPotential, frame: Frame) -> np.ndarray:
    return model(frame.graph(model.cutoff), compute_forces=False)["magnetic_forces"].detach().numpy()


def magnetic_block_forces(model: MagneticPotential, frame: Frame, positions: np.ndarray) -> np.ndarray:
    """Forces of the magnetic blocks alone (eV/Angstrom): with moments minus without."""
    out = []
    for moments in (frame.moments, np.zeros_like(frame.moments)):
        graph = replace(frame, positions=positions, moments=moments).graph(model.cutoff)
        out.append(model(graph, compute_magnetic_forces=False)["forces"].detach().numpy())
    return out[0] - out[1]


def test_rattle_prior_keeps_the_magnetic_blocks_from_adding_forces_off_the_training_lattice(model):
    """Frames on one ideal lattice leave the curvature in the positions free; the prior pins it."""
    train = heisenberg_frames(12, seed=5)
    probe = heisenberg_frames(1, seed=6)[0]
    rattled = probe.positions + np.random.default_rng(7).normal(scale=0.05, size=probe.positions.shape)
    sizes = []
    for prior in (0.0, 10.0):
        fit(model, train, {"energy": 1.0, "magnetic_forces": 1.0}, rattle_prior=prior)
        sizes.append(np.abs(magnetic_block_forces(model, probe, rattled)).mean())
    assert sizes[1] < 0.5 * sizes[0]


def test_element_ridge_damps_only_its_element():
    """A huge ridge on the Fe heads leaves the Fe magnetic forces near zero; the default fits them."""
    magnetic = MagneticHyperparameters(element_heads=("Fe",))
    frames = heisenberg_frames(8, seed=5)
    label_scale = np.mean([np.abs(f.magnetic_forces).mean() for f in frames])
    errors = {}
    for name, element_ridge in (("default", None), ("damped", {"Fe": (1e6, 1e6)})):
        model = MagneticPotential(soc=False, seed=11, species=("Fe",), cutoff=3.0, magnetic=magnetic).double()
        fit(model, frames, {"energy": 1.0, "magnetic_forces": 1.0}, element_ridge=element_ridge)
        errors[name] = np.mean([np.abs(magnetic_forces(model, f) - f.magnetic_forces).mean() for f in frames])
    assert errors["default"] < 0.02 * label_scale
    assert errors["damped"] > 0.9 * label_scale


def test_ridge_per_weight_follows_the_head_layout():
    magnetic = MagneticHyperparameters(element_heads=("Fe", "Ni"))
    model = MagneticPotential(soc=False, seed=1, species=("O", "Fe", "Ni"), magnetic=magnetic)
    ridge = ridge_per_weight(model, 1e-7, {"Ni": (1.0, 2.0)})
    assert len(ridge) == sum(p.numel() for p in readout_parameters(model))
    node = model.magnetic.exchange[-1]
    node_ridge = ridge[: node.weight.numel()].reshape(node.weight.shape)[:, 0]
    assert node_ridge.tolist() == [1e-7, 1e-7, 1e-7, 1e-7, 1.0, 1.0]  # slots shared, Fe, Ni x (e0, e1)
    pair = model.magnetic.pair_radial[-1]
    start = 2 * node.weight.numel() // node.in_features + node.weight.numel()
    per_slot = ridge[start : start + pair.weight.numel()].reshape(6, -1)[:, 0]
    assert per_slot.tolist() == [1e-7, 1e-7, 1e-7, 2.0, 2.0, 2.0]  # (0,0) (1,0) (1,1) (2,0) (2,1) (2,2)
    with pytest.raises(ValueError, match="Co"):
        ridge_per_weight(model, 1e-7, {"Co": (1.0, 1.0)})
