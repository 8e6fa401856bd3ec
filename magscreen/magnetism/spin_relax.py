"""Spin relaxation: minimise the energy over moment directions with FIRE on the unit sphere.

The driving force on a direction is the torque ``tau_i = m_i x H_i`` (eV) with ``H_i = -dE/dm_i``
(eV/mu_B) from the calculator's ``magnetic_forces``; a direction moves along
``|m_i| (H_i - (H_i . e_i) e_i)``, the negative energy gradient on the sphere, and is rotated
exactly (it stays a unit vector). Velocities follow FIRE (Bitzek et al., Phys. Rev. Lett. 97,
170201 (2006)) and are projected onto the new tangent plane after every step. Optionally the
moment magnitudes (force ``H_i . e_i``, eV/mu_B) and the positions (forces, eV/Angstrom) move in
the same FIRE step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError
from tqdm import tqdm

from magscreen.errors import InputError
from magscreen.magnetism.moments import atoms_moments


@dataclass
class SpinRelaxResult:
    """Outcome of :func:`relax_spins`.

    Attributes
    ----------
    atoms
        Relaxed structure; ``get_initial_magnetic_moments()`` holds the (N, 3) moments (mu_B).
    trajectory
        Snapshot of every step (``info["energy"]`` in eV, ``info["max_torque"]`` in eV).
    converged
        Whether the convergence criteria were met within ``steps``.
    max_torque
        Largest ``|m_i x H_i|`` at the end (eV).
    energy
        Final energy (eV).
    n_steps
        Number of steps taken.
    """

    atoms: Atoms
    trajectory: list[Atoms] = field(default_factory=list)
    converged: bool = False
    max_torque: float = float("inf")
    energy: float = float("nan")
    n_steps: int = 0


def relax_spins(
    atoms: Atoms,
    calculator: Calculator,
    *,
    torque_tol: float = 1e-4,
    steps: int = 2000,
    relax_magnitudes: bool = False,
    relax_positions: bool = False,
    fmax: float = 0.05,
    max_rotation: float = 0.2,
    max_displacement: float = 0.1,
    progress: bool = False,
) -> SpinRelaxResult:
    """Relax the moment directions (and optionally magnitudes and positions) of ``atoms``.

    Parameters
    ----------
    atoms
        Structure with initial magnetic moments, (N,) or (N, 3) mu_B; it is not modified.
        Collinear moments are a stationary point of isotropic exchange (zero torque): tilt them
        to let a non-collinear state develop.
    calculator
        ASE calculator implementing ``magnetic_forces`` (eV/mu_B, shape (N, 3)).
    torque_tol
        Convergence threshold on the largest torque ``|m x H|`` (eV); with ``relax_magnitudes``
        also on ``|m| |H . e|`` (eV).
    steps
        Largest number of steps.
    relax_magnitudes
        Let the moment magnitudes move too.
    relax_positions
        Let the atoms move too; converged when the largest force is below ``fmax`` (eV/Angstrom).
    fmax
        Force threshold (eV/Angstrom) when positions relax.
    max_rotation
        Largest rotation of a moment in one step (radians); also the largest magnitude change
        (mu_B).
    max_displacement
        Largest displacement of an atom in one step (Angstrom).
    progress
        Show a progress bar.
    """
    moments = atoms_moments(atoms)
    magnitude = np.linalg.norm(moments, axis=1)
    magnetic = magnitude > 1e-8
    if not magnetic.any():
        raise InputError(
            "atoms carry no magnetic moment", field="initial_magmoms", expected="non-zero initial moments"
        )
    work = atoms.copy()
    work.set_initial_magnetic_moments(None)
    work.calc = calculator
    direction = np.zeros_like(moments)
    direction[magnetic] = moments[magnetic] / magnitude[magnetic, None]
    n = len(work)
    fire = _Fire(size=3 * n + n + 3 * n)
    trajectory: list[Atoms] = []
    scale = None
    bar = tqdm(total=steps, disable=not progress, desc="spin relaxation")
    converged = False
    step = 0
    while True:
        work.set_initial_magnetic_moments(direction * magnitude[:, None])
        energy = work.get_potential_energy()
        try:
            field_ = np.asarray(calculator.get_property("magnetic_forces", work), dtype=float)
        except PropertyNotImplementedError as error:
            raise InputError(
                f"{type(calculator).__name__} does not provide magnetic forces",
                field="calculator",
                expected="an ASE calculator implementing 'magnetic_forces' (eV/mu_B, shape (N, 3))",
            ) from error
        radial = np.einsum("ni,ni->n", field_, direction)
        drive = magnitude[:, None] * (field_ - radial[:, None] * direction)
        drive[~magnetic] = 0.0
        torque = np.linalg.norm(drive, axis=1)
        forces = work.get_forces() if relax_positions else np.zeros((n, 3))
        snapshot = work.copy()
        snapshot.info.update(energy=float(energy), max_torque=float(torque.max()))
        trajectory.append(snapshot)
        converged = (
            torque.max() <= torque_tol
            and (not relax_magnitudes or np.max(np.abs(radial * magnitude)) <= torque_tol)
            and (not relax_positions or np.linalg.norm(forces, axis=1).max() <= fmax)
        )
        if converged or step >= steps:
            break
        if scale is None:
            scale = max(float(torque.max()), 1e-12)
        generalized = np.concatenate(
            [
                (drive / scale).ravel(),
                radial * magnetic if relax_magnitudes else np.zeros(n),
                forces.ravel(),
            ]
        )
        move = fire.step(generalized)
        rotation = move[: 3 * n].reshape(n, 3)
        stretch = move[3 * n : 4 * n]
        shift = move[4 * n :].reshape(n, 3)
        limit = max(
            np.linalg.norm(rotation, axis=1).max() / max_rotation,
            np.abs(stretch).max() / max_rotation,
            np.linalg.norm(shift, axis=1).max() / max_displacement,
            1.0,
        )
        rotation, stretch, shift = rotation / limit, stretch / limit, shift / limit
        direction = _rotate(direction, rotation)
        fire.project_tangent(direction)
        if relax_magnitudes:
            magnitude = np.where(magnetic, np.maximum(magnitude + stretch, 1e-3), 0.0)
        if relax_positions:
            work.set_positions(work.get_positions() + shift)
        step += 1
        bar.update(1)
        bar.set_postfix(max_torque=f"{torque.max():.2e} eV")
    bar.close()
    result_atoms = work.copy()
    result_atoms.calc = None
    result_atoms.set_initial_magnetic_moments(direction * magnitude[:, None])
    return SpinRelaxResult(
        atoms=result_atoms,
        trajectory=trajectory,
        converged=bool(converged),
        max_torque=float(torque.max()),
        energy=float(energy),
        n_steps=step,
    )


def _rotate(direction: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Move unit vectors along tangent vectors by the angle ``|rotation|`` (radians), exactly."""
    angle = np.linalg.norm(rotation, axis=1)
    axis = np.divide(rotation, angle[:, None], out=np.zeros_like(rotation), where=angle[:, None] > 0)
    moved = np.cos(angle)[:, None] * direction + np.sin(angle)[:, None] * axis
    norm = np.linalg.norm(moved, axis=1)
    return np.divide(moved, norm[:, None], out=np.zeros_like(moved), where=norm[:, None] > 0)


