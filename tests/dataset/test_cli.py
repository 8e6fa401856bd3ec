"""``magscreen dataset status|export`` on a build computed with a stand-in engine."""

from __future__ import annotations

from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config


def test_status_counts_frames_and_export_writes_the_files(write_config, emt_engine):
    path = write_config(kinds=["ordering", "strain"])
    config = load_dataset_config(path)
    run_build(PlanSource(path), engine_factory=emt_engine, stop_after=3)
    runner = CliRunner()
    status = runner.invoke(app, ["dataset", "status", str(path)])
    assert status.exit_code == 0, status.output
    rows = [
        [c.strip() for c in line.split("│")[1:-1]] for line in status.output.splitlines() if "Ni-fcc" in line
    ]
    # tier, compound, planned, done, failed: the three finished frames are orderings (tier 1)
    assert [row[:5] for row in rows] == [["1", "Ni-fcc", "4", "3", "0"], ["3", "Ni-fcc", "8", "0", "0"]]

    exported = runner.invoke(app, ["dataset", "export", str(path)])
    assert exported.exit_code == 0, exported.output
    assert "3 frames of 1 compounds" in exported.output
    assert (config.export_dir / "Ni-fcc.extxyz").is_file()
    assert (config.export_dir / "provenance.json").is_file()


def test_status_names_the_config_error(write_config):
    path = write_config(orderings={"max_atom": 8})
    result = CliRunner().invoke(app, ["dataset", "status", str(path)])
    assert result.exit_code == 1
    assert "orderings.max_atom" in result.output and str(path) in result.output.replace("\n", "")
    unknown = CliRunner().invoke(app, ["dataset", "status", str(write_config()), "--only", "XYZ"])
    assert unknown.exit_code == 1 and "unknown compound(s) XYZ" in unknown.output
