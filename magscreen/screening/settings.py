"""Settings of the screening stages, declared once: the ``relax`` and ``rank`` sections of a campaign
config are these models, the Makers hold them and the functions unpack them.

Names follow ASE's optimizers: ``fmax`` and ``steps`` for the lattice, ``torque_tol`` and
``spin_steps`` for the moments.
"""

from __future__ import annotations

from pydantic import Field

from magscreen.settings import StageSettings

__all__ = ["RankSettings", "RelaxSettings"]


class RelaxSettings(StageSettings):
    """ML relaxation of each ordering: the lattice at fixed moments, then the moments."""

    calculator: str = Field(
        "general",
        description="Shipped model name, path to a model checkpoint (.pt), or 'heisenberg:J1[,J2...]' "
        "(Heisenberg model, couplings in meV per pair for neighbour shells 1, 2, ..., J > 0 ferromagnetic; "
        "for tests).",
    )
    device: str = Field("cpu", description="Torch device of the ML model.")
    fmax: float = Field(0.05, gt=0, description="Force convergence threshold (eV/Angstrom).")
    steps: int = Field(100, ge=0, description="Most optimizer steps of the lattice relaxation; 0 skips it.")
    relax_positions: bool = Field(True, description="Relax atomic positions.")
    relax_cell: bool = Field(
        False,
        description="Relax the cell (FrechetCellFilter). Off by default: the shipped models' magnetic "
        "energies are fitted near the DFT lattices of a few strained frames, and a cell relaxation per "
        "ordering moves each where they extrapolate (docs/model.md: 2 of the demo's 19 ground states "
        "resolved with it, 7 without).",
    )
    relax_moments: bool = Field(
        True, description="Relax moments with the magnetic forces, when the calculator provides them."
    )
    relax_magnitudes: bool = Field(True, description="Spin relaxation also moves the moment magnitudes.")
    torque_tol: float = Field(1e-3, gt=0, description="Spin relaxation threshold on the largest torque (eV).")
    spin_steps: int = Field(100, ge=0, description="Most spin relaxation steps.")


class RankSettings(StageSettings):
    """Ranking of orderings within a candidate and of candidates within the campaign."""

    top_n: int = Field(5, ge=0, description="Best candidates that 'magscreen run' lists at the end.")
    min_gap_meV: float = Field(
        1.0,
        ge=0,
        description="Gap between ground state and next ordering (meV per magnetic atom) below which "
        "the ground state is flagged as not resolved.",
    )
