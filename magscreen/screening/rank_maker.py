"""Job: energy ladder, ground state, gap and confidence of one candidate."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job
from maggma.core import Store

from magscreen.schemas import CandidateDoc, Confidence, LadderStep, MagneticOrderingDoc
from magscreen.screening.outcomes import CandidateOutcome, OrderingOutcome
from magscreen.screening.progress import emit
from magscreen.screening.ranking import energy_ladder, gap_meV
from magscreen.screening.settings import RankSettings
from magscreen.sources import Candidate

__all__ = ["RankCandidateMaker"]


@dataclass
class RankCandidateMaker(Maker):
    """Rank the relaxed orderings of one candidate and store a :class:`CandidateDoc`.

    Parameters
    ----------
    name
        Job name.
    settings
        The campaign config's ``rank`` section; ``min_gap_meV`` is the gap to the next ordering
        (meV per magnetic atom) below which the ground state is flagged as not resolved.
    """

    name: str = "rank candidate"
    settings: RankSettings = field(default_factory=RankSettings)

    @job
    def make(
        self,
        outcomes: list[OrderingOutcome],
        *,
        candidate: Candidate,
        n_dropped: int,
        campaign: str,
        orderings_store: Store,
        candidates_store: Store,
    ) -> CandidateOutcome:
        """Read the orderings from ``orderings_store``, rank them, upsert the candidate document.

        When every ordering was skipped and the document exists, nothing is rewritten. A candidate
        with an ordering that could not be relaxed is reported as failed, with the reason.
        """
        n_skipped = sum(o.skipped for o in outcomes)
        errors = sorted({o.error for o in outcomes if o.error})
        if errors:
            emit("candidate", candidate_id=candidate.candidate_id, error=errors[0])
            n_computed = sum(not o.skipped and not o.error for o in outcomes)
            return CandidateOutcome(
                candidate_id=candidate.candidate_id,
                n_computed=n_computed,
                n_skipped=n_skipped,
                error="; ".join(errors),
            )
        version = outcomes[0].model_version
        key = CandidateDoc.make_key(candidate.candidate_id, version)
        summary = CandidateOutcome(
            candidate_id=candidate.candidate_id,
            candidate_key=key,
            n_computed=len(outcomes) - n_skipped,
            n_skipped=n_skipped,
        )
        orderings_store.connect()
        candidates_store.connect()
        if n_skipped == len(outcomes) and candidates_store.query_one(
            {"candidate_key": key}, ["candidate_key"]
        ):
            emit("candidate", candidate_id=candidate.candidate_id)
            return summary

        ids = [o.ordering_id for o in outcomes]
        docs = [MagneticOrderingDoc(**d) for d in orderings_store.query({"ordering_id": {"$in": ids}})]
        ladder = energy_ladder(docs)
        orderings_store.update([d.model_dump(mode="json") for d in ladder])
        gap = gap_meV(ladder)
        magnetic = sorted(candidate.magnetic_elements)
        domain = outcomes[0].magnetic_domain
        outside = [] if domain is None else [el for el in magnetic if el not in domain]
        doc = CandidateDoc(
            candidate_key=key,
            candidate_id=candidate.candidate_id,
            formula=candidate.formula,
            campaign=campaign,
            source=candidate.source,
            structure=candidate.structure.as_dict(),
            n_atoms=candidate.n_atoms,
            magnetic_elements=magnetic,
            model_version=version,
            n_orderings=len(ladder),
            n_orderings_dropped=n_dropped,
            ground_state_label=ladder[0].label,
            ground_state_fingerprint=ladder[0].fingerprint,
            gap_meV=gap,
            ladder=[
                LadderStep(
                    label=d.label,
                    fingerprint=d.fingerprint,
                    relative_energy_meV=d.relative_energy_meV,
                    total_magnetization_per_magnetic_atom=d.total_magnetization / max(d.n_magnetic_atoms, 1),
                    converged=d.converged,
                    relaxed_collinear=d.relaxed_collinear,
                )
                for d in ladder
            ],
            confidence=Confidence(
                in_magnetic_domain=not outside,
                out_of_domain_elements=outside,
                gap_resolved=gap is not None and gap > self.settings.min_gap_meV,
                all_converged=all(d.converged for d in ladder),
            ),
            experimental_ordering=candidate.experimental_ordering,
            mp_ordering=candidate.mp_ordering,
            energy_above_hull=candidate.energy_above_hull,
        )
        candidates_store.update(doc.model_dump(mode="json"))
        emit("candidate", candidate_id=candidate.candidate_id)
        return summary
