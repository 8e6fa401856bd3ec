"""The campaign commands through the real ``magscreen`` entry point: no silent failures, no label a
model cannot back, config paths relative to the config, a plan from --dry-run, a clean Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.potential import MagneticPotential
from magscreen.store import DATABASE_FILE, SQLiteStore

runner = CliRunner()
ENTRY = [sys.executable, "-c", "from magscreen.cli import app; app()"]


@pytest.fixture(scope="module")
def ni_oxide_model(tmp_path_factory) -> Path:
    """A small random potential that knows Ni moments among {Ni, O} only (like a NiO-trained model)."""
    model = MagneticPotential(seed=3, species=("O", "F", "Mn", "Ni"), channels=4, num_layers=1)
    model.magnetic_domain = ("Ni",)
    model.magnetic_environments = {"Ni": [["Ni", "O"]]}
    return model.save(tmp_path_factory.mktemp("model") / "nio-like.pt")


def write_config(folder: Path, calculator: str, names: list[str], **sections) -> Path:
    config = {
        "name": "cli",
        "candidates": {"source": "snapshot", "filters": {"names": names}},
        "orderings": {"max_magnetic_atoms": 2, "max_orderings": 3},
        "relax": {"calculator": calculator, "steps": 3, "spin_steps": 3},
        "store": {"path": "db"},
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def heisenberg(tmp_path_factory) -> Path:
    """A finished J1-J2 Heisenberg campaign of NiO and MnO (AFM-II by 54 meV per magnetic atom)."""
    folder = tmp_path_factory.mktemp("heisenberg")
    config = write_config(folder, "heisenberg:1,-10", ["NiO", "MnO"], relax={"spin_steps": 50})
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(folder / "report")])
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture(scope="module")
def outside(tmp_path_factory, ni_oxide_model) -> tuple[Path, str]:
    """A finished campaign of NiF2 and MnO with a model that knows Ni only among O."""
    folder = tmp_path_factory.mktemp("outside")
    config = write_config(folder, str(ni_oxide_model), ["NiF2", "MnO"])
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(folder / "report")])
    assert result.exit_code == 0, result.output
    return config, result.output


# --- stores are never created by status, query or report -----------------------------------------


@pytest.mark.parametrize("command", [["status"], ["query", "{}"], ["report"]])
def test_reading_commands_never_create_a_store(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*command, "--db", "mistyped-db"])
    assert result.exit_code == 1
    assert "no magscreen store at" in result.output and "mistyped-db" in result.output
    assert "--db" in result.output
    assert not (tmp_path / "mistyped-db").exists()


def test_missing_store_of_a_config_names_the_config_and_the_path(tmp_path):
    config = write_config(tmp_path / "cfg", "heisenberg:1,-10", ["NiO"])
    result = runner.invoke(app, ["query", "{}", "-c", str(config)])
    assert result.exit_code == 1
    assert str(config) in result.output and "store.path" in result.output
    assert str(tmp_path / "cfg" / "db") in result.output
    assert not (tmp_path / "cfg" / "db").exists()


# --- config paths resolve against the config's folder ---------------------------------------------


def test_config_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    nio = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.17), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    nio.get_primitive_structure().to(filename=str(folder / "nio.cif"))
    config = write_config(
        folder,
        "heisenberg:1,-10",
        ["NiO"],
        candidates={"source": "files", "paths": ["nio.cif"], "filters": {}},
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(app, ["run", "../mine/campaign.yaml", "--report-dir", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert (folder / "db" / DATABASE_FILE).is_file() and not (elsewhere / "db").exists()
    status = runner.invoke(app, ["status", "-c", str(config)])
    assert status.exit_code == 0 and "orderings" in status.output


# --- dry run: checks and plan --------------------------------------------------------------------


def test_dry_run_rejects_a_mistyped_calculator(tmp_path):
    config = write_config(tmp_path, "monoxidez", ["NiO"])
    result = runner.invoke(app, ["run", str(config), "--dry-run"])
    assert result.exit_code == 1 and "relax.calculator" in result.output and "monoxidez" in result.output


def test_dry_run_checks_that_mongodb_answers(tmp_path):
    config = write_config(
        tmp_path,
        "heisenberg:1,-10",
        ["NiO"],
        store={"kind": "mongodb", "uri": "mongodb://127.0.0.1:9/", "timeout_s": 1},
    )
    result = runner.invoke(app, ["run", str(config), "--dry-run"])
    assert result.exit_code == 1 and "127.0.0.1:9" in result.output and "unreachable" in result.output


def test_dry_run_prints_the_plan_and_creates_nothing(tmp_path, ni_oxide_model):
    config = write_config(tmp_path, str(ni_oxide_model), ["NiO", "NiF2", "MnO"])
    result = runner.invoke(app, ["run", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "plan: 8 orderings of 3 candidates" in out
    assert "3: FM (2 atoms), AFM-I (4 atoms), AFM-II (4 atoms)" in out  # NiO, MnO
    assert "the model cannot resolve yet (magnetic atoms outside its knowledge): mp-19006, NiF2" in out
    assert "the model saw Ni moments only among {Ni, O}" in out and "never saw Mn" in out
    assert "orderings to relax: 8 (0 already in the store)" in out
    assert "DFT validation: none" in out
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize("dry_run", [True, False])
def test_missing_validation_engine_is_one_line_with_the_install_command(tmp_path, monkeypatch, dry_run):
    monkeypatch.setitem(sys.modules, "gpaw", None)  # ``import gpaw`` fails as where it is not installed
    config = write_config(tmp_path, "heisenberg:1,-10", ["NiO"], validate={"engine": "gpaw"})
    result = runner.invoke(app, ["run", str(config), *(["--dry-run"] if dry_run else [])])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "validate.engine" in lines[0]
    assert 'install it with: pip install -e ".[gpaw]"' in lines[0]
    assert not (tmp_path / "db").exists()


# --- Ctrl-C ---------------------------------------------------------------------------------------


def test_sigint_says_how_far_it_got_and_how_to_resume(tmp_path, ni_oxide_model):
    relax = {"steps": 25, "fmax": 1e-9}  # every relaxation runs all its steps: a run takes seconds
    config = write_config(tmp_path, str(ni_oxide_model), ["NiO", "MnO"], relax=relax)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [*ENTRY, "run", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as in a terminal, even where this test runs with SIGINT ignored (a background job)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    orderings = SQLiteStore(str(tmp_path / "db" / DATABASE_FILE), "orderings", key="ordering_id")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if (tmp_path / "db" / DATABASE_FILE).exists():
            orderings.connect()
            if orderings.count() >= 1:
                break
        time.sleep(0.02)
    assert process.poll() is None, "the campaign finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    last = [line for line in stderr.splitlines() if line.strip()][-1]
    done = orderings.count()
    assert last.startswith("interrupted after ") and last.endswith(
        " orderings; run the same command to resume"
    )
    n, m = (int(x) for x in last.removeprefix("interrupted after ").split(" orderings")[0].split(" of "))
    assert 1 <= n <= done < 6 and m == 6  # all the campaign's orderings, enumerated or not yet


# --- unresolved candidates: no label, listed apart, accurate reason --------------------------------


def test_unresolved_candidates_have_no_label_and_an_accurate_reason(outside):
    config, output = outside
    result = runner.invoke(app, ["query", "{}", "-c", str(config), "--format", "json", "--fields", "all"])
    docs = {d["formula"]: d for d in json.loads(result.stdout)}
    nif2, mno = docs["NiF2"], docs["MnO"]
    for doc in (nif2, mno):
        assert doc["resolved"] is False and doc["ground_state_label"] is None and doc["lowest_ordering_label"]
    assert (
        "all 2 Ni atoms among {F, Ni}: the model saw Ni moments only among {Ni, O}"
        in nif2["unresolved_reason"]
    )
    assert "never saw Mn" not in nif2["unresolved_reason"]
    assert mno["unresolved_reason"].startswith("the Mn atom: the model never saw Mn with moments")
    flat = " ".join(output.split())
    assert "best 0 candidates (resolved ground states)" in flat
    assert "2 candidates without a resolved ground state" in flat


def test_unconverged_relaxations_unresolve_the_ground_state_and_show_in_the_report(tmp_path, ni_oxide_model):
    # NiO is inside this model's knowledge; one lattice step at fmax 1e-9 converges nothing
    config = write_config(tmp_path, str(ni_oxide_model), ["NiO"], relax={"steps": 1, "fmax": 1e-9})
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    [nio] = json.loads(
        runner.invoke(app, ["query", "{}", "-c", str(config), "--format", "json", "--fields", "all"]).stdout
    )
    assert (
        nio["confidence"]["in_magnetic_domain"] and not nio["resolved"] and nio["ground_state_label"] is None
    )
    assert nio["unresolved_reason"].startswith("relaxation not converged: ")
    for name in ("FM (2 atoms)", "AFM-I (4 atoms)", "AFM-II (4 atoms)"):
        assert name in nio["unresolved_reason"]
    report = (tmp_path / "report" / "report.md").read_text()
    cells = [line.split(" | ") for line in report.splitlines() if line.startswith("| mp-19009 | ")]
    rows = [" | ".join(c) for c in cells if c[1].endswith("atoms)")]  # the orderings table
    assert len(rows) == 3 and all(row.rstrip(" |").endswith("| no") for row in rows)


def test_label_queries_return_unresolved_candidates_only_when_asked(outside):
    config, _ = outside
    lowest = runner.invoke(app, ["query", '{"formula": "MnO"}', "-c", str(config), "--format", "json"])
    label = json.loads(
        runner.invoke(
            app,
            [
                "query",
                '{"formula": "MnO"}',
                "-c",
                str(config),
                "--format",
                "json",
                "--fields",
                "lowest_ordering_label",
            ],
        ).stdout
    )[0]["lowest_ordering_label"]
    assert lowest.exit_code == 0
    query = json.dumps({"ground_state_label": label, "formula": "MnO"})
    plain = runner.invoke(app, ["query", query, "-c", str(config), "--format", "json"])
    assert json.loads(plain.stdout) == []
    assert (
        "1 candidates without a resolved ground state" in plain.stderr
        and "--include-unresolved" in plain.stderr
    )
    wide = runner.invoke(app, ["query", query, "-c", str(config), "--format", "json", "--include-unresolved"])
    assert [row["formula"] for row in json.loads(wide.stdout)] == ["MnO"]


def test_resolved_candidates_keep_their_label(heisenberg):
    rows = json.loads(
        runner.invoke(
            app, ["query", '{"ground_state_label": "AFM-II"}', "-c", str(heisenberg), "--format", "json"]
        ).stdout
    )
    assert sorted(r["formula"] for r in rows) == ["MnO", "NiO"]
    assert all(r["resolved"] and r["unresolved_reason"] is None for r in rows)


# --- distinguishable orderings, units, rounding, CSV lists, ETA ------------------------------------


def test_orderings_carry_a_unique_name_net_moment_and_supercell(heisenberg):
    result = runner.invoke(
        app, ["query", "{}", "-c", str(heisenberg), "--collection", "orderings", "--format", "json"]
    )
    rows = json.loads(result.stdout)
    assert {"display_name", "n_atoms", "total_magnetization_muB", "relative_energy_meV"} <= set(rows[0])
    for formula in ("NiO", "MnO"):
        names = [r["display_name"] for r in rows if r["formula"] == formula]
        assert sorted(names) == ["AFM-I (4 atoms)", "AFM-II (4 atoms)", "FM (2 atoms)"]
    fm = next(r for r in rows if r["formula"] == "NiO" and r["display_name"] == "FM (2 atoms)")
    assert fm["total_magnetization_muB"] == pytest.approx(5.0, abs=0.01)  # one Ni per FM cell
    assert fm["relative_energy_meV"] == 54.0  # 54.00000000000001 before rounding


def test_csv_lists_and_rounded_numbers(heisenberg):
    result = runner.invoke(
        app,
        [
            "query",
            "{}",
            "-c",
            str(heisenberg),
            "--format",
            "csv",
            "--fields",
            "formula,magnetic_elements,gap_meV",
        ],
    )
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "formula,magnetic_elements,gap_meV"
    assert sorted(lines[1:]) == ["MnO,Mn,54.0", "NiO,Ni,54.0"]
    table = runner.invoke(app, ["query", "{}", "-c", str(heisenberg), "--fields", "formula,gap_meV"])
    assert "54.00000000000001" not in table.stdout and "54" in table.stdout


def test_run_shows_an_eta(tmp_path):
    config = write_config(tmp_path, "heisenberg:1,-10", ["NiO"])
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(tmp_path / "report")])
    assert result.exit_code == 0 and "ETA" in result.output


def test_every_collection_has_default_query_fields():
    """`magscreen query --collection X` works for every collection of a campaign store (the
    extensions collection once ended in a KeyError traceback)."""
    from magscreen.cli.campaign import DEFAULT_FIELDS
    from magscreen.config import COLLECTIONS

    assert set(DEFAULT_FIELDS) == set(COLLECTIONS)
