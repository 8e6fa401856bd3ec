"""The offline candidate snapshot: content, crystallography against handbook values, filters."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from monty.json import MontyDecoder, MontyEncoder
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

import magscreen
from magscreen.errors import InputError
from magscreen.sources import (
    MAGNETIC_ELEMENTS,
    Candidate,
    default_snapshot_dir,
    load_snapshot,
    load_structure_files,
)

REPO = Path(__file__).resolve().parents[2]

# International Tables number of each structure type's space group
SPACEGROUP_OF_TYPE = {
    "rocksalt (B1)": 225,
    "rutile (C4)": 136,
    "bcc (A2)": 229,
    "fcc (A1)": 225,
    "hcp (A3)": 194,
    "CuAu (L1_0)": 123,
    "CsCl (B2)": 221,
    "corundum": 167,
    "NiAs (B8_1)": 194,
    "CaCu5 (D2_d)": 191,
}

# Room-temperature X-ray densities (g/cm^3), CRC Handbook of Chemistry and Physics.
HANDBOOK_DENSITY = {"Fe": 7.874, "Ni": 8.908, "Cr": 7.19, "Fe2O3": 5.26, "Cr2O3": 5.22}


@pytest.fixture(scope="module")
def snapshot() -> list[Candidate]:
    return load_snapshot()


def test_snapshot_has_the_issue_compounds_ordered_and_magnetic(snapshot):
    formulas = {c.formula for c in snapshot}
    required = {
        "MnO",
        "FeO",
        "CoO",
        "NiO",
        "MnF2",
        "FeF2",
        "CoF2",
        "NiF2",
        "Fe",
        "Cr",
        "Ni",
        "Co",
        "FePt",
        "CoPt",
        "MnPt",
        "FeRh",
        "CrN",
        "Cr2O3",
        "Fe2O3",
        "MnBi",
        "YCo5",
    }
    assert len(snapshot) >= 20
    assert required <= formulas
    for candidate in snapshot:
        assert candidate.source == "snapshot"
        assert candidate.structure.is_ordered, candidate.candidate_id
        assert candidate.magnetic_elements, candidate.candidate_id
        assert candidate.reference, candidate.candidate_id
    assert len({c.candidate_id for c in snapshot}) == len(snapshot)


def test_cells_are_primitive_and_have_the_space_group_of_their_structure_type(snapshot):
    """Crystallography: each structure has the space group of its type, in the smallest cell."""
    for candidate in snapshot:
        analyzer = SpacegroupAnalyzer(candidate.structure, symprec=1e-3)
        assert analyzer.get_space_group_number() == SPACEGROUP_OF_TYPE[candidate.structure_type], (
            candidate.formula
        )
        assert len(analyzer.find_primitive()) == len(candidate.structure), candidate.formula


def test_densities_match_handbook_values(snapshot):
    """Mass / cell volume reproduces the handbook density to 1.5 %: lattice and Wyckoff sites are right."""
    by_formula = {c.formula: c for c in snapshot}
    for formula, density in HANDBOOK_DENSITY.items():
        assert by_formula[formula].structure.density == pytest.approx(density, rel=0.015), formula


def test_rocksalt_monoxide_bond_is_half_the_cubic_parameter(snapshot):
    """NiO: Ni-O nearest-neighbour distance is a/2 with a = 4.1771 Angstrom (Sasaki et al. 1979)."""
    nio = next(c for c in snapshot if c.formula == "NiO")
    assert nio.candidate_id == "mp-19009"
    assert len(nio.structure) == 2
    assert nio.structure.get_distance(0, 1) == pytest.approx(4.1771 / 2, abs=1e-4)


def test_experimental_metadata_matches_design_reference_numbers(snapshot):
    """Curie / Neel temperatures quoted in DESIGN.md: Fe 1043 K, Co 1388 K, Ni 627 K, NiO 523 K, MnO 118 K."""
    temperatures = {c.formula: c.transition_temperature_K for c in snapshot}
    assert temperatures["Fe"] == 1043 and temperatures["Co"] == 1388 and temperatures["Ni"] == 627
    assert temperatures["NiO"] == 523 and temperatures["MnO"] == 118
    assert {c.experimental_ordering for c in snapshot if c.formula in ("MnO", "FeO", "CoO", "NiO")} == {
        "AFM-II"
    }


def test_filters_by_elements_size_and_name(snapshot):
    iron_oxides = load_snapshot(elements=["Fe", "O"])
    assert sorted(c.formula for c in iron_oxides) == ["Fe2O3", "FeO"]
    small = load_snapshot(max_atoms=2)
    assert small and all(c.n_atoms <= 2 for c in small)
    assert len(small) < len(snapshot)
    chosen = load_snapshot(names=["Fe-bcc", "mp-19009", "MnBi"])
    assert [c.formula for c in chosen] == ["NiO", "Fe", "MnBi"]  # index order
    assert load_snapshot(elements=["Fe"], max_atoms=1, names=["Fe", "FeO"])[0].formula == "Fe"


def test_unknown_name_is_an_error_that_lists_the_known_ones():
    with pytest.raises(InputError, match=r"names: unknown candidate name\(s\) Unobtainium.*NiO"):
        load_snapshot(names=["NiO", "Unobtainium"])


def test_snapshot_path_may_be_the_folder_or_its_index(snapshot):
    folder = default_snapshot_dir()
    from_index = load_snapshot(folder / "index.json")
    assert [c.candidate_id for c in from_index] == [c.candidate_id for c in snapshot]
    assert len(load_snapshot(folder, names=["NiO"])) == 1


def test_bad_element_symbol_is_named():
    with pytest.raises(
        InputError, match=r"elements: not element symbols: fe, Iron \(expected element symbols"
    ):
        load_snapshot(elements=["fe", "Iron", "O"])


def test_missing_snapshot_folder_is_named(tmp_path):
    with pytest.raises(InputError, match=re.escape(str(tmp_path / "index.json"))):
        load_snapshot(tmp_path)


def test_snapshot_ships_inside_the_package_and_cif_copies_agree(snapshot):
    """One source of truth: the build script writes the package JSON and the configs/ CIFs together."""
    folder = default_snapshot_dir()
    assert folder.is_relative_to(Path(magscreen.__file__).parent)  # package data, found when installed
    index = json.loads((folder / "index.json").read_text())
    cifs = {c.candidate_id: c for c in load_structure_files(REPO / "configs" / "candidates")}
    assert set(cifs) == {row["name"] for row in index}
    matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False)
    for row, candidate in zip(index, snapshot, strict=True):
        assert matcher.fit(cifs[row["name"]].structure, candidate.structure), row["name"]


def test_candidate_round_trips_through_jobflow_serialisation(snapshot):
    """jobflow stores outputs with MontyEncoder and reads them back with MontyDecoder."""
    candidate = snapshot[0]
    back = json.loads(json.dumps(candidate, cls=MontyEncoder), cls=MontyDecoder)
    assert isinstance(back, Candidate)
    assert back.structure == candidate.structure
    assert back.model_dump() == candidate.model_dump()
    assert Candidate.model_validate_json(candidate.model_dump_json()) == candidate


def test_magnetic_elements_cover_3d_and_4f_but_not_oxygen():
    assert {"Mn", "Fe", "Co", "Ni", "Cr", "Gd"} <= MAGNETIC_ELEMENTS
    assert not {"O", "F", "N", "Pt", "Y", "Bi"} & MAGNETIC_ELEMENTS


@pytest.mark.filterwarnings("ignore:cd is deprecated:FutureWarning")
def test_candidate_passes_between_jobflow_jobs_as_a_candidate(tmp_path):
    """The flow hands a Candidate from one job to the next through a (memory) JobStore."""
    from jobflow import Flow, JobStore, job, run_locally
    from maggma.stores import MemoryStore

    @job
    def pick(name: str) -> Candidate:
        return load_snapshot(names=[name])[0]

    @job
    def describe(candidate: Candidate) -> list:
        assert isinstance(candidate, Candidate)
        return [candidate.formula, candidate.n_atoms, candidate.structure.is_ordered]

    first = pick("Fe2O3")
    second = describe(first.output)
    responses = run_locally(
        Flow([first, second]), store=JobStore(MemoryStore()), log=False, root_dir=tmp_path
    )
    assert responses[second.uuid][1].output == ["Fe2O3", 10, True]


@pytest.mark.parametrize(("formula", "short", "long"), [("Fe2O3", 1.945, 2.116), ("Cr2O3", 1.965, 2.016)])
def test_corundum_octahedra_have_three_short_and_three_long_bonds(snapshot, formula, short, long):
    """Corundum: each cation has 3 short + 3 long cation-O bonds (hematite 1.945/2.116 Angstrom,
    eskolaite 1.965/2.016 Angstrom in the refined structures), which fixes z(12c) and x(18e)."""
    structure = next(c for c in snapshot if c.formula == formula).structure
    cation = next(site for site in structure if site.specie.symbol != "O")
    bonds = sorted(n.nn_distance for n in structure.get_neighbors(cation, 2.4))
    assert len(bonds) == 6
    assert bonds[:3] == pytest.approx([short] * 3, abs=0.01)
    assert bonds[3:] == pytest.approx([long] * 3, abs=0.01)
