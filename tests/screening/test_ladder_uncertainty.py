"""One sigma of every ordering's energy relative to the lowest, from the model's readout posterior."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.uncertainty import fitted_key
from magscreen.schemas import UNCERTAINTY_REGIMES, MagneticOrderingDoc
from magscreen.screening.uncertainty import ladder_regimes, ladder_uncertainties

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "potential"))
from test_uncertainty import fitted_toy_model  # noqa: E402


def ordering(calculator: MagneticCalculator, atoms, label: str) -> MagneticOrderingDoc:
    """An ordering document of ``atoms`` (moments set) with the calculator's energy."""
    atoms.calc = calculator
    energy = atoms.get_potential_energy()
    structure = AseAtomsAdaptor.get_structure(atoms)
    structure.add_site_property("magmom", list(atoms.get_initial_magnetic_moments()))
    n = len(atoms)
    return MagneticOrderingDoc(
        ordering_id=f"Fe:{label}:m",
        candidate_id="Fe",
        formula="Fe",
        campaign="c",
        label=label,
        fingerprint=label,
        model_version="m",
        structure=structure.as_dict(),
        n_atoms=n,
        n_magnetic_atoms=n,
        energy_eV=energy,
        energy_per_atom_eV=energy / n,
        energy_per_magnetic_atom_eV=energy / n,
        initial_moments=[],
        magnetic_moments=[],
        total_magnetization_muB=0.0,
        max_force_eV_per_A=0.0,
        lattice_steps=0,
        converged=True,
        wall_time_s=0.0,
    )


@pytest.fixture(scope="module")
def calculator() -> MagneticCalculator:
    return MagneticCalculator(fitted_toy_model())


def cell(element: str, moments: list[float]):
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True)
    atoms.symbols[:] = element
    atoms.set_initial_magnetic_moments(moments)
    return atoms


def test_sigma_is_that_of_the_energy_difference_per_magnetic_atom(calculator):
    """FM and AFM (B2) bcc Fe: the lowest gets 0, the other the one sigma of the difference of the two
    energies per atom, correlations included (energy_covariance of the same cell)."""
    docs = [
        ordering(calculator, cell("Fe", [2.0, 2.0]), "FM"),
        ordering(calculator, cell("Fe", [2.0, -2.0]), "AFM"),
    ]
    sigmas = ladder_uncertainties(calculator, docs)
    lowest = int(np.argmin([d.energy_per_magnetic_atom_eV for d in docs]))
    covariance = calculator.energy_covariance(cell("Fe", [0, 0]), np.array([[2.0, 2.0], [2.0, -2.0]])) / 4
    expected = 1e3 * np.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
    assert sigmas[lowest] == 0.0
    assert sigmas[1 - lowest] == pytest.approx(expected, rel=1e-5)
    assert expected < 1e3 * np.sqrt(covariance[0, 0] + covariance[1, 1])  # shared weights: correlated


def test_unknown_moments_and_models_without_posterior_give_no_sigma(calculator):
    docs = [
        ordering(calculator, cell("Ni", [2.0, 2.0]), "FM"),
        ordering(calculator, cell("Ni", [2.0, -2.0]), "AFM"),
    ]
    assert ladder_uncertainties(calculator, docs) == [None, None]
    bare = MagneticCalculator(MagneticPotential(soc=False, seed=11, cutoff=3.0).double())
    assert ladder_uncertainties(bare, docs) is None


def test_a_difference_of_two_training_orderings_takes_the_fitted_factor(calculator):
    """With FM and AFM both among the training orderings (at this volume), the gap's sigma is the fitted
    factor times the raw one; with only one of them there, it is the trained compound's factor."""
    docs = [
        ordering(calculator, cell("Fe", [2.0, 2.0]), "FM"),
        ordering(calculator, cell("Fe", [2.0, -2.0]), "AFM"),
    ]
    other = 1 - int(np.argmin([d.energy_per_magnetic_atom_eV for d in docs]))
    raw = ladder_uncertainties(calculator, docs)[other] / calculator.model.readout_posterior.factor("Fe")
    volume = float(cell("Fe", [0, 0]).get_volume() / 2)
    model = copy.deepcopy(calculator.model)
    for labels, factor in (({"FM", "AFM"}, 1.5), ({docs[other].label}, 5.0)):
        orderings = {fitted_key("Fe", label): (volume,) for label in labels}
        model.readout_posterior = model.readout_posterior.calibrated(
            2.0, trained=5.0, formulas=("Fe",), fitted=1.5, orderings=orderings
        )
        sigma = ladder_uncertainties(MagneticCalculator(model), docs)[other]
        assert sigma == pytest.approx(factor * raw, rel=1e-6)
        regime = ladder_regimes(MagneticCalculator(model), docs)[other]
        assert regime == ("fitted" if factor == 1.5 else "trained compound") and regime in UNCERTAINTY_REGIMES
    model.readout_posterior = model.readout_posterior.calibrated(2.0)  # no trained compounds: a new one
    assert ladder_regimes(MagneticCalculator(model), docs) == ["new compound"] * 2
