"""Document of one domain extension: which DFT documents extended which model, for which candidate."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["ExtensionDoc", "ExtensionOrdering"]


class ExtensionOrdering(BaseModel):
    """One ordering chosen for DFT."""

    label: str = Field(description="Ordering label, e.g. 'AFM-II'.")
    fingerprint: str = Field(description="Ordering fingerprint.")
    n_atoms: int = Field(description="Atoms in its cell (what the DFT calculation costs).")
    validation_id: str | None = Field(None, description="Key of its DFTValidationDoc; None when it failed.")
    reused: bool = Field(False, description="Whether the document was already in the store (DFT skipped).")
    error: str | None = Field(None, description="Why it gave no usable document (failed or unconverged).")


class ExtensionDoc(BaseModel):
    """A candidate the base model could not resolve, its DFT orderings and the model they made."""

    extension_id: str = Field(description="Unique key: '<candidate_id>:<base_model_version>:<engine>'.")
    candidate_id: str = Field(description="Candidate identifier.")
    formula: str = Field(description="Reduced formula.")
    campaign: str = Field(description="Campaign that ran the extension.")
    engine: str = Field(description="DFT engine ('gpaw', 'vasp').")
    reason: str | None = Field(None, description="Why the base model could not resolve the candidate.")
    base_model_version: str = Field(description="Model the candidate was first ranked with.")
    status: Literal["extended", "failed"] = Field(
        description="'extended': a model was fitted and re-ranked the candidate; 'failed': no model was "
        "made (fewer than two usable DFT orderings, or see 'error'), the candidate stays unresolved."
    )
    error: str | None = Field(None, description="Why no extended model was made, when none was.")
    orderings: list[ExtensionOrdering] = Field(description="Orderings chosen for DFT, cheapest first.")
    n_orderings_enumerated: int = Field(description="Orderings the campaign ranks for this candidate.")
    dft_atoms: int = Field(description="Atoms summed over the DFT cells computed (a cost proxy).")
    all_orderings_atoms: int = Field(description="Atoms summed over every ranked ordering's cell.")
    dft_wall_time_s: float = Field(0.0, description="Wall time of the DFT calculations (s).")
    extended_model_version: str | None = Field(None, description="Version of the extended model.")
    checkpoint: str | None = Field(None, description="Path of the extended model's checkpoint.")
    new_element_heads: list[str] = Field(default_factory=list, description="Element heads the model gained.")
    prior: str | None = Field(None, description="'posterior' (base readout posterior) or 'ridge'.")
    residuals_meV_per_atom: dict[str, float] = Field(
        default_factory=dict,
        description="Extended model minus DFT per frame (meV/atom, group offset applied).",
    )
    ranked_candidate_key: str | None = Field(
        None, description="Key of the CandidateDoc the extended model ranked; None when failed."
    )
    resolved: bool = Field(False, description="Whether the extended model resolves the ground state.")
    ground_state_label: str | None = Field(None, description="Ground state by the extended model.")
    completed_at: datetime = Field(
        default_factory=lambda: datetime.now(timezone.utc), description="Completion time (UTC)."
    )

    @staticmethod
    def make_id(candidate_id: str, base_model_version: str, engine: str) -> str:
        """Build the unique ``extension_id``."""
        return f"{candidate_id}:{base_model_version}:{engine}"
