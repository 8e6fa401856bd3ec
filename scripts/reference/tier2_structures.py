"""Small-cell prototype structures of the reference dataset's second list (issue 18, tier 2).

Each structure is built with pymatgen from its space group, a literature lattice constant and
ideal or literature internal coordinates, and written to ``reference/structures/<name>.cif``;
the table below (and reference/structures/README.md) cites the source of every number. No
network: the numbers are typed in here. Where the real cell is large (orthorhombic CaMnO3,
rhombohedral BiFeO3), the cubic perovskite prototype with the pseudo-cubic constant
(cube root of the volume per formula unit) stands in; the README says so.

    python scripts/reference/tier2_structures.py      # rewrites reference/structures/*.cif
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter

OUT = Path(__file__).resolve().parents[2] / "reference" / "structures"


def nias(metal: str, anion: str, a: float, c: float) -> Structure:
    """NiAs type (P6_3/mmc): metal 2a (0,0,0), anion 2c (1/3,2/3,1/4)."""
    return Structure.from_spacegroup(
        "P6_3/mmc", Lattice.hexagonal(a, c), [metal, anion], [[0, 0, 0], [1 / 3, 2 / 3, 0.25]]
    )


def rocksalt(metal: str, anion: str, a: float) -> Structure:
    """Rocksalt (Fm-3m)."""
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [metal, anion], [[0, 0, 0], [0.5, 0.5, 0.5]])


def perovskite(a_site: str, b_site: str, anion: str, a: float) -> Structure:
    """Cubic perovskite ABX3 (Pm-3m): A 1b (1/2,1/2,1/2), B 1a (0,0,0), X 3d."""
    return Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(a), [b_site, a_site, anion], [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0]]
    )


def spinel(tet: str, octa: str, anion: str, a: float, u: float) -> Structure:
    """Spinel AB2X4 (Fd-3m) from the origin-choice-2 parameter u (ideal 1/4).

    pymatgen's Fd-3m is origin choice 1: A 8a (0,0,0), B 16d (5/8,5/8,5/8), X 32e (x,x,x) with
    x = u + 1/8.
    """
    x = u + 0.125
    return Structure.from_spacegroup(
        "Fd-3m", Lattice.cubic(a), [tet, octa, anion], [[0, 0, 0], [0.625, 0.625, 0.625], [x, x, x]]
    )


def heusler(x: str, y: str, z: str, a: float) -> Structure:
    """Full Heusler X2YZ, L2_1 (Fm-3m): X 8c (1/4,1/4,1/4), Y 4a (0,0,0), Z 4b (1/2,1/2,1/2)."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), [x, y, z], [[0.25, 0.25, 0.25], [0, 0, 0], [0.5, 0.5, 0.5]]
    )


