"""Fixtures of the dataset tests: a small build config and a cheap stand-in engine (ASE's EMT)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from magscreen.dataset.engine import ASEEngine


def emt_calculator():
    """ASE's effective-medium potential: real energies, forces and stress for Ni, in milliseconds."""
    from ase.calculators.emt import EMT

    return EMT()


def _emt_engine(config) -> ASEEngine:
    return ASEEngine(emt_calculator, name="emt")


@pytest.fixture
def emt_engine():
    """Engine factory of the runner (config -> engine): EMT standing in for GPAW."""
    return _emt_engine


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a build config (a dict merged over a Ni-fcc default) and return its path."""

    def write(**overrides) -> Path:
        config = {
            "name": "test",
            "work_dir": "work",
            "export_dir": "export",
            "orderings": {"max_magnetic_atoms": 4, "max_atoms": 8, "antiferro": 3},
            "strain": {"scales": [0.97, 1.03]},
            "rattle": {"amplitudes_A": [0.05], "orderings": 1, "seed": 0},
            "compounds": [{"name": "Ni-fcc", "snapshot": "Ni-fcc"}],
        }
        config.update(overrides)
        path = tmp_path / "build.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    return write
