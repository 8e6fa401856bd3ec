"""Collinear enumeration: textbook orderings, brute-force counts, no duplicates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import spglib
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Species, Structure

from magscreen.errors import StructureError
from magscreen.magnetism import enumerate_collinear, parent_cell


def labels(result) -> list[str]:
    return [o.label for o in result.orderings]


def test_bcc_fe_gives_ferromagnet_and_b2_antiferromagnet(bcc_fe):
    result = enumerate_collinear(bcc_fe, max_magnetic_atoms=2)
    assert labels(result)[0] == "FM"
    (b2,) = [o for o in result.orderings if o.label == "AFM-B2"]
    # B2 (CsCl) type: the cube corner and body centre carry opposite moments.
    moments = b2.structure.site_properties["magmom"]
    assert b2.n_magnetic_atoms == 2 and moments[0] == -moments[1]
    assert b2.structure.lattice.abc == pytest.approx((2.87, 2.87, 2.87))


def alternates_along(ordering, directions, spacing: float) -> bool:
    """Whether the moments are ferromagnetic in planes normal to one of ``directions`` (Cartesian,
    plane spacing ``spacing`` Angstrom) and alternate in sign from plane to plane."""
    crystal = ordering.structure * (3, 3, 3)
    moments = np.array(crystal.site_properties["magmom"])
    magnetic = np.flatnonzero(moments)
    coords = crystal.cart_coords[magnetic]
    for direction in np.asarray(directions, dtype=float):
        height = coords @ (direction / np.linalg.norm(direction)) / spacing
        if not np.allclose(height, np.rint(height), atol=1e-6):
            continue
        pattern = np.where(np.rint(height) % 2 == 0, 1.0, -1.0)
        if np.all(np.sign(moments[magnetic]) == pattern) or np.all(np.sign(moments[magnetic]) == -pattern):
            return True
    return False


@pytest.mark.parametrize(("name", "a"), [("nio", 4.17), ("mno", 4.44)])
def test_rocksalt_gives_type_i_and_type_ii(name, a, request):
    result = enumerate_collinear(request.getfixturevalue(name), max_magnetic_atoms=4, max_orderings=None)
    by_label = {o.label: o for o in result.orderings}
    assert {"FM", "AFM-I", "AFM-II"} <= set(by_label)
    assert by_label["AFM-I"].n_magnetic_atoms == by_label["AFM-II"].n_magnetic_atoms == 2
    diagonals = [[1, 1, 1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]]
    # Type II: ferromagnetic (111) planes of the fcc sublattice (a / sqrt(3) apart), alternating.
    assert alternates_along(by_label["AFM-II"], diagonals, a / np.sqrt(3))
    assert not alternates_along(by_label["AFM-I"], diagonals, a / np.sqrt(3))
    # Type I: ferromagnetic (001) planes, a / 2 apart, alternating.
    assert alternates_along(by_label["AFM-I"], np.eye(3), a / 2)
    assert not alternates_along(by_label["AFM-II"], np.eye(3), a / 2)


def test_mnf2_gives_two_sublattice_antiferromagnet(mnf2):
    result = enumerate_collinear(mnf2, max_magnetic_atoms=2)
    afm = [o for o in result.orderings if o.label == "AFM q=(0,0,0)"]
    assert len(afm) == 1
    moments = [m for m in afm[0].structure.site_properties["magmom"] if m != 0]
    assert sorted(moments) == [-5.0, 5.0]  # corner and body-centre Mn opposite, in the primitive cell


def brute_force_count(parent, supercell_matrix) -> int:
    """Orbits of all 2^N up/down assignments in a supercell under its spglib space group and a spin flip."""
    supercell = parent.structure.copy()
    supercell.make_supercell(supercell_matrix)
    numbers = [site.specie.Z for site in supercell]
    cell = (supercell.lattice.matrix, supercell.frac_coords, numbers)
    symmetry = spglib.get_symmetry(cell, symprec=1e-3)
    magnetic = [i for i, m in enumerate(supercell.site_properties["magmom"]) if m > 0]
    frac = supercell.frac_coords[magnetic]
    perms = []
    for rotation, translation in zip(symmetry["rotations"], symmetry["translations"], strict=True):
        image = frac @ rotation.T + translation
        delta = image[:, None, :] - frac[None, :, :]
        perms.append(np.argmin(np.abs(delta - np.rint(delta)).sum(axis=-1), axis=1))
    n = len(magnetic)
    configs = np.arange(2**n)
    bits = (configs[:, None] >> np.arange(n)) & 1
    canonical = np.full(2**n, 2**n)
    for perm in perms:
        image = (bits << perm[None, :]).sum(axis=1)  # bit k moves to position perm[k]
        canonical = np.minimum(canonical, np.minimum(image, (2**n - 1) - image))
    return len(np.unique(canonical))


def periodic_in(ordering, supercell_matrix) -> bool:
    """Whether the supercell's lattice vectors are lattice vectors of the ordering's cell."""
    hnf = np.array(ordering.parameters["supercell_matrix"])
    ratio = np.asarray(supercell_matrix) @ np.linalg.inv(hnf)
    return bool(np.allclose(ratio, np.rint(ratio), atol=1e-8))


@pytest.mark.parametrize(
    ("name", "supercell_matrix"),
    [
        ("bcc_fe", [[0, 1, 1], [1, 0, 1], [1, 1, 0]]),  # conventional cube of the bcc primitive cell
        ("bcc_fe", [[2, 0, 0], [0, 2, 0], [0, 0, 2]]),
        ("nio", [[-1, 1, 1], [1, -1, 1], [1, 1, -1]]),  # conventional cube of the fcc primitive cell
        ("mnf2", [[1, 0, 0], [0, 1, 0], [0, 0, 2]]),
        ("mnf2", [[2, 0, 0], [0, 2, 0], [0, 0, 1]]),
        ("triangular", [[2, 0, 0], [0, 2, 0], [0, 0, 1]]),
        ("triangular", [[2, 1, 0], [-1, 1, 0], [0, 0, 2]]),  # sqrt(3) x sqrt(3) x 2
    ],
)
def test_count_matches_brute_force(name, supercell_matrix, request):
    """Burnside-free check: orbits of all 2^N assignments (spglib operations, spin flip) equal the
    enumerated orderings whose period divides the supercell (which the point group keeps)."""
    structure = request.getfixturevalue(name)
    parent = parent_cell(structure)
    n_magnetic = len(parent.magnetic) * round(abs(np.linalg.det(supercell_matrix)))
    result = enumerate_collinear(structure, max_magnetic_atoms=n_magnetic, max_orderings=None)
    enumerated = sum(periodic_in(o, supercell_matrix) for o in result.orderings)
    assert enumerated == brute_force_count(parent, supercell_matrix)


def spin_decorated(structure: Structure, flip: bool = False) -> Structure:
    sign = -1 if flip else 1
    species = [
        Species(site.specie.symbol, 0, spin=int(np.sign(m)) * sign) if m else site.specie
        for site, m in zip(structure, structure.site_properties["magmom"], strict=True)
    ]
    return Structure(structure.lattice, species, structure.frac_coords)


@pytest.mark.parametrize("name", ["nio", "bcc_fe", "mnf2"])
def test_no_two_orderings_are_equivalent(name, request):
    """Independent check with pymatgen's StructureMatcher on spin-decorated species (and flipped)."""
    result = enumerate_collinear(request.getfixturevalue(name), max_magnetic_atoms=4, max_orderings=None)
    matcher = StructureMatcher(primitive_cell=True, scale=False, attempt_supercell=True)
    decorated = [spin_decorated(o.structure) for o in result.orderings]
    flipped = [spin_decorated(o.structure, flip=True) for o in result.orderings]
    for i, j in itertools.combinations(range(len(decorated)), 2):
        pair = (result.orderings[i].label, result.orderings[j].label)
        assert not matcher.fit(decorated[i], decorated[j]), pair
        assert not matcher.fit(decorated[i], flipped[j]), pair
    assert len({o.fingerprint for o in result.orderings}) == len(result.orderings)


