"""Anisotropy from the ML potential: all moments rotated together, one spin-only pass per direction set.

The model's energy changes with a global moment rotation only through its spin-orbit block, so
the anisotropy is the model's prediction only where that block was fitted
(:meth:`MagneticPotential.in_soc_domain`); elsewhere :class:`OutsideSocDomain` says so and points
to the GPAW engine.

Moment lengths (mu_B): ``moments`` given by the caller, else the spin-orbit fit's length for the
element in that environment (``MagneticPotential.soc_moments``: the block learned the anisotropy
at those lengths, induced moments such as Pt's in FePt included), else the structure's ``magmom``
magnitudes, else pymatgen's default moments. Signs (ferrimagnets) come from the structure's
``magmom`` where it is non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from magscreen.errors import ModelDomainError
from magscreen.screening.anisotropy import (
    AnisotropyAnalysis,
    analyse_anisotropy,
    crystal_axes,
    sample_directions,
)

__all__ = [
    "MLAnisotropy",
    "OutsideSocDomain",
    "anisotropy_moments",
    "ml_anisotropy",
    "plane_directions",
    "structure_moments",
]

#: Polar angles (degrees) of the E(theta) curves in two planes through c.
CURVE_THETA_DEG = np.arange(0.0, 180.0 + 1e-9, 5.0)


class OutsideSocDomain(ModelDomainError):
    """The model cannot back an anisotropy for this structure (no or unfitted spin-orbit block)."""


@dataclass
class MLAnisotropy:
    """ML anisotropy of one structure.

    Attributes
    ----------
    analysis
        Easy axis, MAE, constants, Ms, field and hardness.
    moments_muB
        Signed moment length per site used (mu_B).
    curves
        E(theta) (micro-eV per atom, relative to theta = 0) in the planes (c, [100]) and (c, [110]):
        ``{plane: (theta_deg, energies)}``.
    model_version
        Version of the model's weights.
    """

    analysis: AnisotropyAnalysis
    moments_muB: list[float]
    model_version: str
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)


def structure_moments(structure) -> np.ndarray | None:
    """Signed collinear moments (mu_B) from the ``magmom`` site property, or None."""
    magmoms = structure.site_properties.get("magmom")
    if magmoms is None:
        return None
    values = []
    for m in magmoms:
        vector = np.atleast_1d(np.asarray(getattr(m, "moment", m), dtype=float))
        if vector.size == 1:
            values.append(float(vector[0]))
        else:  # a vector: its length, signed by its projection on its own largest component
            values.append(float(np.linalg.norm(vector) * np.sign(vector[np.argmax(np.abs(vector))])))
    return np.array(values)


def anisotropy_moments(
    structure, model, moments: dict[str, float] | None = None, environments: list[str] | None = None
) -> np.ndarray:
    """Signed moment length per site (mu_B) for the anisotropy scan (see the module docstring).

    ``environments``: per site, the elements within the model's cutoff ('Co,Pt'), which pick the
    spin-orbit fit's length (``model.soc_moments[element][environment]``).
    """
    from magscreen.magnetism.sites import DEFAULT_MOMENTS

    given = structure_moments(structure)
    signs = np.ones(len(structure)) if given is None else np.where(given < 0, -1.0, 1.0)
    fitted = getattr(model, "soc_moments", {})
    lengths = []
    for i, site in enumerate(structure):
        symbol = site.specie.symbol
        environment = None if environments is None else environments[i]
        if moments and symbol in moments:
            lengths.append(abs(float(moments[symbol])))
        elif environment in fitted.get(symbol, {}):
            lengths.append(fitted[symbol][environment])
        elif given is not None:
            lengths.append(abs(float(given[i])))
        else:
            lengths.append(abs(float(DEFAULT_MOMENTS.get(symbol, 0.0))))
    return signs * np.array(lengths)


def plane_directions(structure) -> dict[str, np.ndarray]:
    """Directions (K, 3) at :data:`CURVE_THETA_DEG` from c towards [100] and towards [110]."""
    _, axes = crystal_axes(structure)
    c = axes[2]
    out = {}
    for label, towards in (("(c, [100])", axes[0]), ("(c, [110])", axes[0] + axes[1])):
        perpendicular = towards - np.dot(towards, c) * c
        perpendicular /= np.linalg.norm(perpendicular)
        theta = np.radians(CURVE_THETA_DEG)
        out[label] = np.cos(theta)[:, None] * c + np.sin(theta)[:, None] * perpendicular
    return out


def _check_domain(structure, model, graph, signed: np.ndarray, source: str) -> None:
    where = f"{source}: " if source else ""
    if not model.soc:
        raise OutsideSocDomain(
            f"{where}the model ({model.model_version}) has no spin-orbit block, so its anisotropy is zero "
            "by construction; use --engine gpaw (force theorem)"
        )
    if not model.soc_domain:
        raise OutsideSocDomain(
            f"{where}the model's spin-orbit block was never fitted; use --engine gpaw (force theorem)"
        )
    inside = model.in_soc_domain(graph).cpu().numpy()
    outside = sorted({structure[i].specie.symbol for i in np.flatnonzero((np.abs(signed) > 0) & ~inside)})
    if outside:
        known = "; ".join(
            f"{e} among {', '.join('/'.join(env) for env in envs)}"
            for e, envs in model.soc_environments.items()
        )
        raise OutsideSocDomain(
            f"{where}{', '.join(outside)} in {structure.composition.reduced_formula} lie outside the "
            f"model's spin-orbit domain ({known}); its anisotropy here would be an extrapolation. "
            "Use --engine gpaw (force theorem)"
        )


def ml_anisotropy(
    structure,
    model,
    *,
    moments: dict[str, float] | None = None,
    curves: bool = True,
    source: str = "",
) -> MLAnisotropy:
    """Anisotropy of ``structure`` from the model (all moments along each direction together).

    Parameters
    ----------
    structure
        pymatgen ``Structure`` (collinear ``magmom`` optional: signs and lengths, see module docstring).
    model
        :class:`MagneticPotential` with a fitted spin-orbit block.
    moments
        Moment length per element (mu_B), overriding everything else.
    curves
        Also evaluate E(theta) in two planes for plots.
    source
        Where the structure came from (messages).

    Raises
    ------
    OutsideSocDomain
        No spin-orbit block, an unfitted one, or a magnetic atom outside its domain.
    """
    import torch
    from pymatgen.io.ase import AseAtomsAdaptor

    from magscreen.potential.calculator import MagneticCalculator
    from magscreen.potential.graph import graph_from_atoms
    from magscreen.potential.model import atom_environments

    atoms = AseAtomsAdaptor.get_atoms(structure.copy(site_properties={}))
    graph = graph_from_atoms(atoms, model.cutoff, np.zeros((len(atoms), 3)), dtype=model.dtype)
    signed = anisotropy_moments(structure, model, moments, atom_environments(graph))
    _check_domain(structure, model, graph, signed, source)
    sets = {"scan": sample_directions(structure)}
    if curves:
        sets.update(plane_directions(structure))
    stacked = np.concatenate(list(sets.values()))
    dtype = model.dtype
    try:  # float64: micro-eV differences on eV totals (the float32 -> float64 -> float32 trip is exact)
        calculator = MagneticCalculator(model, dtype=torch.float64)
        energies = calculator.evaluate_batch(atoms, signed[None, :, None] * stacked[:, None, :])["energy"]
    finally:
        model.to(dtype)
    per_set, start = {}, 0
    for label, directions in sets.items():
        per_set[label] = energies[start : start + len(directions)]
        start += len(directions)
    analysis = analyse_anisotropy(structure, sets["scan"], per_set["scan"], signed, source=source or "ml")
    curve_data = {
        label: (CURVE_THETA_DEG.tolist(), ((per_set[label] - per_set[label][0]) / len(atoms) * 1e6).tolist())
        for label in sets
        if label != "scan"
    }
    return MLAnisotropy(
        analysis=analysis, moments_muB=signed.tolist(), model_version=model.model_version, curves=curve_data
    )
