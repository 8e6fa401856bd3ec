"""Jobs: rank the candidates of a campaign, record it, and send the best to DFT validation."""

from __future__ import annotations

from jobflow import Flow, Maker, Response, job
from maggma.core import Store
from pymatgen.core import Structure

from magscreen.schemas import CampaignDoc, CandidateDoc, DFTValidationDoc, MagneticOrderingDoc
from magscreen.screening.outcomes import CandidateOutcome
from magscreen.screening.ranking import rank_candidates
from magscreen.store import CampaignStores

__all__ = ["record_validations", "save_validation", "summarize_campaign"]


@job
def summarize_campaign(
    outcomes: list[CandidateOutcome],
    *,
    name: str,
    config: dict,
    stores: CampaignStores,
    validation_maker: Maker | None = None,
    validation_engine: str = "none",
    validate_top_n: int = 0,
    orderings_per_candidate: int = 2,
) -> Response:
    """Rank the candidates, store the :class:`CampaignDoc` and add the validation jobs.

    Validations already in the ``validations`` store (same candidate, ordering fingerprint and
    engine) are not rerun.
    """
    stores.connect()
    keys = [o.candidate_key for o in outcomes if o.candidate_key]
    docs = [CandidateDoc(**d) for d in stores.candidates.query({"candidate_key": {"$in": keys}})]
    ranked = rank_candidates(docs)
    resolved = [d for d in ranked if d.resolved]
    selected = resolved[:validate_top_n] if validation_maker is not None else []
    campaign = CampaignDoc(
        name=name,
        config=config,
        model_version=docs[0].model_version if docs else "none",
        candidate_ids=[d.candidate_id for d in ranked],
        failed_candidates={o.candidate_id: o.error for o in outcomes if o.error},
        n_orderings=sum(o.n_computed + o.n_skipped for o in outcomes),
        n_orderings_computed=sum(o.n_computed for o in outcomes),
        n_orderings_skipped=sum(o.n_skipped for o in outcomes),
        selected_for_validation=[d.candidate_id for d in selected],
        validation_engine=validation_engine,
    )
    stores.campaigns.update(campaign.model_dump(mode="json"))

    jobs = []
    n_skipped = 0
    for candidate in selected:
        distinct = [step for step in candidate.ladder if not step.relaxed_collinear]
        for step in distinct[:orderings_per_candidate]:
            done = {
                "candidate_id": candidate.candidate_id,
                "ordering_fingerprint": step.fingerprint,
                "engine": validation_engine,
            }
            if stores.validations.query_one(done, properties=["validation_id"]) is not None:
                n_skipped += 1
                continue
            ordering_id = MagneticOrderingDoc.make_id(
                candidate.candidate_id, step.fingerprint, candidate.model_version
            )
            ordering = stores.orderings.query_one({"ordering_id": ordering_id})
            dft = validation_maker.make(
                Structure.from_dict(ordering["structure"]),
                candidate_id=candidate.candidate_id,
                ordering_label=step.label,
                ordering_fingerprint=step.fingerprint,
                model_version=candidate.model_version,
            )
            jobs += [dft, save_validation(dft.output, store=stores.validations)]
    if not selected:
        return Response(output=campaign)
    saves = [j.output for j in jobs[1::2]]
    jobs.append(record_validations(saves, name=name, n_skipped=n_skipped, store=stores.campaigns))
    return Response(output=campaign, addition=Flow(jobs, name="validation"))


@job
def save_validation(doc: DFTValidationDoc, *, store: Store) -> str:
    """Upsert a DFT validation document; returns its ``validation_id``."""
    doc = doc if isinstance(doc, DFTValidationDoc) else DFTValidationDoc(**doc)
    store.connect()
    store.update(doc.model_dump(mode="json"))
    return doc.validation_id


@job
def record_validations(validation_ids: list[str], *, name: str, n_skipped: int, store: Store) -> int:
    """Write the validation counts into the campaign document; returns how many ran."""
    store.connect()
    campaign = store.query_one({"name": name})
    campaign.update(n_validations_computed=len(validation_ids), n_validations_skipped=n_skipped)
    store.update(campaign)
    return len(validation_ids)
