"""Document of one magnetic ordering of one candidate after ML relaxation."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import AliasChoices, BaseModel, Field

__all__ = ["UNCERTAINTY_REGIMES", "MagneticOrderingDoc"]

#: Calibration regimes of an ordering-energy uncertainty relative to the candidate's lowest ordering
#: (``uncertainty_regime``; :meth:`magscreen.potential.uncertainty.ReadoutPosterior.regime`).
UNCERTAINTY_REGIMES = {
    "fitted": "both orderings are in the training data at this volume: factor from the fit's residuals",
    "trained compound": "the compound is in the training data, an ordering is not: factor from orderings "
    "left out of trained compounds",
    "new compound": "the compound is not in the training data: factor from compounds left out",
}


class MagneticOrderingDoc(BaseModel):
    """One relaxed ordering: energies, moments and convergence, keyed by fingerprint and model.

    Re-running a campaign skips an ordering whose ``ordering_id`` is already in the store.
    """

    ordering_id: str = Field(
        description="Unique key: '<candidate_id>:<ordering_fingerprint>:<model_version>'."
    )
    candidate_id: str = Field(description="Candidate identifier (Materials Project id or snapshot name).")
    formula: str = Field(description="Reduced formula of the candidate.")
    campaign: str = Field(description="Name of the campaign that computed this document.")
    label: str = Field(description="Readable ordering label, e.g. 'FM', 'AFM-I', 'AFM-II'.")
    display_name: str | None = Field(
        None,
        description="Name unique within the candidate (label, supercell size and, where those repeat, "
        "the start of the fingerprint); set by ranking.",
    )
    fingerprint: str = Field(description="Ordering fingerprint (equal for symmetry-equivalent orderings).")
    noncollinear: bool = Field(False, description="Whether the moments are non-collinear 3-vectors.")
    relaxed_collinear: bool | None = Field(
        None,
        description="For a non-collinear ordering: whether its moments relaxed into a collinear state "
        "(within 5 degrees); such an ordering repeats a collinear one and is left out of the ground state "
        "and the gap. None for collinear orderings.",
    )
    model_version: str = Field(description="Version of the calculator (ML model) that computed the energies.")
    structure: dict = Field(
        description="Relaxed structure (pymatgen Structure.as_dict()) with the relaxed moments as the "
        "'magmom' site property (Bohr magnetons)."
    )
    n_atoms: int = Field(description="Atoms in the ordering's supercell.")
    n_magnetic_atoms: int = Field(
        description="Sites of the candidate's magnetic elements in the supercell (the normalisation of "
        "per-magnetic-atom energies; the same set for every ordering of a candidate)."
    )
    energy_eV: float = Field(description="Total energy of the supercell (eV).")
    energy_per_atom_eV: float = Field(description="Energy per atom (eV/atom).")
    energy_per_magnetic_atom_eV: float = Field(description="Energy per magnetic atom (eV per magnetic atom).")
    relative_energy_meV: float | None = Field(
        None,
        description="Energy above the candidate's lowest ordering (meV per magnetic atom); set by ranking.",
    )
    energy_uncertainty_meV: float | None = Field(
        None,
        description="One-sigma uncertainty of the energy relative to the candidate's lowest ordering "
        "(meV per magnetic atom; 0 for the lowest), from the model's calibrated readout posterior "
        "(correlations between orderings included); set by ranking. None when the model gives none "
        "or the ordering's moments sit on atoms the model never learned.",
    )
    uncertainty_regime: str | None = Field(
        None,
        description="Calibration regime of energy_uncertainty_meV: 'fitted' (this ordering and the "
        "lowest are both in the model's training data at this volume), 'trained compound' or 'new "
        "compound' (magscreen.potential.uncertainty.REGIMES); None when there is no uncertainty.",
    )
    rank: int | None = Field(
        None, description="Position in the candidate's energy ladder (0 = ground state)."
    )
    initial_moments: list[float] | list[list[float]] = Field(
        description="Moments of the ordering before relaxation (Bohr magnetons), in site order."
    )
    magnetic_moments: list[float] | list[list[float]] = Field(
        description="Relaxed moments (Bohr magnetons), in site order; floats (along z) or 3-vectors."
    )
    total_magnetization_muB: float = Field(
        validation_alias=AliasChoices("total_magnetization_muB", "total_magnetization"),
        description="Net moment: magnitude of the summed moment of the supercell (Bohr magnetons per cell).",
    )
    max_force_eV_per_A: float = Field(description="Largest atomic force after relaxation (eV/Angstrom).")
    max_stress_GPa: float | None = Field(None, description="Largest stress component after relaxation (GPa).")
    max_magnetic_force_eV_per_muB: float | None = Field(
        None,
        description="Largest magnetic force |dE/dm| after relaxation (eV/mu_B); None when the calculator "
        "has no magnetic forces.",
    )
    max_torque_eV: float | None = Field(
        None,
        description="Largest spin torque |m x dE/dm| after relaxation (eV); None without magnetic forces.",
    )
    lattice_steps: int = Field(description="Optimizer steps of the lattice relaxation.")
    spin_steps: int = Field(0, description="Steps of the spin relaxation (0 when moments were held fixed).")
    converged: bool = Field(description="Whether forces (and spins, when relaxed) reached their thresholds.")
    wall_time_s: float = Field(description="Wall time of the relaxation (s).")
    completed_at: datetime = Field(
        default_factory=lambda: datetime.now(timezone.utc), description="Completion time (UTC)."
    )

    @staticmethod
    def make_id(candidate_id: str, fingerprint: str, model_version: str) -> str:
        """Build the unique ``ordering_id`` key."""
        return f"{candidate_id}:{fingerprint}:{model_version}"
