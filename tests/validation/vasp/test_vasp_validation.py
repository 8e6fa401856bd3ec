"""VaspValidationMaker with VASP mocked: inputs it writes, documents it parses, store it fills."""

from __future__ import annotations

import numpy as np
import pytest
from jobflow import run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Kpoints, Vasprun
from pymatgen.io.vasp.sets import MPRelaxSet
from validation_structures import NIO_A, TEST_DATA, fept_l10, nio_afm2

from magscreen.errors import InputError, StructureError
from magscreen.magnetism import enumerate_collinear
from magscreen.schemas.validation import DFTValidationDoc
from magscreen.validation.vasp import VaspValidationMaker, force_theorem_anisotropy, vasp_site_order

NIO_STATIC = "nio-test AFM-II vasp static"
FEPT_SCF = "fept-test FM vasp static"
C_AXIS, A_AXIS = "0.0000,0.0000,1.0000", "1.0000,0.0000,0.0000"  # FePt: c along z, a along x
FEPT_SOC = {C_AXIS: f"fept-test FM vasp soc saxis={C_AXIS}", A_AXIS: f"fept-test FM vasp soc saxis={A_AXIS}"}


def _run(flow) -> DFTValidationDoc:
    from jobflow import JobStore

    responses = run_locally(flow, create_folders=True, ensure_success=True, store=JobStore(MemoryStore()))
    return responses[flow.output.uuid][1].output


def _final_energy(run: str) -> float:
    return Vasprun(str(TEST_DATA / run / "outputs" / "vasprun.xml"), parse_dos=False).final_energy


@pytest.fixture
def nio_document(mock_vasp, written_inputs) -> tuple[DFTValidationDoc, dict]:
    structure = nio_afm2()
    flow = VaspValidationMaker().make(
        structure, candidate_id="nio-test", ordering_label="AFM-II", ordering_fingerprint="nio-afm2"
    )
    mock_vasp({NIO_STATIC: "nio_afm2_static"})
    return _run(flow), written_inputs


@pytest.fixture
def fept_document(mock_vasp, written_inputs) -> tuple[DFTValidationDoc, dict]:
    flow = VaspValidationMaker(anisotropy=True).make(
        fept_l10(),
        candidate_id="fept-test",
        ordering_label="FM",
        ordering_fingerprint="fept-fm",
        model_version="test-model",
    )
    mock_vasp(
        {
            FEPT_SCF: "fept_soc/scf",
            FEPT_SOC[C_AXIS]: "fept_soc/soc_001",
            FEPT_SOC[A_AXIS]: "fept_soc/soc_100",
        }
    )
    return _run(flow), written_inputs


def test_nio_afm2_incar_follows_the_ordering_site_by_site(nio_document):
    """MAGMOM[j] is the ordering moment of POSCAR site j; Ni moments alternate between (111) planes."""
    _, inputs = nio_document
    written = inputs[NIO_STATIC]
    incar, poscar = written["incar"], written["poscar"]
    ordering = nio_afm2()
    order = vasp_site_order(ordering)
    expected = [ordering.site_properties["magmom"][i] for i in order]
    assert incar["MAGMOM"] == pytest.approx(expected)
    assert [s.specie.symbol for s in poscar.structure] == ["Ni", "Ni", "O", "O"]
    for site, moment in zip(poscar.structure, incar["MAGMOM"], strict=True):
        if site.specie.symbol == "Ni":
            plane = round(2 * site.coords.sum() / NIO_A) // 2  # (111) plane index of the fcc site
            assert np.sign(moment) == (-1) ** plane * np.sign(incar["MAGMOM"][0])
        else:
            assert moment == 0.0
    assert incar["ISPIN"] == 2
    assert "LSORBIT" not in incar and "LNONCOLLINEAR" not in incar


def test_nio_gets_the_materials_project_hubbard_u_on_ni_d(nio_document):
    """GGA+U where MP applies it: U(Ni) on the Ni d shell (LDAUL = 2) in oxides, none on O."""
    _, inputs = nio_document
    incar = inputs[NIO_STATIC]["incar"]
    u_ni = MPRelaxSet.CONFIG["INCAR"]["LDAUU"]["O"]["Ni"]
    assert incar["LDAU"] is True
    assert incar["LDAUU"] == [u_ni, 0] and incar["LDAUL"] == [2, 0]
    assert inputs[NIO_STATIC]["potcar"] == ["Ni_pv", "O"]


def test_nio_kpoints_are_the_reference_grid(nio_document):
    _, inputs = nio_document
    reference = Kpoints.from_file(TEST_DATA / "nio_afm2_static" / "inputs" / "KPOINTS")
    written = inputs[NIO_STATIC]["kpoints"]
    assert written.style == reference.style and list(written.kpts[0]) == list(reference.kpts[0])


