"""The demo campaign as a FireWorks workflow, with VASP validation switched on in its config."""

from __future__ import annotations

from pathlib import Path

import pytest
from fireworks import Workflow
from jobflow.managers.fireworks import JobFiretask

from magscreen.cli import submit
from magscreen.config import StoreConfig, ValidateConfig, load_config
from magscreen.sources.loader import load_candidates
from magscreen.store import SQLiteStore
from magscreen.validation.vasp import VaspValidationMaker

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.yaml"


@pytest.fixture
def demo_with_vasp(tmp_path):
    if not DEMO.is_file():
        pytest.skip("configs/demo.yaml is not there")
    config = load_config(DEMO)
    return config.model_copy(
        update={
            "store": StoreConfig(kind="embedded", path=tmp_path / "db"),
            "validate_": ValidateConfig(engine="vasp", top_n=2, orderings_per_candidate=2),
        }
    )


def test_demo_campaign_becomes_one_firework_per_candidate_and_a_summary(demo_with_vasp, tmp_path):
    workflow = submit.campaign_workflow(demo_with_vasp)
    candidates = load_candidates(demo_with_vasp.candidates)
    assert len(workflow.fws) == len(candidates) + 1
    by_name = {fw.name: fw for fw in workflow.fws}
    summary = by_name["summarize campaign"]
    screens = [fw for fw in workflow.fws if fw is not summary]
    assert {fw.name for fw in screens} == {f"screen {c.candidate_id}" for c in candidates}
    # the summary waits for every screen; screens are independent
    assert sorted(workflow.links.parent_links[summary.fw_id]) == sorted(fw.fw_id for fw in screens)
    assert all(not workflow.links.parent_links.get(fw.fw_id) for fw in screens)
    for fw in workflow.fws:
        (task,) = fw.tasks
        assert isinstance(task, JobFiretask)
        # every job writes its outputs into the campaign's own database
        assert isinstance(task["store"].docs_store, SQLiteStore)
        assert Path(task["store"].docs_store.database_path).parent == (tmp_path / "db").resolve()


def test_vasp_validation_is_inside_the_workflow_and_survives_the_launchpad_round_trip(demo_with_vasp):
    workflow = submit.campaign_workflow(demo_with_vasp)
    restored = Workflow.from_format(workflow.to_format("json"), "json")  # what a LaunchPad stores
    summary = next(fw for fw in restored.fws if fw.name == "summarize campaign")
    job = summary.tasks[0]["job"]
    maker = job.function_kwargs["validation_maker"]
    assert isinstance(maker, VaspValidationMaker)
    assert type(maker.static_maker).__module__.startswith("atomate2.vasp")
    assert job.function_kwargs["validation_engine"] == "vasp"
    assert job.function_kwargs["validate_top_n"] == 2


def test_show_lists_the_screens_the_summary_and_the_vasp_jobs_it_will_add(demo_with_vasp):
    lines = submit.describe_workflow(submit.campaign_workflow(demo_with_vasp, check_store=False))
    n_candidates = len(load_candidates(demo_with_vasp.candidates))
    assert lines[n_candidates] == f"summarize campaign  (waits for {n_candidates})"
    assert lines[n_candidates + 1].startswith("adds at run time: VaspValidationMaker (vasp), best 2")
    assert "atomate2.vasp.jobs.mp.MPGGAStaticMaker" in lines[n_candidates + 2]
