"""Non-collinear generators: 120-degree states, spin spirals, canted antiferromagnets."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from magscreen.magnetism import HeisenbergCalculator, enumerate_collinear, enumerate_noncollinear, parent_cell
from magscreen.magnetism.canted import canted
from magscreen.magnetism.spirals import spin_spirals
from magscreen.magnetism.triangular import states_120


def heisenberg_state(ordering, j1: float = -0.01):
    atoms = ordering.to_atoms()
    atoms.calc = HeisenbergCalculator({1: j1})
    energy = atoms.get_potential_energy()
    field = atoms.calc.get_property("magnetic_forces", atoms)
    torque = np.cross(atoms.get_initial_magnetic_moments(), field)
    return energy / ordering.n_magnetic_atoms, np.abs(torque).max()


def test_triangular_lattice_has_the_sqrt3_120_degree_state(triangular):
    (state,) = states_120(parent_cell(triangular))
    assert state.label == "120-degree q=(1/3,1/3,0)" and state.n_magnetic_atoms == 3
    # Ground state of the nearest-neighbour antiferromagnet: zero torque, E/site = 3 J1 / 2.
    energy, torque = heisenberg_state(state)
    assert torque < 1e-12 and energy == pytest.approx(1.5 * -0.01)


def test_kagome_has_q0_and_sqrt3_states_at_the_ground_state_energy(kagome):
    states = {s.label: s for s in states_120(parent_cell(kagome), max_magnetic_atoms=9)}
    assert {"120-degree q=0", "120-degree q=(1/3,1/3,0)"} <= set(states)
    assert states["120-degree q=0"].n_magnetic_atoms == 3
    assert states["120-degree q=(1/3,1/3,0)"].n_magnetic_atoms == 9
    for state in states.values():
        # Kagome: 4 neighbours, all at 120 degrees: E/site = -(4/2) J1 (-1/2) = J1.
        energy, torque = heisenberg_state(state)
        assert torque < 1e-12 and energy == pytest.approx(-0.01)
    assert len({s.fingerprint for s in states.values()}) == len(states)


@pytest.mark.parametrize("name", ["nio", "bcc_fe"])
def test_lattices_without_frustrated_triangles_have_no_120_degree_state(name, request):
    # fcc: nearest-neighbour tetrahedra cannot be three-coloured; bcc: no nearest-neighbour triangles.
    assert states_120(parent_cell(request.getfixturevalue(name)), max_magnetic_atoms=9) == []


@pytest.mark.parametrize("name", ["nio", "bcc_fe", "triangular", "mnf2"])
def test_spirals_rotate_by_the_phase_of_q(name, request):
    """m(r) = |m| (sin a cos 2 pi q.r, sin a sin 2 pi q.r, cos a) on every pair of magnetic sites,
    which also proves that q fits the supercell (wrapped positions keep the phase)."""
    parent = parent_cell(request.getfixturevalue(name))
    spirals = spin_spirals(parent, cone_angles=(90.0, 30.0))
    assert spirals
    for spiral in spirals:
        q = np.array([float(Fraction(c)) for c in spiral.parameters["q"]])
        k = q @ np.linalg.inv(parent.lattice).T  # Cartesian, 1/Angstrom without 2 pi
        moments = spiral.moments
        magnetic = np.linalg.norm(moments, axis=1) > 0
        positions = spiral.structure.cart_coords[magnetic]
        m = moments[magnetic] / np.linalg.norm(moments[magnetic], axis=1)[:, None]
        cone = np.radians(spiral.parameters["cone_angle"])
        np.testing.assert_allclose(m[:, 2], np.cos(cone), atol=1e-9)
        in_plane = np.arctan2(m[:, 1], m[:, 0])
        phase = 2 * np.pi * (positions - positions[0]) @ k
        np.testing.assert_allclose(np.cos(in_plane - in_plane[0] - phase), 1.0, atol=1e-9)
        # Not collinear: 2q is off the reciprocal lattice.
        assert not np.allclose(2 * q, np.rint(2 * q))
    assert len({s.fingerprint for s in spirals}) == len(spirals)


def test_spiral_labels_quote_q_in_conventional_units(bcc_fe):
    labels = [s.label for s in spin_spirals(parent_cell(bcc_fe), cone_angles=(90.0,))]
    assert "spiral q=(0,0,1/3)" in labels


def test_canted_antiferromagnet_keeps_staggered_moment_and_gains_net_moment(nio):
    afm = next(o for o in enumerate_collinear(nio, max_magnetic_atoms=2).orderings if o.label == "AFM-II")
    tilted = canted(afm, 10.0)
    assert tilted.label == "canted AFM-II 10deg" and tilted.kind == "noncollinear"
    moments = tilted.moments
    collinear = np.asarray(afm.structure.site_properties["magmom"])
    np.testing.assert_allclose(moments[:, 2], collinear * np.cos(np.radians(10)))
    assert moments[:, 0].sum() == pytest.approx(np.abs(collinear).sum() * np.sin(np.radians(10)))
    assert tilted.parameters["canting_angle"] == 10.0
    assert tilted.to_atoms().get_initial_magnetic_moments().shape == (len(tilted.structure), 3)


def test_enumerate_noncollinear_collects_all_families(triangular):
    orderings = enumerate_noncollinear(triangular, max_magnetic_atoms=6)
    kinds = {o.label.split(" q=")[0].split(" ")[0] for o in orderings}
    assert {"120-degree", "spiral", "conical", "canted"} <= kinds
    assert all(o.kind == "noncollinear" for o in orderings)
    assert len({o.fingerprint for o in orderings}) == len(orderings)
    # The planar spiral at K is the 120-degree state itself: listed once, under its 120-degree name.
    labels = [o.label for o in orderings]
    assert "120-degree q=(1/3,1/3,0)" in labels and "spiral q=(1/3,1/3,0)" not in labels
    assert "conical spiral q=(1/3,1/3,0) cone=45deg" in labels
