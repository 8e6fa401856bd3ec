"""The default shipped model carries the fitted spin-orbit block and reproduces its recorded numbers
(``<model>.json``'s ``soc_fit``, written by benchmarks/training/fit_soc.py); its monoxides stay
outside the spin-orbit domain, so their energies are invariant under a global spin rotation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.potential import MagneticCalculator
from magscreen.potential.calculator import SHIPPED_MODELS_DIR
from magscreen.screening.anisotropy_ml import ml_anisotropy
from magscreen.screening.settings import RelaxSettings
from magscreen.training.soc_fit import read_dataset_record, read_force_theorem_runs

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "benchmarks" / "anisotropy" / "runs"
DEFAULT = RelaxSettings().calculator


def _group(source: str):
    """The direction group a recorded source names: a dataset record (path relative to the
    repository) or a force-theorem run of benchmarks/anisotropy/runs."""
    path = Path(re.match(r"(\S+\.json)", source).group(1))
    if "dataset force_theorem frame" in source:
        return read_dataset_record(ROOT / path)
    (group,) = read_force_theorem_runs([RUNS / path.name])
    return group


@pytest.fixture(scope="module")
def shipped():
    record = json.loads((SHIPPED_MODELS_DIR / f"{DEFAULT}.json").read_text())
    return MagneticCalculator(DEFAULT).model, record


def test_default_model_has_the_fitted_block(shipped):
    model, record = shipped
    assert "soc_fit" in record, f"run benchmarks/training/fit_soc.py on {DEFAULT}.pt (docs/anisotropy.md)"
    assert model.soc and model.soc_domain
    assert model.model_version == record["model_version"]


def test_reproduces_the_recorded_anisotropies(shipped):
    model, record = shipped
    fit = record["soc_fit"]
    for source in fit["runs"]:
        group = _group(source)
        expected = fit["model_on_fitted_cells"][group.name]
        structure = AseAtomsAdaptor.get_structure(group.atoms)
        structure.add_site_property("magmom", list(group.moments))
        analysis = ml_anisotropy(structure, model, curves=False).analysis
        assert analysis.mae_ueV_per_atom == pytest.approx(expected["mae_ueV_per_atom"], abs=0.5), group.name
        assert analysis.easy_axis == expected["easy_axis"], group.name


def test_monoxides_keep_zero_anisotropy(shipped):
    """NiO lies outside the spin-orbit domain: rotating all moments together changes nothing."""
    model, _ = shipped
    atoms = bulk("NiO", "rocksalt", a=4.17)
    moments = np.array([[0.0, 0.0, 1.27], [0.0, 0.0, 0.0]])
    angles = np.radians([0.0, 30.0, 60.0, 90.0])
    configs = np.stack(
        [
            moments @ np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]]).T
            for a in angles
        ]
    )
    energies = MagneticCalculator(model, dtype=torch.float64).evaluate_batch(atoms, configs)["energy"]
    assert np.ptp(energies) < 1e-10
