"""Small textbook crystals for the orderings tests."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

FCC = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]


def rocksalt(metal: str, a: float) -> Structure:
    """Rocksalt monoxide, conventional cubic cell (a in Angstrom)."""
    anions = [[(x + 0.5) % 1, y, z] for x, y, z in FCC]
    return Structure(Lattice.cubic(a), [metal] * 4 + ["O"] * 4, FCC + anions)


@pytest.fixture
def nio() -> Structure:
    """Rocksalt NiO (a = 4.17 Angstrom)."""
    return rocksalt("Ni", 4.17)


@pytest.fixture
def mno() -> Structure:
    """Rocksalt MnO (a = 4.44 Angstrom)."""
    return rocksalt("Mn", 4.44)


@pytest.fixture
def bcc_fe() -> Structure:
    """bcc Fe, conventional cubic cell with two atoms (a = 2.87 Angstrom)."""
    return Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture
def mnf2() -> Structure:
    """Rutile MnF2 (P4_2/mnm, a = 4.87, c = 3.31 Angstrom, F at x = 0.305)."""
    x = 0.305
    fluorine = [[x, x, 0], [1 - x, 1 - x, 0], [0.5 + x, 0.5 - x, 0.5], [0.5 - x, 0.5 + x, 0.5]]
    return Structure(
        Lattice.tetragonal(4.87, 3.31), ["Mn", "Mn"] + ["F"] * 4, [[0, 0, 0], [0.5, 0.5, 0.5]] + fluorine
    )


@pytest.fixture
def triangular() -> Structure:
    """A triangular lattice of Mn (a = 3 Angstrom) in layers 10 Angstrom apart."""
    return Structure(Lattice.hexagonal(3.0, 10.0), ["Mn"], [[0, 0, 0]])


@pytest.fixture
def kagome() -> Structure:
    """A kagome lattice of Mn (nearest-neighbour distance 3 Angstrom) in layers 10 Angstrom apart."""
    return Structure(Lattice.hexagonal(6.0, 10.0), ["Mn"] * 3, [[0.5, 0, 0], [0, 0.5, 0], [0.5, 0.5, 0]])
