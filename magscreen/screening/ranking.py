"""Ranking: the energy ladder of one candidate's orderings, whether the model resolves its ground
state, and the order of candidates in a campaign.

Energies are compared per magnetic atom (the sites of the candidate's magnetic elements), which is
the same set for every ordering of one candidate, so supercells of different size compare directly.

Two orderings whose energies differ by less than :data:`TIE_TOLERANCE_meV` tie: their order in the
ladder is decided by the ordering fingerprint (a hash of the ordering, the same in every run), so a
resumed campaign, whose energies may differ from an uninterrupted one's in the last digits, ranks
its orderings the same way. A tied ground state is not resolved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from magscreen.schemas import CandidateDoc, DomainGap, MagneticOrderingDoc

__all__ = [
    "TIE_TOLERANCE_meV",
    "agrees_with_experiment",
    "difference_uncertainty_meV",
    "display_names",
    "energy_ladder",
    "gap_backed",
    "gap_meV",
    "gap_uncertainty_meV",
    "gap_uncertainty_regime",
    "KindClaim",
    "kind_agrees_with_experiment",
    "kind_resolution",
    "ordering_kind",
    "rank_candidates",
    "resolution",
]

#: Energies closer than this (meV per magnetic atom) tie; far above float noise of the relaxations
#: (~1e-6 meV per magnetic atom) and far below any physical ordering energy.
TIE_TOLERANCE_meV = 0.01


def _meV(doc: MagneticOrderingDoc) -> float:
    return 1000.0 * doc.energy_per_magnetic_atom_eV


def energy_ladder(orderings: Sequence[MagneticOrderingDoc]) -> list[MagneticOrderingDoc]:
    """Orderings sorted by energy per magnetic atom, with ``relative_energy_meV``, ``rank`` and
    ``display_name`` set.

    Orderings within :data:`TIE_TOLERANCE_meV` of each other (chains of such neighbours) form a tie,
    ordered by fingerprint. Non-collinear orderings whose moments relaxed into a collinear state
    (``relaxed_collinear``) repeat a collinear ordering: they come after the distinct orderings.

    Parameters
    ----------
    orderings
        Relaxed orderings of one candidate, computed by one model.

    Returns
    -------
    list of MagneticOrderingDoc
        Copies, lowest first; ``relative_energy_meV`` (meV per magnetic atom) above the lowest energy.
    """
    if not orderings:
        raise ValueError("cannot rank a candidate without orderings")
    names = display_names(orderings)
    ladder: list[MagneticOrderingDoc] = []
    for repeated in (False, True):
        group = sorted((d for d in orderings if bool(d.relaxed_collinear) == repeated), key=_meV)
        ties: list[list[MagneticOrderingDoc]] = []
        for doc in group:
            if ties and _meV(doc) - _meV(ties[-1][-1]) < TIE_TOLERANCE_meV:
                ties[-1].append(doc)
            else:
                ties.append([doc])
        ladder += [doc for tie in ties for doc in sorted(tie, key=lambda d: d.fingerprint)]
    lowest = min(_meV(d) for d in ladder)
    return [
        doc.model_copy(
            update={
                "relative_energy_meV": _meV(doc) - lowest,
                "rank": i,
                "display_name": names[doc.fingerprint],
            }
        )
        for i, doc in enumerate(ladder)
    ]


def display_names(orderings: Sequence[MagneticOrderingDoc]) -> dict[str, str]:
    """Fingerprint -> a name unique among ``orderings``: 'label (N atoms)', plus '#' and the first
    six characters of the fingerprint where label and supercell size repeat."""
    base = {d.fingerprint: f"{d.label} ({d.n_atoms} atom{'s' * (d.n_atoms != 1)})" for d in orderings}
    counts = Counter(base.values())
    return {fp: name if counts[name] == 1 else f"{name} #{fp[:6]}" for fp, name in base.items()}


def gap_meV(ladder: Sequence[MagneticOrderingDoc]) -> float | None:
    """Energy of the second-lowest distinct ordering above the lowest (meV per magnetic atom).

    Orderings that relaxed into a collinear state are left out; None when fewer than two remain.
    """
    energies = sorted(_meV(d) for d in ladder if not d.relaxed_collinear)
    return None if len(energies) < 2 else energies[1] - energies[0]


def gap_uncertainty_meV(ladder: Sequence[MagneticOrderingDoc]) -> float | None:
    """One sigma of the gap (meV per magnetic atom) from the two lowest distinct orderings'
    ``energy_uncertainty_meV``.

    The model gives each ordering's sigma relative to the lowest ordering (0 there, correlations
    included; :func:`~magscreen.screening.uncertainty.ladder_uncertainties`), so the gap's sigma is
    the second ordering's. Where the lowest distinct ordering has a non-zero sigma (the reference
    was another ordering), the two are added in quadrature. None when either is unknown.
    """
    distinct = sorted((d for d in ladder if not d.relaxed_collinear), key=_meV)[:2]
    return difference_uncertainty_meV(*distinct) if len(distinct) == 2 else None


def difference_uncertainty_meV(lowest: MagneticOrderingDoc, other: MagneticOrderingDoc) -> float | None:
    """One sigma of ``other``'s energy above ``lowest`` (meV per magnetic atom): their
    ``energy_uncertainty_meV`` in quadrature (the lowest's is 0 when it is the model's reference);
    None when either is unknown."""
    sigmas = (lowest.energy_uncertainty_meV, other.energy_uncertainty_meV)
    if any(s is None for s in sigmas):
        return None
    return float((sigmas[0] ** 2 + sigmas[1] ** 2) ** 0.5)


def gap_backed(gap: float | None, sigma: float | None, min_gap_meV: float) -> bool:
    """Whether a gap (meV per magnetic atom) backs a claim: at or above the tie tolerance, above
    ``min_gap_meV`` and, when its one sigma is known, above twice it."""
    return (
        gap is not None
        and gap >= TIE_TOLERANCE_meV
        and gap > min_gap_meV
        and (sigma is None or gap > 2.0 * sigma)
    )


def gap_uncertainty_regime(ladder: Sequence[MagneticOrderingDoc]) -> str | None:
    """Calibration regime of the gap's sigma: the second lowest distinct ordering's
    ``uncertainty_regime`` (its sigma is relative to the lowest)."""
    distinct = sorted((d for d in ladder if not d.relaxed_collinear), key=_meV)[:2]
    return distinct[1].uncertainty_regime if len(distinct) == 2 else None


def resolution(
    ladder: Sequence[MagneticOrderingDoc],
    *,
    out_of_domain: Sequence[DomainGap],
    min_gap_meV: float,
    gap_sigma_meV: float | None,
    without_sigma: Sequence[str] = (),
) -> tuple[bool, str | None]:
    """Whether the model resolves the ground state of a candidate, and if not, why.

    Resolved means: every magnetic atom inside the model's knowledge, every distinct ordering's
    relaxation converged (an unconverged ordering's energy is only an upper bound), a gap above
    :data:`TIE_TOLERANCE_meV` and ``min_gap_meV`` and, when the model gives an uncertainty, above twice
    the gap's one sigma ``gap_sigma_meV`` (all meV per magnetic atom). ``without_sigma`` names the
    orderings for which a model that states uncertainties states none (moments on atoms it never
    learned): their energies cannot be backed either.

    Returns
    -------
    tuple
        (resolved, reason): the reason names the atoms, orderings and numbers; None when resolved.
    """
    reasons = [gap.describe() for gap in out_of_domain]
    distinct = [d for d in ladder if not d.relaxed_collinear]
    if without_sigma and not out_of_domain:  # out-of-domain atoms already say why
        reasons.append(
            f"the model states no uncertainty for {', '.join(without_sigma)} (moments it never learned)"
        )
    unconverged = [d.display_name or d.label for d in distinct if not d.converged]
    if unconverged:
        reasons.append(f"relaxation not converged: {', '.join(unconverged)}")
    gap = gap_meV(ladder)
    if gap is None:
        reasons.append("only one ordering ranked, so no gap")
    elif gap < TIE_TOLERANCE_meV:
        low = min(_meV(d) for d in distinct)
        tied = [d.display_name or d.label for d in distinct if _meV(d) - low < TIE_TOLERANCE_meV]
        reasons.append(f"{' and '.join(tied)} tie (within {TIE_TOLERANCE_meV:g} meV per magnetic atom)")
    elif gap <= min_gap_meV:
        reasons.append(f"gap {gap:.2f} meV per magnetic atom is not above rank.min_gap_meV = {min_gap_meV:g}")
    if gap is not None and gap_sigma_meV is not None and gap <= 2.0 * gap_sigma_meV:
        reasons.append(
            f"gap {gap:.2f} +- {gap_sigma_meV:.2f} meV per magnetic atom is not above twice its uncertainty"
        )
    return (not reasons, "; ".join(reasons) or None)


def ordering_kind(label: str) -> str:
    """'AFM' of 'AFM-II', 'AFM q=(0,0,0)' or 'AFM (G-type on Fe)'; 'FM' of 'FM'; 'FiM' of 'FiM'."""
    return label.split("(")[0].strip().split(" ")[0].split("-")[0]


@dataclass(frozen=True)
class KindClaim:
    """The kind (FM, AFM, FiM) of a ground state whose ordering within the kind is not resolved.

    Attributes
    ----------
    kind
        Kind of the lowest ordering.
    rival
        Display name of the lowest ordering of another kind.
    gap_meV
        Its energy above the lowest ordering (meV per magnetic atom).
    gap_uncertainty_meV
        One sigma of that gap; None when the model states no uncertainties.
    """

    kind: str
    rival: str
    gap_meV: float
    gap_uncertainty_meV: float | None


def kind_resolution(
    ladder: Sequence[MagneticOrderingDoc],
    *,
    out_of_domain: Sequence[DomainGap],
    min_gap_meV: float,
    without_sigma: Sequence[str] = (),
) -> KindClaim | None:
    """The ground state's kind when the model backs it although not the ordering itself, else None.

    FM against AFM is often the question a screen asks, and orderings of one kind can lie closer
    together than the model resolves (CrN's AFM-I and AFM-II, meV apart, FM 0.2 eV above). The kind
    is backed under :func:`resolution`'s conditions, with every ordering of another kind in the place
    of the runner-up: each lies above the lowest ordering by more than the tie tolerance,
    ``min_gap_meV`` and, when the model states uncertainties, twice the sigma of that difference.
    None also when no ordering of another kind was ranked (nothing to back the kind against).
    """
    distinct = sorted((d for d in ladder if not d.relaxed_collinear), key=_meV)
    if out_of_domain or without_sigma or not distinct or not all(d.converged for d in distinct):
        return None
    lowest, kind = distinct[0], ordering_kind(distinct[0].label)
    rivals = [d for d in distinct if ordering_kind(d.label) != kind]
    if not rivals:
        return None
    gaps = [_meV(rival) - _meV(lowest) for rival in rivals]
    sigmas = [difference_uncertainty_meV(lowest, rival) for rival in rivals]
    if not all(gap_backed(gap, sigma, min_gap_meV) for gap, sigma in zip(gaps, sigmas, strict=True)):
        return None
    closest = min(range(len(rivals)), key=gaps.__getitem__)
    return KindClaim(
        kind=kind,
        rival=rivals[closest].display_name or rivals[closest].label,
        gap_meV=gaps[closest],
        gap_uncertainty_meV=sigmas[closest],
    )


def agrees_with_experiment(label: str | None, experimental: str | None) -> bool | None:
    """Whether a predicted ground-state label matches an experimental one.

    Same label, or the same kind (FM, AFM, FiM, ...) where the experiment names only the kind,
    optionally with a comment in parentheses ('AFM (C-type in the fct cell)'). None when either is
    missing.
    """
    if label is None or not experimental:
        return None
    named = experimental.split("(")[0].strip()
    if named == ordering_kind(named):
        return ordering_kind(label) == named
    return label == named


def kind_agrees_with_experiment(kind: str | None, experimental: str | None) -> bool | None:
    """Whether a resolved kind (FM, AFM, FiM) matches an experimental ordering: None when either is
    missing, or when the experiment names an ordering of that kind (the claim does not say which)."""
    if kind is None or not experimental:
        return None
    named = experimental.split("(")[0].strip()
    if ordering_kind(named) != kind:
        return False
    return True if named == kind else None


def rank_candidates(candidates: Sequence[CandidateDoc]) -> list[CandidateDoc]:
    """Candidates ordered for follow-up: resolved ground states first, by decreasing gap, then the
    unresolved ones by candidate id.

    The gap between the ground state and the next ordering measures the exchange energy that
    stabilises the ground state, so it is a proxy for the ordering temperature (mean-field
    k_B T ~ exchange energy) and for how robust the predicted ground state is. Gaps are compared in
    steps of :data:`TIE_TOLERANCE_meV`, so float noise does not reorder candidates.
    """

    def key(doc: CandidateDoc) -> tuple:
        if not doc.resolved:
            return (1, 0, doc.candidate_id)
        return (0, -round((doc.gap_meV or 0.0) / TIE_TOLERANCE_meV), doc.candidate_id)

    return sorted(candidates, key=key)
