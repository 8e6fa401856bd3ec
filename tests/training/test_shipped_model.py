"""The shipped model: loadable by name, its documented validation errors reproduce, its ladders hold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase.io import read

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.calculator import SHIPPED_MODELS_DIR
from magscreen.training.data import read_deepmd_spin
from magscreen.training.evaluation import validation_errors

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = SHIPPED_MODELS_DIR / "monoxides.pt"
LADDERS = REPO / "configs" / "train" / "data" / "monoxide_ladders.extxyz"
RECORD = json.loads(WEIGHTS.with_suffix(".json").read_text())


def test_shipped_model_loads_by_name():
    calculator = MagneticCalculator("monoxides")
    assert calculator.magnetic_domain == ("Co", "Mn", "Ni")
    assert calculator.model_version == RECORD["model_version"]  # the record belongs to these weights


def check_recorded(found: dict, record: dict, names: tuple[str, ...]) -> None:
    """The recomputed MAEs ``found`` equal a shipped model's recorded ones, which docs/model.md quotes."""
    documented = (REPO / "docs" / "model.md").read_text()
    for name in names:
        expected = record["validation"][name]["mae"]
        assert found[name]["mae"] == pytest.approx(expected, rel=2e-3), name
        assert f"{expected:.3g}" in documented, f"docs/model.md does not quote the {name} MAE {expected:.3g}"


def test_shipped_model_reproduces_energy_and_magnetic_force_errors(nio_data):
    """Energy and magnetic-force MAE on data_2 (31 held-out frames) recomputed from the shipped file."""
    model = MagneticPotential.load(WEIGHTS)
    found = validation_errors(model, read_deepmd_spin(nio_data / "data_2"), forces=False)
    check_recorded(found, RECORD, ("energy", "magnetic_forces", "magnetic_forces_transverse"))


@pytest.mark.slow
def test_shipped_model_reproduces_force_errors(nio_data):
    model = MagneticPotential.load(WEIGHTS)
    found = validation_errors(model, read_deepmd_spin(nio_data / "data_2"), forces=True)
    check_recorded(found, RECORD, ("forces",))


def test_shipped_model_puts_afm2_lowest_on_every_ladder():
    """On every GPAW ladder it was fitted to (MnO at five lattice constants, NiO, CoO), AFM-II is the
    model's ground state, and MnO's ordering energies are within 3 meV per Mn of GPAW's."""
    model = MagneticPotential.load(WEIGHTS)
    calculator = MagneticCalculator(model)
    groups: dict[str, dict[str, tuple[float, float]]] = {}
    for atoms in read(LADDERS, index=":", format="extxyz"):
        metals = int(np.sum(atoms.numbers != 8))
        dft = atoms.get_potential_energy() / metals
        atoms.set_initial_magnetic_moments(atoms.get_magnetic_moments())
        atoms.calc = calculator
        groups.setdefault(atoms.info["energy_group"], {})[atoms.info["ordering"]] = (
            atoms.get_potential_energy() / metals,
            dft,
        )
    assert {g.split("@")[0] for g in groups} == {"NiO", "MnO", "CoO"}
    for group, energies in groups.items():
        model_e = {label: e for label, (e, _) in energies.items()}
        assert min(model_e, key=model_e.get) == "AFM-II", group
        if group.startswith("MnO"):
            for label, (e, dft) in energies.items():
                gap, dft_gap = e - energies["AFM-II"][0], dft - energies["AFM-II"][1]
                assert abs(gap - dft_gap) < 3e-3, (group, label)


def test_demo_ground_states_of_the_fitted_monoxides():
    """The demo's MnO, CoO and NiO come out AFM-II, the measured ground state. These are the compounds
    whose GPAW ladders the shipped model was fitted to, so this checks the fit as the demo uses it
    (its candidates, orderings and moment lengths from configs/demo.yaml, unrelaxed), not a prediction."""
    from magscreen.config import load_config
    from magscreen.magnetism.enumeration import enumerate_orderings
    from magscreen.sources.loader import load_candidates

    demo = load_config(REPO / "configs" / "demo.yaml")
    filters = demo.candidates.filters.model_copy(update={"names": ["MnO", "CoO", "NiO"]})
    candidates = load_candidates(demo.candidates.model_copy(update={"filters": filters}))
    assert sorted(c.structure.composition.reduced_formula for c in candidates) == ["CoO", "MnO", "NiO"]
    calculator = MagneticCalculator("monoxides")
    for candidate in candidates:
        energies = {}  # eV per magnetic atom
        for ordering in enumerate_orderings(candidate.structure, demo.orderings).orderings:
            atoms = ordering.to_atoms()
            atoms.calc = calculator
            energies[ordering.label] = atoms.get_potential_energy() / ordering.n_magnetic_atoms
        assert set(energies) == {"FM", "AFM-I", "AFM-II"}, candidate.candidate_id
        ground = min(energies, key=energies.get)
        gap = min(e for label, e in energies.items() if label != ground) - energies[ground]
        assert ground == "AFM-II" and gap > 0.010, (candidate.candidate_id, energies)
