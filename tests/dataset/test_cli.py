"""``magscreen dataset status|export`` on a build computed with a stand-in engine."""

from __future__ import annotations

from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.dataset.engine import ASEEngine, GPAWEngine
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config


def _emt():
    from ase.calculators.emt import EMT

    return EMT()


class EMTWithGPAWKey(ASEEngine):
    """EMT labels under the GPAW engine's settings key, as if GPAW had made them with the config's."""

    def __init__(self, config) -> None:
        super().__init__(_emt, name="emt")
        self.gpaw = GPAWEngine(config.gpaw)

    def settings_key(self, frame) -> str:
        return self.gpaw.settings_key(frame)


def _rows(output: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if "Ni-fcc" in line]


def test_status_counts_frames_and_export_writes_the_files(write_config):
    path = write_config(kinds=["ordering", "strain"])
    config = load_dataset_config(path)
    run_build(PlanSource(path), engine_factory=EMTWithGPAWKey, stop_after=3)
    runner = CliRunner()
    status = runner.invoke(app, ["dataset", "status", str(path)])
    assert status.exit_code == 0, status.output
    # tier, compound, planned, done, failed, running, stale: the three finished frames are orderings
    assert [row[:7] for row in _rows(status.output)] == [
        ["1", "Ni-fcc", "4", "3", "0", "0", "0"],
        ["3", "Ni-fcc", "8", "0", "0", "0", "0"],
    ]
    exported = runner.invoke(app, ["dataset", "export", str(path)])
    assert exported.exit_code == 0, exported.output
    assert "3 frames of 1 compounds" in exported.output
    assert (config.export_dir / "Ni-fcc.extxyz").is_file()
    assert (config.export_dir / "provenance.json").is_file()

    # a tighter cutoff makes the three records stale: counted as such, left out of the export
    path.write_text(path.read_text() + "gpaw: {ecut_eV: 550}\n")
    status = runner.invoke(app, ["dataset", "status", str(path)])
    assert _rows(status.output)[0][:7] == ["1", "Ni-fcc", "4", "0", "0", "0", "3"]
    exported = runner.invoke(app, ["dataset", "export", str(path)])
    assert (
        "0 frames of 0 compounds" in exported.output
        and "3 frames made with other settings" in exported.output
    )


def test_status_names_the_config_error(write_config):
    path = write_config(orderings={"max_atom": 8})
    result = CliRunner().invoke(app, ["dataset", "status", str(path)])
    assert result.exit_code == 1
    assert "orderings.max_atom" in result.output and str(path) in result.output.replace("\n", "")
    unknown = CliRunner().invoke(app, ["dataset", "status", str(write_config()), "--only", "XYZ"])
    assert unknown.exit_code == 1 and "unknown compound(s) XYZ" in unknown.output
