"""Pydantic documents that go into the stores (emmet style: units in every field description)."""

from magscreen.schemas.validation import DFTSettings, DFTValidationDoc

__all__ = ["DFTSettings", "DFTValidationDoc"]
