"""Document of one campaign run: what was asked, what was computed, what was skipped."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field

__all__ = ["CampaignDoc"]


class CampaignDoc(BaseModel):
    """Summary of the latest run of a campaign."""

    name: str = Field(description="Campaign name (the key).")
    config: dict = Field(description="The validated campaign config.")
    model_version: str = Field(description="Version of the calculator (ML model) used.")
    candidate_ids: list[str] = Field(description="Candidates of the campaign, best first (see ranking).")
    failed_candidates: dict[str, str] = Field(
        default_factory=dict, description="Candidates that could not be screened, with the reason."
    )
    n_orderings: int = Field(description="Orderings in the campaign.")
    n_orderings_computed: int = Field(description="Orderings relaxed in this run.")
    n_orderings_skipped: int = Field(description="Orderings found in the store and not recomputed.")
    selected_for_validation: list[str] = Field(
        default_factory=list, description="Candidates sent to DFT validation."
    )
    validation_engine: str = Field("none", description="DFT engine of the validation, or 'none'.")
    n_validations_computed: int = Field(0, description="DFT validations run in this run.")
    n_validations_skipped: int = Field(0, description="DFT validations found in the store and not rerun.")
    completed_at: datetime = Field(
        default_factory=lambda: datetime.now(timezone.utc), description="Completion time (UTC)."
    )
