"""Posterior of the readout weights: the uncertainty of the model's energies.

With the backbone and the hidden magnetic layers frozen, the magnetic energy of a configuration is
linear in the readout weights w (the last layer of every magnetic head): ``E = E_0 + g . w`` with
``g = dE/dw`` its feature vector. The least-squares readout has a Gaussian posterior
``w ~ N(w_hat, Sigma)`` (:func:`magscreen.training.readout.solve_design`), so any linear
combination of energies, such as an ordering-energy difference, has the variance
``(g_a - g_b)^T Sigma (g_a - g_b)``.

Sigma is P x P (P ~ 10^4 readout weights for a model with many element heads, 0.8 GB in float64),
too large to ship, so the checkpoint stores ``S`` draws ``w_k - w_hat`` of the posterior and
``Sigma ~ (1/S) sum_k d_k d_k^T``: with S = 128 the variance of a difference is known to about 12 %
(relative standard error sqrt(2/S)). ``calibration`` scales the one-sigma so that it covers ~68 %
of the errors on compounds left out of training (leave-one-compound-out, docs/model.md). The
posterior is far more overconfident about compounds it was trained on (their environments are known,
their ordering energies rest on few frames): for those, ``trained_calibration`` is fitted on orderings
left out of trained compounds (leave-one-ordering-out) and applies to the reduced formulas in
``trained_formulas``, never below ``calibration``. An energy difference between two orderings that are
both in the training data at the same volume (``fitted_orderings``) is a fitted one: its error is the
fit's residual, and ``fitted_calibration`` (from the fit's residuals on its own ladders) applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from ase.data import atomic_numbers

if TYPE_CHECKING:
    from magscreen.potential.graph import MagneticGraph
    from magscreen.potential.model import MagneticPotential

__all__ = [
    "FITTED_VOLUME_TOLERANCE",
    "ReadoutPosterior",
    "fitted_key",
    "reduced_formula",
    "readout_features",
    "readout_parameters",
    "unknown_moments",
]

#: An ordering counts as one of the training data when its volume per atom is within this fraction of
#: a training frame's of the same compound and ordering (the strained copies lie 9 % apart).
FITTED_VOLUME_TOLERANCE = 0.01


def reduced_formula(symbols: list[str]) -> str:
    """Reduced formula of a structure's element symbols (pymatgen's, e.g. 'NiO', 'Fe')."""
    from pymatgen.core import Composition

    return Composition("".join(symbols)).reduced_formula


def fitted_key(formula: str, fingerprint: str) -> str:
    """Key of an ordering of a compound in ``ReadoutPosterior.fitted_orderings``: the reduced formula and
    the first six characters of the ordering fingerprint (as the dataset's frame ids carry it)."""
    return f"{formula}:{fingerprint[:6]}"


def readout_parameters(model: MagneticPotential) -> list[torch.nn.Parameter]:
    """Weights and biases of the last layer of every magnetic head, in a fixed order."""
    return [p for layer in model.magnetic.output_layers() for p in (layer.weight, layer.bias)]


def readout_features(model: MagneticPotential, graph: MagneticGraph, moments: torch.Tensor) -> np.ndarray:
    """dE/dw of K moment configurations of one structure, shape (K, P) (eV per unit of each weight).

    The energy is linear in the readout weights w, so ``E(w + d) = E(w) + features @ d`` exactly.
    ``moments`` (K, N, 3) in mu_B; one backbone pass for all K.
    """
    params = readout_parameters(model)
    graph = graph.to(model.device, model.dtype)
    moments = torch.as_tensor(moments, dtype=model.dtype, device=model.device)
    with torch.enable_grad():
        edge_vec = model.edge_vectors(graph, graph.positions, None)
        with torch.no_grad():
            features, _ = model.backbone(graph.numbers, graph.edge_index, edge_vec)
        energies = model.atomic_magnetic_energy(features, graph, edge_vec.detach(), moments).sum(-1)
        rows = []
        for energy in energies:
            grads = torch.autograd.grad(energy, params, retain_graph=True, allow_unused=True)
            rows.append(
                torch.cat(
                    [
                        torch.zeros(p.numel()) if g is None else g.reshape(-1)
                        for g, p in zip(grads, params, strict=True)
                    ]
                )
            )
    return torch.stack(rows).detach().double().cpu().numpy()


def unknown_moments(model: MagneticPotential, graph: MagneticGraph, moments: np.ndarray) -> np.ndarray:
    """Atoms that carry a moment (in any of the configurations ``moments`` (K, N, 3)) which the model
    never learned: outside its magnetic domain, or of an element without an element head when the
    model has element heads. Shape (N,), bool. Energies that depend on them have no uncertainty the
    model can state."""
    carrying = np.any(np.linalg.norm(np.asarray(moments), axis=-1) > 0, axis=0)
    inside = model.in_magnetic_domain(graph.to(model.device, model.dtype))
    known = np.ones(len(carrying), dtype=bool) if inside is None else inside.cpu().numpy()
    heads = model.magnetic.hyper.element_heads
    if heads:
        headed = [atomic_numbers[e] for e in heads]
        known &= np.isin(graph.numbers.cpu().numpy(), headed)
    return carrying & ~known


@dataclass(frozen=True)
class ReadoutPosterior:
    """Draws of the readout weights' posterior deviations.

    Attributes
    ----------
    deviations
        Shape (S, P): draws of ``w - w_hat`` in the units of the weights (eV per feature unit),
        readout weights in the order of :func:`magscreen.training.readout.readout_parameters`.
    noise_scale
        RMS of the weighted training residuals (dimensionless), already in ``deviations``.
    calibration
        Factor on the one-sigma from left-out compounds (1 until calibrated).
    trained_calibration
        Factor on the one-sigma of compounds in ``trained_formulas``, from orderings left out of
        trained compounds; None: ``calibration`` applies to them too.
    trained_formulas
        Reduced formulas of the compounds in the training data.
    fitted_calibration
        Factor on the one-sigma of a difference between two orderings in ``fitted_orderings``, from the
        fit's residuals on its own training ladders; None: no such regime.
    fitted_orderings
        :func:`fitted_key` of every ordering in the training data -> the volumes per atom
        (Angstrom^3) at which it was trained.
    """

    deviations: np.ndarray
    noise_scale: float
    calibration: float = 1.0
    trained_calibration: float | None = None
    trained_formulas: tuple[str, ...] = ()
    fitted_calibration: float | None = None
    fitted_orderings: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        """Number of posterior draws S."""
        return int(self.deviations.shape[0])

    def regime(self, formula: str | None = None, fitted: bool = False) -> str:
        """Which calibration an energy difference of the compound ``formula`` (reduced) takes, a key
        of :data:`magscreen.schemas.UNCERTAINTY_REGIMES`; ``fitted``: a difference between two
        orderings of the training data (:meth:`is_fitted`)."""
        if fitted and self.fitted_calibration is not None:
            return "fitted"
        if self.trained_calibration is not None and formula in self.trained_formulas:
            return "trained compound"
        return "new compound"

    def factor(self, formula: str | None = None, fitted: bool = False) -> float:
        """Calibration factor of the regime (:meth:`regime`): ``fitted_calibration``; for a trained
        compound the larger of ``trained_calibration`` and ``calibration`` (a formula does not prove the
        structure is the trained one); else ``calibration``."""
        regime = self.regime(formula, fitted)
        if regime == "fitted":
            return float(self.fitted_calibration)
        if regime == "trained compound":
            return max(float(self.trained_calibration), self.calibration)
        return self.calibration

    def is_fitted(self, formula: str, fingerprint: str, volume_per_atom: float) -> bool:
        """Whether an ordering (reduced ``formula``, ordering ``fingerprint``, volume per atom in
        Angstrom^3) is one of the training data, at a trained volume."""
        volumes = self.fitted_orderings.get(fitted_key(formula, fingerprint), ())
        return self.fitted_calibration is not None and any(
            abs(volume_per_atom / v - 1) <= FITTED_VOLUME_TOLERANCE for v in volumes
        )

    def covariance(
        self, features: np.ndarray, formula: str | None = None, fitted: np.ndarray | None = None
    ) -> np.ndarray:
        """Covariance (eV^2) of the linear outputs ``features @ w``; ``features`` (K, P) in eV per weight.

        Includes the calibration factor of the compound ``formula`` (:meth:`factor`), or, for the rows
        where ``fitted`` (K,) is true (differences between orderings of the training data),
        ``fitted_calibration``. Infinite where a feature touches a weight without data and without a
        finite prior.
        """
        features = np.atleast_2d(np.asarray(features, dtype=float))
        projected = features @ self.deviations.T.astype(float)  # (K, S)
        fitted = np.zeros(len(features), dtype=bool) if fitted is None else np.asarray(fitted, dtype=bool)
        factors = np.array([self.factor(formula, bool(f)) for f in fitted])
        return factors[:, None] * factors[None, :] * (projected @ projected.T) / self.samples

    def calibrated(
        self,
        factor: float,
        trained: float | None = None,
        formulas: tuple[str, ...] = (),
        fitted: float | None = None,
        orderings: dict[str, tuple[float, ...]] | None = None,
    ) -> ReadoutPosterior:
        """The same posterior with ``calibration`` set to ``factor``; with ``trained``, the factor of
        the trained compounds ``formulas``; with ``fitted``, the factor of differences between the
        training data's ``orderings`` (:attr:`fitted_orderings`)."""
        return replace(
            self,
            calibration=float(factor),
            trained_calibration=None if trained is None else float(trained),
            trained_formulas=tuple(sorted(formulas)) if trained is not None else (),
            fitted_calibration=None if fitted is None else float(fitted),
            fitted_orderings=dict(orderings or {}) if fitted is not None else {},
        )

    def as_checkpoint(self) -> dict:
        """Tensors and numbers for :meth:`MagneticPotential.save`."""
        return {
            "deviations": torch.as_tensor(self.deviations, dtype=torch.float32),
            "noise_scale": float(self.noise_scale),
            "calibration": float(self.calibration),
            "trained_calibration": self.trained_calibration,
            "trained_formulas": list(self.trained_formulas),
            "fitted_calibration": self.fitted_calibration,
            "fitted_orderings": {str(k): [float(x) for x in v] for k, v in self.fitted_orderings.items()},
        }

    @classmethod
    def from_checkpoint(cls, payload: dict) -> ReadoutPosterior:
        """Inverse of :meth:`as_checkpoint`."""
        return cls(
            deviations=payload["deviations"].numpy(),
            noise_scale=float(payload["noise_scale"]),
            calibration=float(payload["calibration"]),
            trained_calibration=payload.get("trained_calibration"),
            trained_formulas=tuple(payload.get("trained_formulas", ())),
            fitted_calibration=payload.get("fitted_calibration"),
            fitted_orderings={k: tuple(v) for k, v in payload.get("fitted_orderings", {}).items()},
        )
