"""Settings of a domain extension (``magscreen extend``, the campaign's ``extend:`` step): one model.

Kept apart from :mod:`magscreen.training.extend` so the campaign config can embed it without
importing torch.
"""

from __future__ import annotations

from pydantic import Field

from magscreen.settings import StageSettings

__all__ = ["ExtensionSettings"]


class ExtensionSettings(StageSettings):
    """How new DFT frames update a trained model's readout (see docs/model.md, domain extension)."""

    energy_sigma_meV_per_atom: float = Field(
        1.0, gt=0, description="One-sigma noise of a DFT energy within its energy group (meV/atom)."
    )
    ridge: float = Field(
        1e-7,
        ge=0,
        description="Damping of each readout weight's change from the base model, on columns scaled to "
        "unit norm (the prior where the base checkpoint carries no readout posterior).",
    )
    node_ridge: float = Field(
        1e-3,
        ge=0,
        description="Damping of the node heads of the elements that carry moments in the new frames "
        "(larger than pair_ridge: a few ordering energies are explained by pair exchange first).",
    )
    pair_ridge: float = Field(1e-7, ge=0, description="Damping of those elements' pair heads.")
    stress_prior: float = Field(
        1e-4, ge=0, description="Weight of the magnetic stress (target 0) relative to a frame's energy."
    )
    rattle_prior: float = Field(
        1.0, ge=0, description="Weight of the magnetic forces (target 0) on rattled copies of the frames."
    )
    rattle_sigma: float = Field(0.05, gt=0, description="Displacements of those copies (Angstrom).")
    forces: bool = Field(
        False,
        description="Fit the DFT forces too (off by default: at these few frames the force residual is "
        "mostly the backbone's own error, which the magnetic heads should not absorb).",
    )
    force_sigma_eV_per_A: float = Field(
        0.05,
        gt=0,
        description="One-sigma of a force component (eV/Angstrom), for forces and the rattle prior.",
    )
    force_probes: int = Field(2, ge=1, description="Random projections of each frame's forces.")
    moment_threshold_muB: float = Field(
        0.5, ge=0, description="DFT moments shorter than this (induced moments on anions) are set to zero."
    )
    moment_lengths: dict[str, float] = Field(
        default_factory=dict,
        description="Moment length per element (mu_B) the frames are set to; elements not named get the "
        "mean DFT length over the frames. One length per element, as in training: GPAW's per-ordering "
        "lengths would otherwise be read as a length dependence of the energy.",
    )
    seed: int = Field(0, description="Seed of the force probes and rattles.")
