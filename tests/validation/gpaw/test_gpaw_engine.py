"""GPAW engine at deliberately low settings (seconds per SCF): bcc Fe orderings, store, checkpoints, CLI.

Low settings (300 eV, 2 k-points per 1/Angstrom = 5x5x5, 0.1 eV smearing) are far from converged,
but the FM / AFM-B2 gap of bcc Fe (about 0.45 eV per atom) is far larger than their error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
from ase.io import read
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
    flow_or_job = maker.make(
        structure,
        candidate_id="Fe-bcc",
        ordering_label=label,
        ordering_fingerprint=f"fp-{label}",
        model_version="test-model",
    )
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


#: Child process: the relaxation of ``_displaced_fe`` at LOW settings in the work directory argv[1].
RELAX = """
import sys
from jobflow import run_locally
from magscreen.validation.gpaw.makers import GPAWRelaxMaker
from magscreen.validation.gpaw.settings import GPAWSettings
from magscreen.validation.gpaw.textbook import bcc_fe

structure = bcc_fe("FM")
structure.translate_sites([1], [0.02, 0.0, 0.0])
settings = GPAWSettings(ecut_eV=300.0, kpoint_density=2.0, smearing_eV=0.1)
maker = GPAWRelaxMaker(settings=settings, workdir=sys.argv[1], steps=2, fmax=0.01)
run_locally(maker.make(structure, candidate_id="Fe-bcc", ordering_label="FM", ordering_fingerprint="fp-FM",
                       model_version="test-model"), log=False, ensure_success=True)
"""


def test_sigkilled_relaxation_resumes_and_matches_uninterrupted(tmp_path):
    """SIGKILL a relaxation in the SCF of its second ionic step, rerun it: it continues from the
    trajectory and the optimizer's saved state and ends where an uninterrupted relaxation ends."""
    structure = bcc_fe("FM")
    structure.translate_sites([1], [0.02, 0.0, 0.0])
    settings = dict(settings=LOW, steps=2, fmax=0.01)
    straight = _run(GPAWRelaxMaker(workdir=str(tmp_path / "straight"), **settings), structure, "FM")
    assert not straight.converged and straight.settings.extra["relax_steps"] == 2

    workdir = tmp_path / "killed"
    log = tmp_path / "child.log"
    with log.open("w") as output:
        child = subprocess.Popen(
            [sys.executable, "-c", RELAX, str(workdir)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        deadline = time.monotonic() + 600
        state = None
        while child.poll() is None and time.monotonic() < deadline:
            states = list(workdir.glob("*/relax_state.json"))
            if states and json.loads(states[0].read_text() or '{"steps": 0}')["steps"] >= 1:
                state = states[0]
                break
            time.sleep(0.1)
        alive = child.poll() is None
        child.kill()  # SIGKILL, during the SCF after the first ionic step
        child.wait()
    assert alive and state is not None, f"relaxation not caught mid-run: {log.read_text()[-2000:]}"
    assert json.loads(state.read_text())["steps"] == 1
    assert len(read(str(state.parent / "relax.traj"), index=":")) == 2  # initial and first step

    resumed = _run(GPAWRelaxMaker(workdir=str(workdir), **settings), structure, "FM")
    assert resumed.settings.extra["relax_steps"] == 2  # one before the kill, one after
    assert resumed.energy_eV == pytest.approx(straight.energy_eV, abs=1e-3)
    np.testing.assert_allclose(
        [site["xyz"] for site in resumed.structure["sites"]],
        [site["xyz"] for site in straight.structure["sites"]],
        atol=1e-3,
    )
    # the body-centre atom has moved back towards (1/2, 1/2, 1/2)
    assert abs(resumed.structure["sites"][1]["abc"][0] - 0.5) < 0.02


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
    result = CliRunner().invoke(
        app,
        [
            "validate",
            "--engine",
            "gpaw",
            "--structure",
            str(path),
            "--db",
            str(db),
            "--candidate",
            "Fe-demo",
            "--workdir",
            str(tmp_path / "work"),
            "--ecut",
            "300",
            "--kpoint-density",
            "2",
            "--smearing",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    docs = list(build_stores(StoreConfig(kind="embedded", path=db)).validations.query({}))
    assert len(docs) == 1
    assert docs[0]["candidate_id"] == "Fe-demo" and docs[0]["ordering_label"] == "Fe_AFM"
    assert docs[0]["magnetic_moments"][0][2] * docs[0]["magnetic_moments"][1][2] < 0


def test_cli_rejects_unknown_engine(tmp_path):
    result = CliRunner().invoke(
        app, ["validate", "--engine", "abinit", "--candidate", "x", "--db", str(tmp_path / "db")]
    )
    assert result.exit_code == 1
    assert "--engine" in result.output
