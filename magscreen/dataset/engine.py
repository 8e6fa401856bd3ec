"""Engines that compute a planned frame: the GPAW engine (``magscreen.validation.gpaw``) or an ASE calculator.

An engine's ``compute(frame, workdir)`` returns the frame's labels (energy in eV, self-consistent
moments in mu_B, forces in eV/Angstrom, stress in eV/Angstrom^3 in ASE's Voigt order) and how they
were obtained, or raises :class:`FrameFailed` with the reason. ``describe()`` is the engine's part
of the provenance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from magscreen.dataset.kinds import PlannedFrame
from magscreen.dataset.settings import SCFAttempt, TrainingGPAWSettings

__all__ = ["ASEEngine", "FrameEngine", "FrameFailed", "GPAWEngine", "FrameLabels"]

#: Strain of the distorted start (symmetric, no symmetry axis): the monoxide ladders' choice.
DISTORTION_STRAIN = 0.04 * np.array([[1.0, 0.3, 0.2], [0.3, -0.6, 0.1], [0.2, 0.1, -0.4]])
#: Shift (Angstrom) of the non-magnetic sublattice along (1, 2, 3) in the distorted start.
DISTORTION_SHIFT_A = 0.1


class FrameFailed(Exception):
    """A frame could not be computed (every SCF attempt failed); the message is the reason."""


@dataclass
class FrameLabels:
    """What an engine computed for one frame.

    Attributes
    ----------
    energy_eV
        Total energy of the cell (eV).
    magmoms
        Self-consistent atomic moments (mu_B), shape (N,).
    forces
        Forces (eV/Angstrom), shape (N, 3), or None.
    stress
        Stress (eV/Angstrom^3, ASE convention, Voigt xx yy zz yz xz xy), or None.
    converged
        Whether the SCF converged.
    attempt
        Name of the SCF attempt that converged.
    details
        Engine-specific facts (k-point grid, settings, failed attempts before this one).
    """

    energy_eV: float
    magmoms: np.ndarray
    forces: np.ndarray | None
    stress: np.ndarray | None
    converged: bool
    attempt: str
    details: dict


class FrameEngine(Protocol):
    """Computes frames (any engine the runner can use)."""

    name: str

    def compute(self, frame: PlannedFrame, workdir: Path) -> FrameLabels:
        """Labels of one frame; ``workdir`` is the frame's own folder (restart files)."""
        ...

    def describe(self) -> dict:
        """Engine name, version and settings, for the provenance file."""
        ...

    def settings_key(self, frame: PlannedFrame) -> str:
        """Short key of the settings that fix a frame's labels; a record with another key is recomputed."""
        ...


@dataclass
class ASEEngine:
    """Any ASE calculator as an engine (tests, stand-ins); ``calculator_factory()`` makes one per frame."""

    calculator_factory: object
    name: str = "ase"

    def compute(self, frame: PlannedFrame, workdir: Path) -> FrameLabels:
        atoms = frame.atoms.copy()
        atoms.calc = self.calculator_factory()
        energy = float(atoms.get_potential_energy())
        return FrameLabels(
            energy_eV=energy,
            magmoms=atoms.get_initial_magnetic_moments().copy(),
            forces=np.asarray(atoms.get_forces(), dtype=float),
            stress=np.asarray(atoms.get_stress(), dtype=float),
            converged=True,
            attempt="single",
            details={"calculator": type(atoms.calc).__name__},
        )

    def describe(self) -> dict:
        return {"engine": self.name, "calculator": type(self.calculator_factory()).__name__}

    def settings_key(self, frame: PlannedFrame) -> str:
        return self.name


