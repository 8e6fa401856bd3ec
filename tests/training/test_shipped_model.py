"""The shipped NiO model: loadable by name, and its documented validation errors reproduce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.calculator import SHIPPED_MODELS_DIR
from magscreen.potential.data import read_deepmd_spin
from magscreen.training.evaluation import validation_errors

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = SHIPPED_MODELS_DIR / "nio.pt"
RECORD = json.loads(WEIGHTS.with_suffix(".json").read_text())


def test_shipped_nio_loads_by_name():
    calculator = MagneticCalculator("nio")
    assert calculator.magnetic_domain == ("Ni",)
    assert calculator.model_version == RECORD["model_version"]  # the record belongs to these weights


def _check(found: dict, names: tuple[str, ...]) -> None:
    documented = (REPO / "docs" / "model.md").read_text()
    for name in names:
        expected = RECORD["validation"][name]["mae"]
        assert found[name]["mae"] == pytest.approx(expected, rel=2e-3), name
        assert f"{expected:.3g}" in documented, f"docs/model.md does not quote the {name} MAE {expected:.3g}"


def test_shipped_nio_reproduces_energy_and_magnetic_force_errors(nio_data):
    """Energy and magnetic-force MAE on data_2 (31 held-out frames) recomputed from the shipped file."""
    model = MagneticPotential.load(WEIGHTS)
    found = validation_errors(model, read_deepmd_spin(nio_data / "data_2"), forces=False)
    _check(found, ("energy", "magnetic_forces", "magnetic_forces_transverse"))


@pytest.mark.slow
def test_shipped_nio_reproduces_force_errors(nio_data):
    model = MagneticPotential.load(WEIGHTS)
    found = validation_errors(model, read_deepmd_spin(nio_data / "data_2"), forces=True)
    _check(found, ("forces",))
