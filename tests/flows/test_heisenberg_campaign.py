"""Campaign on a Heisenberg model with known couplings: the ladder follows from counting bonds.

Rocksalt magnetic sublattice (fcc): 12 nearest (J1) and 6 next-nearest (J2) neighbours, energy
E = -sum_{i<j} J_ij e_i.e_j. Per magnetic atom, E = -(1/2) sum_shells J_s (n_parallel - n_antiparallel):

- FM:     -(12 J1 + 6 J2) / 2
- AFM-I  ((001) layers): J1 bonds 4 parallel, 8 antiparallel; J2 bonds all 6 parallel
          -> -(-4 J1 + 6 J2) / 2
- AFM-II ((111) layers): J1 bonds 6 parallel, 6 antiparallel; J2 bonds all antiparallel
          -> +3 J2

With J1 = +1 meV and J2 = -10 meV (180-degree superexchange, as in NiO and MnO), AFM-II is the
ground state, FM lies 6 (-J1 - J2) = 54 meV and AFM-I 2 J1 - 6 J2 = 62 meV per magnetic atom above.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.config import load_config
from magscreen.schemas import CandidateDoc
from magscreen.store import build_stores

runner = CliRunner()
J1, J2 = 1.0, -10.0  # meV per pair


@pytest.fixture(scope="module")
def heisenberg_campaign(tmp_path_factory, write_config):
    folder = tmp_path_factory.mktemp("heisenberg")
    config = write_config(folder, f"heisenberg:{J1},{J2}", relax={"relax_moments": True, "spin_steps": 20})
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(folder / "report")])
    assert result.exit_code == 0, result.output
    return config, build_stores(load_config(config).store)


def test_ladder_matches_bond_counting(heisenberg_campaign):
    _, stores = heisenberg_campaign
    for raw in stores.candidates.query():
        doc = CandidateDoc(**raw)
        ladder = {step.label: step.relative_energy_meV for step in doc.ladder}
        assert doc.ground_state_label == "AFM-II"
        assert ladder["FM"] == pytest.approx(6 * (-J1 - J2), abs=1e-6)
        assert ladder["AFM-I"] == pytest.approx(2 * J1 - 6 * J2, abs=1e-6)
        assert doc.gap_meV == pytest.approx(54.0, abs=1e-6)
        # collinear states are stationary under spin relaxation (zero torque): moments stay collinear
        assert doc.confidence.all_converged and doc.confidence.in_magnetic_domain


def test_query_afm_ii_returns_the_rocksalt_monoxides_as_json(heisenberg_campaign):
    config, _ = heisenberg_campaign
    query = '{"ground_state_label": "AFM-II"}'
    result = runner.invoke(app, ["query", query, "-c", str(config), "--format", "json", "--sort", "formula"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["formula"] for row in rows] == ["MnO", "NiO"]
    result = runner.invoke(
        app, ["query", '{"ground_state_label": "FM"}', "-c", str(config), "--format", "json"]
    )
    assert json.loads(result.stdout) == []


def test_canted_afm_ii_relaxes_back_and_leaves_the_gap_alone(tmp_path, write_config):
    """AFM-II is a minimum of the J1-J2 model: spin relaxation untilts its canted variant, which
    then repeats AFM-II and is left out of the ground state and the gap."""
    config = write_config(
        tmp_path,
        f"heisenberg:{J1},{J2}",
        candidates={"filters": {"names": ["NiO"]}},
        orderings={"noncollinear": True},
        relax={"spin_steps": 100},
    )
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    stores = build_stores(load_config(config).store)
    canted = stores.orderings.query_one({"label": "canted AFM-II 10deg"})
    assert canted is not None and canted["noncollinear"] and canted["relaxed_collinear"]
    assert canted["relative_energy_meV"] == pytest.approx(0.0, abs=0.05)
    doc = CandidateDoc(**stores.candidates.query_one({"formula": "NiO"}))
    assert doc.ground_state_label == "AFM-II"
    assert doc.gap_meV == pytest.approx(54.0, abs=0.05)
