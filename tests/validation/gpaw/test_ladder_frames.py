"""The ladder training frames are what the conversion script makes of the committed GPAW ladders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from ase.io import read

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "reference" / "ladder_training_frames.py"


def _script():
    spec = importlib.util.spec_from_file_location("ladder_training_frames", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_training_frames_reproduce_from_the_gpaw_ladders(tmp_path):
    script = _script()
    target = tmp_path / "ladders.extxyz"
    count = script.convert(script.SOURCE, target, script.LENGTHS, script.COMPOUNDS, script.EXCLUDE)
    fresh = read(target, index=":", format="extxyz")
    committed = read(script.TARGET, index=":", format="extxyz")
    assert count == len(fresh) == len(committed)
    for new, old in zip(fresh, committed, strict=True):
        assert new.info["energy_group"] == old.info["energy_group"]
        assert new.get_potential_energy() == old.get_potential_energy()
        np.testing.assert_allclose(new.get_magnetic_moments(), old.get_magnetic_moments())
        np.testing.assert_allclose(new.positions, old.positions)


def test_moments_have_one_length_per_element_and_excluded_frames_are_gone():
    script = _script()
    frames = read(script.TARGET, index=":", format="extxyz")
    groups = [f.info["energy_group"] for f in frames]
    for frame in frames:
        symbols = np.array(frame.get_chemical_symbols())
        moments = np.abs(frame.get_magnetic_moments())
        assert np.all(moments[symbols == "O"] == 0.0)
        for element in set(symbols) - {"O"}:
            np.testing.assert_allclose(moments[symbols == element], script.LENGTHS[element])
        assert f"{frame.info['compound']}:{frame.info['ordering']}" not in script.EXCLUDE
        assert groups.count(frame.info["energy_group"]) >= 2  # a lone frame has no energy difference
    assert not set(groups) & set(script.EXCLUDE)
