"""GPAW engine at deliberately low settings (seconds per SCF): bcc Fe orderings, store, checkpoints, CLI.

Low settings (300 eV, 2 k-points per 1/Angstrom = 5x5x5, 0.1 eV smearing) are far from converged,
but the FM / AFM-B2 gap of bcc Fe (about 0.45 eV per atom) is far larger than their error.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from jobflow import run_locally
from maggma.stores import MemoryStore
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.config import StoreConfig
from magscreen.schemas.validation import DFTValidationDoc
from magscreen.store import build_stores
from magscreen.validation.gpaw.makers import (
    GPAWAnisotropyMaker,
    GPAWRelaxMaker,
    GPAWStaticMaker,
    GPAWValidationMaker,
)
from magscreen.validation.gpaw.settings import GPAWSettings
from magscreen.validation.gpaw.textbook import bcc_fe

pytest.importorskip("gpaw")

LOW = GPAWSettings(ecut_eV=300.0, kpoint_density=2.0, smearing_eV=0.1)


def _run(maker, structure, label: str) -> DFTValidationDoc:
    flow_or_job = maker.make(structure, candidate_id="Fe-bcc", ordering_label=label,
                             ordering_fingerprint=f"fp-{label}", model_version="test-model")
    responses = run_locally(flow_or_job, log=False, ensure_success=True)
    last = flow_or_job.jobs[-1] if hasattr(flow_or_job, "jobs") else flow_or_job
    return responses[last.uuid][1].output


@pytest.fixture(scope="module")
def fe_docs(tmp_path_factory) -> dict[str, DFTValidationDoc]:
    workdir = str(tmp_path_factory.mktemp("gpaw-fe"))
    maker = GPAWValidationMaker(static_maker=GPAWStaticMaker(settings=LOW, workdir=workdir))
    docs = {label: _run(maker, bcc_fe(label), label) for label in ("FM", "AFM-B2")}
    docs["workdir"] = workdir
    return docs


def test_bcc_fe_is_ferromagnetic(fe_docs):
    """Stoner ferromagnetism of bcc Fe: FM lies well below the B2 antiferromagnet (PBE: ~0.4 eV/atom)."""
    fm, afm = fe_docs["FM"], fe_docs["AFM-B2"]
    gap = afm.energy_per_magnetic_atom_eV - fm.energy_per_magnetic_atom_eV
    assert gap > 0.1
    fm_moments = np.array(fm.magnetic_moments)[:, 2]
    afm_moments = np.array(afm.magnetic_moments)[:, 2]
    assert np.all((fm_moments > 1.9) & (fm_moments < 2.6))  # ~2.2 mu_B per Fe
    assert afm_moments[0] * afm_moments[1] < 0  # the AFM ordering survived the SCF
    assert fm.total_magnetization == pytest.approx(fm_moments.sum(), abs=0.5)


def test_document_records_engine_and_settings(fe_docs):
    doc = fe_docs["FM"]
    assert doc.engine == "gpaw" and doc.engine_version.count(".") >= 1
    assert doc.calculation == "static"
    assert doc.validation_id == "Fe-bcc:fp-FM:gpaw:static"
    assert doc.settings.functional == "PBE" and doc.settings.hubbard_u_eV == {}
    assert doc.settings.kpoints == [5, 5, 5]
    assert doc.settings.plane_wave_cutoff_eV == 300.0
    assert doc.n_magnetic_atoms == 2 and doc.model_version == "test-model"


def test_documents_round_trip_through_stores(fe_docs, tmp_path):
    docs = [fe_docs["FM"], fe_docs["AFM-B2"]]
    memory = MemoryStore(key="validation_id")
    memory.connect()
    memory.update([d.model_dump(mode="json") for d in docs])
    back = DFTValidationDoc.model_validate(memory.query_one({"ordering_label": "AFM-B2"}))
    assert back.energy_eV == docs[1].energy_eV
    assert back.magnetic_moments == docs[1].magnetic_moments

    stores = build_stores(StoreConfig(kind="embedded", path=tmp_path / "db"))
    stores.validations.update([d.model_dump(mode="json") for d in docs])
    stored = stores.validations.query_one({"validation_id": "Fe-bcc:fp-FM:gpaw:static"})
    back = DFTValidationDoc.model_validate(stored)
    assert back.model_dump(mode="json") == docs[0].model_dump(mode="json")


def test_rerun_reads_the_checkpoint(fe_docs):
    """A second run with the same work directory reads scf.gpw instead of recomputing."""
    maker = GPAWStaticMaker(settings=LOW, workdir=fe_docs["workdir"])
    again = _run(maker, bcc_fe("FM"), "FM")
    assert again.wall_time_s == 0.0
    assert again.energy_eV == pytest.approx(fe_docs["FM"].energy_eV, abs=1e-8)


def test_killed_relaxation_resumes_from_its_trajectory(tmp_path):
    """A relaxation stopped after one step continues: the step count carries over, forces fall."""
    structure = bcc_fe("FM")
    structure.translate_sites([1], [0.02, 0.0, 0.0])
    first = GPAWRelaxMaker(settings=LOW, workdir=str(tmp_path), steps=1, fmax=0.01)
    stopped = _run(first, structure, "FM")
    assert not stopped.converged
    resumed = _run(GPAWRelaxMaker(settings=LOW, workdir=str(tmp_path), steps=4, fmax=0.01),
                   structure, "FM")
    assert resumed.settings.extra["relax_steps"] > stopped.settings.extra["relax_steps"]
    assert resumed.energy_eV < stopped.energy_eV  # relaxation lowers the energy
    # the body-centre atom moves back towards (1/2, 1/2, 1/2)
    stopped_x = stopped.structure["sites"][1]["abc"][0]
    resumed_x = resumed.structure["sites"][1]["abc"][0]
    assert abs(resumed_x - 0.5) < abs(stopped_x - 0.5)


def test_force_theorem_mae_vanishes_between_cubic_axes(tmp_path):
    """Cubic symmetry: in bcc Fe the [100] and [001] magnetisation directions are equivalent, MAE = 0.

    On the 4x4x4 Gamma-centred grid the force theorem keeps this to 1e-8 ueV/atom, while [111]
    differs by ~2 ueV/atom (on 5x5x5 the axes differ by up to 0.7 ueV/atom: see docs/reference.md).
    """
    settings = replace(LOW, kpoint_density=1.5)
    maker = GPAWAnisotropyMaker(settings=settings, workdir=str(tmp_path), extra_directions=[[1, 1, 1]])
    doc = _run(maker, bcc_fe("FM"), "FM")
    assert doc.calculation == "soc_force_theorem" and doc.settings.spin_orbit
    assert doc.settings.kpoints == [4, 4, 4]
    energies = doc.anisotropy_energies_ueV_per_atom
    assert set(energies) == {"0.0000,0.0000,1.0000", "1.0000,0.0000,0.0000", "0.5774,0.5774,0.5774"}
    assert abs(doc.mae_ueV_per_atom) < 0.01
    assert abs(energies["0.5774,0.5774,0.5774"] - energies["0.0000,0.0000,1.0000"]) > 0.1


def test_cli_writes_validation_documents(tmp_path):
    path = tmp_path / "Fe_AFM.json"
    path.write_text(json.dumps(bcc_fe("AFM-B2").as_dict()))
    db = tmp_path / "db"
    result = CliRunner().invoke(app, [
        "validate", "--engine", "gpaw", "--structure", str(path), "--db", str(db), "--candidate", "Fe-demo",
        "--workdir", str(tmp_path / "work"), "--ecut", "300", "--kpoint-density", "2", "--smearing", "0.1",
    ])
    assert result.exit_code == 0, result.output
    docs = list(build_stores(StoreConfig(kind="embedded", path=db)).validations.query({}))
    assert len(docs) == 1
    assert docs[0]["candidate_id"] == "Fe-demo" and docs[0]["ordering_label"] == "Fe_AFM"
    assert docs[0]["magnetic_moments"][0][2] * docs[0]["magnetic_moments"][1][2] < 0


def test_cli_rejects_unknown_engine(tmp_path):
    result = CliRunner().invoke(app, ["validate", "--engine", "abinit", "--candidate", "x",
                                      "--db", str(tmp_path / "db")])
    assert result.exit_code == 1
    assert "--engine" in result.output
