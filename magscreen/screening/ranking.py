"""Ranking: the energy ladder of one candidate's orderings, and the order of candidates in a campaign.

Energies are compared per magnetic atom (the sites of the candidate's magnetic elements), which is
the same set for every ordering of one candidate, so supercells of different size compare directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from magscreen.schemas import CandidateDoc, MagneticOrderingDoc

__all__ = ["energy_ladder", "gap_meV", "rank_candidates"]


def energy_ladder(orderings: Sequence[MagneticOrderingDoc]) -> list[MagneticOrderingDoc]:
    """Orderings sorted by energy per magnetic atom, with ``relative_energy_meV`` and ``rank`` set.

    Ties are broken by label, so the ladder is deterministic. Non-collinear orderings whose moments
    relaxed into a collinear state (``relaxed_collinear``) repeat a collinear ordering: they come
    after the distinct orderings, and the ground state is the lowest distinct one.

    Parameters
    ----------
    orderings
        Relaxed orderings of one candidate, computed by one model.

    Returns
    -------
    list of MagneticOrderingDoc
        Copies, lowest energy first; ``relative_energy_meV`` in meV per magnetic atom.
    """
    if not orderings:
        raise ValueError("cannot rank a candidate without orderings")
    ladder = sorted(
        orderings, key=lambda doc: (bool(doc.relaxed_collinear), doc.energy_per_magnetic_atom_eV, doc.label)
    )
    ground = ladder[0].energy_per_magnetic_atom_eV
    return [
        doc.model_copy(
            update={"relative_energy_meV": 1000.0 * (doc.energy_per_magnetic_atom_eV - ground), "rank": i}
        )
        for i, doc in enumerate(ladder)
    ]


def gap_meV(ladder: Sequence[MagneticOrderingDoc]) -> float | None:
    """Energy of the first excited ordering above the ground state (meV per magnetic atom).

    Orderings that relaxed into a collinear state are left out; None when fewer than two remain.
    """
    distinct = [doc for doc in ladder if not doc.relaxed_collinear]
    if len(distinct) < 2:
        return None
    return 1000.0 * (distinct[1].energy_per_magnetic_atom_eV - distinct[0].energy_per_magnetic_atom_eV)


def rank_candidates(candidates: Sequence[CandidateDoc]) -> list[CandidateDoc]:
    """Candidates ordered for follow-up: trustworthy predictions first, then the largest gap.

    The gap between the ground state and the next ordering measures the exchange energy that
    stabilises the ground state, so it is a proxy for the ordering temperature (mean-field
    k_B T ~ exchange energy) and for how robust the predicted ground state is. Candidates inside
    the model's magnetic domain come first, then those with a resolved gap, then converged ones.
    """

    def key(doc: CandidateDoc) -> tuple:
        confidence = doc.confidence
        flags = (not confidence.in_magnetic_domain, not confidence.gap_resolved, not confidence.all_converged)
        return (*flags, -(doc.gap_meV or 0.0), doc.candidate_id)

    return sorted(candidates, key=key)