def test_ferromagnet_first_then_by_symmetry_then_size(nio):
    result = enumerate_collinear(nio, max_magnetic_atoms=6, max_orderings=None)
    assert result.orderings[0].label == "FM"
    keys = [
        (o.parameters["net_moment"] != 0, -o.parameters["point_group_order"], o.n_magnetic_atoms)
        for o in result.orderings[1:]
    ]
    assert keys == sorted(keys)


def test_cap_reports_what_it_dropped(nio):
    full = enumerate_collinear(nio, max_magnetic_atoms=4, max_orderings=None)
    capped = enumerate_collinear(nio, max_magnetic_atoms=4, max_orderings=5)
    assert capped.n_found == full.n_found == len(full.orderings)
    assert capped.n_dropped == full.n_found - 5
    assert [o.fingerprint for o in capped.orderings] == [o.fingerprint for o in full.orderings[:5]]


def test_fingerprint_ignores_setting_and_lattice_parameter(nio):
    """Equal for the same orderings of the conventional and primitive cells, and of a strained cell."""
    primitive = nio.get_primitive_structure()
    strained = nio.copy()
    strained.scale_lattice(nio.volume * 1.03)

    def fingerprints(structure):
        return [o.fingerprint for o in enumerate_collinear(structure, max_magnetic_atoms=4).orderings]

    reference = fingerprints(nio)
    assert fingerprints(primitive) == reference
    assert fingerprints(strained) == reference


