"""A campaign with ``validate: {engine: gpaw}`` stores GPAW documents next to its ML ranking."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("gpaw")

from magscreen.cli import app  # noqa: E402

CONFIG = """\
name: gpaw-check
candidates:
  source: snapshot
  filters: {{names: [Fe-bcc]}}
orderings: {{max_magnetic_atoms: 2, max_orderings: 2}}
relax: {{calculator: "heisenberg:1,-10"}}
rank: {{top_n: 1}}
validate:
  engine: gpaw
  top_n: 1
  settings: {{ecut_eV: 300, kpoint_density: 2}}
store: {{kind: embedded, path: {db}}}
"""


def test_campaign_validates_bcc_fe_with_gpaw_and_dft_agrees_fm_is_lower(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "gpaw.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "db"))
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(config)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "query",
            "{}",
            "--collection",
            "validations",
            "--db",
            str(tmp_path / "db"),
            "--fields",
            "candidate_id,ordering_label,engine,energy_per_magnetic_atom_eV",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    docs = {d["ordering_label"]: d for d in json.loads(result.output)}
    assert set(docs) == {"FM", "AFM-B2"}
    assert all(d["engine"] == "gpaw" and d["candidate_id"] == "mp-13" for d in docs.values())
    # Hund's-rule ferromagnet: bcc Fe FM lies hundreds of meV per atom below the B2 antiferromagnet.
    assert docs["FM"]["energy_per_magnetic_atom_eV"] < docs["AFM-B2"]["energy_per_magnetic_atom_eV"] - 0.1
