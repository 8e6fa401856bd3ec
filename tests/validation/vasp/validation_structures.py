"""Structures of the mocked-VASP validation tests, shared by the tests and the reference generator.

NiO AFM-II: rocksalt NiO (a = 4.17 Angstrom) with ferromagnetic (111) Ni planes whose moments
alternate from plane to plane; the smallest cell is rhombohedral with 2 Ni and 2 O.
FePt L1_0: the 2-atom tetragonal cell (a = 2.73, c = 3.72 Angstrom), ferromagnetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

TEST_DATA = Path(__file__).resolve().parent / "test_data"
NIO_A = 4.17
FEPT_A, FEPT_C = 2.73, 3.72


def nio_afm2(moment: float = 2.0) -> Structure:
    """Rhombohedral 4-atom NiO cell in the AFM-II ordering, sites interleaved as Ni, O, Ni, O.

    The lattice vectors a(1, 1/2, 1/2), a(1/2, 1, 1/2), a(1/2, 1/2, 1) keep the parity of the
    (111) plane index p = (i + j + k) / 2 of every fcc Ni site a/2 (i, j, k), and the Ni moment
    is (-1)^p * ``moment`` (Bohr magnetons).
    """
    vectors = NIO_A * np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    half = NIO_A / 2
    cart = half * np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=float)
    structure = Structure(
        Lattice(vectors), ["Ni", "O", "Ni", "O"], cart, coords_are_cartesian=True, to_unit_cell=True
    )
    structure.add_site_property("magmom", [moment, 0.0, -moment, 0.0])
    return structure


def fept_l10(fe_moment: float = 3.0, pt_moment: float = 0.4) -> Structure:
    """Ferromagnetic FePt in the L1_0 structure (2 atoms), moments along z in Bohr magnetons."""
    structure = Structure(Lattice.tetragonal(FEPT_A, FEPT_C), ["Fe", "Pt"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    structure.add_site_property("magmom", [fe_moment, pt_moment])
    return structure
