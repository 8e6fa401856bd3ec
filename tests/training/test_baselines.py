"""Heisenberg + Landau baseline: exact recovery of known couplings, and its NiO validation error."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from magscreen.magnetism.heisenberg import HeisenbergCalculator
from magscreen.training.baselines import HeisenbergLandauModel, frame_shells
from magscreen.training.data import Frame, read_deepmd_spin

# E = -sum J m_i.m_j - B sum (m_i.m_j)^2 + ...: J > 0 ferromagnetic (the project convention)
TRUE = {"E_Ni": -5.0, "E_O": -7.0, "J1": 0.0021, "J2": -0.0113, "B": -0.0004, "a": -0.6, "b": 0.11}


def _synthetic_frames(n_frames: int = 6, seed: int = 1) -> list[Frame]:
    """Rock-salt NiO (64 atoms) with random Ni moment directions and magnitudes, labelled by TRUE."""
    rng = np.random.default_rng(seed)
    atoms = bulk("NiO", "rocksalt", a=4.17, cubic=True).repeat(2)
    nickel = atoms.numbers == 28
    frames = []
    for _ in range(n_frames):
        moments = np.zeros((len(atoms), 3))
        directions = rng.normal(size=(nickel.sum(), 3))
        moments[nickel] = (
            directions
            / np.linalg.norm(directions, axis=1)[:, None]
            * rng.uniform(0.8, 1.8, (nickel.sum(), 1))
        )
        frames.append(
            Frame(
                numbers=atoms.numbers,
                positions=atoms.positions,
                cell=atoms.cell[:],
                pbc=atoms.pbc,
                moments=moments,
            )
        )
    truth = HeisenbergLandauModel(
        shells=frame_shells(frames[0]), elements=["Ni", "O"], parameters=np.array(list(TRUE.values()))
    )
    labelled = []
    for frame in frames:
        energy, _, magnetic_forces = truth.predict(frame)
        labelled.append(
            Frame(
                numbers=frame.numbers,
                positions=frame.positions,
                cell=frame.cell,
                pbc=frame.pbc,
                moments=frame.moments,
                energy=energy,
                magnetic_forces=magnetic_forces,
            )
        )
    return labelled


def test_shells_of_rocksalt_nickel():
    """Ni-Ni shells of rock salt: a/sqrt(2) (12 neighbours, 90 degree) and a (6 neighbours, 180 degree)."""
    frame = _synthetic_frames(1)[0]
    np.testing.assert_allclose(frame_shells(frame), [4.17 / np.sqrt(2), 4.17], rtol=1e-12)


def test_fit_recovers_known_couplings_exactly():
    """Energy and H = -dE/dm are linear in (J1, J2, B, a, b): least squares returns the generating values.

    One composition makes E_Ni and E_O degenerate: only 32 E_Ni + 32 E_O is determined, and the
    minimum-norm solution splits it evenly.
    """
    frames = _synthetic_frames()
    fitted = HeisenbergLandauModel.fit(frames).as_dict()
    for name in ("J1", "J2", "B", "a", "b"):
        assert fitted[name] == pytest.approx(TRUE[name], rel=1e-8, abs=1e-12), name
    assert fitted["E_Ni"] + fitted["E_O"] == pytest.approx(TRUE["E_Ni"] + TRUE["E_O"], rel=1e-10)
    assert fitted["E_Ni"] == pytest.approx(fitted["E_O"], rel=1e-8)


def test_magnetic_forces_are_minus_energy_gradient():
    """H_i = -dE/dm_i: central finite differences of the model energy."""
    frame = _synthetic_frames(1)[0]
    model = HeisenbergLandauModel(
        shells=frame_shells(frame), elements=["Ni", "O"], parameters=np.array(list(TRUE.values()))
    )
    _, _, field = model.predict(frame)
    step = 1e-5
    for atom, axis in [(0, 0), (3, 2), (10, 1)]:
        shifted = [frame.moments.copy(), frame.moments.copy()]
        shifted[0][atom, axis] += step
        shifted[1][atom, axis] -= step
        e_plus, e_minus = (
            model.predict(
                Frame(
                    numbers=frame.numbers,
                    positions=frame.positions,
                    cell=frame.cell,
                    pbc=frame.pbc,
                    moments=m,
                )
            )[0]
            for m in shifted
        )
        assert -(e_plus - e_minus) / (2 * step) == pytest.approx(field[atom, axis], rel=1e-6)


def test_nio_baseline_beats_mean_energy(nio_data):
    """On held-out data_2 the fitted model predicts energies better than the training mean does."""
    train = read_deepmd_spin(nio_data / "data_0") + read_deepmd_spin(nio_data / "data_1")
    validation = read_deepmd_spin(nio_data / "data_2")
    model = HeisenbergLandauModel.fit(train)
    assert model.as_dict()["J2"] < 0  # 180-degree Ni-O-Ni superexchange is antiferromagnetic
    mean = np.mean([f.energy for f in train]) / 32
    errors = [abs(model.predict(f)[0] - f.energy) / 32 for f in validation]
    spread = [abs(f.energy / 32 - mean) for f in validation]
    assert np.mean(errors) < 0.5 * np.mean(spread)


def test_fit_of_heisenberg_calculator_data_recovers_its_couplings():
    """One convention for both models: fitted on energies and torques of HeisenbergCalculator
    (unit spins, J in eV per pair) at fixed |m| = M, the baseline gives J_s = J / M^2 (same sign).

    bcc Fe, 2x2x2 conventional cells (16 atoms), random moment directions; the calculator's
    field has no component along m, so only the transverse part is fitted (longitudinal_weight=0).
    """
    rng = np.random.default_rng(7)
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    couplings, magnitude = {1: 0.020, 2: -0.008}, 2.2  # J1 ferromagnetic, J2 antiferromagnetic (eV)
    calculator = HeisenbergCalculator(couplings)
    frames = []
    for _ in range(8):
        directions = rng.normal(size=(len(atoms), 3))
        moments = magnitude * directions / np.linalg.norm(directions, axis=1)[:, None]
        atoms.set_initial_magnetic_moments(None)
        atoms.set_initial_magnetic_moments(moments)
        atoms.calc = calculator
        frames.append(
            Frame(
                numbers=atoms.numbers,
                positions=atoms.positions,
                cell=atoms.cell[:],
                pbc=atoms.pbc,
                moments=moments,
                energy=atoms.get_potential_energy(),
                magnetic_forces=calculator.get_property("magnetic_forces", atoms),
            )
        )
    fitted = HeisenbergLandauModel.fit(frames, longitudinal_weight=0.0).as_dict()
    assert fitted["J1"] * magnitude**2 == pytest.approx(couplings[1], rel=1e-8)
    assert fitted["J2"] * magnitude**2 == pytest.approx(couplings[2], rel=1e-8)
    assert fitted["B"] == pytest.approx(0.0, abs=1e-12)