@dataclass
class GPAWEngine:
    """The project's GPAW engine (``validation.gpaw.calculation.single_point``) with training settings.

    Each SCF attempt of ``settings.attempts`` runs in its own sub-folder of the frame's folder (its
    ``scf.gpw`` restart file makes a rerun of a finished SCF free); the first that converges gives
    the labels. An attempt that failed leaves a marker until the frame ends, so a build killed
    during a later attempt resumes with that one (one attempt can take an hour). Frames marked
    ``broken_symmetry`` run without point-group symmetry from a distorted start
    (``DistortedStart``: ``DISTORTION_STRAIN``, the non-magnetic atoms shifted by
    ``DISTORTION_SHIFT_A`` along (1, 2, 3)).
    """

    settings: TrainingGPAWSettings
    name: str = "gpaw"

    def gpaw_settings(self, frame: PlannedFrame, attempt: SCFAttempt):
        """``GPAWSettings`` of one attempt on one frame (k-point density by metallicity; the frame's
        own ``kpoint_density`` and ``smearing_eV`` parameters, where it has them, take precedence)."""
        from magscreen.validation.gpaw.settings import GPAWSettings

        s = self.settings
        extra = dict(attempt.extra)
        if frame.broken_symmetry:
            extra["symmetry"] = {"point_group": False}
            if s.broken_symmetry_eigenstates is not None:
                extra["convergence"] = {
                    "energy": s.energy_tolerance_eV,
                    "eigenstates": s.broken_symmetry_eigenstates,
                }
        own = frame.parameters
        return GPAWSettings(
            xc=s.xc,
            ecut_eV=s.ecut_eV,
            kpoint_density=own.get("kpoint_density")
            or (s.kpoint_density if frame.metallic else s.kpoint_density_gapped),
            smearing_eV=own.get("smearing_eV") or attempt.smearing_eV or s.smearing_eV,
            hubbard=s.hubbard,
            energy_tolerance_eV=s.energy_tolerance_eV,
            max_scf_iterations=attempt.max_scf_iterations or s.max_scf_iterations,
            extra=extra,
        )

    @staticmethod
    def distorted_start(frame: PlannedFrame):
        """The distorted start of a broken-symmetry frame."""
        from magscreen.validation.gpaw.calculation import DistortedStart

        non_magnetic = np.abs(frame.atoms.get_initial_magnetic_moments()) < 1e-3
        direction = np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0)
        shifts = np.where(non_magnetic[:, None], DISTORTION_SHIFT_A * direction, 0.0)
        return DistortedStart(strain=DISTORTION_STRAIN, shifts_A=shifts)

    def compute(self, frame: PlannedFrame, workdir: Path) -> FrameLabels:
        from gpaw import KohnShamConvergenceError

        from magscreen.validation.gpaw.calculation import single_point
        from magscreen.validation.gpaw.ordering_input import OrderingInput

        initial = frame.atoms.get_initial_magnetic_moments()
        ordering = OrderingInput(
            atoms=frame.atoms.copy(),
            moments=np.column_stack([np.zeros_like(initial), np.zeros_like(initial), initial]),
            noncollinear=False,
        )
        start = self.distorted_start(frame) if frame.broken_symmetry else None
        failed = []
        for attempt in self.settings.attempts:
            settings = self.gpaw_settings(frame, attempt)
            folder, described = workdir / attempt.name, settings.as_dict()
            reason = _failed_before(folder, described)
            if reason is not None:  # this frame was interrupted after the attempt had failed
                failed.append(reason)
                continue
            try:
                result = single_point(ordering, settings, folder, distorted_start=start)
            except KohnShamConvergenceError as error:
                reason = f"{attempt.name}: SCF not converged in {settings.max_scf_iterations} iterations" + (
                    f" ({error})" if str(error) else ""
                )
                _remember_failure(folder, described, reason)
                failed.append(reason)
                continue
            _forget_failures(workdir)
            forces = stress = None
            notes = []
            if self.settings.forces:
                forces = np.asarray(result.calc.get_forces(result.atoms), dtype=float)
            if self.settings.stress:
                try:
                    stress = np.asarray(result.calc.get_stress(result.atoms), dtype=float)
                except NotImplementedError as error:
                    notes.append(f"no stress: {error}")
            return FrameLabels(
                energy_eV=result.energy_eV,
                magmoms=result.moments[:, 2].copy(),
                forces=forces,
                stress=stress,
                converged=True,
                attempt=attempt.name,
                details={
                    "kpoints": result.kpoints,
                    "hubbard_u_eV": result.hubbard_u_eV,
                    "settings": described,
                    "failed_attempts": failed,
                    "notes": notes,
                    "distorted_start": start is not None,
                },
            )
        _forget_failures(workdir)  # the record keeps the reasons; --retry-failed runs every attempt again
        raise FrameFailed("; ".join(failed) or "no SCF attempt configured")

    def settings_key(self, frame: PlannedFrame) -> str:
        """Hash of functional, cutoff, k-point density, smearing, +U, tolerance and symmetry handling.

        The SCF attempts (mixers, iteration limits) are left out: adding a fallback keeps finished frames.
        """
        settings = self.gpaw_settings(frame, SCFAttempt(name="key")).as_dict()
        fixed = {
            k: settings[k]
            for k in ("xc", "ecut_eV", "kpoint_density", "smearing_eV", "hubbard", "energy_tolerance_eV")
        }
        fixed["broken_symmetry"] = frame.broken_symmetry
        return hashlib.sha1(json.dumps(fixed, sort_keys=True).encode()).hexdigest()[:12]

    def describe(self) -> dict:
        from magscreen.validation.gpaw.calculation import gpaw_version

        return {
            "engine": self.name,
            "gpaw_version": gpaw_version(),
            "setups": gpaw_setups_version(),
            "settings": self.settings.model_dump(mode="json"),
        }


#: Marker of an SCF attempt that failed on a frame still in progress (in the attempt's folder).
FAILED_ATTEMPT_FILE = "failed.json"


def _remember_failure(folder: Path, settings: dict, reason: str) -> None:
    """Mark an attempt as failed, so that a build killed during a later attempt resumes there."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FAILED_ATTEMPT_FILE).write_text(json.dumps({"settings": settings, "reason": reason}))


def _failed_before(folder: Path, settings: dict) -> str | None:
    """The reason an attempt with these settings failed before on this frame, or None."""
    marker = folder / FAILED_ATTEMPT_FILE
    if not marker.is_file():
        return None
    data = json.loads(marker.read_text())
    return data["reason"] if data["settings"] == json.loads(json.dumps(settings)) else None


def _forget_failures(workdir: Path) -> None:
    """Remove the frame's attempt markers once it has ended (its record holds the outcome)."""
    for marker in workdir.glob(f"*/{FAILED_ATTEMPT_FILE}"):
        marker.unlink()


def gpaw_setups_version() -> str:
    """Version of the installed PAW setups (the ``gpaw-data`` package), or where they were found."""
    from importlib import metadata

    try:
        return f"gpaw-data {metadata.version('gpaw-data')}"
    except metadata.PackageNotFoundError:
        from gpaw import setup_paths

        return "setups in " + ", ".join(str(p) for p in setup_paths)
