"""Job: energy ladder, ground state, gap and confidence of one candidate."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker, job
from maggma.core import Store

from magscreen.schemas import CandidateDoc, Confidence, LadderStep, MagneticOrderingDoc
from magscreen.screening.calculators import load_calculator
from magscreen.screening.outcomes import CandidateOutcome, OrderingOutcome
from magscreen.screening.progress import emit
from magscreen.screening.ranking import (
    agrees_with_experiment,
    energy_ladder,
    gap_backed,
    gap_meV,
    gap_uncertainty_meV,
    gap_uncertainty_regime,
    kind_agrees_with_experiment,
    kind_resolution,
    ordering_kind,
    resolution,
)
from magscreen.screening.settings import RankSettings
from magscreen.screening.uncertainty import ladder_regimes, ladder_uncertainties
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
        (meV per magnetic atom) at or below which the ground state is not resolved (see
        :func:`~magscreen.screening.ranking.resolution`).
    calculator
        The ``relax.calculator`` spec that computed the energies; when its model carries a readout
        posterior, every ordering gets ``energy_uncertainty_meV``
        (:func:`~magscreen.screening.uncertainty.ladder_uncertainties`). None: no uncertainty.
    """

    name: str = "rank candidate"
    settings: RankSettings = field(default_factory=RankSettings)
    calculator: str | None = None

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

        The ranking is redone on every run (it is cheap), so the document follows the current rule of
        :func:`~magscreen.screening.ranking.resolution`. A candidate with an ordering that could not
        be relaxed is reported as failed, with the reason.
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
        ids = [o.ordering_id for o in outcomes]
        docs = [MagneticOrderingDoc(**d) for d in orderings_store.query({"ordering_id": {"$in": ids}})]
        ladder = energy_ladder(docs)
        without_sigma: list[str] = []
        if self.calculator is not None:
            calculator = load_calculator(self.calculator)
            sigmas = ladder_uncertainties(calculator, ladder)
            if sigmas is not None:
                regimes = ladder_regimes(calculator, ladder)
                without_sigma = [
                    d.display_name or d.label
                    for d, sigma in zip(ladder, sigmas, strict=True)
                    if sigma is None and not d.relaxed_collinear
                ]
                ladder = [
                    d.model_copy(
                        update={"energy_uncertainty_meV": s, "uncertainty_regime": None if s is None else r}
                    )
                    for d, s, r in zip(ladder, sigmas, regimes, strict=True)
                ]
        orderings_store.update([d.model_dump(mode="json") for d in ladder])
        gap = gap_meV(ladder)
        sigma = gap_uncertainty_meV(ladder)
        out_of_domain = outcomes[0].domain_gaps
        resolved, reason = resolution(
            ladder,
            out_of_domain=out_of_domain,
            min_gap_meV=self.settings.min_gap_meV,
            gap_sigma_meV=sigma,
            without_sigma=without_sigma,
        )
        ground = ladder[0] if resolved else None
        kind = None
        if not resolved:
            kind = kind_resolution(
                ladder,
                out_of_domain=out_of_domain,
                min_gap_meV=self.settings.min_gap_meV,
                without_sigma=without_sigma,
            )
        doc = CandidateDoc(
            candidate_key=key,
            candidate_id=candidate.candidate_id,
            formula=candidate.formula,
            campaign=campaign,
            source=candidate.source,
            structure=candidate.structure.as_dict(),
            n_atoms=candidate.n_atoms,
            magnetic_elements=sorted(candidate.magnetic_elements),
            model_version=version,
            n_orderings=len(ladder),
            n_orderings_dropped=n_dropped,
            resolved=resolved,
            unresolved_reason=reason,
            ground_state_label=ground and ground.label,
            ground_state_fingerprint=ground and ground.fingerprint,
            lowest_ordering_label=ladder[0].label,
            lowest_ordering_fingerprint=ladder[0].fingerprint,
            gap_meV=gap,
            gap_uncertainty_meV=sigma,
            gap_uncertainty_regime=gap_uncertainty_regime(ladder) if sigma is not None else None,
            ground_state_kind=ordering_kind(ground.label) if ground else kind and kind.kind,
            kind_rival=kind and kind.rival,
            kind_gap_meV=kind and kind.gap_meV,
            kind_gap_uncertainty_meV=kind and kind.gap_uncertainty_meV,
            agrees_with_experiment=agrees_with_experiment(ground.label, candidate.experimental_ordering)
            if ground
            else kind_agrees_with_experiment(kind and kind.kind, candidate.experimental_ordering),
            ladder=[
                LadderStep(
                    label=d.label,
                    display_name=d.display_name,
                    fingerprint=d.fingerprint,
                    n_atoms=d.n_atoms,
                    relative_energy_meV=d.relative_energy_meV,
                    energy_uncertainty_meV=d.energy_uncertainty_meV,
                    uncertainty_regime=d.uncertainty_regime,
                    total_magnetization_muB=d.total_magnetization_muB,
                    total_magnetization_per_magnetic_atom=d.total_magnetization_muB
                    / max(d.n_magnetic_atoms, 1),
                    converged=d.converged,
                    relaxed_collinear=d.relaxed_collinear,
                )
                for d in ladder
            ],
            confidence=Confidence(
                in_magnetic_domain=not out_of_domain,
                out_of_domain_elements=[g.element for g in out_of_domain],
                out_of_domain=out_of_domain,
                gap_resolved=gap_backed(gap, sigma, self.settings.min_gap_meV),
                all_converged=all(d.converged for d in ladder),
            ),
            experimental_ordering=candidate.experimental_ordering,
            mp_ordering=candidate.mp_ordering,
            energy_above_hull=candidate.energy_above_hull,
        )
        candidates_store.update(doc.model_dump(mode="json"))
        emit("candidate", candidate_id=candidate.candidate_id)
        return summary
