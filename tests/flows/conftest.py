"""Fixtures of the campaign tests: a tiny magnetic potential and campaign configs that use it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from magscreen.potential import MagneticPotential


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Checkpoint of a small random potential whose magnetic domain is {Ni} only."""
    model = MagneticPotential(seed=3, species=("O", "Mn", "Fe", "Ni"), channels=4, num_layers=1)
    model.magnetic_domain = ("Ni",)
    return model.save(tmp_path_factory.mktemp("model") / "tiny.pt")


@pytest.fixture(scope="session")
def write_config():
    """Function that writes a small campaign config (rocksalt NiO and MnO) into a folder."""
    return _write_config


def _write_config(folder: Path, calculator: str, **sections) -> Path:
    """A small campaign config (rocksalt NiO and MnO, 2 magnetic atoms) in ``folder``."""
    config = {
        "name": "test",
        "candidates": {"source": "snapshot", "filters": {"names": ["NiO", "MnO"]}},
        "orderings": {"max_magnetic_atoms": 2, "max_orderings": 3},
        "relax": {"calculator": calculator, "steps": 3, "spin_steps": 3},
        "store": {"path": str(folder / "db")},
    }
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
