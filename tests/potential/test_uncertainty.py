"""Posterior of the least-squares readout: the Gaussian it samples, the coverage of its one-sigma on a
linear model with known noise, priors where data is missing, and the calculator's covariance API."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.build import bulk

from magscreen.errors import InputError
from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.potential.uncertainty import fitted_key, readout_parameters
from magscreen.training.readout import ReadoutSystem, fit_readout, get_readout, set_readout, solve_system

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from test_readout import LENGTH, heisenberg_frames  # noqa: E402


def linear_system(rng: np.random.Generator, rows: int, readout: int, noise: float, truth: np.ndarray):
    """A ReadoutSystem of a linear model y = X w + noise, with one energy group offset column that
    duplicates a reference column (a degenerate nuisance pair, as one composition makes)."""
    x = rng.normal(size=(rows, readout))
    offset = np.ones((rows, 1))
    design = np.hstack([x, offset, offset])
    target = x @ truth + 0.3 + noise * rng.normal(size=rows)
    return ReadoutSystem(
        design=design,
        target=target,
        elements=["Ni"],
        groups=["NiO"],
        frame_of_row=np.arange(rows),
        energy_features=x,
        damping=np.full(readout, 1e-6),
    )


def test_posterior_draws_follow_the_gaussian_of_the_damped_least_squares():
    """Sample covariance of the draws = s^2 times the readout block of the inverse damped normal
    matrix, with the (degenerate) offsets marginalised by the Schur complement."""
    rng = np.random.default_rng(0)
    system = linear_system(rng, rows=300, readout=5, noise=0.1, truth=rng.normal(size=5))
    solution = solve_system(system, posterior_samples=40000, seed=1)
    posterior = solution.posterior
    norms = np.linalg.norm(system.design, axis=0)
    scaled = system.design / norms
    normal = scaled.T @ scaled + np.diag(np.r_[system.damping, 0.0, 0.0])
    rr, ro, oo = normal[:5, :5], normal[:5, 5:], normal[5:, 5:]
    marginal = np.linalg.inv(rr - ro @ np.linalg.pinv(oo) @ ro.T)
    expected = posterior.noise_scale**2 * marginal / np.outer(norms[:5], norms[:5])
    sampled = posterior.deviations.astype(float).T @ posterior.deviations.astype(float) / posterior.samples
    assert np.allclose(sampled, expected, rtol=0.05, atol=0.05 * np.abs(expected).max())
    assert posterior.noise_scale == pytest.approx(0.1, rel=0.1)  # the noise that made the labels


def test_one_sigma_covers_68_percent_of_prediction_errors_with_known_noise():
    """Bayesian linear regression: over independent data sets, the error of a prediction at a new
    point falls inside its one-sigma in 68 % of the cases (binomial 3-sigma band for 300 draws)."""
    rng = np.random.default_rng(2)
    inside = []
    for trial in range(300):
        truth = rng.normal(size=4)
        system = linear_system(rng, rows=12, readout=4, noise=0.2, truth=truth)
        solution = solve_system(system, posterior_samples=400, seed=trial)
        point = rng.normal(size=4)
        sigma = np.sqrt(solution.posterior.covariance(point[None])[0, 0])
        inside.append(abs(point @ (solution.weights - truth)) <= sigma)
    assert 0.68 - 0.081 < np.mean(inside) < 0.68 + 0.081


def test_weights_without_data_keep_their_prior():
    """A readout column no row touches has the prior's standard deviation s / sqrt(damping): an
    element head without training data is never confident."""
    rng = np.random.default_rng(3)
    system = linear_system(rng, rows=200, readout=4, noise=0.1, truth=rng.normal(size=4))
    design = system.design.copy()
    design[:, 2] = 0.0
    untouched = ReadoutSystem(**{**system.__dict__, "design": design})
    posterior = solve_system(untouched, posterior_samples=4000, seed=0).posterior
    spread = posterior.deviations.std(axis=0)
    assert spread[2] == pytest.approx(posterior.noise_scale / np.sqrt(1e-6), rel=0.05)
    assert spread[2] > 1e3 * spread[[0, 1, 3]].max()


@pytest.fixture(scope="module")
def fitted() -> MagneticPotential:
    return fitted_toy_model()


def fitted_toy_model() -> MagneticPotential:
    """A small model with Fe and Co heads, its readout fitted (with posterior) on Fe Heisenberg frames."""
    model = MagneticPotential(
        soc=False, seed=11, cutoff=3.0, magnetic=MagneticHyperparameters(element_heads=("Fe", "Co"))
    ).double()
    frames = heisenberg_frames(12, seed=4)
    graphs = [f.graph(model.cutoff) for f in frames]
    caches = [model.backbone_cache(g) for g in graphs]
    model.record_magnetic_domain(graphs, [f.moments for f in frames], environments=False)
    fit = fit_readout(
        model,
        frames,
        graphs,
        caches,
        weights={"energy": 1.0, "magnetic_forces": 1.0},
        variances={"energy": 1e-4, "magnetic_forces": 1e-3},
        progress=False,
        posterior_samples=64,
    )
    model.readout_posterior = fit.posterior
    return model


def configurations(n: int, atoms_count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(n, atoms_count, 3))
    return LENGTH * directions / np.linalg.norm(directions, axis=-1, keepdims=True)


def test_energy_is_linear_in_the_readout_weights(fitted):
    """E(w + d) - E(w) = features . d exactly, for a posterior draw d: the covariance G Sigma G^T is
    the covariance of the energies themselves, not a linearisation."""
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    moments = configurations(3, len(atoms), seed=5)
    calculator = MagneticCalculator(fitted)
    features = calculator.readout_features(atoms, moments)
    base = calculator.evaluate_batch(atoms, moments)["energy"]
    weights = get_readout(fitted)
    step = fitted.readout_posterior.deviations[0].astype(float)
    set_readout(fitted, weights + step)
    try:
        moved = calculator.evaluate_batch(atoms, moments)["energy"]
    finally:
        set_readout(fitted, weights)
    assert np.allclose(moved - base, features @ step, rtol=1e-8, atol=1e-10)


def test_covariance_is_finite_where_trained_and_undefined_for_elements_never_trained(fitted):
    """Fe (trained): a symmetric positive semi-definite covariance. Co (a head, but never seen with
    moments) and Ni (no head): infinite, never a confident number."""
    calculator = MagneticCalculator(fitted)
    fe = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    moments = configurations(4, len(fe), seed=6)
    covariance = calculator.energy_covariance(fe, moments)
    assert covariance.shape == (4, 4)
    assert np.all(np.isfinite(covariance))
    assert np.allclose(covariance, covariance.T)
    assert np.all(np.linalg.eigvalsh(covariance) > -1e-9 * np.abs(covariance).max())
    for element in ("Co", "Ni"):
        other = fe.copy()
        other.symbols[:] = element
        assert np.all(np.isinf(calculator.energy_covariance(other, moments))), element


def test_posterior_survives_a_checkpoint_and_a_model_without_one_says_so(fitted, tmp_path):
    path = fitted.save(tmp_path / "model.pt")
    loaded = MagneticPotential.load(path)
    np.testing.assert_array_equal(loaded.readout_posterior.deviations, fitted.readout_posterior.deviations)
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    moments = configurations(2, len(atoms), seed=7)
    expected = MagneticCalculator(fitted).energy_covariance(atoms, moments)
    assert np.allclose(MagneticCalculator(loaded).energy_covariance(atoms, moments), expected)
    bare = MagneticPotential(soc=False, seed=11, cutoff=3.0).double()
    assert sum(p.numel() for p in readout_parameters(bare)) > 0
    with pytest.raises(InputError, match="no posterior"):
        MagneticCalculator(bare).energy_covariance(atoms, torch.as_tensor(moments).numpy())


def test_adding_the_spin_orbit_block_keeps_the_posterior_of_the_exchange_energies(fitted):
    """with_soc leaves soc-off energies unchanged, so their covariance must not change either (the
    fitted spin-orbit layer itself carries no variance)."""
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    moments = configurations(3, len(atoms), seed=8)
    with_soc = fitted.with_soc(seed=3)
    before = MagneticCalculator(fitted).energy_covariance(atoms, moments)
    after = MagneticCalculator(with_soc).energy_covariance(atoms, moments)
    assert with_soc.readout_posterior.calibration == fitted.readout_posterior.calibration
    assert np.allclose(after, before, rtol=1e-6, atol=1e-12 * np.abs(before).max())


def test_trained_compounds_get_their_own_calibration_and_keep_it_through_a_checkpoint(fitted, tmp_path):
    """The factor of a trained compound (leave-one-ordering-out) scales its variances; any other
    composition keeps the leave-one-compound-out factor."""
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    moments = configurations(3, len(atoms), seed=9)
    raw = MagneticCalculator(fitted).energy_covariance(atoms, moments)
    model = copy.deepcopy(fitted)
    model.readout_posterior = fitted.readout_posterior.calibrated(2.0, trained=5.0, formulas=("Fe", "NiO"))
    calculator = MagneticCalculator(model)
    assert np.allclose(calculator.energy_covariance(atoms, moments), 25.0 * raw, rtol=1e-6)
    features = calculator.readout_features(atoms, moments)
    assert np.allclose(calculator.feature_covariance(features, "FeO"), 4.0 * raw, rtol=1e-6)
    assert np.allclose(calculator.feature_covariance(features), 4.0 * raw, rtol=1e-6)
    loaded = MagneticPotential.load(model.save(tmp_path / "model.pt"))
    assert loaded.readout_posterior.factor("Fe") == 5.0 and loaded.readout_posterior.factor("Co") == 2.0
    narrower = fitted.readout_posterior.calibrated(2.0, trained=1.5, formulas=("Fe",))
    assert narrower.factor("Fe") == 2.0  # never below the factor of compounds left out
    assert np.allclose(MagneticCalculator(loaded).energy_covariance(atoms, moments), 25.0 * raw, rtol=1e-6)


def test_differences_between_fitted_orderings_get_the_factor_of_the_fit_residuals(fitted, tmp_path):
    """A row flagged as a difference of two training orderings is scaled by the fitted factor, the
    others by their compound's; the covariance stays D Sigma D (correlations kept); the orderings and
    their volumes survive a checkpoint, and a volume outside the tolerance is not a fitted one."""
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
    moments = configurations(3, len(atoms), seed=10)
    raw = MagneticCalculator(fitted).energy_covariance(atoms, moments)
    model = copy.deepcopy(fitted)
    volume = atoms.get_volume() / len(atoms)
    orderings = {fitted_key("Fe", "0123456789abcdef"): (volume,)}
    model.readout_posterior = fitted.readout_posterior.calibrated(
        2.0, trained=5.0, formulas=("Fe",), fitted=1.5, orderings=orderings
    )
    calculator = MagneticCalculator(model)
    features = calculator.readout_features(atoms, moments)
    flags = np.array([True, False, True])
    factors = np.array([1.5, 5.0, 1.5])
    covariance = calculator.feature_covariance(features, "Fe", flags)
    assert np.allclose(covariance, factors[:, None] * factors[None, :] * raw, rtol=1e-6)
    loaded = MagneticPotential.load(model.save(tmp_path / "model.pt")).readout_posterior
    assert loaded.fitted_calibration == 1.5
    assert loaded.is_fitted("Fe", "012345ffffffffff", volume * 1.005)  # six characters identify it
    assert not loaded.is_fitted("Fe", "012345ffffffffff", volume * 1.03)  # a strained cell is not
    assert not loaded.is_fitted("Co", "0123456789abcdef", volume)
    assert not fitted.readout_posterior.calibrated(2.0).is_fitted("Fe", "0123456789abcdef", volume)
