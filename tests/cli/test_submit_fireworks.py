"""The demo campaign, restricted to NiO, run by FireWorks against MongoDB with VASP validation.

What a cluster run does, end to end, with two stand-ins: the ML potential is the toy Heisenberg
calculator (J1 = +1 meV, J2 = -10 meV: AFM-II is the ground state of rocksalt NiO by bond
counting, see tests/flows/test_heisenberg_campaign.py), and VASP is mocked in atomate2's
pattern (INCAR checked against the reference set, reference outputs copied). The atomate2 jobs do
not exist when the workflow is submitted: the campaign's summary job adds them to the LaunchPad
for the best candidate, FireWorks runs them, and their documents land next to the ML ranking.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import atomate2.vasp.jobs.base
import numpy as np
import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from fireworks import FWorker, LaunchPad
from fireworks.core.rocket_launcher import rapidfire
from jobflow import CURRENT_JOB
from pymatgen.io.vasp import Incar, Poscar

from magscreen.cli import submit
from magscreen.config import CandidateFilters, StoreConfig, ValidateConfig, load_config
from magscreen.schemas import CandidateDoc, DFTValidationDoc
from magscreen.screening.settings import RelaxSettings
from magscreen.store import build_stores

ROOT = Path(__file__).resolve().parents[2]
VASP_DATA = ROOT / "tests" / "validation" / "vasp" / "test_data"
HEISENBERG = "heisenberg:1,-10"  # J1, J2 in meV per pair


def test_fireworks_campaign_adds_and_runs_atomate2_vasp_jobs(mongodb_uri, monkeypatch, tmp_path):
    demo = ROOT / "configs" / "demo.yaml"
    if not demo.is_file():
        pytest.skip("configs/demo.yaml is not there")
    database = f"magscreen_{uuid.uuid4().hex[:8]}"
    config = load_config(demo)
    config = config.model_copy(
        update={
            "candidates": config.candidates.model_copy(update={"filters": CandidateFilters(names=["NiO"])}),
            "relax": RelaxSettings(calculator=HEISENBERG, relax_positions=False, relax_cell=False),
            "validate_": ValidateConfig(engine="vasp", top_n=1, orderings_per_candidate=1),
            "store": StoreConfig(kind="mongodb", uri=mongodb_uri, database=database, timeout_s=5),
        }
    )
    workflow = submit.campaign_workflow(config)
    assert not any("vasp" in fw.name for fw in workflow.fws)  # added at run time, by the summary

    launchpad = LaunchPad(host=mongodb_uri, uri_mode=True, name=f"{database}_fw", strm_lvl="ERROR")
    launchpad.reset("", require_password=False)
    launchpad.add_wf(workflow)

    monkeypatch.chdir(tmp_path)
    register = next(monkeypatch_vasp(monkeypatch, VASP_DATA))
    written: dict[str, tuple[Incar, Poscar]] = {}
    mocked_run = atomate2.vasp.jobs.base.run_vasp

    def capture_then_run(*args, **kwargs) -> None:
        written[CURRENT_JOB.job.name] = (Incar.from_file("INCAR"), Poscar.from_file("POSCAR"))
        mocked_run(*args, **kwargs)

    monkeypatch.setattr(atomate2.vasp.jobs.base, "run_vasp", capture_then_run)
    # the campaign's relaxed cell is not the reference POSCAR: compare the INCAR tags that do not
    # depend on the cell, and check MAGMOM against the campaign's own POSCAR below
    static = "mp-19009 AFM-II vasp static"
    tags = ["ISPIN", "LDAU", "LDAUU", "LDAUL", "LDAUJ", "LDAUTYPE", "ENCUT", "EDIFF", "LMAXMIX", "NSW"]
    register({static: "nio_afm2_static"}, {static: {"check_inputs": ["incar"], "incar_settings": tags}})

    rapidfire(launchpad, FWorker(), strm_lvl="ERROR")

    states = {}
    for fw_id in launchpad.get_fw_ids():
        fw = launchpad.get_fw_by_id(fw_id)
        states[fw.name] = fw.state
    assert set(states.values()) == {"COMPLETED"}, states
    assert static in states  # the atomate2 job went through the LaunchPad

    incar, poscar = written[static]
    species = [site.specie.symbol for site in poscar.structure]
    moments = np.array(incar["MAGMOM"])
    assert species == sorted(species, key=["Ni", "O"].index)  # POSCAR grouped as Ni, O
    ni = moments[np.array(species) == "Ni"]
    assert len(ni) == 2 and ni[0] == -ni[1] != 0  # AFM-II cell: one Ni up, one down
    assert np.all(moments[np.array(species) == "O"] == 0)

    stores = build_stores(config.store)
    candidate = CandidateDoc.model_validate(stores.candidates.query_one({"candidate_id": "mp-19009"}))
    assert candidate.ground_state_label == "AFM-II"
    raw = stores.validations.query_one({"candidate_id": "mp-19009"})
    validation = DFTValidationDoc.model_validate({k: v for k, v in raw.items() if k != "_id"})
    assert validation.ordering_fingerprint == candidate.ground_state_fingerprint
    assert validation.model_version == candidate.model_version
    assert stores.campaigns.query_one({"name": config.name})["n_validations_computed"] == 1
    stores.close()
