"""Cluster templates in workflows/: each one loaded by the tool that will read it on the cluster."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from fireworks import FWorker, LaunchPad
from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter
from jobflow_remote.config.base import Project, RemoteWorker
from maggma.stores import GridFSStore, MongoStore

from magscreen.config import load_config

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.mark.parametrize("name", ["my_launchpad.yaml", "local_launchpad.yaml"])
def test_launchpad_points_at_a_mongodb_uri(name):
    launchpad = LaunchPad.from_file(str(WORKFLOWS / "fireworks" / name))  # no I/O until used
    assert launchpad.uri_mode and launchpad.host.startswith("mongodb://")
    assert launchpad.db.name == "magscreen_fireworks"
    assert FWorker.from_file(str(WORKFLOWS / "fireworks" / "my_fworker.yaml")).name == "cluster-slurm"


def test_qadapter_renders_a_slurm_script_that_launches_one_rocket(tmp_path):
    adapter = CommonAdapter.from_file(str(WORKFLOWS / "fireworks" / "my_qadapter.yaml"))
    assert adapter.q_type == "SLURM"
    script = adapter.get_script_str(str(tmp_path))
    assert "#SBATCH --nodes=1" in script and "#SBATCH --ntasks=32" in script
    assert "#SBATCH --time=12:00:00" in script
    assert "rlaunch" in script and "singleshot" in script
    assert "ATOMATE2_VASP_CMD=" in script
    assert f"cd {tmp_path}" in script


def test_jobflow_remote_project_validates_with_jobflow_remote_models():
    raw = yaml.safe_load((WORKFLOWS / "jobflow-remote" / "magscreen.yaml").read_text())
    project = Project.model_validate(raw)
    worker = project.workers["cluster"]
    assert isinstance(worker, RemoteWorker) and worker.scheduler_type == "slurm"
    # the worker's resources render through jobflow-remote's Slurm scheduler I/O
    script = worker.get_scheduler_io().get_submission_script("jf execute", worker.resources)
    assert "#SBATCH --partition=standard" in script and "#SBATCH --nodes=1" in script
    jobstore = project.get_jobstore()
    assert isinstance(jobstore.docs_store, MongoStore)
    assert (jobstore.docs_store.database, jobstore.docs_store.collection_name) == ("magscreen", "outputs")
    assert isinstance(jobstore.additional_stores["data"], GridFSStore)  # atomate2 puts DOS, CHGCAR there
    assert isinstance(project.get_queue_store(), MongoStore)
    assert "ATOMATE2_VASP_CMD" in project.exec_config["vasp"].export


def test_jobflow_remote_project_rejects_a_broken_store():
    raw = yaml.safe_load((WORKFLOWS / "jobflow-remote" / "magscreen.yaml").read_text())
    raw["jobstore"]["docs_store"]["type"] = "NoSuchStore"
    with pytest.raises(ValueError, match="jobstore"):
        Project.model_validate(raw)


@pytest.mark.parametrize("name", ["cluster.yaml", "local-mongodb.yaml"])
def test_cluster_config_changes_only_store_and_validation(name):
    cluster = load_config(WORKFLOWS / name)
    assert cluster.store.kind == "mongodb" and cluster.store.uri.startswith("mongodb://")
    assert cluster.validate_.engine == "vasp"
    demo_path = WORKFLOWS.parent / "configs" / "demo.yaml"
    if demo_path.is_file():
        demo = load_config(demo_path)
        for section in ("name", "candidates", "orderings", "relax", "rank"):
            assert getattr(cluster, section) == getattr(demo, section), section


def test_slurm_script_runs_magscreen_once_in_the_allocation(tmp_path):
    """Run the batch script with a stand-in ``magscreen`` that records its arguments."""
    script = WORKFLOWS / "slurm" / "magscreen-run.sbatch"
    subprocess.run(["bash", "-n", str(script)], check=True)
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "activate").write_text(f'export PATH="{venv}:$PATH"\n')
    fake = venv / "magscreen"
    fake.write_text('#!/bin/bash\necho "$PWD|$*|$ATOMATE2_VASP_CMD" > "$RECORD"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    config = tmp_path / "cluster.yaml"
    config.write_text("name: x\n")
    record = tmp_path / "record.txt"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "MAGSCREEN_VENV": str(tmp_path / "venv"),
        "SLURM_JOB_ID": "4242",
        "SLURM_NTASKS": "32",
        "SLURM_SUBMIT_DIR": str(tmp_path),
        "RECORD": str(record),
    }
    subprocess.run(["bash", str(script), str(config)], check=True, env=env, cwd=tmp_path, capture_output=True)
    workdir, args, vasp_cmd = record.read_text().strip().split("|")
    assert workdir == str(tmp_path / "magscreen-run-4242")
    assert args == f"run {config} --report-dir {tmp_path / 'magscreen-run-4242' / 'report'}"
    assert vasp_cmd == "srun --ntasks=32 vasp_std"
