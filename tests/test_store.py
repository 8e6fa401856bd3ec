"""The embedded SQLite store behaves like a MongoDB collection; MongoDB failures are clear."""

from __future__ import annotations

import time

import pytest
from jobflow import job, run_locally

from magscreen.config import StoreConfig
from magscreen.errors import ServiceError
from magscreen.store import SQLiteStore, build_stores, mask_uri


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(str(tmp_path / "db.sqlite"), "orderings", key="ordering_id")
    s.connect()
    s.update(
        [
            {"ordering_id": "a", "label": "FM", "energy": -1.0, "confidence": {"in_domain": True}},
            {"ordering_id": "b", "label": "AFM-II", "energy": -3.0, "confidence": {"in_domain": False}},
            {"ordering_id": "c", "label": "AFM-II", "energy": -2.0, "confidence": {"in_domain": True}},
        ]
    )
    return s


def test_upsert_replaces_by_key(store):
    store.update({"ordering_id": "a", "label": "FM", "energy": -5.0})
    assert store.count() == 3
    assert store.query_one({"ordering_id": "a"})["energy"] == -5.0


def test_mongo_filters_sort_projection(store):
    found = list(store.query({"label": "AFM-II"}, properties=["ordering_id"], sort={"energy": 1}))
    assert found == [{"ordering_id": "b"}, {"ordering_id": "c"}]
    assert store.count({"energy": {"$lt": -1.5}, "confidence.in_domain": True}) == 1
    assert sorted(store.distinct("label")) == ["AFM-II", "FM"]
    assert [
        d["ordering_id"] for d in store.query({"ordering_id": {"$in": ["c", "a"]}}, sort={"energy": -1})
    ] == [
        "a",
        "c",
    ]
    assert len(list(store.query({}, limit=2))) == 2


def test_persists_across_connections_and_removes(store, tmp_path):
    store.close()
    again = SQLiteStore(str(tmp_path / "db.sqlite"), "orderings", key="ordering_id")
    again.connect()
    assert again.count() == 3
    again.remove_docs({"label": "AFM-II"})
    assert [d["ordering_id"] for d in again.query()] == ["a"]


def test_is_msonable(store):
    clone = SQLiteStore.from_dict(store.as_dict())
    clone.connect()
    assert clone == store and clone.count() == 3


@job
def double(x: float) -> float:
    return 2 * x


def test_jobflow_job_store_uses_the_docs_store(tmp_path):
    stores = build_stores(StoreConfig(path=tmp_path / "db"))
    flow_job = double(21)
    responses = run_locally(flow_job, store=stores.job_store(), log=False, ensure_success=True)
    assert responses[flow_job.uuid][1].output == 42
    assert stores.outputs.query_one({"uuid": flow_job.uuid})["output"] == 42


def test_mask_uri():
    assert (
        mask_uri("mongodb://alice:s3cret@db.example.org:27017/x")
        == "mongodb://alice:***@db.example.org:27017/x"
    )
    assert mask_uri("mongodb://db.example.org/x") == "mongodb://db.example.org/x"


def test_unreachable_mongodb_fails_fast_naming_host_and_masking_password():
    config = StoreConfig(kind="mongodb", uri="mongodb://alice:s3cret@127.0.0.1:9/?authSource=admin")
    start = time.perf_counter()
    with pytest.raises(ServiceError) as error:
        build_stores(config)
    assert time.perf_counter() - start < 10.0
    message = str(error.value)
    assert "127.0.0.1:9" in message
    assert "s3cret" not in message and "alice:***@" in message
