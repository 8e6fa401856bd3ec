"""GPAW engine settings without running GPAW: k-point density by metallicity, distorted starts."""

from __future__ import annotations

import numpy as np
import pytest

from magscreen.dataset.engine import DISTORTION_SHIFT_A, GPAWEngine
from magscreen.dataset.plan import build_plan
from magscreen.dataset.settings import SCFAttempt, load_dataset_config


def _nio_frames(write_config, **spec):
    path = write_config(compounds=[{"name": "NiO", "snapshot": "NiO", **spec}], kinds=["ordering"])
    config = load_dataset_config(path)
    return config, build_plan(config)[0]


def test_oxide_uses_the_gapped_density_and_attempt_overrides(write_config):
    config, frames = _nio_frames(write_config)
    engine = GPAWEngine(config.gpaw)
    attempt = SCFAttempt(name="soft", smearing_eV=0.1, max_scf_iterations=7, extra={"mixer": {"beta": 0.02}})
    settings = engine.gpaw_settings(frames[0], attempt)
    assert not frames[0].metallic
    assert settings.kpoint_density == config.gpaw.kpoint_density_gapped
    assert (settings.smearing_eV, settings.max_scf_iterations) == (0.1, 7)
    assert settings.extra == {"mixer": {"beta": 0.02}} and "symmetry" not in settings.extra
    _, metallic = _nio_frames(write_config, metallic=True)
    assert engine.gpaw_settings(metallic[0], attempt).kpoint_density == config.gpaw.kpoint_density


def test_broken_symmetry_start_moves_only_the_non_magnetic_sublattice(write_config):
    config, frames = _nio_frames(write_config, broken_symmetry=True)
    engine = GPAWEngine(config.gpaw)
    for frame in frames:
        assert engine.gpaw_settings(frame, config.gpaw.attempts[0]).extra["symmetry"] == {
            "point_group": False
        }
        start = engine.distorted_start(frame)
        moved = np.linalg.norm(start.shifts_A, axis=1) > 0
        oxygen = np.array(frame.atoms.get_chemical_symbols()) == "O"
        assert np.array_equal(moved, oxygen)
        assert np.allclose(np.linalg.norm(start.shifts_A[oxygen], axis=1), DISTORTION_SHIFT_A)
        assert np.allclose(start.strain, start.strain.T)


def test_settings_key_follows_what_fixes_the_labels_not_the_scf_strategy(write_config):
    config, frames = _nio_frames(write_config)
    key = GPAWEngine(config.gpaw).settings_key(frames[0])
    fallback = config.gpaw.model_copy(update={"attempts": config.gpaw.attempts[:1]})
    assert GPAWEngine(fallback).settings_key(frames[0]) == key
    tighter = config.gpaw.model_copy(update={"kpoint_density_gapped": 3.0})
    assert GPAWEngine(tighter).settings_key(frames[0]) != key
    metals = config.gpaw.model_copy(update={"kpoint_density": 6.0})  # NiO is gapped: unchanged
    assert GPAWEngine(metals).settings_key(frames[0]) == key


def test_broken_symmetry_eigenstate_criterion_keeps_the_energy_one_and_spares_symmetric_frames(
    write_config,
):
    config, frames = _nio_frames(write_config, broken_symmetry=True)
    loose = config.gpaw.model_copy(update={"broken_symmetry_eigenstates": 1e-5})
    extra = GPAWEngine(loose).gpaw_settings(frames[0], loose.attempts[0]).extra
    assert extra["convergence"] == {"energy": loose.energy_tolerance_eV, "eigenstates": 1e-5}
    assert GPAWEngine(loose).settings_key(frames[0]) == GPAWEngine(config.gpaw).settings_key(frames[0])
    _, symmetric = _nio_frames(write_config)
    assert "convergence" not in GPAWEngine(loose).gpaw_settings(symmetric[0], loose.attempts[0]).extra


class _Killed(Exception):
    """Stands for the build being killed during an SCF."""


def test_a_killed_frame_resumes_after_its_failed_attempts(write_config, tmp_path, monkeypatch):
    """An attempt that failed is not rerun when the build resumes a frame; once the frame ends, its
    markers go (the record keeps the reasons), so --retry-failed runs every attempt again."""
    from types import SimpleNamespace

    from gpaw import KohnShamConvergenceError

    from magscreen.dataset.engine import FrameFailed
    from magscreen.validation.gpaw import calculation

    config, frames = _nio_frames(write_config)
    config.gpaw.attempts = [SCFAttempt(name="first"), SCFAttempt(name="second", max_scf_iterations=9)]
    calls: list[str] = []
    plan = {"first": ["fail"], "second": ["kill", "converge"]}

    def fake_single_point(ordering, settings, workdir, distorted_start=None):
        calls.append(workdir.name)
        outcome = plan[workdir.name].pop(0)
        if outcome == "fail":
            raise KohnShamConvergenceError("")
        if outcome == "kill":
            raise _Killed
        calc = SimpleNamespace(
            get_forces=lambda atoms: np.zeros((len(atoms), 3)), get_stress=lambda atoms: np.zeros(6)
        )
        return SimpleNamespace(
            atoms=ordering.atoms,
            energy_eV=-1.0,
            moments=ordering.moments,
            kpoints=[1, 1, 1],
            hubbard_u_eV={},
            calc=calc,
        )

    monkeypatch.setattr(calculation, "single_point", fake_single_point)
    engine, workdir = GPAWEngine(config.gpaw), tmp_path / "frame"
    with pytest.raises(_Killed):
        engine.compute(frames[0], workdir)
    labels = engine.compute(frames[0], workdir)
    assert calls == ["first", "second", "second"]
    assert labels.attempt == "second"
    limit = config.gpaw.max_scf_iterations
    assert labels.details["failed_attempts"] == [f"first: SCF not converged in {limit} iterations"]
    assert not list(workdir.glob("*/failed.json"))

    plan.update(first=["fail", "fail"], second=["fail", "converge"])
    calls.clear()
    with pytest.raises(FrameFailed, match="second: SCF not converged in 9 iterations"):
        engine.compute(frames[0], workdir)
    assert not list(workdir.glob("*/failed.json"))
    assert engine.compute(frames[0], workdir).attempt == "second"
    assert calls == ["first", "second", "first", "second"]
