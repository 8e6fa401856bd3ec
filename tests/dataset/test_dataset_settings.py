"""Build-config errors name the file, the key path and what was expected."""

from __future__ import annotations

import pytest

from magscreen.dataset.settings import load_dataset_config
from magscreen.errors import InputError


def test_unknown_key_names_file_and_key_path(write_config):
    path = write_config(gpaw={"ecut": 450})
    with pytest.raises(InputError) as error:
        load_dataset_config(path)
    assert str(path) in str(error.value) and "gpaw.ecut" in str(error.value)
    assert "ecut_eV" in str(error.value)  # the allowed keys are listed


def test_bad_value_names_key_and_expectation(write_config):
    path = write_config(strain={"scales": [0.97, -1.0]})
    with pytest.raises(InputError, match="strain"):
        load_dataset_config(path)
    path = write_config(orderings={"max_atoms": 0})
    with pytest.raises(InputError, match=r"orderings\.max_atoms.*>= 1"):
        load_dataset_config(path)


def test_compound_needs_exactly_one_source(write_config):
    path = write_config(compounds=[{"name": "X", "snapshot": "NiO", "file": "x.cif"}])
    with pytest.raises(InputError, match="exactly one of 'snapshot' or 'file'"):
        load_dataset_config(path)


def test_missing_structure_file_and_unknown_kind(write_config):
    path = write_config(compounds=[{"name": "MnS", "file": "nowhere/MnS.cif"}])
    with pytest.raises(InputError, match=r"compounds\.0\.file"):
        load_dataset_config(path)
    path = write_config(kinds=["ordering", "spiral"])
    with pytest.raises(InputError, match=r"kinds\.1.*unknown frame kind 'spiral'"):
        load_dataset_config(path)