@pytest.mark.parametrize("name", ["nio", "mnf2"])
def test_fingerprint_ignores_origin_choice_and_noise(name, request):
    """Origin shifts (NiO: Ni on 4a or on 4b; MnF2: shifts by half lattice vectors and an arbitrary
    one) and 2 mAngstrom of noise describe the same crystal, so they keep every fingerprint."""
    structure = request.getfixturevalue(name)

    def fingerprints(crystal):
        return [o.fingerprint for o in enumerate_collinear(crystal, max_magnetic_atoms=4).orderings]

    reference = fingerprints(structure)
    for shift in ([0.5, 0.5, 0.5], [0.5, 0, 0.5], [0.1, 0.2, 0.3]):
        moved = structure.copy()
        moved.translate_sites(range(len(moved)), shift)
        assert fingerprints(moved) == reference, shift
    noisy = structure.copy()
    noisy.perturb(0.002, min_distance=0.001)
    assert fingerprints(noisy) == reference


def test_ordered_structure_keeps_the_parent_crystal(nio):
    for ordering in enumerate_collinear(nio, max_magnetic_atoms=4).orderings:
        assert ordering.structure.composition.reduced_formula == "NiO"
        assert ordering.structure.volume / len(ordering.structure) == pytest.approx(nio.volume / len(nio))
        atoms = ordering.to_atoms()
        assert atoms.get_initial_magnetic_moments().shape == (len(atoms),)
        total = np.sum(np.abs(atoms.get_initial_magnetic_moments()))
        assert total == pytest.approx(5.0 * ordering.n_magnetic_atoms)  # default Ni moment 5 mu_B


def test_named_errors():
    with pytest.raises(StructureError, match="no magnetic site"):
        enumerate_collinear(Structure(Lattice.cubic(4.05), ["Al"], [[0, 0, 0]]))
    disordered = Structure(Lattice.cubic(2.87), [{"Fe": 0.5, "Co": 0.5}], [[0, 0, 0]])
    with pytest.raises(StructureError, match="partial occupancies"):
        enumerate_collinear(disordered)
    big = Structure(Lattice.cubic(2.87), ["Fe"], [[0, 0, 0]])
    big.make_supercell([3, 3, 3])
    with pytest.raises(StructureError, match="more than the limit of 20"):
        enumerate_collinear(big, max_atoms=20)
    two_sites = Structure(Lattice.cubic(3.0), ["Fe", "Al"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    two_sites.make_supercell([1, 1, 3])
    two_sites.replace(1, "Co")  # breaks the translations: three magnetic sites per primitive cell
    with pytest.raises(StructureError, match="primitive cell has 3 magnetic sites"):
        enumerate_collinear(two_sites, max_magnetic_atoms=2)
