"""Uncertainty of a candidate's energy ladder from the model's readout posterior.

Every relaxed ordering has its own structure and moments; the model's energy of each is linear in
the readout weights, ``E_k = E_k(w_hat) + g_k . (w - w_hat)``, so the ordering energies of one
candidate are jointly Gaussian with covariance ``G Sigma G^T`` (``G`` the feature rows per
magnetic atom, :meth:`MagneticCalculator.feature_covariance`). Energies relative to the lowest
ordering are correlated through the shared weights: their one-sigma comes from the covariance of
the differences, which is smaller than the two sigmas added in quadrature where the orderings share
what the model is unsure of. A difference between two orderings that are both in the model's
training data at this volume (:meth:`ReadoutPosterior.is_fitted`) takes the calibration of the fit's
residuals; any other the calibration of orderings or compounds left out of training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from ase.calculators.calculator import Calculator

from magscreen.schemas import MagneticOrderingDoc

if TYPE_CHECKING:
    from magscreen.potential.uncertainty import ReadoutPosterior

__all__ = ["ladder_regimes", "ladder_uncertainties"]


def ladder_uncertainties(
    calculator: Calculator, ladder: Sequence[MagneticOrderingDoc]
) -> list[float | None] | None:
    """One sigma (meV per magnetic atom) of every ordering's energy relative to the lowest ordering.

    Parameters
    ----------
    calculator
        The calculator that computed the ladder's energies.
    ladder
        Relaxed orderings of one candidate (structures with their relaxed moments as ``magmom``).

    Returns
    -------
    list or None
        Per ordering, in ladder order (0 for the lowest); None for an ordering whose moments sit on
        atoms the model never learned (no uncertainty it can state). None when the calculator gives
        no uncertainty at all (no readout posterior, or not a MagneticCalculator).
    """
    model = getattr(calculator, "model", None)
    if not hasattr(calculator, "readout_features") or getattr(model, "readout_posterior", None) is None:
        return None
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    rows = []
    for doc in ladder:
        atoms = AseAtomsAdaptor.get_atoms(Structure.from_dict(doc.structure))  # 'magmom' -> initial moments
        features = calculator.readout_features(atoms, atoms.get_initial_magnetic_moments()[None])[0]
        rows.append(features / max(doc.n_magnetic_atoms, 1))
    features = np.array(rows)
    lowest = int(np.argmin([d.energy_per_magnetic_atom_eV for d in ladder]))
    known = np.isfinite(features).all(axis=1)
    if not known[lowest]:
        return [None] * len(ladder)
    difference = np.where(known[:, None], features - features[lowest], 0.0)
    formula, fitted = _fitted(model.readout_posterior, ladder)
    variance = np.diag(calculator.feature_covariance(difference, formula, fitted))
    return [float(1e3 * np.sqrt(max(v, 0.0))) if ok else None for v, ok in zip(variance, known, strict=True)]


def ladder_regimes(calculator: Calculator, ladder: Sequence[MagneticOrderingDoc]) -> list[str] | None:
    """The calibration regime of every ordering's sigma relative to the lowest, a key of
    :data:`magscreen.schemas.UNCERTAINTY_REGIMES` (in ladder order); None when the calculator gives
    no uncertainty."""
    posterior = getattr(getattr(calculator, "model", None), "readout_posterior", None)
    if posterior is None:
        return None
    formula, fitted = _fitted(posterior, ladder)
    return [posterior.regime(formula, bool(f)) for f in fitted]


def _fitted(posterior: ReadoutPosterior, ladder: Sequence[MagneticOrderingDoc]) -> tuple[str, np.ndarray]:
    """The candidate's reduced formula and, per ordering, whether it and the lowest ordering are both
    orderings of the training data at their volume (:meth:`ReadoutPosterior.is_fitted`)."""
    from pymatgen.core import Structure

    from magscreen.potential.uncertainty import reduced_formula

    structures = [Structure.from_dict(doc.structure) for doc in ladder]
    formula = reduced_formula([site.specie.symbol for site in structures[0]])
    seen = np.array(
        [
            posterior.is_fitted(formula, doc.fingerprint, structure.volume / len(structure))
            for doc, structure in zip(ladder, structures, strict=True)
        ]
    )
    lowest = int(np.argmin([d.energy_per_magnetic_atom_eV for d in ladder]))
    return formula, seen & seen[lowest]
