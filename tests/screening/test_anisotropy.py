"""Anisotropy analysis on toy Hamiltonians with known answers, and hand-computed unit conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from magscreen.errors import InputError
from magscreen.screening.anisotropy import (
    analyse_anisotropy,
    directions_from_angles,
    lattice_direction,
    sample_directions,
)


def tetragonal() -> Structure:
    """L1_0-like two-atom tetragonal cell, volume 20 A^3 exactly (a = 2, c = 5)."""
    return Structure(Lattice.tetragonal(2.0, 5.0), ["Fe", "Pt"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def cubic() -> Structure:
    return Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def single_ion(structure: Structure, directions: np.ndarray, k_eV: float) -> np.ndarray:
    """E = -K sum_i (m_i . z)^2 with unit moments along each direction (eV per cell)."""
    return -k_eV * len(structure) * directions[:, 2] ** 2


def cubic_energy(structure: Structure, directions: np.ndarray, k1_eV: float, k2_eV: float = 0.0):
    a2 = directions**2
    first = a2[:, 0] * a2[:, 1] + a2[:, 1] * a2[:, 2] + a2[:, 2] * a2[:, 0]
    return len(structure) * (k1_eV * first + k2_eV * a2.prod(axis=1))


@pytest.mark.parametrize("k_eV", [1e-3, -4e-4])
def test_uniaxial_single_ion_gives_K1_and_easy_axis(k_eV):
    """E = -K sum (m.z)^2 = const + K sin^2 theta per atom: K1 = K, K2 = 0, easy axis c iff K > 0."""
    structure = tetragonal()
    directions = sample_directions(structure)
    result = analyse_anisotropy(structure, directions, single_ion(structure, directions, k_eV), [2.0, 2.0])
    assert result.symmetry == "uniaxial"
    assert result.K1_ueV_per_atom == pytest.approx(k_eV * 1e6, rel=1e-9)
    assert result.K2_ueV_per_atom == pytest.approx(0.0, abs=1e-6)
    assert result.mae_ueV_per_atom == pytest.approx(k_eV * 1e6, rel=1e-9)
    assert result.fit_rms_ueV_per_atom < 1e-6
    if k_eV > 0:
        assert result.easy_axis_label == "c" and result.easy_axis == [0, 0, 1]
        assert result.kappa is not None
    else:
        assert result.easy_axis_label == "plane"
        assert abs(result.easy_axis_cartesian[2]) < 1e-9
        assert result.kappa is None  # no hardness for an easy plane


def test_cone_from_negative_K1_and_large_K2():
    """E = K1 s + K2 s^2 with K1 < 0 < K2 and -K1 < 2 K2: minimum at sin^2 theta = -K1 / (2 K2)."""
    structure = tetragonal()
    directions = sample_directions(structure)
    s = 1.0 - directions[:, 2] ** 2
    k1, k2 = -1e-4, 2e-4
    result = analyse_anisotropy(structure, directions, 2 * (k1 * s + k2 * s**2), [2.0, 0.3])
    assert result.K1_ueV_per_atom == pytest.approx(-100.0, rel=1e-6)
    assert result.K2_ueV_per_atom == pytest.approx(200.0, rel=1e-6)
    assert result.easy_axis_label == "cone"
    theta = math.degrees(math.acos(result.easy_axis_cartesian[2]))
    assert theta == pytest.approx(math.degrees(math.asin(math.sqrt(0.25))), abs=1e-6)


@pytest.mark.parametrize(("k1", "axis", "label"), [(5e-6, [0, 0, 1], "<100>"), (-5e-6, [1, 1, 1], "<111>")])
def test_cubic_K1_sign_picks_100_or_111(k1, axis, label):
    """Cubic crystals: K1 > 0 -> easy <100>, K1 < 0 (K2 = 0) -> easy <111>; MAE = 0 by symmetry."""
    structure = cubic()
    directions = sample_directions(structure)
    result = analyse_anisotropy(structure, directions, cubic_energy(structure, directions, k1), [2.2, 2.2])
    assert result.symmetry == "cubic"
    assert result.K1_ueV_per_atom == pytest.approx(k1 * 1e6, rel=1e-9)
    assert result.easy_axis_label == label
    assert result.easy_axis == axis
    assert result.mae_ueV_per_atom == pytest.approx(0.0, abs=1e-9)


def test_unit_conversions_by_hand():
    """2 atoms, V = 20 A^3, K1 = 1 meV/atom, 2 mu_B per atom.

    K1 = 2e-3 eV * 1.602176634e-19 J/eV / 20e-30 m^3 = 16.0218 MJ/m^3;
    Ms = 4 * 9.2740100783e-24 / 20e-30 = 1.85480e6 A/m, mu0 Ms = 2.33082 T;
    mu0 H_A = 2 K1 / Ms = 17.2761 T; kappa = sqrt(K1 / (mu0 Ms^2)) = 1.92508.
    """
    structure = tetragonal()
    assert structure.volume == pytest.approx(20.0)
    directions = sample_directions(structure)
    result = analyse_anisotropy(structure, directions, single_ion(structure, directions, 1e-3), [2.0, 2.0])
    assert result.K1_MJ_m3 == pytest.approx(16.0218, rel=1e-5)
    assert result.Ms_kA_m == pytest.approx(1854.80, rel=1e-5)
    assert result.Ms_T == pytest.approx(2.33082, rel=1e-5)
    assert result.mu0_HA_T == pytest.approx(17.2761, rel=1e-5)
    assert result.kappa == pytest.approx(1.92508, rel=1e-5)


def test_ferrimagnet_moments_subtract_in_Ms():
    structure = tetragonal()
    directions = sample_directions(structure)
    energies = single_ion(structure, directions, 1e-3)
    ferro = analyse_anisotropy(structure, directions, energies, [2.0, 1.0])
    ferri = analyse_anisotropy(structure, directions, energies, [2.0, -1.0])
    assert ferri.Ms_kA_m == pytest.approx(ferro.Ms_kA_m / 3.0)


def test_time_reversed_directions_change_nothing():
    """E(m) = E(-m): analysing the reversed directions with the same energies gives the same result."""
    structure = tetragonal()
    directions = sample_directions(structure)
    energies = single_ion(structure, directions, 7e-4)
    forward = analyse_anisotropy(structure, directions, energies, [2.0, 0.3])
    reversed_ = analyse_anisotropy(structure, -directions, energies, [2.0, 0.3])
    assert reversed_.K1_ueV_per_atom == pytest.approx(forward.K1_ueV_per_atom)
    assert reversed_.mae_ueV_per_atom == pytest.approx(forward.mae_ueV_per_atom)
    assert reversed_.easy_axis_label == forward.easy_axis_label


def test_two_directions_give_K1_without_K2():
    structure = tetragonal()
    directions = directions_from_angles([(0.0, 0.0), (90.0, 0.0)])
    result = analyse_anisotropy(structure, directions, [0.0, 2e-3], [2.0, 0.3])
    assert result.K2_ueV_per_atom is None
    assert result.K1_ueV_per_atom == pytest.approx(1000.0)
    assert result.mae_ueV_per_atom == pytest.approx(1000.0)


def test_hexagonal_lattice_direction():
    structure = Structure(
        Lattice.hexagonal(2.5, 4.07), ["Co", "Co"], [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]
    )
    assert lattice_direction(structure, [0.0, 0.0, 1.0]) == [0, 0, 1]
    assert lattice_direction(structure, structure.lattice.matrix[0]) == [1, 0, 0]
    a_plus_b = structure.lattice.matrix[0] + structure.lattice.matrix[1]
    assert lattice_direction(structure, a_plus_b) == [1, 1, 0]


def test_bad_input_names_the_field():
    structure = tetragonal()
    with pytest.raises(InputError, match="directions"):
        analyse_anisotropy(structure, np.eye(3), [0.0, 1.0], [2.0, 0.3])
    with pytest.raises(InputError, match="energies"):
        analyse_anisotropy(structure, np.eye(3)[:2], [0.0, float("nan")], [2.0, 0.3])
