"""Document of one candidate's ranking: ground state, energy ladder, gap and confidence."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field

from magscreen.schemas.anisotropy import CandidateAnisotropy

__all__ = ["CandidateDoc", "Confidence", "LadderStep"]


class LadderStep(BaseModel):
    """One ordering in a candidate's energy ladder."""

    label: str = Field(description="Ordering label, e.g. 'FM', 'AFM-II'.")
    fingerprint: str = Field(description="Ordering fingerprint.")
    relative_energy_meV: float = Field(description="Energy above the ground state (meV per magnetic atom).")
    total_magnetization_per_magnetic_atom: float = Field(
        description="Magnitude of the summed moment per magnetic atom (Bohr magnetons)."
    )
    converged: bool = Field(description="Whether the relaxation of this ordering converged.")
    relaxed_collinear: bool | None = Field(
        None, description="Non-collinear ordering that relaxed into a collinear state (left out of the gap)."
    )


class Confidence(BaseModel):
    """How far the ranking can be trusted."""

    in_magnetic_domain: bool = Field(
        description="Whether every magnetic element of the candidate was seen with moments in training."
    )
    out_of_domain_elements: list[str] = Field(
        default_factory=list,
        description="Magnetic elements of the candidate the model never saw with moments.",
    )
    gap_resolved: bool = Field(
        description="Whether the gap to the next ordering exceeds the campaign's min_gap_meV threshold."
    )
    all_converged: bool = Field(description="Whether every ordering's relaxation converged.")


class CandidateDoc(BaseModel):
    """Ranking of one candidate's orderings by one model."""

    candidate_key: str = Field(description="Unique key: '<candidate_id>:<model_version>'.")
    candidate_id: str = Field(description="Candidate identifier (Materials Project id or snapshot name).")
    formula: str = Field(description="Reduced formula.")
    campaign: str = Field(description="Name of the campaign that ranked the candidate.")
    source: str = Field(description="Where the candidate came from: 'snapshot', 'materials_project', 'file'.")
    structure: dict = Field(description="Input structure of the candidate (pymatgen Structure.as_dict()).")
    n_atoms: int = Field(description="Atoms in the candidate's cell.")
    magnetic_elements: list[str] = Field(description="Elements that carry moments in the orderings.")
    model_version: str = Field(description="Version of the calculator (ML model) that ranked the orderings.")
    n_orderings: int = Field(description="Orderings relaxed and ranked.")
    n_orderings_dropped: int = Field(
        0, description="Orderings the enumeration found but did not keep (over max_orderings)."
    )
    ground_state_label: str = Field(description="Label of the lowest-energy ordering, e.g. 'AFM-II'.")
    ground_state_fingerprint: str = Field(description="Fingerprint of the lowest-energy ordering.")
    gap_meV: float | None = Field(
        None,
        description="Energy of the next ordering above the ground state (meV per magnetic atom); "
        "None when only one ordering was ranked.",
    )
    ladder: list[LadderStep] = Field(description="All ranked orderings, lowest energy first.")
    confidence: Confidence = Field(description="How far the ranking can be trusted.")
    experimental_ordering: str | None = Field(
        None, description="Experimentally reported ground state, when the source knows it."
    )
    mp_ordering: str | None = Field(
        None, description="Materials Project's ordering label ('FM', 'AFM', ...)."
    )
    energy_above_hull: float | None = Field(None, description="Energy above hull from the source (eV/atom).")
    anisotropy: CandidateAnisotropy | None = Field(
        None,
        description="Spin-orbit anisotropy of the ground state (or FM ordering) when the campaign's "
        "anisotropy stage computed it: easy axis, MAE, K1/K2 (MJ/m^3), Ms, mu0 H_A, kappa.",
    )
    completed_at: datetime = Field(
        default_factory=lambda: datetime.now(timezone.utc), description="Completion time (UTC)."
    )

    @staticmethod
    def make_key(candidate_id: str, model_version: str) -> str:
        """Build the unique ``candidate_key``."""
        return f"{candidate_id}:{model_version}"
