"""Job: enumerate a candidate's orderings and replace itself by their relaxations and the ranking."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Maker, Response, job

from magscreen.errors import MagscreenError
from magscreen.magnetism.enumeration import OrderingSettings, enumerate_orderings
from magscreen.magnetism.ordering import Ordering
from magscreen.screening.outcomes import CandidateOutcome
from magscreen.screening.progress import emit
from magscreen.screening.rank_maker import RankCandidateMaker
from magscreen.screening.relax_maker import RelaxOrderingMaker
from magscreen.sources import Candidate
from magscreen.store import CampaignStores

__all__ = ["ScreenCandidateMaker"]


@dataclass
class ScreenCandidateMaker(Maker):
    """Screen one candidate: enumerate orderings, relax each, rank them.

    The job enumerates the orderings and replaces itself by a flow of one
    :class:`RelaxOrderingMaker` job per ordering and one :class:`RankCandidateMaker` job, whose
    :class:`CandidateOutcome` becomes this job's output.

    Parameters
    ----------
    name
        Job name.
    orderings
        Which orderings are enumerated (the campaign config's ``orderings`` section).
    relax_maker, rank_maker
        Makers of the relaxation and ranking jobs.
    """

    name: str = "screen candidate"
    orderings: OrderingSettings = field(default_factory=OrderingSettings)
    relax_maker: RelaxOrderingMaker = field(default_factory=RelaxOrderingMaker)
    rank_maker: RankCandidateMaker = field(default_factory=RankCandidateMaker)

    def enumerate(self, candidate: Candidate) -> tuple[list[Ordering], int]:
        """The orderings this maker relaxes for ``candidate``, and how many it leaves out.

        Raises
        ------
        MagscreenError
            A candidate that cannot be enumerated (e.g. too many magnetic sites).
        """
        found = enumerate_orderings(candidate.structure, self.orderings, source=candidate.candidate_id)
        return found.orderings, found.n_dropped

    @job
    def make(
        self, candidate: Candidate, *, campaign: str, stores: CampaignStores
    ) -> Response | CandidateOutcome:
        """Enumerate the orderings of ``candidate`` and hand over to their relaxation and ranking.

        A candidate that cannot be enumerated (e.g. too many magnetic sites for
        ``max_magnetic_atoms``) is reported in the outcome, not dropped silently.
        """
        try:
            orderings, n_dropped = self.enumerate(candidate)
        except MagscreenError as error:
            emit("candidate", candidate_id=candidate.candidate_id, error=str(error))
            return CandidateOutcome(candidate_id=candidate.candidate_id, error=str(error))
        emit("orderings", candidate_id=candidate.candidate_id, n=len(orderings))
        relax_jobs = [
            self.relax_maker.make(
                ordering.structure,
                candidate_id=candidate.candidate_id,
                label=ordering.label,
                fingerprint=ordering.fingerprint,
                magnetic_elements=sorted(candidate.magnetic_elements),
                campaign=campaign,
                store=stores.orderings,
            )
            for ordering in orderings
        ]
        for ordering, relax_job in zip(orderings, relax_jobs, strict=True):
            relax_job.name = f"relax {candidate.candidate_id} {ordering.label}"
        rank_job = self.rank_maker.make(
            [j.output for j in relax_jobs],
            candidate=candidate,
            n_dropped=n_dropped,
            campaign=campaign,
            orderings_store=stores.orderings,
            candidates_store=stores.candidates,
        )
        rank_job.name = f"rank {candidate.candidate_id}"
        return Response(replace=Flow([*relax_jobs, rank_job], output=rank_job.output))
