"""Anisotropy of a candidate's ground state: the ``anisotropy`` field of its candidate document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["AnisotropyCheck", "CandidateAnisotropy"]


class AnisotropyCheck(BaseModel):
    """DFT force-theorem check of the ML anisotropy."""

    engine: str = Field(description="DFT engine ('gpaw', 'vasp').")
    validation_id: str = Field(description="Key of the DFT document in the validations collection.")
    mae_ueV_per_atom: float | None = Field(
        None, description="DFT E[100] - E[001] (micro-eV per atom); positive = easy axis c."
    )
    easy_axis_cartesian: list[float] | None = Field(
        None, description="DFT lowest-energy direction among those computed (Cartesian unit vector)."
    )


class CandidateAnisotropy(BaseModel):
    """Magnetocrystalline anisotropy of one ordering of a candidate (all moments rotated together).

    Numbers are None unless ``status`` is 'predicted': a prediction the model cannot back is not
    shown as one.
    """

    status: Literal["predicted", "outside_domain", "failed"] = Field(
        description="'predicted'; 'outside_domain' (no fitted spin-orbit block for these atoms); 'failed'."
    )
    reason: str | None = Field(None, description="Why there is no prediction.")
    engine: str = Field("ml", description="Engine of the numbers ('ml').")
    model_version: str = Field(description="Version of the model's weights.")
    ordering_label: str = Field(description="Ordering whose anisotropy this is, e.g. 'FM'.")
    ordering_fingerprint: str = Field(description="Its fingerprint.")
    symmetry: str | None = Field(None, description="'uniaxial' (K sin^2, sin^4 from c) or 'cubic'.")
    easy_axis: list[int] | None = Field(None, description="Easy axis as a lattice direction [u, v, w].")
    easy_axis_cartesian: list[float] | None = Field(None, description="Easy axis, Cartesian unit vector.")
    easy_axis_label: str | None = Field(None, description="'c', 'plane', 'cone', '<100>', '<110>', '<111>'.")
    mae_ueV_per_atom: float | None = Field(
        None, description="MAE = E[100] - E[001] (micro-eV per atom); positive = easy axis c."
    )
    mae_MJ_m3: float | None = Field(None, description="MAE per volume (MJ/m^3).")
    K1_MJ_m3: float | None = Field(None, description="First anisotropy constant (MJ/m^3).")
    K2_MJ_m3: float | None = Field(None, description="Second anisotropy constant (MJ/m^3).")
    K1_ueV_per_atom: float | None = Field(None, description="K1 (micro-eV per atom).")
    Ms_T: float | None = Field(None, description="Saturation magnetisation mu0 Ms (T).")
    Ms_kA_m: float | None = Field(None, description="Saturation magnetisation Ms (kA/m).")
    mu0_HA_T: float | None = Field(None, description="Anisotropy field mu0 H_A = 2 K1 / Ms (T).")
    kappa: float | None = Field(
        None,
        description="Magnetic hardness sqrt(K1 / (mu0 Ms^2)); None for K1 <= 0 (permanent magnets: > 1).",
    )
    moments_muB: list[float] | None = Field(None, description="Signed moment lengths used (mu_B per site).")
    curves: dict[str, list[list[float]]] | None = Field(
        None,
        description="E(theta) in the planes (c, [100]) and (c, [110]): [theta (degrees), E - E(0) "
        "(micro-eV per atom)] per plane, for the report's plots.",
    )
    check: AnisotropyCheck | None = Field(None, description="DFT check, when the stage validated it.")
