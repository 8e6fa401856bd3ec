"""Cluster path over a real MongoDB wire connection: campaign stores, FireWorks, atomate2 (VASP mocked).

The server is CongoDB (see conftest.py); pymongo talks to it over TCP exactly as it would to
mongod on a cluster.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from fireworks import FWorker, LaunchPad
from fireworks.core.rocket_launcher import rapidfire
from jobflow import Flow
from jobflow.managers.fireworks import flow_to_workflow
from maggma.stores import MongoStore, MongoURIStore
from pymatgen.core import Lattice, Structure

from magscreen.config import StoreConfig
from magscreen.flows.summary import save_validation
from magscreen.schemas import DFTValidationDoc
from magscreen.store import build_stores
from magscreen.validation.vasp import VaspValidationMaker

VASP_DATA = Path(__file__).resolve().parents[1] / "validation" / "vasp" / "test_data"


def _nio_afm2() -> Structure:
    """The rhombohedral 4-atom NiO AFM-II cell of tests/validation (a = 4.17 Angstrom)."""
    a = 4.17
    lattice = Lattice([[a, a / 2, a / 2], [a / 2, a, a / 2], [a / 2, a / 2, a]])
    cart = [[0, 0, 0], [a / 2, 0, 0], [a / 2, a / 2, 0], [a / 2, a / 2, a / 2]]
    structure = Structure(lattice, ["Ni", "O", "Ni", "O"], cart, coords_are_cartesian=True, to_unit_cell=True)
    structure.add_site_property("magmom", [2.0, 0.0, -2.0, 0.0])
    return structure


@pytest.fixture
def database() -> str:
    return f"magscreen_{uuid.uuid4().hex[:8]}"


def test_campaign_stores_round_trip_over_tcp(mongodb_uri, database):
    stores = build_stores(StoreConfig(kind="mongodb", uri=mongodb_uri, database=database, timeout_s=5))
    stores.validations.update(
        [
            {"validation_id": "a:1:vasp:static", "candidate_id": "a", "mae_ueV_per_atom": 120.0},
            {"validation_id": "b:1:vasp:soc_force_theorem", "candidate_id": "b", "mae_ueV_per_atom": -40.0},
        ]
    )
    # another client (maggma's URI store) sees the same documents through the server
    reader = MongoURIStore(f"{mongodb_uri.rstrip('/')}/{database}", "validations", key="validation_id")
    reader.connect()
    ranked = list(reader.query({"mae_ueV_per_atom": {"$ne": None}}, sort={"mae_ueV_per_atom": -1}))
    assert [d["candidate_id"] for d in ranked] == ["a", "b"]
    assert MongoStore.from_uri(mongodb_uri, database=database, collection_name="validations").name
    stores.close()
    reader.close()


def test_fireworks_runs_a_vasp_validation_into_the_campaign_database(
    mongodb_uri, database, monkeypatch, tmp_path
):
    """LaunchPad, job outputs and documents in one MongoDB; VASP mocked (atomate2 pattern)."""
    stores = build_stores(StoreConfig(kind="mongodb", uri=mongodb_uri, database=database, timeout_s=5))
    dft = VaspValidationMaker().make(
        _nio_afm2(), candidate_id="nio-test", ordering_label="AFM-II", ordering_fingerprint="nio-afm2"
    )
    flow = Flow([dft, save_validation(dft.output, store=stores.validations)])
    launchpad = LaunchPad(host=mongodb_uri, uri_mode=True, name=f"{database}_fw", strm_lvl="ERROR")
    launchpad.reset("", require_password=False)
    launchpad.add_wf(flow_to_workflow(flow, store=stores.job_store()))

    monkeypatch.chdir(tmp_path)
    register = next(monkeypatch_vasp(monkeypatch, VASP_DATA))
    register({"nio-test AFM-II vasp static": "nio_afm2_static"})
    rapidfire(launchpad, FWorker(), strm_lvl="ERROR")

    states = {launchpad.get_fw_by_id(i).name: launchpad.get_fw_by_id(i).state for i in launchpad.get_fw_ids()}
    assert set(states.values()) == {"COMPLETED"}, states
    saved = stores.validations.query_one({"candidate_id": "nio-test"})
    doc = DFTValidationDoc.model_validate({k: v for k, v in saved.items() if k != "_id"})
    assert doc.engine == "vasp" and doc.ordering_label == "AFM-II"
    assert doc.magnetic_moments[0][2] == pytest.approx(-doc.magnetic_moments[2][2])  # AFM: opposite Ni
    stores.close()
