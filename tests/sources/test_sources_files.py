"""Local structure files: CIF, POSCAR, extxyz, folders, and one test per bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ase import Atoms
from ase.io import write
from pymatgen.core import Lattice, Structure

from magscreen.errors import InputError, StructureError
from magscreen.sources import load_structure_files

REPO = Path(__file__).resolve().parents[2]

POSCAR_NIO = """NiO rocksalt primitive
1.0
0.0 2.08855 2.08855
2.08855 0.0 2.08855
2.08855 2.08855 0.0
Ni O
1 1
direct
0.0 0.0 0.0 Ni
{x} 0.5 0.5 O
"""

DISORDERED_CIF = """data_FeCoO
_cell_length_a 4.30
_cell_length_b 4.30
_cell_length_c 4.30
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_symmetry_equiv_pos_as_xyz
'x, y, z'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Fe1 Fe 0.0 0.0 0.0 0.5
Co1 Co 0.0 0.0 0.0 0.5
O1 O 0.5 0.5 0.5 1.0
"""


def test_reads_shipped_cif(tmp_path):
    (candidate,) = load_structure_files(REPO / "configs" / "candidates" / "NiO.cif")
    assert candidate.candidate_id == "NiO" and candidate.formula == "NiO" and candidate.source == "file"
    assert candidate.structure.get_distance(0, 1) == pytest.approx(4.1771 / 2, abs=1e-4)


def test_reads_poscar_extxyz_frames_and_folders(tmp_path):
    (tmp_path / "POSCAR").write_text(POSCAR_NIO.format(x=0.5))
    frames = [
        Atoms("Fe", cell=[2.8665] * 3, pbc=True),
        Atoms(
            "Ni4",
            scaled_positions=[[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
            cell=[3.5238] * 3,
            pbc=True,
        ),
    ]
    frames[1].set_initial_magnetic_moments([0.6] * 4)
    write(tmp_path / "metals.extxyz", frames, format="extxyz")
    (tmp_path / "notes.txt").write_text("ignored in a folder")

    candidates = load_structure_files(tmp_path)
    assert [(c.candidate_id, c.formula, len(c.structure)) for c in candidates] == [
        ("POSCAR", "NiO", 2),
        ("metals-1", "Fe", 1),
        ("metals-2", "Ni", 4),
    ]
    assert candidates[0].reference == str(tmp_path / "POSCAR")
    assert candidates[2].structure.lattice.a == pytest.approx(3.5238)


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "MnO.cif"
    with pytest.raises(InputError, match=f"{re.escape(str(missing))}: file or folder not found"):
        load_structure_files(missing)


def test_unrecognised_format_is_named(tmp_path):
    path = tmp_path / "NiO.txt"
    path.write_text("NiO")
    with pytest.raises(
        InputError, match=f"{re.escape(str(path))}: unrecognised structure file format '.txt'.*expected CIF"
    ):
        load_structure_files(path)


def test_unreadable_cif_is_named(tmp_path):
    path = tmp_path / "broken.cif"
    path.write_text("this is not a CIF\n")
    with pytest.raises(StructureError, match=f"{re.escape(str(path))}: unreadable CIF"):
        load_structure_files(path)


def test_unreadable_poscar_is_named(tmp_path):
    path = tmp_path / "CONTCAR"
    path.write_text("NiO\n1.0\n1 0\n")
    with pytest.raises(StructureError, match=f"{re.escape(str(path))}: unreadable POSCAR"):
        load_structure_files(path)


def test_disordered_cif_is_rejected_with_the_site(tmp_path):
    path = tmp_path / "FeCoO.cif"
    path.write_text(DISORDERED_CIF)
    with pytest.raises(
        StructureError,
        match=f"{re.escape(str(path))}: occupancy: disordered structure: partial occupancies on "
        r"site\(s\) 1 \(Fe0.5 Co0.5\).*expected an ordered structure",
    ):
        load_structure_files(path)


def test_nan_coordinates_in_poscar_are_named(tmp_path):
    path = tmp_path / "NiO.vasp"
    path.write_text(POSCAR_NIO.format(x="nan"))
    with pytest.raises(
        StructureError,
        match=rf"{re.escape(str(path))}: coordinates: coordinates of site\(s\) 2 are NaN or infinite",
    ):
        load_structure_files(path)


def test_structure_without_magnetic_atoms_is_named(tmp_path):
    path = tmp_path / "MgO.cif"
    Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.212), ["Mg", "O"], [[0, 0, 0], [0.5] * 3]).to(
        str(path)
    )
    with pytest.raises(StructureError, match=f"{re.escape(str(path))}: species: no magnetic element in MgO"):
        load_structure_files(path)
    assert load_structure_files(path, require_magnetic=False)[0].formula == "MgO"


def test_extxyz_without_cell_is_named(tmp_path):
    path = tmp_path / "molecule.xyz"
    write(path, Atoms("Fe2", positions=[[0, 0, 0], [0, 0, 2.0]]), format="extxyz")
    with pytest.raises(
        StructureError, match=f"{re.escape(str(path))}: Lattice: frame 1 has no periodic cell"
    ):
        load_structure_files(path)


def test_empty_folder_and_clashing_stems_are_named(tmp_path):
    with pytest.raises(InputError, match=f"{re.escape(str(tmp_path))}: folder holds no structure files"):
        load_structure_files(tmp_path)
    (tmp_path / "NiO.vasp").write_text(POSCAR_NIO.format(x=0.5))
    (tmp_path / "NiO.cif").write_text((REPO / "configs" / "candidates" / "NiO.cif").read_text())
    with pytest.raises(
        InputError, match=f"{re.escape(str(tmp_path))}: several files give the candidate id\\(s\\) NiO"
    ):
        load_structure_files(tmp_path)


def test_pymatgen_json_keeps_its_moments(tmp_path):
    """``magscreen orderings --write`` output (pymatgen JSON) reads back with its magmom property."""
    sites = [[0, 0, 0], [0.5, 0.5, 0.5]]
    structure = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], sites, site_properties={"magmom": [2.2, -2.2]})
    path = tmp_path / "Fe_AFM.json"
    path.write_text(structure.to_json())
    (candidate,) = load_structure_files(path)
    assert candidate.candidate_id == "Fe_AFM"
    assert candidate.structure.site_properties["magmom"] == [2.2, -2.2]
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    with pytest.raises(StructureError, match="unreadable pymatgen JSON"):
        load_structure_files(bad)
