"""``magscreen submit jobflow-remote`` puts a campaign into a jobflow-remote queue (the project
template, on MongoDB).

Only the submission is exercised: jobflow-remote's runner updates documents with aggregation
pipelines, which the in-memory CongoDB server does not implement, and it would reach the Slurm
worker over SSH.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import jobflow_remote
import pytest
import yaml
from jobflow_remote.jobs.jobcontroller import JobController

from magscreen.cli import submit
from magscreen.config import CandidateFilters, StoreConfig, ValidateConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


def _local_store(store: dict, host: str, port: int) -> dict:
    """The template's store on the test server: same database and collection, no credentials."""
    kept = {k: v for k, v in store.items() if k not in ("username", "password", "auth_source")}
    return {**kept, "host": host, "port": port}


def test_campaign_lands_in_the_jobflow_remote_queue(mongodb_uri, monkeypatch, tmp_path):
    demo = ROOT / "configs" / "demo.yaml"
    if not demo.is_file():
        pytest.skip("configs/demo.yaml is not there")
    host, port = mongodb_uri.removeprefix("mongodb://").rstrip("/").split(":")
    project = yaml.safe_load((ROOT / "workflows" / "jobflow-remote" / "magscreen.yaml").read_text())
    suffix = uuid.uuid4().hex[:8]
    project["queue"]["store"] = _local_store(project["queue"]["store"], host, int(port))
    project["queue"]["store"]["database"] += suffix
    project["jobstore"]["docs_store"] = _local_store(project["jobstore"]["docs_store"], host, int(port))
    project["jobstore"]["additional_stores"]["data"] = _local_store(
        project["jobstore"]["additional_stores"]["data"], host, int(port)
    )
    project["base_dir"] = str(tmp_path / "jfremote")
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects" / "magscreen.yaml").write_text(yaml.safe_dump(project))
    monkeypatch.setattr(jobflow_remote.SETTINGS, "projects_folder", str(tmp_path / "projects"))
    JobController.from_project_name("magscreen").reset()

    config = load_config(demo)
    config = config.model_copy(
        update={
            "candidates": config.candidates.model_copy(
                update={"filters": CandidateFilters(names=["NiO", "FePt"])}
            ),
            "validate_": ValidateConfig(engine="vasp", top_n=1),
            "store": StoreConfig(
                kind="mongodb", uri=mongodb_uri, database=f"magscreen_{suffix}", timeout_s=5
            ),
        }
    )
    ids = submit.submit_jobflow_remote(config, project="magscreen", worker="cluster", exec_config="vasp")

    controller = JobController.from_project_name("magscreen")
    jobs = {info.name: info for info in controller.get_jobs_info()}
    assert len(ids) == len(jobs) == 3
    assert set(jobs) == {"screen mp-19009", "screen mp-2260", "summarize campaign"}
    assert {info.worker for info in jobs.values()} == {"cluster"}
    assert jobs["summarize campaign"].state.value == "WAITING"  # waits for both screens
    assert {jobs[f"screen {c}"].state.value for c in ("mp-19009", "mp-2260")} == {"READY"}
    job_doc = controller.get_job_doc(db_id=jobs["summarize campaign"].db_id)
    assert job_doc.exec_config == "vasp"
    maker = job_doc.job.function_kwargs["validation_maker"]
    assert type(maker).__name__ == "VaspValidationMaker"
