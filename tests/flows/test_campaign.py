"""A small campaign end to end: run, re-run (nothing recomputed), query, report, domain flags."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.config import load_config
from magscreen.schemas import CandidateDoc, MagneticOrderingDoc
from magscreen.screening.ranking import TIE_TOLERANCE_meV, ordering_kind
from magscreen.store import build_stores

runner = CliRunner()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, tiny_model, write_config):
    """Config and stores of a campaign that ran once (NiO and MnO, 3 orderings each)."""
    folder = tmp_path_factory.mktemp("campaign")
    config = write_config(folder, str(tiny_model))
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(folder / "report")])
    assert result.exit_code == 0, result.output
    return config, build_stores(load_config(config).store), result.output


def test_run_stores_every_ordering_and_says_where(campaign):
    config, stores, output = campaign
    assert "orderings: 6 computed, 0 skipped" in output
    assert f"results: {stores.location}" in output
    assert "report:" in output and "report.md" in output
    orderings = [MagneticOrderingDoc(**d) for d in stores.orderings.query()]
    assert len(orderings) == 6
    assert {o.label for o in orderings} == {"FM", "AFM-I", "AFM-II"}
    for doc in orderings:
        # the relaxed structure carries the moments the energy was computed with
        assert doc.structure["sites"][0]["properties"]["magmom"] == doc.magnetic_moments[0]
        assert doc.n_magnetic_atoms == doc.n_atoms // 2  # rocksalt: half the sites are Ni or Mn


def test_ladder_is_the_energy_order_of_the_orderings(campaign):
    """Lowest ordering = lowest energy per magnetic atom; gap = next level minus the lowest."""
    _, stores, _ = campaign
    for raw in stores.candidates.query():
        doc = CandidateDoc(**raw)
        orderings = [
            MagneticOrderingDoc(**d) for d in stores.orderings.query({"candidate_id": doc.candidate_id})
        ]
        energies = sorted(o.energy_per_magnetic_atom_eV for o in orderings)
        first = next(o for o in orderings if o.fingerprint == doc.lowest_ordering_fingerprint)
        # the lowest ordering, or one tied with it (ties are ordered by fingerprint)
        assert 1000 * (first.energy_per_magnetic_atom_eV - energies[0]) < TIE_TOLERANCE_meV
        assert doc.ground_state_label == (first.label if doc.resolved else None)
        # the kind of a resolved ground state is its label's; a kind alone comes with its rival's gap
        if doc.resolved:
            assert doc.ground_state_kind == ordering_kind(first.label) and doc.kind_gap_meV is None
        elif doc.ground_state_kind is not None:
            assert doc.ground_state_kind == ordering_kind(first.label) and doc.kind_gap_meV >= doc.gap_meV
        assert doc.gap_meV == pytest.approx(1000 * (energies[1] - energies[0]))
        assert sorted(s.relative_energy_meV for s in doc.ladder) == pytest.approx(
            [1000 * (e - energies[0]) for e in energies]
        )


def test_out_of_domain_candidate_is_ranked_and_flagged(campaign):
    """The tiny model saw only Ni with moments: MnO is still ranked, flagged out of domain and left
    without a ground-state label."""
    _, stores, _ = campaign
    mno = CandidateDoc(**stores.candidates.query_one({"formula": "MnO"}))
    nio = CandidateDoc(**stores.candidates.query_one({"formula": "NiO"}))
    assert mno.n_orderings == 3 and mno.lowest_ordering_label and mno.ground_state_label is None
    assert not mno.resolved and "the model never saw Mn with moments" in mno.unresolved_reason
    assert not mno.confidence.in_magnetic_domain and mno.confidence.out_of_domain_elements == ["Mn"]
    assert nio.confidence.in_magnetic_domain and nio.confidence.out_of_domain_elements == []


def test_rerun_recomputes_nothing_and_reports_skipped(campaign):
    config, stores, _ = campaign
    before = {d["ordering_id"]: d["completed_at"] for d in stores.orderings.query()}
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(config.parent / "report")])
    assert result.exit_code == 0, result.output
    assert "orderings: 0 computed, 6 skipped" in result.output
    assert {d["ordering_id"]: d["completed_at"] for d in stores.orderings.query()} == before


def test_query_by_ground_state_label_as_json(campaign):
    config, stores, _ = campaign
    expected = {}
    for raw in stores.candidates.query():
        expected.setdefault(raw["lowest_ordering_label"], set()).add(raw["candidate_id"])
    for label, ids in expected.items():
        query = json.dumps({"ground_state_label": label})
        result = runner.invoke(
            app, ["query", query, "-c", str(config), "--format", "json", "--include-unresolved"]
        )
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert {row["candidate_id"] for row in rows} == ids


def test_query_fields_sort_limit_csv(campaign):
    config, _, _ = campaign
    args = ["query", "{}", "-c", str(config), "--collection", "orderings", "--fields", "label,energy_eV"]
    result = runner.invoke(app, [*args, "--sort", "-energy_eV", "--limit", "2", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "label,energy_eV" and len(lines) == 3
    energies = [float(line.split(",")[1]) for line in lines[1:]]
    assert energies == sorted(energies, reverse=True)


def test_query_rejects_bad_filter(campaign):
    config, _, _ = campaign
    result = runner.invoke(app, ["query", "{ground_state_label: AFM-II}", "-c", str(config)])
    assert result.exit_code == 1 and "not valid JSON" in result.output


def test_status_and_html_report(campaign, tmp_path):
    config, _, _ = campaign
    result = runner.invoke(app, ["status", "-c", str(config)])
    assert result.exit_code == 0 and "test" in result.stdout and "orderings" in result.stdout
    result = runner.invoke(app, ["report", "-c", str(config), "--format", "html", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert "the model never saw Mn with moments" in page  # the reason reaches the report
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["ladder_MnO_mp-19006.png", "ladder_NiO_mp-19009.png", "overview.png"]
    assert all((tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in pngs)


def test_unknown_calculator_fails_before_any_job(tmp_path, write_config):
    config = write_config(tmp_path, "no-such-model")
    result = runner.invoke(app, ["run", str(config)])
    assert result.exit_code == 1
    assert f"{config}: relax.calculator:" in result.output and "no-such-model" in result.output
    assert not (tmp_path / "db").exists() or build_stores(load_config(config).store).orderings.count() == 0


def test_dry_run_checks_the_calculator(tmp_path, write_config):
    config = write_config(tmp_path, "no-such-model")
    result = runner.invoke(app, ["run", str(config), "--dry-run"])
    assert result.exit_code == 1, result.output
    assert "relax.calculator" in result.output and "no-such-model" in result.output


def test_candidate_the_model_cannot_evaluate_is_reported_not_dropped(tmp_path, tiny_model, write_config):
    """The tiny model knows O, Mn, Fe, Ni: CoO fails with the reason, the others are ranked."""
    config = write_config(tmp_path, str(tiny_model), candidates={"filters": {"names": ["NiO", "CoO"]}})
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert "not screened CoO:" in result.output and "element Co is not known" in result.output
    stores = build_stores(load_config(config).store)
    campaign = stores.campaigns.query_one({"name": "test"})
    assert campaign["candidate_ids"] == ["mp-19009"] and "CoO" in campaign["failed_candidates"]
    assert "Candidates that could not be screened" in (tmp_path / "report" / "report.md").read_text()
