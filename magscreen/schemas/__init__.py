"""Pydantic documents that go into the stores (emmet style: units in every field description)."""

from magscreen.schemas.campaign import CampaignDoc
from magscreen.schemas.candidate import CandidateDoc, Confidence, DomainGap, LadderStep
from magscreen.schemas.extension import ExtensionDoc, ExtensionOrdering
from magscreen.schemas.ordering import UNCERTAINTY_REGIMES, MagneticOrderingDoc
from magscreen.schemas.validation import DFTSettings, DFTValidationDoc

__all__ = [
    "CampaignDoc",
    "CandidateDoc",
    "Confidence",
    "DFTSettings",
    "DFTValidationDoc",
    "DomainGap",
    "ExtensionDoc",
    "ExtensionOrdering",
    "LadderStep",
    "MagneticOrderingDoc",
    "UNCERTAINTY_REGIMES",
]
