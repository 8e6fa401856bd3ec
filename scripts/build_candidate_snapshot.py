"""Build the offline candidate snapshot from published crystallographic data.

Each entry below gives the space group, the lattice parameters (Angstrom) and the Wyckoff
positions of a well-known magnetic compound, with the source of those numbers. The script builds
the structure with ``Structure.from_spacegroup``, reduces it to the standard primitive cell (the
ordering enumerator makes supercells from it), checks the space group it finds against the one
given, and writes

- ``magscreen/data/candidates/<name>.json``: one ``Candidate`` per compound (read by
  ``magscreen.sources.load_snapshot``; this is the copy the package ships and loads);
- ``magscreen/data/candidates/index.json``: name, id, formula, structure type, reference per entry;
- ``configs/candidates/<name>.cif``: the same structures as CIF, for people and for
  ``magscreen.sources.load_structure_files``.

Run from the repository root::

    python scripts/build_candidate_snapshot.py            # rebuild both copies
    python scripts/build_candidate_snapshot.py --markdown # also print the table for docs/candidates.md

Materials Project ids are given only where they were cross-checked; an empty id means "not
checked", not "absent from Materials Project".
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifWriter
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from magscreen.sources.candidate import Candidate, check_structure

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO / "magscreen" / "data" / "candidates"
CONFIG_DIR = REPO / "configs" / "candidates"

WYCKOFF = "R. W. G. Wyckoff, Crystal Structures, Vol. 1, 2nd ed. (Interscience, New York, 1963)"
SASAKI = "S. Sasaki, K. Fujino, Y. Takeuchi, Proc. Jpn. Acad. 55B, 43 (1979)"
BAUR_KHAN = "W. H. Baur, A. A. Khan, Acta Cryst. B27, 2133 (1971)"
FINGER_HAZEN = "L. W. Finger, R. M. Hazen, J. Appl. Phys. 51, 5362 (1980)"
PEARSON = (
    "P. Villars, L. D. Calvert, Pearson's Handbook of Crystallographic Data for Intermetallic Phases "
    "(ASM, 1991)"
)


@dataclass(frozen=True)
class Entry:
    """Published crystal data of one compound.

    Lengths in Angstrom, fractional Wyckoff coordinates, temperatures in K.
    """

    name: str
    spacegroup: str
    lattice: Lattice
    species: list[str]
    coords: list[list[float]]
    structure_type: str
    reference: str
    mp_id: str = ""
    experimental_ordering: str | None = None
    transition_temperature_K: float | None = None
    notes: str = ""
    lattice_text: str = field(default="")


def rocksalt(name: str, metal: str, anion: str, a: float, reference: str, **kw) -> Entry:
    """NaCl (B1) type, Fm-3m: metal 4a (0,0,0), anion 4b (1/2,1/2,1/2)."""
    return Entry(
        name,
        "Fm-3m",
        Lattice.cubic(a),
        [metal, anion],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        "rocksalt (B1)",
        reference,
        lattice_text=f"a = {a}",
        **kw,
    )


def rutile(name: str, metal: str, anion: str, a: float, c: float, x: float, reference: str, **kw) -> Entry:
    """Rutile (C4) type, P4_2/mnm: metal 2a (0,0,0), anion 4f (x,x,0)."""
    return Entry(
        name,
        "P4_2/mnm",
        Lattice.tetragonal(a, c),
        [metal, anion],
        [[0, 0, 0], [x, x, 0]],
        "rutile (C4)",
        reference,
        lattice_text=f"a = {a}, c = {c}, x(4f) = {x}",
        **kw,
    )


def corundum(name: str, metal: str, a: float, c: float, z: float, x: float, reference: str, **kw) -> Entry:
    """Corundum type, R-3c (hexagonal axes): metal 12c (0,0,z), O 18e (x,0,1/4)."""
    return Entry(
        name,
        "R-3c",
        Lattice.hexagonal(a, c),
        [metal, "O"],
        [[0, 0, z], [x, 0, 0.25]],
        "corundum",
        reference,
        lattice_text=f"a = {a}, c = {c}, z(12c) = {z}, x(18e) = {x}",
        **kw,
    )


def l10(name: str, a_atom: str, b_atom: str, a_fct: float, c: float, reference: str, **kw) -> Entry:
    """CuAu (L1_0) type in its primitive tetragonal cell, P4/mmm: A 1a (0,0,0), B 1d (1/2,1/2,1/2).

    ``a_fct`` is the face-centred tetragonal parameter usually quoted; the primitive cell has
    a = a_fct / sqrt(2).
    """
    return Entry(
        name,
        "P4/mmm",
        Lattice.tetragonal(a_fct / math.sqrt(2), c),
        [a_atom, b_atom],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        "CuAu (L1_0)",
        reference,
        lattice_text=f"a(fct) = {a_fct}, c = {c}",
        **kw,
    )


ENTRIES: list[Entry] = [
    # --- rocksalt monoxides: type-II antiferromagnets (ferro (111) planes stacked antiparallel)
    rocksalt(
        "MnO",
        "Mn",
        "O",
        4.4457,
        SASAKI,
        mp_id="mp-19006",
        experimental_ordering="AFM-II",
        transition_temperature_K=118.0,
        notes="Neel temperature: C. G. Shull, W. A. Strauser, E. O. Wollan, Phys. Rev. 83, 333 (1951).",
    ),
    rocksalt(
        "FeO",
        "Fe",
        "O",
        4.332,
        "C. A. McCammon, L. Liu, Phys. Chem. Minerals 10, 106 (1984); a extrapolated to stoichiometric FeO",
        experimental_ordering="AFM-II",
        transition_temperature_K=198.0,
        notes="Real wustite is Fe(1-x)O; the snapshot uses the ideal stoichiometric rocksalt cell.",
    ),
    rocksalt(
        "CoO",
        "Co",
        "O",
        4.2615,
        SASAKI,
        experimental_ordering="AFM-II",
        transition_temperature_K=291.0,
        notes="MP id not given: the id often quoted for CoO (mp-22408) is a different polymorph.",
    ),
    rocksalt(
        "NiO",
        "Ni",
        "O",
        4.1771,
        SASAKI,
        mp_id="mp-19009",
        experimental_ordering="AFM-II",
        transition_temperature_K=523.0,
    ),
    rocksalt(
        "CrN",
        "Cr",
        "N",
        4.148,
        "L. M. Corliss, N. Elliott, J. M. Hastings, Phys. Rev. 117, 929 (1960)",
        experimental_ordering="AFM (double (110) layers)",
        transition_temperature_K=280.0,
        notes="Cubic paramagnetic phase at room temperature; orthorhombic (Pnma) below T_N.",
    ),
    # --- rutile difluorides: body-centre spin antiparallel to corner spin
    rutile(
        "MnF2",
        "Mn",
        "F",
        4.8734,
        3.3099,
        0.3050,
        BAUR_KHAN,
        experimental_ordering="AFM",
        transition_temperature_K=67.3,
    ),
    rutile(
        "FeF2",
        "Fe",
        "F",
        4.6966,
        3.3091,
        0.3011,
        BAUR_KHAN,
        experimental_ordering="AFM",
        transition_temperature_K=78.4,
    ),
    rutile(
        "CoF2",
        "Co",
        "F",
        4.6951,
        3.1796,
        0.3027,
        BAUR_KHAN,
        experimental_ordering="AFM",
        transition_temperature_K=37.7,
    ),
    rutile(
        "NiF2",
        "Ni",
        "F",
        4.6506,
        3.0836,
        0.3024,
        BAUR_KHAN,
        experimental_ordering="AFM",
        transition_temperature_K=73.2,
    ),
    rutile(
        "CrO2",
        "Cr",
        "O",
        4.4218,
        2.9182,
        0.3027,
        "P. Porta, M. Marezio, J. P. Remeika, P. D. Dernier, Mater. Res. Bull. 7, 157 (1972)",
        experimental_ordering="FM",
        transition_temperature_K=390.0,
        notes="Half-metallic ferromagnet.",
    ),
    # --- elemental 3d metals
    Entry(
        "Fe-bcc",
        "Im-3m",
        Lattice.cubic(2.8665),
        ["Fe"],
        [[0, 0, 0]],
        "bcc (A2)",
        WYCKOFF,
        mp_id="mp-13",
        experimental_ordering="FM",
        transition_temperature_K=1043.0,
        lattice_text="a = 2.8665",
    ),
    Entry(
        "Cr-bcc",
        "Im-3m",
        Lattice.cubic(2.8846),
        ["Cr"],
        [[0, 0, 0]],
        "bcc (A2)",
        WYCKOFF,
        mp_id="mp-90",
        experimental_ordering="AFM (incommensurate spin-density wave)",
        transition_temperature_K=311.0,
        lattice_text="a = 2.8846",
        notes="The commensurate B2-like AFM (corner vs body centre) is the usual collinear approximant.",
    ),
    Entry(
        "Ni-fcc",
        "Fm-3m",
        Lattice.cubic(3.5238),
        ["Ni"],
        [[0, 0, 0]],
        "fcc (A1)",
        WYCKOFF,
        mp_id="mp-23",
        experimental_ordering="FM",
        transition_temperature_K=627.0,
        lattice_text="a = 3.5238",
    ),
    Entry(
        "Co-hcp",
        "P6_3/mmc",
        Lattice.hexagonal(2.5071, 4.0695),
        ["Co"],
        [[1 / 3, 2 / 3, 0.25]],
        "hcp (A3)",
        WYCKOFF,
        mp_id="mp-54",
        experimental_ordering="FM",
        transition_temperature_K=1388.0,
        lattice_text="a = 2.5071, c = 4.0695",
        notes="T_C is that of fcc Co; hcp Co transforms to fcc near 700 K.",
    ),
    # --- L1_0 and B2 intermetallics
    l10(
        "FePt",
        "Fe",
        "Pt",
        3.852,
        3.713,
        PEARSON,
        mp_id="mp-2260",
        experimental_ordering="FM",
        transition_temperature_K=750.0,
        notes="Hard magnet, large uniaxial anisotropy (easy axis c).",
    ),
    l10(
        "CoPt",
        "Co",
        "Pt",
        3.803,
        3.701,
        PEARSON,
        mp_id="mp-949",
        experimental_ordering="FM",
        transition_temperature_K=840.0,
        notes="Uniaxial anisotropy, easy axis c.",
    ),
    l10(
        "MnPt",
        "Mn",
        "Pt",
        4.000,
        3.670,
        "E. Kren et al., Phys. Rev. 171, 574 (1968)",
        mp_id="mp-1670",
        experimental_ordering="AFM (C-type in the fct cell)",
        transition_temperature_K=970.0,
    ),
    Entry(
        "FeRh",
        "Pm-3m",
        Lattice.cubic(2.987),
        ["Fe", "Rh"],
        [[0, 0, 0], [0.5, 0.5, 0.5]],
        "CsCl (B2)",
        "G. Shirane, C. W. Chen, P. A. Flinn, R. Nathans, Phys. Rev. 131, 183 (1963)",
        experimental_ordering="AFM (G-type on Fe)",
        lattice_text="a = 2.987",
        notes="First-order AFM -> FM transition near 350 K (J. S. Kouvel, C. C. Hartelius, "
        "J. Appl. Phys. 33, 1343 (1962)); FM Curie temperature about 675 K.",
    ),
    # --- corundum sesquioxides
    corundum(
        "Cr2O3",
        "Cr",
        4.9607,
        13.599,
        0.3475,
        0.3058,
        FINGER_HAZEN,
        mp_id="mp-19399",
        experimental_ordering="AFM (+-+- along c)",
        transition_temperature_K=307.0,
        notes="Magnetoelectric antiferromagnet.",
    ),
    corundum(
        "Fe2O3",
        "Fe",
        5.0356,
        13.7489,
        0.35530,
        0.3059,
        FINGER_HAZEN,
        mp_id="mp-19770",
        experimental_ordering="AFM (++-- along c, weakly canted)",
        transition_temperature_K=955.0,
        notes="alpha-Fe2O3 (hematite); Morin transition at 260 K.",
    ),
    # --- hexagonal ferromagnets
    Entry(
        "MnBi",
        "P6_3/mmc",
        Lattice.hexagonal(4.283, 6.110),
        ["Mn", "Bi"],
        [[0, 0, 0], [1 / 3, 2 / 3, 0.25]],
        "NiAs (B8_1)",
        "T. Chen, J. Appl. Phys. 45, 2358 (1974)",
        experimental_ordering="FM",
        transition_temperature_K=630.0,
        lattice_text="a = 4.283, c = 6.110",
        notes="Low-temperature phase; T_C is masked by a first-order structural transition near 630 K.",
    ),
    Entry(
        "YCo5",
        "P6/mmm",
        Lattice.hexagonal(4.936, 3.975),
        ["Y", "Co", "Co"],
        [[0, 0, 0], [1 / 3, 2 / 3, 0], [0.5, 0, 0.5]],
        "CaCu5 (D2_d)",
        "K. H. J. Buschow, Rep. Prog. Phys. 40, 1179 (1977)",
        experimental_ordering="FM",
        transition_temperature_K=987.0,
        lattice_text="a = 4.936, c = 3.975",
        notes="Y 1a, Co 2c and 3g; uniaxial anisotropy, easy axis c.",
    ),
]


def build(entry: Entry) -> Candidate:
    """Structure of ``entry`` in its standard primitive cell, checked against the given space group."""
    conventional = Structure.from_spacegroup(entry.spacegroup, entry.lattice, entry.species, entry.coords)
    analyzer = SpacegroupAnalyzer(conventional, symprec=1e-3)
    found = analyzer.get_space_group_symbol()
    if found.replace("_", "") != entry.spacegroup.replace("_", ""):
        raise RuntimeError(
            f"{entry.name}: built structure has space group {found}, expected {entry.spacegroup}"
        )
    primitive = analyzer.get_primitive_standard_structure()
    # round away floating-point noise (1e-16) so that rebuilt files are byte-identical
    primitive = Structure(
        Lattice(np.round(primitive.lattice.matrix, 10)),
        primitive.species,
        np.round(primitive.frac_coords, 10) % 1.0,
    )
    check_structure(primitive, f"snapshot entry {entry.name}")
    wyckoff = ", ".join(
        f"{sp} ({', '.join(f'{x:.4g}' for x in xyz)})"
        for sp, xyz in zip(entry.species, entry.coords, strict=True)
    )
    values = f"{entry.spacegroup}; {entry.lattice_text} Angstrom; sites {wyckoff}."
    return Candidate(
        candidate_id=entry.mp_id or entry.name,
        formula=primitive.composition.reduced_formula,
        structure=primitive,
        source="snapshot",
        experimental_ordering=entry.experimental_ordering,
        transition_temperature_K=entry.transition_temperature_K,
        structure_type=entry.structure_type,
        reference=entry.reference,
        notes=" ".join(part for part in (values, entry.notes) if part),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the table for docs/candidates.md")
    args = parser.parse_args()

    PACKAGE_DIR.mkdir(parents=True, exist_ok=True)
    CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    index = []
    for entry in ENTRIES:
        candidate = build(entry)
        (PACKAGE_DIR / f"{entry.name}.json").write_text(candidate.model_dump_json(indent=1) + "\n")
        CifWriter(candidate.structure).write_file(CONFIG_DIR / f"{entry.name}.cif")
        index.append(
            {
                "name": entry.name,
                "candidate_id": candidate.candidate_id,
                "formula": candidate.formula,
                "structure_type": entry.structure_type,
                "spacegroup": entry.spacegroup,
                "n_atoms": len(candidate.structure),
                "file": f"{entry.name}.json",
                "reference": entry.reference,
            }
        )
    (PACKAGE_DIR / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(
        f"wrote {len(index)} candidates to {PACKAGE_DIR.relative_to(REPO)} and {CONFIG_DIR.relative_to(REPO)}"
    )

    if args.markdown:
        columns = ["name", "formula", "MP id", "structure type", "atoms", "experimental ordering"]
        columns += ["T_C/T_N (K)", "reference"]
        print("\n| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for entry, row in zip(ENTRIES, index, strict=True):
            temperature = (
                "" if entry.transition_temperature_K is None else f"{entry.transition_temperature_K:g}"
            )
            print(
                f"| {row['name']} | {row['formula']} | {entry.mp_id} | {row['structure_type']} | "
                f"{row['n_atoms']} | {entry.experimental_ordering or ''} | {temperature} | "
                f"{entry.reference} |"
            )


if __name__ == "__main__":
    main()
