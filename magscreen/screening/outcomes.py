"""What campaign jobs pass on to the next job: keys into the store and what was skipped."""

from __future__ import annotations

from pydantic import BaseModel, Field

from magscreen.schemas import DomainGap

__all__ = ["CandidateOutcome", "OrderingOutcome"]


class OrderingOutcome(BaseModel):
    """Result of one relaxation job; the document itself is in the ``orderings`` store."""

    ordering_id: str = Field(description="Key of the MagneticOrderingDoc in the orderings store.")
    model_version: str = Field(description="Version of the calculator that computed it.")
    magnetic_domain: list[str] | None = Field(
        None, description="Elements the model saw with moments in training; None when unrestricted."
    )
    domain_gaps: list[DomainGap] = Field(
        default_factory=list, description="Magnetic atoms outside the model's knowledge, per element."
    )
    skipped: bool = Field(description="Whether the store already held the document (nothing recomputed).")
    error: str | None = Field(None, description="Why the ordering could not be relaxed (nothing stored).")


class CandidateOutcome(BaseModel):
    """Result of screening one candidate; the document itself is in the ``candidates`` store."""

    candidate_id: str = Field(description="Candidate identifier.")
    candidate_key: str | None = Field(
        None, description="Key of the CandidateDoc; None when screening failed."
    )
    n_computed: int = Field(0, description="Orderings relaxed in this run.")
    n_skipped: int = Field(0, description="Orderings found in the store.")
    error: str | None = Field(None, description="Why the candidate could not be screened.")
