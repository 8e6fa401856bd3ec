"""Textbook magnets with known ground states, as orderings: the engine's physics checks.

Experimental lattice parameters (room temperature, Angstrom); moments are initial guesses (mu_B).
Both orderings of a compound use the same cell, so their energy difference needs no k-point or
basis-set correction.

=========  =================  ==========================  ==============================
compound   cell               orderings                   experimental ground state
=========  =================  ==========================  ==============================
Fe         bcc, cubic 2 atoms FM, AFM-B2 (CsCl-type)      FM
NiO, MnO   rocksalt, 2 f.u.   FM, AFM-II ((111) planes)   AFM-II (Neel 523 K / 118 K)
MnF2       rutile, 2 f.u.     FM, AFM (corner vs centre)  AFM (Neel 67 K)
Co         hcp, 2 atoms       FM                          FM, easy axis c
=========  =================  ==========================  ==============================
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

__all__ = ["TEXTBOOK_ORDERINGS", "bcc_fe", "hcp_co", "rocksalt_afm2", "rutile_mnf2", "textbook_pair"]


def _with_moments(structure: Structure, moments: list[float]) -> Structure:
    structure = structure.copy()
    structure.add_site_property("magmom", [float(m) for m in moments])
    return structure


def bcc_fe(ordering: str, a: float = 2.866) -> Structure:
    """bcc Fe, conventional 2-atom cell; ``ordering`` 'FM' or 'AFM-B2'."""
    cell = Structure(Lattice.cubic(a), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return _with_moments(cell, {"FM": [2.5, 2.5], "AFM-B2": [2.5, -2.5]}[ordering])


def rocksalt_afm2(metal: str, ordering: str, a: float | None = None, moment: float = 3.0) -> Structure:
    """Rocksalt MO in the rhombohedral 4-atom cell of AFM-II; ``ordering`` 'FM' or 'AFM-II'.

    Cell vectors a(1, 1/2, 1/2), a(1/2, 1, 1/2), a(1/2, 1/2, 1), Niggli-reduced: metal planes along
    [111] alternate in AFM-II, propagation vector (1/2, 1/2, 1/2) in units of 2 pi / a.
    """
    a = a or {"Ni": 4.177, "Mn": 4.445, "Co": 4.260, "Fe": 4.332}[metal]
    lattice = Lattice(a * np.array([[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]]))
    cell = Structure(
        lattice,
        [metal, metal, "O", "O"],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]],
    )
    signs = {"FM": [1, 1], "AFM-II": [1, -1]}[ordering]
    cell = _with_moments(cell, [moment * signs[0], moment * signs[1], 0.0, 0.0])
    return cell.get_reduced_structure("niggli")  # cell angles 33.6 deg -> near 60/90 deg


def rutile_mnf2(ordering: str, a: float = 4.873, c: float = 3.310, u: float = 0.305) -> Structure:
    """Rutile MnF2 (P4_2/mnm); ``ordering`` 'FM' or 'AFM' (corner and body-centre Mn opposite)."""
    cell = Structure(
        Lattice.tetragonal(a, c),
        ["Mn", "Mn", "F", "F", "F", "F"],
        [
            [0, 0, 0],
            [0.5, 0.5, 0.5],
            [u, u, 0],
            [1 - u, 1 - u, 0],
            [0.5 + u, 0.5 - u, 0.5],
            [0.5 - u, 0.5 + u, 0.5],
        ],
    )
    signs = {"FM": [1, 1], "AFM": [1, -1]}[ordering]
    return _with_moments(cell, [5.0 * signs[0], 5.0 * signs[1], 0, 0, 0, 0])


def hcp_co(a: float = 2.507, c: float = 4.070) -> Structure:
    """hcp Co, ferromagnetic, c along z."""
    cell = Structure(Lattice.hexagonal(a, c), ["Co", "Co"], [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]])
    return _with_moments(cell, [1.7, 1.7])


#: compound -> (ferromagnetic label, antiferromagnetic label, builder of an ordering by label)
TEXTBOOK_ORDERINGS = {
    "Fe": ("FM", "AFM-B2", bcc_fe),
    "NiO": ("FM", "AFM-II", lambda label: rocksalt_afm2("Ni", label)),
    "MnO": ("FM", "AFM-II", lambda label: rocksalt_afm2("Mn", label, moment=5.0)),
    "MnF2": ("FM", "AFM", rutile_mnf2),
}


def textbook_pair(compound: str) -> dict[str, Structure]:
    """The FM and AFM orderings of a compound of ``TEXTBOOK_ORDERINGS``, by label."""
    fm, afm, build = TEXTBOOK_ORDERINGS[compound]
    return {fm: build(fm), afm: build(afm)}