def l10(a_el: str, b_el: str, a_fct: float, c: float) -> Structure:
    """L1_0 (P4/mmm, 2 atoms) from the face-centred tetragonal constants a, c: a_t = a / sqrt(2)."""
    return Structure.from_spacegroup(
        "P4/mmm", Lattice.tetragonal(a_fct / np.sqrt(2), c), [a_el, b_el], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


#: name -> (structure, source of the numbers)
STRUCTURES: dict[str, tuple[Structure, str]] = {
    "MnS": (
        rocksalt("Mn", "S", 5.224),
        "alpha-MnS (alabandite), a = 5.224 A: R. W. G. Wyckoff, Crystal Structures vol. 1 (1963)",
    ),
    "MnTe": (
        nias("Mn", "Te", 4.148, 6.711),
        "NiAs-type MnTe, a = 4.148, c = 6.711 A: N. Kunitomi, Y. Hamaguchi, "
        "S. Anzai, J. Phys. (Paris) 25, 568 (1964)",
    ),
    "CrSb": (
        nias("Cr", "Sb", 4.115, 5.467),
        "NiAs-type CrSb, a = 4.115, c = 5.467 A: A. I. Snow, Phys. Rev. 85, "
        "365 (1952); W. J. Takei, D. E. Cox, G. Shirane, Phys. Rev. 129, 2008 (1963)",
    ),
    "MnAs": (
        nias("Mn", "As", 3.722, 5.702),
        "hexagonal (NiAs-type) MnAs at room temperature, a = 3.722, "
        "c = 5.702 A: R. H. Wilson, J. S. Kasper, Acta Cryst. 17, 95 (1964)",
    ),
    "NiS": (
        nias("Ni", "S", 3.440, 5.350),
        "NiAs-type NiS, a = 3.440, c = 5.350 A: J. Trahan, R. G. Goodrich, "
        "S. F. Watkins, Phys. Rev. B 2, 2859 (1970)",
    ),
    "KNiF3": (
        perovskite("K", "Ni", "F", 4.013),
        "cubic perovskite KNiF3, a = 4.013 A: A. Okazaki, Y. Suemune, J. Phys. Soc. Jpn. 16, 176 (1961)",
    ),
    "KMnF3": (
        perovskite("K", "Mn", "F", 4.189),
        "cubic perovskite KMnF3, a = 4.189 A: A. Okazaki, Y. Suemune, J. Phys. Soc. Jpn. 16, 176 (1961)",
    ),
    "SrMnO3": (
        perovskite("Sr", "Mn", "O", 3.806),
        "cubic perovskite SrMnO3, a = 3.806 A: T. Takeda, S. Ohara, J. Phys. Soc. Jpn. 37, 275 (1974)",
    ),
    "CaMnO3": (
        perovskite("Ca", "Mn", "O", 3.727),
        "cubic prototype of orthorhombic (Pnma) CaMnO3 with the "
        "pseudo-cubic constant (V/4)^(1/3) = 3.727 A of a = 5.279, b = 7.448, c = 5.264 A: "
        "K. R. Poeppelmeier et al., J. Solid State Chem. 45, 71 (1982); octahedral tilts left out",
    ),
    "BiFeO3": (
        perovskite("Bi", "Fe", "O", 3.965),
        "cubic prototype of rhombohedral (R3c) BiFeO3 with the "
        "pseudo-cubic constant 3.965 A (volume per formula unit of a_hex = 5.5876, c_hex = 13.867 A: "
        "F. Kubel, H. Schmid, Acta Cryst. B 46, 698 (1990)); polar displacements and tilts left out",
    ),
    "Co3O4": (
        spinel("Co", "Co", "O", 8.084, 0.2632),
        "normal spinel Co3O4, a = 8.084 A, u = 0.2632 (origin "
        "choice 2): W. L. Roth, J. Phys. Chem. Solids 25, 1 (1964)",
    ),
    "Fe3O4": (
        spinel("Fe", "Fe", "O", 8.396, 0.2549),
        "cubic inverse spinel Fe3O4 above the Verwey transition, "
        "a = 8.396 A, u = 0.2549 (origin choice 2): M. E. Fleet, Acta Cryst. B 37, 917 (1981); Fe on both "
        "sites (the Fe2+/Fe3+ order on the octahedral site is left to the SCF)",
    ),
    "CuO": (
        Structure.from_spacegroup(
            "C2/c",
            Lattice.monoclinic(4.6837, 3.4226, 5.1288, 99.54),
            ["Cu", "O"],
            [[0.25, 0.25, 0.0], [0.0, 0.4184, 0.25]],
        ),
        "monoclinic CuO (tenorite), a = 4.6837, b = 3.4226, c = 5.1288 A, beta = 99.54 deg, Cu 4c, O 4e "
        "y = 0.4184: S. Asbrink, L.-J. Norrby, Acta Cryst. B 26, 8 (1970)",
    ),
    "Fe4N": (
        Structure.from_spacegroup(
            "Pm-3m", Lattice.cubic(3.795), ["Fe", "Fe", "N"], [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0.5, 0.5]]
        ),
        "gamma'-Fe4N, a = 3.795 A: K. H. Jack, Proc. R. Soc. A 195, 34 (1948)",
    ),
    "Fe3Al": (
        heusler("Fe", "Fe", "Al", 5.792),
        "D0_3 Fe3Al, a = 5.792 A: A. Taylor, R. M. Jones, J. Phys. Chem. Solids 6, 16 (1958)",
    ),
    "FeCo": (
        Structure.from_spacegroup("Pm-3m", Lattice.cubic(2.857), ["Fe", "Co"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
        "B2 (CsCl) FeCo, a = 2.857 A: W. C. Ellis, E. S. Greiner, Trans. ASM 29, 415 (1941)",
    ),
    "Ni3Fe": (
        Structure.from_spacegroup("Pm-3m", Lattice.cubic(3.552), ["Fe", "Ni"], [[0, 0, 0], [0, 0.5, 0.5]]),
        "L1_2 Ni3Fe, a = 3.552 A: P. Leech, C. Sykes, Phil. Mag. 27, 742 (1939)",
    ),
    "MnNi": (
        l10("Mn", "Ni", 3.74, 3.52),
        "L1_0 MnNi, a = 3.74, c = 3.52 A (fct): J. S. Kasper, J. S. Kouvel, "
        "J. Phys. Chem. Solids 11, 231 (1959)",
    ),
    "MnPd": (
        l10("Mn", "Pd", 4.07, 3.58),
        "L1_0 MnPd, a = 4.07, c = 3.58 A (fct): E. Kren et al., Phys. Rev. 171, 574 (1968)",
    ),
    "FeNi": (
        l10("Fe", "Ni", 3.582, 3.607),
        "L1_0 FeNi (tetrataenite), a = 3.582, c = 3.607 A (fct): "
        "J. F. Albertsen et al., Phys. Scr. 17, 467 (1978)",
    ),
    "Mn2Au": (
        Structure.from_spacegroup(
            "I4/mmm", Lattice.tetragonal(3.328, 8.539), ["Au", "Mn"], [[0, 0, 0], [0, 0, 1 / 3]]
        ),
        "Mn2Au (MoSi2 type, I4/mmm), a = 3.328, c = 8.539 A, Mn 4e z = 1/3: V. M. T. S. Barthem et al., "
        "Nat. Commun. 4, 2892 (2013)",
    ),
    "Co2MnSi": (
        heusler("Co", "Mn", "Si", 5.654),
        "L2_1 Co2MnSi, a = 5.654 A: P. J. Webster, J. Phys. Chem. Solids 32, 1221 (1971)",
    ),
    "Ni2MnGa": (
        heusler("Ni", "Mn", "Ga", 5.825),
        "L2_1 (austenite) Ni2MnGa, a = 5.825 A: P. J. Webster et al., Phil. Mag. B 49, 295 (1984)",
    ),
    "MnAl": (
        Structure.from_spacegroup(
            "P4/mmm", Lattice.tetragonal(2.77, 3.54), ["Mn", "Al"], [[0, 0, 0], [0.5, 0.5, 0.5]]
        ),
        "L1_0 (tau) MnAl, a = 2.77, c = 3.54 A (2-atom cell): A. J. J. Koch et al., J. Appl. Phys. 31, "
        "75S (1960)",
    ),
    "Fe-fcc": (
        Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.59), ["Fe"], [[0, 0, 0]]),
        "fcc (gamma) Fe, a = 3.59 A, as precipitates in Cu: S. C. Abrahams, L. Guttman, J. S. Kasper, "
        "Phys. Rev. 127, 2052 (1962)",
    ),
}


def main() -> None:
    """Write every structure (primitive cell) as CIF and print the nearest-neighbour distances."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (structure, source) in STRUCTURES.items():
        primitive = structure.get_primitive_structure()
        CifWriter(primitive).write_file(OUT / f"{name}.cif")
        d = primitive.distance_matrix + np.eye(len(primitive)) * 1e3
        print(f"{name}: {len(primitive)} atoms, shortest distance {d.min():.3f} A; {source[:60]}")


if __name__ == "__main__":
    main()
