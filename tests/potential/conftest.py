"""Fixtures: small random models (float64, soc off and on) and a distorted four-atom crystal."""

from __future__ import annotations

import pytest
from ase import Atoms
from potential_helpers import crystal

from magscreen.potential import MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters

SPECIES = ("O", "Fe", "Ni")


@pytest.fixture(scope="session", params=[False, True], ids=["soc_off", "soc_on"])
def model(request) -> MagneticPotential:
    """Small random potential with parity on, in float64: Heisenberg pair and on-site terms, plus
    (soc on) the spin-orbit terms and the beyond-Heisenberg spin invariants, so every block is checked."""
    magnetic = MagneticHyperparameters(bilinear_exchange=True, spin_invariants=request.param)
    return MagneticPotential(soc=request.param, seed=7, species=SPECIES, magnetic=magnetic).double()


@pytest.fixture
def atoms() -> Atoms:
    """Strained, rattled four-atom cell with random non-collinear moments."""
    return crystal()
