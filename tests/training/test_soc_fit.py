"""Spin-orbit fit: linear in the output layer (a teacher's anisotropy is recovered), soc-off energies
untouched, run records read with their bad fields named."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ase import Atoms

from magscreen.errors import InputError
from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.screening.anisotropy import directions_from_angles
from magscreen.training.soc_fit import (
    DirectionGroup,
    apply_soc_weights,
    fit_soc,
    leave_one_compound_out,
    read_force_theorem_runs,
)

SPECIES = ("O", "Fe", "Ni")
ANGLES = [(t, 0.0) for t in (0, 15, 30, 45, 60, 75, 90)] + [(90.0, 45.0), (54.7356, 45.0)]


def tetragonal(symbols: str, a: float, c: float) -> Atoms:
    return Atoms(symbols, cell=[a, a, c], scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], pbc=True)


@pytest.fixture(scope="module")
def base() -> MagneticPotential:
    magnetic = MagneticHyperparameters(spin_invariants=True, soc_channels=2, hidden=8)
    return MagneticPotential(soc=False, seed=3, species=SPECIES, magnetic=magnetic).double()


def teacher_groups(teacher: MagneticPotential) -> list[DirectionGroup]:
    """Three 'compounds' labelled by a spin-orbit teacher (rotating all moments together)."""
    directions = directions_from_angles(ANGLES)
    groups = []
    for name, atoms, moments in [
        ("FeNi", tetragonal("FeNi", 2.5, 3.6), np.array([2.6, 0.6])),
        ("FeFe", tetragonal("Fe2", 2.4, 3.2), np.array([2.2, 2.2])),
        ("NiNi", tetragonal("Ni2", 2.5, 3.3), np.array([0.6, 0.6])),
    ]:
        configs = moments[None, :, None] * directions[:, None, :]
        energies = MagneticCalculator(teacher).evaluate_batch(atoms, configs)["energy"]
        groups.append(DirectionGroup(name, atoms, moments, directions, energies, source="teacher"))
    return groups


def test_fit_recovers_a_teacher_anisotropy(base):
    """The anisotropy is linear in the output layer: a student with the teacher's hidden weights
    and a zero output layer reproduces the teacher's direction energies after one solve."""
    teacher = base.with_soc(seed=5)
    with torch.no_grad():
        teacher.magnetic.soc_coefficients[-1].weight.normal_(
            0.0, 0.02, generator=torch.Generator().manual_seed(1)
        )
    groups = teacher_groups(teacher)
    assert max(np.ptp(g.relative_ueV_per_atom()) for g in groups) > 100.0  # a real anisotropy to learn
    student = base.with_soc(seed=5)
    fit = fit_soc(student, groups, ridge=1e-12)
    assert max(fit.rms_ueV_per_atom.values()) < 0.05 * min(np.ptp(g.relative_ueV_per_atom()) for g in groups)
    apply_soc_weights(student, fit)
    for group in groups:
        energies = MagneticCalculator(student).evaluate_batch(group.atoms, group.moment_vectors())["energy"]
        error = group.relative_ueV_per_atom(energies) - group.relative_ueV_per_atom()
        assert np.abs(error).max() < 0.05 * np.ptp(group.relative_ueV_per_atom())


def test_fit_changes_only_the_spin_orbit_output_layer(base):
    """Everything but the spin-orbit output layer is frozen, so the soc-off energies cannot move."""
    teacher = base.with_soc(seed=5)
    with torch.no_grad():
        teacher.magnetic.soc_coefficients[-1].weight.normal_(
            0.0, 0.02, generator=torch.Generator().manual_seed(1)
        )
    student = base.with_soc(seed=5)
    before = {k: v.clone() for k, v in student.state_dict().items()}
    apply_soc_weights(student, fit_soc(student, teacher_groups(teacher), ridge=1e-9))
    changed = {k for k, v in student.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {"magnetic.soc_coefficients.2.weight", "magnetic.soc_coefficients.2.bias"}


def test_leave_one_compound_out_rows(base):
    teacher = base.with_soc(seed=5)
    with torch.no_grad():
        teacher.magnetic.soc_coefficients[-1].weight.normal_(
            0.0, 0.02, generator=torch.Generator().manual_seed(1)
        )
    table = leave_one_compound_out(base.with_soc(seed=5), teacher_groups(teacher), ridge=1e-9)
    assert [row["compound"] for row in table] == ["FeNi", "FeFe", "NiNi"]
    for row in table:
        assert np.isfinite(row["ml_mae_ueV_per_atom"]) and row["rms_ueV_per_atom"] >= 0.0


def test_run_records_are_read_and_bad_ones_named(tmp_path):
    record = {
        "compound": "FeNi",
        "symbols": ["Fe", "Ni"],
        "positions": [[0, 0, 0], [1.25, 1.25, 1.8]],
        "cell": [[2.5, 0, 0], [0, 2.5, 0], [0, 0, 3.6]],
        "magnetic_moments": [2.6, 0.6],
        "kpoint_grid": [4, 4, 3],
        "directions_theta_phi_deg": [[0, 0], [90, 0], [180, 0]],
        "band_energies_eV": [-1.0, -0.999, -1.0],
    }
    good = tmp_path / "FeNi-k4.json"
    good.write_text(json.dumps(record))
    (group,) = read_force_theorem_runs([good])
    assert group.directions.shape == (2, 3)  # theta = 180 dropped (time reversal duplicate)
    assert group.relative_ueV_per_atom()[1] == pytest.approx(500.0)
    del record["band_energies_eV"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(record))
    with pytest.raises(InputError, match="bad.json"):
        read_force_theorem_runs([bad])
