"""``magscreen orderings``: table, JSON, written files and error messages."""

from __future__ import annotations

import json

import pytest
from ase.io import read
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from magscreen.cli import app

runner = CliRunner()


@pytest.fixture
def nio_file(tmp_path):
    """Rocksalt NiO (conventional cell, a = 4.17 Angstrom) as a CIF."""
    fcc = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    anions = [[(x + 0.5) % 1, y, z] for x, y, z in fcc]
    nio = Structure(Lattice.cubic(4.17), ["Ni"] * 4 + ["O"] * 4, fcc + anions)
    path = tmp_path / "NiO.cif"
    nio.to(filename=str(path))
    return path


def test_table_lists_labels_and_fingerprints(nio_file):
    arguments = ["orderings", str(nio_file), "--max-magnetic-atoms", "4"]
    result = runner.invoke(app, arguments, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for label in ("FM", "AFM-I", "AFM-II", "AFM-III"):
        assert f" {label} " in result.output
    assert "18 symmetry-distinct" in result.output


def test_json_output_and_written_files(nio_file, tmp_path):
    out = tmp_path / "orderings"
    arguments = ["orderings", str(nio_file), "--max-magnetic-atoms", "2", "--noncollinear", "--json"]
    result = runner.invoke(app, [*arguments, "--write", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    labels = [row["label"] for row in payload["orderings"]]
    assert labels[:3] == ["FM", "AFM-I", "AFM-II"] and "canted AFM-II 10deg" in labels
    assert payload["n_found_collinear"] == 3
    index = json.loads((out / "index.json").read_text())
    assert [row["fingerprint"] for row in index] == [row["fingerprint"] for row in payload["orderings"]]
    afm_ii = index[labels.index("AFM-II")]
    structure = Structure.from_file(out / afm_ii["files"][0])
    assert sorted(m for m in structure.site_properties["magmom"] if m) == [-5.0, 5.0]
    canted = read(out / index[labels.index("canted AFM-II 10deg")]["files"][1])
    assert canted.get_initial_magnetic_moments().shape == (len(canted), 3)


def test_missing_file_is_named(tmp_path):
    result = runner.invoke(app, ["orderings", str(tmp_path / "absent.cif")])
    assert result.exit_code == 1
    assert "absent.cif" in result.output and "not found" in result.output


def test_non_magnetic_structure_is_named(tmp_path):
    path = tmp_path / "Al.cif"
    Structure(Lattice.cubic(4.05), ["Al"], [[0, 0, 0]]).to(filename=str(path))
    result = runner.invoke(app, ["orderings", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "Al.cif" in result.output and "no magnetic site" in result.output


def test_unreadable_file_is_named(tmp_path):
    path = tmp_path / "broken.cif"
    path.write_text("data_broken\n_cell_length_a 3\n")
    result = runner.invoke(app, ["orderings", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "broken.cif" in result.output


def test_moment_option_makes_an_element_magnetic(tmp_path):
    path = tmp_path / "Al.cif"
    Structure(Lattice.cubic(4.05), ["Al"], [[0, 0, 0]]).to(filename=str(path))
    arguments = ["orderings", str(path), "--max-magnetic-atoms", "2", "--moment", "Al=0.5", "--json"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    # Simple cubic, two magnetic atoms: exactly the Wollan-Koehler G, A and C types besides FM.
    assert [row["label"] for row in payload["orderings"]] == ["FM", "AFM-G", "AFM-A", "AFM-C"]
    assert payload["orderings"][0]["parameters"]["net_moment"] == 0.5
    bad = runner.invoke(app, ["orderings", str(path), "--moment", "Al:0.5"], env={"COLUMNS": "200"})
    assert bad.exit_code == 1 and "--moment" in bad.output and "ELEMENT=VALUE" in bad.output


def test_cli_lists_what_a_campaign_relaxes(nio_file):
    """Same defaults, same non-collinear cap: the CLI lists exactly the orderings a campaign relaxes."""
    from magscreen.config import CampaignConfig
    from magscreen.magnetism.enumeration import enumerate_orderings
    from magscreen.sources.files import load_structure_files

    arguments = ["orderings", str(nio_file), "--max-magnetic-atoms", "4", "--noncollinear", "--json"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    config = CampaignConfig(orderings={"max_magnetic_atoms": 4, "noncollinear": True})
    candidate = load_structure_files(nio_file)[0]
    campaign = enumerate_orderings(candidate.structure, config.orderings)  # what ScreenCandidateMaker runs
    assert [row["fingerprint"] for row in payload["orderings"]] == [o.fingerprint for o in campaign.orderings]
    noncollinear = [row for row in payload["orderings"] if row["kind"] != "collinear"]
    assert payload["n_dropped_noncollinear"] > 0  # the cap applies
    assert len(noncollinear) == config.orderings.max_orderings
    assert campaign.n_dropped == payload["n_dropped_collinear"] + payload["n_dropped_noncollinear"]
