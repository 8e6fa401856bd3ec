"""Base of every stage's settings model: strict pydantic that survives the workflow managers.

A stage's settings are one model (the config section, the Maker's field, the function's
argument). Makers travel as JSON: jobflow and FireWorks serialise an object through its
``as_dict`` (monty's MSON protocol) and rebuild it with ``from_dict``; a plain pydantic model
has neither and would arrive on a FireWorks worker as its ``str``. :class:`StageSettings`
provides both, and forbids unknown keys, so a typo in a config section is an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["StageSettings"]


class StageSettings(BaseModel):
    """Strict pydantic settings that are MSONable (``as_dict`` / ``from_dict``)."""

    model_config = ConfigDict(extra="forbid")

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values, tagged with their class for ``MontyDecoder``."""
        return {
            "@module": type(self).__module__,
            "@class": type(self).__name__,
            **self.model_dump(mode="json", by_alias=True),  # aliases: what the config spells
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageSettings:
        """Settings from :meth:`as_dict` output (the ``@`` tags are ignored)."""
        return cls(**{key: value for key, value in data.items() if not key.startswith("@")})
