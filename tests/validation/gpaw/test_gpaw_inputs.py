"""Inputs of the GPAW engine: +U rules, k-point grids, moments from the magmom property (no DFT)."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.electronic_structure.core import Magmom

from magscreen.errors import InputError
from magscreen.validation.base import c_and_a_directions, direction_key
from magscreen.validation.gpaw.ordering_input import ordering_input, structure_fingerprint
from magscreen.validation.gpaw.settings import GPAWSettings, hubbard_u_for, kpoint_grid
from magscreen.validation.gpaw.textbook import bcc_fe, hcp_co, rocksalt_afm2, rutile_mnf2


def test_mp_hubbard_u_only_for_oxides_and_fluorides():
    assert hubbard_u_for(["Ni", "Ni", "O", "O"], "mp") == {"Ni": 6.2}
    assert hubbard_u_for(["Mn", "F", "F"], "mp") == {"Mn": 3.9}
    assert hubbard_u_for(["Fe", "Fe"], "mp") == {}
    assert hubbard_u_for(["Ni", "O"], None) == {}
    assert hubbard_u_for(["Ni", "O"], {"Ni": 5.0, "Co": 3.0}) == {"Ni": 5.0}


def test_kpoint_grid_scales_with_inverse_lattice_length():
    atoms = ordering_input(bcc_fe("FM")).atoms
    # 2 pi / 2.866 A = 2.19 per A; 3 points per 1/A -> ceil(6.58) = 7
    assert kpoint_grid(atoms, 3.0) == [7, 7, 7]
    hexagonal = ordering_input(hcp_co()).atoms
    na, nb, nc = kpoint_grid(hexagonal, 4.0)
    assert na == nb and nc < na  # c > a, so fewer points along c


def test_settings_reject_nonpositive_values():
    with pytest.raises(InputError, match="ecut_eV"):
        GPAWSettings(ecut_eV=0)
    with pytest.raises(InputError, match="hubbard"):
        GPAWSettings(hubbard="dudarev")


def test_collinear_and_noncollinear_moments_are_recognised():
    collinear = ordering_input(rocksalt_afm2("Ni", "AFM-II"))
    assert not collinear.noncollinear
    np.testing.assert_allclose(collinear.atoms.get_initial_magnetic_moments(), [3, -3, 0, 0])
    assert collinear.n_magnetic_atoms == 2

    canted = bcc_fe("FM").copy(site_properties={"magmom": [Magmom([0, 0, 2.5]), Magmom([1.0, 0, 2.3])]})
    noncollinear = ordering_input(canted)
    assert noncollinear.noncollinear
    np.testing.assert_allclose(noncollinear.moments[1], [1.0, 0.0, 2.3])


def test_missing_or_bad_moments_name_the_field():
    bare = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(InputError, match="magmom") as info:
        ordering_input(bare, source="fe.cif")
    assert "fe.cif" in str(info.value)
    with pytest.raises(InputError, match=r"magmom\[1\]"):
        ordering_input(bare.copy(site_properties={"magmom": [1.0, [1.0, 2.0]]}))
    with pytest.raises(InputError, match="every moment is zero"):
        ordering_input(bare.copy(site_properties={"magmom": [0.0, 0.0]}))


def test_fingerprint_tells_orderings_apart():
    assert structure_fingerprint(bcc_fe("FM")) != structure_fingerprint(bcc_fe("AFM-B2"))
    assert structure_fingerprint(bcc_fe("FM")) == structure_fingerprint(bcc_fe("FM"))


def test_anisotropy_directions_are_c_and_perpendicular_a():
    cell = ordering_input(rutile_mnf2("AFM")).atoms.cell.array
    c_axis, a_axis = c_and_a_directions(cell)
    np.testing.assert_allclose(c_axis, [0, 0, 1], atol=1e-12)
    assert abs(np.dot(c_axis, a_axis)) < 1e-12
    assert direction_key(c_axis) == "0.0000,0.0000,1.0000"