def test_nio_document_reports_results_in_ordering_site_order(nio_document):
    doc, _ = nio_document
    ordering = nio_afm2()
    assert doc.engine == "vasp" and doc.calculation == "static"
    assert doc.validation_id == "nio-test:nio-afm2:vasp:static"
    assert doc.energy_eV == pytest.approx(_final_energy("nio_afm2_static"))
    assert doc.energy_per_magnetic_atom_eV == pytest.approx(doc.energy_eV / 2)
    assert doc.settings.hubbard_u_eV == {"Ni": 6.2} and doc.settings.functional == "PBE"
    assert doc.settings.plane_wave_cutoff_eV == 520.0
    assert doc.n_atoms == 4 and doc.n_magnetic_atoms == 2
    symbols = [site["species"][0]["element"] for site in doc.structure["sites"]]
    assert symbols == [site.specie.symbol for site in ordering]
    z = np.array(doc.magnetic_moments)[:, 2]
    assert np.sign(z) == pytest.approx(np.sign(ordering.site_properties["magmom"]))
    assert doc.total_magnetization == pytest.approx(0.0, abs=1e-6)  # antiferromagnet


def test_fept_scf_is_collinear_and_writes_the_charge_density(fept_document):
    _, inputs = fept_document
    incar = inputs[FEPT_SCF]["incar"]
    assert incar["ISPIN"] == 2 and incar["LCHARG"] is True
    assert incar["MAGMOM"] == pytest.approx([3.0, 0.4])
    assert "LSORBIT" not in incar and "ICHARG" not in incar
    reference = Kpoints.from_file(TEST_DATA / "fept_soc" / "scf" / "inputs" / "KPOINTS")
    assert list(inputs[FEPT_SCF]["kpoints"].kpts[0]) == list(reference.kpts[0])


def test_fept_soc_runs_are_non_self_consistent_along_saxis(fept_document):
    """Force theorem: ICHARG = 11 at the SCF density, LSORBIT, SAXIS = direction, MAGMOM = (0, 0, m)."""
    _, inputs = fept_document
    scf = inputs[FEPT_SCF]["incar"]
    scf_bands = Vasprun(str(TEST_DATA / "fept_soc/scf/outputs/vasprun.xml"), parse_dos=False).parameters[
        "NBANDS"
    ]
    meshes = set()
    for key, name in FEPT_SOC.items():
        incar = inputs[name]["incar"]
        assert incar["LSORBIT"] is True
        assert incar["ICHARG"] == 11
        assert incar["ISYM"] == -1
        assert incar["SAXIS"] == [float(x) for x in key.split(",")]
        np.testing.assert_allclose(incar["MAGMOM"], [[0, 0, 3.0], [0, 0, 0.4]])
        assert incar["NBANDS"] == 2 * scf_bands  # spinors: twice the bands of one spin channel
        assert incar["LMAXMIX"] == scf["LMAXMIX"] == 6  # same density mixing as the SCF (Pt has f-like LMAX)
        assert incar["LCHARG"] is False  # the collinear density must not be overwritten
        meshes.add(tuple(inputs[name]["kpoints"].kpts[0]))
    assert len(meshes) == 1  # energy differences between directions need one k-mesh
    reference = Kpoints.from_file(TEST_DATA / "fept_soc" / "soc_001" / "inputs" / "KPOINTS")
    assert meshes == {tuple(reference.kpts[0])}


def test_fept_mae_is_parsed_with_easy_axis_c(fept_document):
    """MAE = E[100] - E[001] per atom, in micro-eV; positive means easy axis c."""
    doc, _ = fept_document
    e001, e100 = _final_energy("fept_soc/soc_001"), _final_energy("fept_soc/soc_100")
    assert doc.calculation == "soc_force_theorem"
    assert doc.mae_ueV_per_atom == pytest.approx((e100 - e001) / 2 * 1e6)
    assert doc.mae_ueV_per_atom > 0 and doc.easy_axis == pytest.approx([0, 0, 1])
    assert doc.anisotropy_energies_ueV_per_atom[C_AXIS] == 0.0
    assert doc.settings.spin_orbit is True and doc.settings.extra["ICHARG"] == 11
    assert doc.energy_eV == pytest.approx(_final_energy("fept_soc/scf"))
    assert doc.model_version == "test-model"


def test_force_theorem_sign_convention():
    """MAE = E[a] - E[c] per atom: an in-plane easy axis gives a negative MAE."""
    c, a = "0.0000,0.0000,1.0000", "1.0000,0.0000,0.0000"
    relative, mae, axis = force_theorem_anisotropy({c: -10.0000, a: -10.0006}, n_atoms=3, c_key=c, a_key=a)
    assert mae == pytest.approx(-200.0)
    assert axis == pytest.approx([1, 0, 0])
    assert relative == pytest.approx({c: 200.0, a: 0.0})


def test_soc_directions_follow_the_lattice_not_the_cartesian_axes():
    """[001] is c and [100] lies in the a-c plane, also when c is not along z (GPAW's convention)."""
    structure = fept_l10()
    rotated = Structure(
        Lattice(structure.lattice.matrix[[2, 0, 1]]),
        structure.species,
        structure.frac_coords[:, [2, 0, 1]],
        site_properties=structure.site_properties,
    )  # c along y now
    flow = VaspValidationMaker(anisotropy=True).make(
        rotated, candidate_id="x", ordering_label="FM", ordering_fingerprint="f"
    )
    saxes = [job.name.split("saxis=")[1] for job in flow.jobs if "saxis=" in job.name]
    assert saxes == ["0.0000,1.0000,0.0000", "0.0000,0.0000,1.0000"]


