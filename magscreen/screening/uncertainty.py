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

import numpy as np
from ase.calculators.calculator import Calculator

from magscreen.schemas import MagneticOrderingDoc

__all__ = ["ladder_uncertainties"]


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

    from magscreen.potential.uncertainty import reduced_formula

    rows, fitted = [], []
    for doc in ladder:
        atoms = AseAtomsAdaptor.get_atoms(Structure.from_dict(doc.structure))  # 'magmom' -> initial moments
        features = calculator.readout_features(atoms, atoms.get_initial_magnetic_moments()[None])[0]
        rows.append(features / max(doc.n_magnetic_atoms, 1))
        formula = reduced_formula(atoms.get_chemical_symbols())  # every ordering: the candidate's composition
        volume = atoms.get_volume() / len(atoms)
        fitted.append(model.readout_posterior.is_fitted(formula, doc.fingerprint, volume))
    features = np.array(rows)
    lowest = int(np.argmin([d.energy_per_magnetic_atom_eV for d in ladder]))
    known = np.isfinite(features).all(axis=1)
    if not known[lowest]:
        return [None] * len(ladder)
    difference = np.where(known[:, None], features - features[lowest], 0.0)
    fitted = np.array(fitted) & fitted[lowest]
    variance = np.diag(calculator.feature_covariance(difference, formula, fitted))
    return [float(1e3 * np.sqrt(max(v, 0.0))) if ok else None for v, ok in zip(variance, known, strict=True)]
