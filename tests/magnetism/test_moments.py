"""The moments converter: floats, 3-vectors, Magmom, Structure ``magmom`` and ASE initial moments agree."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.electronic_structure.core import Magmom

from magscreen.errors import InputError
from magscreen.magnetism.moments import (
    atoms_moments,
    moment_vectors,
    site_magmoms,
    structure_moments,
    structure_to_atoms,
)


def _pair(magmoms: list) -> Structure:
    return Structure(
        Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]], site_properties={"magmom": magmoms}
    )


def test_collinear_floats_lie_along_z_and_round_trip_through_atoms():
    structure = _pair([2.2, -2.2])
    atoms = structure_to_atoms(structure)
    assert atoms.get_initial_magnetic_moments().shape == (2,)  # ASE's collinear form
    np.testing.assert_array_equal(atoms_moments(atoms), [[0, 0, 2.2], [0, 0, -2.2]])
    np.testing.assert_array_equal(structure_moments(structure), atoms_moments(atoms))
    assert site_magmoms(atoms_moments(atoms)) == [2.2, -2.2]


def test_magmom_and_vectors_give_the_same_cartesian_moments():
    """A Magmom with a tilted quantisation axis is read in the global frame, like its global_moment."""
    tilted = Magmom([0.0, 0.0, 2.0], saxis=[1.0, 0.0, 0.0])
    structure = _pair([tilted, [0.0, 1.5, 0.0]])
    expected = [tilted.global_moment, [0.0, 1.5, 0.0]]
    np.testing.assert_allclose(structure_moments(structure), expected)
    atoms = structure_to_atoms(structure)
    assert atoms.get_initial_magnetic_moments().shape == (2, 3)
    np.testing.assert_allclose(atoms_moments(atoms), expected)
    assert site_magmoms(atoms_moments(atoms)) == np.round(expected, 6).tolist()


def test_floats_mixed_with_vectors():
    np.testing.assert_array_equal(moment_vectors([1.0, [0.0, 2.0, 0.0]]), [[0, 0, 1.0], [0, 2.0, 0]])


@pytest.mark.parametrize(
    ("moments", "field"),
    [([1.0, "up"], "magmom[1]"), ([1.0, [1.0, 2.0]], "magmom[1]"), ([1.0, float("nan")], "magmom")],
)
def test_bad_moments_name_the_source_and_site(moments, field):
    with pytest.raises(InputError) as error:
        moment_vectors(moments, 2, source="FeCo.cif", field="magmom")
    assert error.value.source == "FeCo.cif"
    assert error.value.field == field


def test_wrong_number_of_moments_is_an_error():
    with pytest.raises(InputError, match="shape"):
        moment_vectors(np.zeros(3), 2)


def test_structure_without_moments():
    plain = Structure(Lattice.cubic(2.87), ["Fe"], [[0, 0, 0]])
    with pytest.raises(InputError, match="no 'magmom'"):
        structure_moments(plain)
    np.testing.assert_array_equal(structure_to_atoms(plain).get_initial_magnetic_moments(), [0.0])
