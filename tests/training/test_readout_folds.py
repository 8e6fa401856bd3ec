"""Readout systems for cross-validation: the design cache reproduces the system, and a fold of the
normal equations (total minus one group of frames) solves like the least squares on the rest."""

from __future__ import annotations

import numpy as np
import pytest
from test_readout import heisenberg_frames

from magscreen.potential import MagneticPotential
from magscreen.training.readout import NormalEquations, readout_system, solve_system

VARIANCES = {"energy": 1e-4, "magnetic_forces": 1e-3, "forces": 1e-3}


@pytest.fixture(scope="module")
def setup():
    model = MagneticPotential(soc=False, seed=11, species=("Fe",), cutoff=3.0).double()
    frames = heisenberg_frames(8, seed=9)
    graphs = [f.graph(model.cutoff) for f in frames]
    caches = [model.backbone_cache(g) for g in graphs]
    return model, frames, graphs, caches


def build(setup, **options):
    """The toy system; ``options`` add to or replace the defaults (both priors on)."""
    model, frames, graphs, caches = setup
    options = {"stress_prior": 1e-3, "rattle_prior": 0.1, **options}
    return readout_system(
        model,
        frames,
        graphs,
        caches,
        weights={"energy": 1.0, "magnetic_forces": 1.0},
        variances=VARIANCES,
        progress=False,
        **options,
    )


def test_design_cache_returns_the_same_system_and_only_for_the_same_model(setup, tmp_path):
    first = build(setup, design_cache=tmp_path)
    stored = sorted(tmp_path.glob("*.npz"))
    assert len(stored) == 8
    again = build(setup, design_cache=tmp_path)
    np.testing.assert_allclose(again.design, first.design, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(again.target, first.target)
    other = MagneticPotential(soc=False, seed=12, species=("Fe",), cutoff=3.0).double()
    build((other, *setup[1:]), design_cache=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 16  # other hidden weights: other derivatives


def test_a_fold_of_the_normal_equations_solves_like_least_squares_on_the_rest(setup):
    # ridge 1e-6: the normal equations square the condition number; at the default 1e-8 the two
    # solves agree to 2e-5 relative (numpy 2.4.6 / scipy 1.17.1), at 1e-6 to 3e-7
    system = build(setup, ridge=1e-6)
    keep = np.arange(2, 8)
    damping = system.damping
    direct = solve_system(system, keep).weights
    total = NormalEquations.of(system)
    left_out = ~np.isin(system.frame_of_row, keep)
    fold, _ = total.minus(NormalEquations.of(system, left_out, columns=total.columns)).solve(damping)
    features = system.energy_features
    # compare what the weights predict (the readout has directions no data pins)
    assert np.allclose(
        features @ fold, features @ direct, rtol=1e-5, atol=1e-6 * np.abs(features @ direct).max()
    )


def test_a_frame_of_weight_two_solves_like_the_frame_counted_twice(setup):
    """Without priors (a frame listed twice would draw its rattle probes anew), weight 2 is the frame
    listed twice (all frames carry as many moments, so the per-label normalisation by the counts
    scales every row alike)."""
    from dataclasses import replace

    model, frames, graphs, caches = setup
    frames = [replace(frames[0], energy=frames[0].energy + 0.05), *frames[1:]]  # a label the rest contradict

    def solve(frames, graphs, caches):
        system = build((model, frames, graphs, caches), stress_prior=0.0, rattle_prior=0.0)
        return solve_system(system, np.arange(len(frames))).weights, system

    weighted = [replace(frames[0], weight=2.0), *frames[1:]]
    twice, _ = solve([frames[0], *frames], [graphs[0], *graphs], [caches[0], *caches])
    once, system = solve(weighted, graphs, caches)
    plain, _ = solve(frames, graphs, caches)
    features = system.energy_features
    scale = np.abs(features @ twice).max()
    np.testing.assert_allclose(features @ once, features @ twice, atol=1e-6 * scale)
    assert np.abs(features @ plain - features @ twice).max() > 1e-4 * scale  # the weight matters


def test_a_frame_weight_scales_its_label_and_prior_rows_alike(setup, tmp_path):
    """With the design cache the probes are drawn per frame, so the weighted system differs from the
    plain one only in frame 0's rows (labels, stress and rattle priors), by sqrt(weight)."""
    from dataclasses import replace

    model, frames, graphs, caches = setup
    build(setup, design_cache=tmp_path)  # fill the cache: both systems below read the stored derivatives
    plain = build(setup, design_cache=tmp_path)
    weighted = build(
        (model, [replace(frames[0], weight=4.0), *frames[1:]], graphs, caches), design_cache=tmp_path
    )
    first = plain.frame_of_row == 0
    assert first.sum() > 2  # energy, magnetic forces and the priors
    np.testing.assert_allclose(weighted.design[first], 2.0 * plain.design[first], rtol=1e-12)
    np.testing.assert_allclose(weighted.target[first], 2.0 * plain.target[first], rtol=1e-12)
    np.testing.assert_array_equal(weighted.design[~first], plain.design[~first])


def test_columns_whose_every_row_is_left_out_drop_out_of_the_fold():
    """Total minus the left-out rows leaves round-off (1e-13 here: BLAS sums 3000 and 500 rows in other
    orders) in the columns only the left-out rows touch (their energy groups, an element's head);
    the fold must solve like the equations of the remaining rows, where those columns are empty."""
    rng = np.random.default_rng(0)
    design = rng.normal(size=(3000, 60))
    left_out = np.arange(3000) >= 2500
    design[~left_out, 50:] = 0.0  # readout columns 50-54 and offsets 55-59 only in the left-out rows
    target = rng.normal(size=3000)

    def equations(rows):
        part, y = design[rows], target[rows]
        return NormalEquations(part.T @ part, part.T @ y, float(y @ y), len(y), np.arange(60), n_readout=55)

    total, rest = equations(np.ones(3000, bool)), equations(~left_out)
    fold = total.minus(equations(left_out))
    assert np.abs(fold.gram[50:]).max() == 0.0 < np.abs(total.gram[50:] - equations(left_out).gram[50:]).max()
    damping = np.full(55, 1e-3)
    np.testing.assert_allclose(fold.solve(damping)[0], rest.solve(damping)[0], rtol=1e-9, atol=1e-12)
