"""The shipped general model (the default of the demo and of campaigns): its recorded numbers
reproduce from the shipped file, its energy and magnetic-force errors on held-out NiO are no worse
than `monoxides`' (its force error is: docs/model.md), and every demo ground state it claims (gap
above twice its calibrated one-sigma) is the measured one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_shipped_model import check_recorded

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.calculator import SHIPPED_MODELS_DIR
from magscreen.training.data import read_deepmd_spin
from magscreen.training.evaluation import validation_errors

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = SHIPPED_MODELS_DIR / "general.pt"
RECORD = json.loads(WEIGHTS.with_suffix(".json").read_text())
MONOXIDES = json.loads((SHIPPED_MODELS_DIR / "monoxides.json").read_text())
HELD_OUT = ("energy", "magnetic_forces", "magnetic_forces_transverse", "magnetic_forces_longitudinal")


@pytest.fixture(scope="module")
def general() -> MagneticPotential:
    return MagneticPotential.load(WEIGHTS)


def test_general_model_is_the_default_and_carries_its_calibrated_posterior(general):
    from magscreen.config import load_config
    from magscreen.screening.settings import RelaxSettings

    assert RelaxSettings().calculator == "general"
    assert load_config(REPO / "configs" / "demo.yaml").relax.calculator == "general"
    calculator = MagneticCalculator("general")
    assert calculator.model_version == RECORD["model_version"]  # the record belongs to these weights
    assert set(calculator.magnetic_domain) >= {"Cr", "Mn", "Fe", "Co", "Ni"}
    record = RECORD["leave_one_compound_out"]
    posterior = general.readout_posterior
    assert posterior.calibration == pytest.approx(record["uncertainty"]["calibration_factor"])
    # trained compounds: the factor from orderings left out of them, by reduced formula
    trained = record["trained_compounds"]
    assert posterior.trained_calibration == pytest.approx(trained["uncertainty"]["calibration_factor"])
    assert set(posterior.trained_formulas) == set(trained["formulas"]) >= {"NiO", "CoO", "Fe", "MnPt"}
    assert posterior.factor("CoO") >= posterior.calibration == posterior.factor("Mn2Au")
    # differences between orderings of the training data: the factor of the fit's residuals
    fitted = record["fitted_orderings"]
    assert posterior.fitted_calibration == pytest.approx(fitted["uncertainty"]["calibration_factor"])
    assert len(posterior.fitted_orderings) == fitted["orderings"] > 40
    # the structural part of the domain: coordination of every trained element in its environments
    assert set(general.magnetic_coordination) == set(general.magnetic_domain)
    assert general.magnetic_coordination["Fe"]["Fe"] == [8, 12]  # bcc and fcc Fe


def test_general_model_reproduces_and_does_not_worsen_held_out_nio_errors(general, nio_data):
    found = validation_errors(general, read_deepmd_spin(nio_data / "data_2"), forces=False)
    check_recorded(found, RECORD, HELD_OUT)
    for name in HELD_OUT:  # issue 18: not worse than `monoxides` on the held-out NiO frames
        assert RECORD["validation"][name]["mae"] <= MONOXIDES["validation"][name]["mae"], name


@pytest.mark.slow
def test_general_model_reproduces_its_held_out_nio_forces(general, nio_data):
    """Reproduced, not compared: 1.73 against `monoxides`' 1.62 meV/A, the regression docs/model.md states."""
    found = validation_errors(general, read_deepmd_spin(nio_data / "data_2"), forces=True)
    check_recorded(found, RECORD, ("forces",))


def test_ground_states_the_general_model_claims_on_the_demo_are_the_measured_ones():
    """Unrelaxed orderings of the demo's 19 candidates (its enumeration and moment lengths): where the
    model's gap exceeds twice its one-sigma, calibrated as a campaign does (the demo's compounds are
    trained ones: the factor of the fit's residuals where both orderings are training orderings at
    this volume, else the factor from orderings left out of them), the lowest ordering has the
    measured kind. CoO and NiO, whose ladders it was fitted to, are among them; MnO's gap (about 11
    meV per Mn, DFT 16-19) sits inside twice its calibrated sigma (docs/model.md)."""
    from magscreen.config import load_config
    from magscreen.magnetism.enumeration import enumerate_orderings
    from magscreen.screening.ranking import agrees_with_experiment
    from magscreen.sources.loader import load_candidates

    demo = load_config(REPO / "configs" / "demo.yaml")
    calculator = MagneticCalculator("general")
    posterior = calculator.model.readout_posterior
    claimed, fitted_gaps = {}, set()
    for candidate in load_candidates(demo.candidates):
        orderings = enumerate_orderings(candidate.structure, demo.orderings).orderings
        energies, features = [], []
        for ordering in orderings:
            atoms = ordering.to_atoms()
            atoms.calc = calculator
            energies.append(atoms.get_potential_energy() / ordering.n_magnetic_atoms)
            moments = atoms.get_initial_magnetic_moments()[None]
            features.append(calculator.readout_features(atoms, moments)[0] / ordering.n_magnetic_atoms)
        order = np.argsort(energies)
        difference = np.array(features[order[1]] - features[order[0]])[None]
        if not np.isfinite(difference).all():
            continue  # moments the model never learned: no claim
        formula = candidate.structure.composition.reduced_formula
        volume = candidate.structure.volume / len(candidate.structure)
        fitted = all(posterior.is_fitted(formula, orderings[k].fingerprint, volume) for k in order[:2])
        if fitted:
            fitted_gaps.add(formula)
        sigma = float(np.sqrt(calculator.feature_covariance(difference, formula, np.array([fitted]))[0, 0]))
        if energies[order[1]] - energies[order[0]] > 2 * sigma:
            label = orderings[order[0]].label
            claimed[formula] = label
            assert agrees_with_experiment(label, candidate.experimental_ordering), (
                candidate.candidate_id,
                label,
            )
    assert {"CoO", "NiO"} <= set(claimed), claimed
    assert len(claimed) >= 9, claimed  # docs/model.md: CoO, NiO, NiF2, CrO2, Fe, Co, FePt, MnPt, MnBi
    assert {"CoO", "NiO", "Fe", "MnF2"} <= fitted_gaps  # the campaign's fingerprints are the dataset's
    assert all(claimed[f] == "AFM-II" for f in ("CoO", "NiO")), claimed
