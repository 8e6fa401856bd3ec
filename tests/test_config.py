"""Config errors name the file, the key path, the value and what was expected."""

from __future__ import annotations

import pytest

from magscreen.config import CampaignConfig, load_config
from magscreen.errors import InputError


def write(tmp_path, text: str):
    path = tmp_path / "campaign.yaml"
    path.write_text(text)
    return path


def test_defaults_and_alias(tmp_path):
    config = load_config(write(tmp_path, "name: demo\nvalidate: {engine: gpaw, top_n: 1}\n"))
    assert isinstance(config, CampaignConfig)
    assert config.validate_.engine == "gpaw" and config.validate_.top_n == 1
    assert config.store.kind == "embedded" and config.store.path.name == "magscreen-db"


def test_unknown_key(tmp_path):
    path = write(tmp_path, "orderings:\n  max_magnetic_atom: 4\n")
    with pytest.raises(InputError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert "orderings.max_magnetic_atom: unknown key" in message
    assert "max_magnetic_atoms" in message  # the allowed keys are listed


def test_wrong_type(tmp_path):
    path = write(tmp_path, "orderings:\n  max_magnetic_atoms: four\n")
    with pytest.raises(InputError) as error:
        load_config(path)
    assert error.value.field == "orderings.max_magnetic_atoms"
    assert str(error.value) == f"{path}: orderings.max_magnetic_atoms: got 'four' (expected an integer)"


def test_out_of_range_and_literal(tmp_path):
    path = write(tmp_path, "relax: {fmax: -1}\nvalidate: {engine: qe}\n")
    with pytest.raises(InputError) as error:
        load_config(path)
    message = str(error.value)
    assert "relax.fmax: got -1 (expected a value > 0)" in message
    assert "validate.engine: got 'qe' (expected one of 'none', 'gpaw' or 'vasp')" in message


def test_missing_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(InputError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: no such file (expected a campaign config in YAML)"


def test_not_a_mapping_and_bad_yaml(tmp_path):
    with pytest.raises(InputError, match="expected a mapping of sections"):
        load_config(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(InputError, match="not valid YAML"):
        load_config(write(tmp_path, "name: [unclosed\n"))


def test_cross_field_rules(tmp_path):
    with pytest.raises(InputError, match="store: .*needs store.uri"):
        load_config(write(tmp_path, "store: {kind: mongodb}\n"))
    with pytest.raises(InputError, match="candidates: .*needs at least one entry in candidates.paths"):
        load_config(write(tmp_path, "candidates: {source: files}\n"))


def test_shipped_demo_config_is_valid():
    from pathlib import Path

    config = load_config(Path(__file__).parents[1] / "configs" / "demo.yaml")
    assert config.candidates.source == "snapshot" and config.store.kind == "embedded"


def test_second_demo_runs_the_snapshot_candidates_the_demo_leaves_out():
    """configs/demo-large-cells.yaml (issue 18): Cr2O3, Fe2O3 and YCo5, whose primitive cells hold 4-5
    magnetic atoms, with the demo's model, moments and relaxation; the two together cover the snapshot."""
    import json
    from pathlib import Path

    repo = Path(__file__).parents[1]
    demo = load_config(repo / "configs" / "demo.yaml")
    large = load_config(repo / "configs" / "demo-large-cells.yaml")
    snapshot = json.loads((repo / "magscreen" / "data" / "candidates" / "index.json").read_text())
    names = set(large.candidates.filters.names)
    assert names == {"Cr2O3", "Fe2O3", "YCo5"} and not names & set(demo.candidates.filters.names)
    assert names | set(demo.candidates.filters.names) == {entry["name"] for entry in snapshot}
    assert large.orderings.max_magnetic_atoms >= 5 and large.relax == demo.relax
    assert large.orderings.moments == demo.orderings.moments
    assert large.store.path != demo.store.path
