"""Settings of the campaign's anisotropy stage (the ``anisotropy`` section of a campaign config)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from magscreen.settings import StageSettings

__all__ = ["AnisotropySettings"]


class AnisotropySettings(StageSettings):
    """Spin-orbit anisotropy of the best candidates: easy axis, MAE, K1/K2, Ms, field and hardness."""

    top_n: int = Field(
        0, ge=0, description="Best-ranked candidates whose anisotropy is computed; 0 skips the stage."
    )
    engine: Literal["ml"] = Field("ml", description="Engine of the anisotropy: the model's spin-orbit block.")
    ordering: Literal["ground_state", "FM"] = Field(
        "ground_state",
        description="Which ordering: the resolved ML ground state, or the ferromagnetic ordering "
        "(permanent magnets; candidates without a resolved ground state then count too, after the "
        "resolved ones).",
    )
    model: str | None = Field(
        None, description="Shipped model name or checkpoint (.pt); None: the relax stage's calculator."
    )
    validate_: Literal["none", "gpaw", "vasp"] = Field(
        "none",
        alias="validate",
        description="DFT force-theorem check of the same candidates (validation maker with anisotropy on).",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the validation engine's maker."
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
