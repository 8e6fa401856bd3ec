"""DFT validation document, shared by every engine (GPAW, VASP through atomate2).

One document per (candidate, ordering, engine, calculation). The ``ordering_fingerprint`` and
``candidate_id`` link it to the ML ranking of the same ordering, so a single query lines up ML
and DFT per ordering.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class DFTSettings(BaseModel):
    """Settings of a DFT calculation, recorded so that results are comparable and reproducible."""

    functional: str = Field(description="Exchange-correlation functional, e.g. 'PBE', 'LDA', 'r2SCAN'.")
    plane_wave_cutoff_eV: float | None = Field(None, description="Plane-wave cutoff (eV).")
    kpoint_density: float | None = Field(
        None, description="k-point density (k-points per inverse Angstrom along each reciprocal vector)."
    )
    kpoints: list[int] | None = Field(None, description="Monkhorst-Pack grid actually used.")
    smearing_eV: float | None = Field(None, description="Occupation smearing width (eV).")
    hubbard_u_eV: dict[str, float] = Field(
        default_factory=dict, description="Hubbard U per element (eV); empty when no +U."
    )
    spin_orbit: bool = Field(False, description="Whether spin-orbit coupling was included.")
    noncollinear: bool = Field(False, description="Whether moments were non-collinear 3-vectors.")
    extra: dict[str, str | float | int | bool | list | None] = Field(
        default_factory=dict, description="Engine-specific settings (e.g. INCAR tags, GPAW keywords)."
    )


class DFTValidationDoc(BaseModel):
    """Result of one DFT calculation that checks an ML prediction for one ordering."""

    validation_id: str = Field(
        description="Unique key: '<candidate_id>:<ordering_fingerprint>:<engine>:<calculation>'."
    )
    candidate_id: str = Field(description="Candidate identifier (Materials Project id or snapshot name).")
    formula: str = Field(description="Reduced formula of the candidate.")
    ordering_label: str = Field(description="Readable ordering label, e.g. 'FM', 'AFM-II'.")
    ordering_fingerprint: str = Field(
        description="Fingerprint of the ordering (equal for equivalent orderings)."
    )
    engine: Literal["gpaw", "vasp"] = Field(description="DFT engine.")
    engine_version: str = Field(description="Version string of the DFT engine.")
    calculation: Literal["static", "relax", "soc_force_theorem", "noncollinear_static"] = Field(
        description="Kind of calculation."
    )
    settings: DFTSettings = Field(description="Settings used.")
    n_atoms: int = Field(description="Number of atoms in the cell that was computed.")
    n_magnetic_atoms: int = Field(description="Number of atoms that carry a moment in the ordering.")
    energy_eV: float | None = Field(None, description="Total energy of the cell (eV).")
    energy_per_atom_eV: float | None = Field(None, description="Total energy per atom (eV/atom).")
    energy_per_magnetic_atom_eV: float | None = Field(
        None, description="Total energy per magnetic atom (eV per magnetic atom)."
    )
    magnetic_moments: list[list[float]] | None = Field(
        None, description="Converged atomic moment vectors (Bohr magnetons), in site order."
    )
    total_magnetization: float | None = Field(
        None, description="Total magnetisation of the cell (Bohr magnetons)."
    )
    structure: dict | None = Field(None, description="Final structure (pymatgen Structure.as_dict()).")
    anisotropy_energies_ueV_per_atom: dict[str, float] | None = Field(
        None,
        description=(
            "Force-theorem band energy per magnetisation direction, relative to the lowest, "
            "(micro-eV per atom); keys are directions written as 'h,k,l' in Cartesian components."
        ),
    )
    mae_ueV_per_atom: float | None = Field(
        None,
        description="E[100] - E[001] (micro-eV per atom); positive means easy axis along c (001).",
    )
    easy_axis: list[float] | None = Field(
        None, description="Lowest-energy magnetisation direction (unit vector)."
    )
    converged: bool = Field(True, description="Whether the SCF/relaxation converged.")
    wall_time_s: float | None = Field(None, description="Wall time of the calculation (s).")
    model_version: str | None = Field(
        None, description="Version of the ML model whose prediction this document validates."
    )
    completed_at: datetime = Field(
        default_factory=lambda: datetime.now(timezone.utc), description="Completion time (UTC)."
    )

    @field_validator("structure", mode="before")
    @classmethod
    def _structure_as_plain_dict(cls, value):
        """Store structures as plain dicts: jobflow turns tagged dicts back into ``Structure``."""
        if hasattr(value, "as_dict"):
            value = value.as_dict()
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in ("@module", "@class", "@version")}
        return value

    @staticmethod
    def make_id(candidate_id: str, ordering_fingerprint: str, engine: str, calculation: str) -> str:
        """Build the unique ``validation_id`` key."""
        return f"{candidate_id}:{ordering_fingerprint}:{engine}:{calculation}"