def test_noncollinear_ordering_gets_three_vector_magmom():
    structure = nio_afm2()
    structure.add_site_property("magmom", [[0, 0, 2.0], [0, 0, 0], [2.0, 0, 0], [0, 0, 0]])  # 90 degrees
    flow = VaspValidationMaker().make(
        structure, candidate_id="nio-test", ordering_label="canted", ordering_fingerprint="nc"
    )
    run = flow.jobs[0]
    maker, (vasp_input,) = run.function.__self__, run.function_args
    incar = maker.input_set_generator.get_input_set(vasp_input, potcar_spec=True).incar
    assert incar["LNONCOLLINEAR"] is True and incar["ISYM"] == -1
    order = vasp_site_order(structure)
    np.testing.assert_allclose(incar["MAGMOM"], np.array(structure.site_properties["magmom"])[order])


def test_collinear_vectors_are_sent_as_signed_floats():
    """Moments along a common axis (here x) are collinear: VASP gets signed magnitudes, ISPIN = 2."""
    structure = nio_afm2()
    structure.add_site_property("magmom", [[2.0, 0, 0], [0, 0, 0], [-2.0, 0, 0], [0, 0, 0]])
    run = (
        VaspValidationMaker()
        .make(structure, candidate_id="c", ordering_label="AFM-II", ordering_fingerprint="f")
        .jobs[0]
    )
    assert run.function_args[0].site_properties["magmom"] == [2.0, -2.0, 0.0, 0.0]


def test_bad_requests_name_the_field():
    structure = nio_afm2()
    structure.remove_site_property("magmom")
    with pytest.raises(StructureError, match="magmom"):
        VaspValidationMaker().make(structure, candidate_id="c", ordering_label="FM", ordering_fingerprint="f")
    with pytest.raises(InputError, match="validate.settings"):
        VaspValidationMaker(anisotropy=True, relax=True)


def test_anisotropy_leaves_noncollinear_orderings_to_the_noncollinear_static():
    canted = nio_afm2()
    canted.add_site_property("magmom", [[0, 0, 2.0], [0, 0, 0], [2.0, 0, 0], [0, 0, 0]])
    flow = VaspValidationMaker(anisotropy=True).make(
        canted, candidate_id="c", ordering_label="canted", ordering_fingerprint="f"
    )
    assert [job.name for job in flow.jobs] == [
        "c canted vasp noncollinear static",
        "c canted vasp validation document",
    ]


def test_collinear_moments_are_reported_along_the_ordering_spin_axis(mock_vasp):
    """An ordering given along x runs as signed MAGMOM; the parsed moments point along x again."""
    structure = nio_afm2()
    structure.add_site_property("magmom", [[2.0, 0, 0], [0, 0, 0], [-2.0, 0, 0], [0, 0, 0]])
    flow = VaspValidationMaker().make(
        structure, candidate_id="nio-test", ordering_label="AFM-II", ordering_fingerprint="nio-afm2"
    )
    mock_vasp({NIO_STATIC: "nio_afm2_static"})
    moments = np.array(_run(flow).magnetic_moments)
    assert moments[:, 1:] == pytest.approx(0.0)
    assert np.sign(moments[:, 0]) == pytest.approx([1, 0, -1, 0])


def test_enumerated_nio_afm2_reaches_vasp_as_afm2():
    """The AFM-II ordering of magscreen.magnetism, as VASP gets it (POSCAR + MAGMOM), is AFM-II:
    of each Ni's 12 nearest Ni neighbours 6 are antiparallel, and all 6 next-nearest are."""
    rocksalt = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(NIO_A), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    afm2 = next(
        o for o in enumerate_collinear(rocksalt, max_magnetic_atoms=2).orderings if o.label == "AFM-II"
    )
    run = (
        VaspValidationMaker()
        .make(
            afm2.structure,
            candidate_id="NiO",
            ordering_label=afm2.label,
            ordering_fingerprint=afm2.fingerprint,
        )
        .jobs[0]
    )
    maker, (vasp_input,) = run.function.__self__, run.function_args
    written = maker.input_set_generator.get_input_set(vasp_input, potcar_spec=True)
    cell, magmom = written.poscar.structure, written.incar["MAGMOM"]
    nearest, next_nearest = NIO_A / np.sqrt(2), NIO_A
    for i, site in enumerate(cell):
        if site.specie.symbol != "Ni":
            continue
        shells = {nearest: [], next_nearest: []}
        for neighbour in cell.get_neighbors(site, next_nearest + 0.1):
            if neighbour.specie.symbol == "Ni":
                shell = min(shells, key=lambda d: abs(d - neighbour.nn_distance))
                shells[shell].append(np.sign(magmom[i] * magmom[neighbour.index]))
        assert sorted(shells[nearest]) == [-1] * 6 + [1] * 6
        assert shells[next_nearest] == [-1] * 6
