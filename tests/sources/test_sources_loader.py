"""The candidates section of a config selects candidates from each source."""

from __future__ import annotations

import pytest

from magscreen.config import CandidatesConfig
from magscreen.sources import load_snapshot
from magscreen.sources import loader as candidates_module
from magscreen.sources.loader import load_candidates


def test_snapshot_names_and_elements():
    config = CandidatesConfig(filters={"names": ["NiO", "MnO", "Fe-bcc"], "elements": ["O"]})
    assert sorted(c.formula for c in load_candidates(config)) == ["MnO", "NiO"]


def test_files_with_filters(tmp_path):
    for candidate in load_snapshot(names=["NiO", "Fe2O3", "Fe-bcc"]):
        candidate.structure.to(filename=str(tmp_path / f"{candidate.formula}.cif"))
    config = CandidatesConfig(source="files", paths=[tmp_path], filters={"elements": ["Fe"], "max_atoms": 4})
    assert [c.formula for c in load_candidates(config)] == ["Fe"]


def test_materials_project_names_split_into_ids_and_formulas(monkeypatch):
    seen = {}

    def fake_query(**kwargs):
        seen.update(kwargs)
        return []

    monkeypatch.setattr(candidates_module, "query_materials_project", fake_query)
    config = CandidatesConfig(
        source="materials_project",
        filters={"names": ["mp-19009", "FeO"], "energy_above_hull": 0.05},
        mp_query={"is_stable": True},
    )
    assert load_candidates(config) == []
    assert seen["material_ids"] == ["mp-19009"] and seen["formula"] == ["FeO"]
    assert seen["energy_above_hull"] == pytest.approx(0.05)
    assert seen["extra_criteria"] == {"is_stable": True}