class _Fire:
    """FIRE velocity update in a flat generalised space (spins first, 3 per atom)."""

    def __init__(self, size: int, dt: float = 0.1, dt_max: float = 1.0) -> None:
        self.velocity = np.zeros(size)
        self.dt, self.dt_max = dt, dt_max
        self.alpha, self.n_positive = 0.1, 0

    def step(self, force: np.ndarray) -> np.ndarray:
        power = float(force @ self.velocity)
        if power > 0:
            norm_f = np.linalg.norm(force)
            mixed = force / norm_f * np.linalg.norm(self.velocity) if norm_f > 0 else 0.0
            self.velocity = (1 - self.alpha) * self.velocity + self.alpha * mixed
            if self.n_positive > 5:
                self.dt = min(self.dt * 1.1, self.dt_max)
                self.alpha *= 0.99
            self.n_positive += 1
        else:
            self.velocity[:] = 0.0
            self.dt *= 0.5
            self.alpha, self.n_positive = 0.1, 0
        self.velocity += self.dt * force
        return self.dt * self.velocity

    def project_tangent(self, direction: np.ndarray) -> None:
        n = len(direction)
        spin = self.velocity[: 3 * n].reshape(n, 3)
        spin -= np.einsum("ni,ni->n", spin, direction)[:, None] * direction
