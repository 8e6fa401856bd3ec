"""Lattice relaxation stops where the volume or an atom leaves what a machine-learned energy can back."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from magscreen.screening.ml_relax import MAX_DISPLACEMENT, VOLUME_RANGE, relax_ordering
from magscreen.screening.settings import RelaxSettings


class VolumeEnergy(Calculator):
    """E(V) only: ``-a / V`` (no minimum: collapses) or ``k (V - V_min)^2``; stress dE/dV on the diagonal."""

    implemented_properties = ("energy", "forces", "stress")

    def __init__(self, a: float = 0.0, k: float = 0.0, v_min: float = 0.0) -> None:
        super().__init__()
        self.a, self.k, self.v_min = a, k, v_min

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        v = self.atoms.get_volume()
        energy = -self.a / v + self.k * (v - self.v_min) ** 2
        slope = self.a / v**2 + 2 * self.k * (v - self.v_min)
        self.results = {
            "energy": energy,
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.array([slope, slope, slope, 0.0, 0.0, 0.0]),
        }


SETTINGS = RelaxSettings(relax_moments=False, relax_cell=True, steps=400, fmax=1e-3)


def _cell() -> Atoms:
    return Atoms("Fe", cell=np.eye(3) * 2.3, pbc=True)


def test_relaxation_inside_the_volume_range_reaches_the_minimum():
    atoms = _cell()
    v0 = atoms.get_volume()
    result = relax_ordering(atoms, VolumeEnergy(k=0.01, v_min=0.9 * v0), SETTINGS)
    assert result.converged
    assert result.atoms.get_volume() == pytest.approx(0.9 * v0, rel=1e-3)


def test_collapse_stops_at_the_last_cell_inside_and_is_unconverged():
    atoms = _cell()
    v0 = atoms.get_volume()
    result = relax_ordering(atoms, VolumeEnergy(a=50.0), SETTINGS)
    assert not result.converged
    ratio = result.atoms.get_volume() / v0
    assert VOLUME_RANGE[0] <= ratio < 0.95  # it did compress, and stopped before leaving the range
    assert result.energy_eV == pytest.approx(-50.0 / result.atoms.get_volume())


class PullEnergy(Calculator):
    """Atom 0 pulled along x: ``-a x`` (no minimum: runs away) or ``k (x - x_min)^2``, x its displacement."""

    implemented_properties = ("energy", "forces")

    def __init__(self, start: float, a: float = 0.0, k: float = 0.0, x_min: float = 0.0) -> None:
        super().__init__()
        self.start, self.a, self.k, self.x_min = start, a, k, x_min

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        x = self.atoms.positions[0, 0] - self.start
        forces = np.zeros((len(self.atoms), 3))
        forces[0, 0] = self.a - 2 * self.k * (x - self.x_min)
        self.results = {"energy": -self.a * x + self.k * (x - self.x_min) ** 2, "forces": forces}


def _pair() -> Atoms:
    return Atoms("FeO", positions=[[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]], cell=np.eye(3) * 4.0, pbc=True)


def test_a_short_move_to_the_minimum_converges():
    atoms = _pair()
    result = relax_ordering(atoms, PullEnergy(start=0.0, k=1.0, x_min=0.2), SETTINGS)
    assert result.converged
    assert result.atoms.positions[0, 0] == pytest.approx(0.2, abs=1e-3)


def test_a_runaway_atom_stops_inside_the_trusted_distance_and_is_unconverged():
    atoms = _pair()
    result = relax_ordering(atoms, PullEnergy(start=0.0, a=5.0), SETTINGS)
    assert not result.converged
    moved = result.atoms.positions[0, 0]
    assert 0.5 * MAX_DISPLACEMENT < moved <= MAX_DISPLACEMENT  # it did move, and stopped before leaving
    assert result.energy_eV == pytest.approx(-5.0 * moved)
