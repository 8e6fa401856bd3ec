"""Campaign stage: spin-orbit anisotropy of the best candidates, written into their candidate documents.

Runs after the summary has ranked the campaign. For the ``top_n`` best candidates it takes the
ordering the settings name (the resolved ground state, or the FM ordering for permanent-magnet
screens), rotates all its moments together with the model (:func:`ml_anisotropy`) and stores the
result as the candidate document's ``anisotropy`` field (easy axis, MAE, K1/K2, Ms, mu0 H_A,
kappa), which ``magscreen query`` filters and sorts (``anisotropy.kappa``). A candidate outside the
model's spin-orbit domain gets ``status: outside_domain`` and no numbers. With ``validate`` the
same orderings go to the DFT engine's force-theorem maker; its MAE lands in ``anisotropy.check``.
"""

from __future__ import annotations

import time

from jobflow import Flow, Response, job
from pymatgen.core import Structure

from magscreen.schemas import CampaignDoc, CandidateDoc, DFTValidationDoc, MagneticOrderingDoc
from magscreen.schemas.anisotropy import AnisotropyCheck, CandidateAnisotropy
from magscreen.screening.anisotropy_settings import AnisotropySettings
from magscreen.screening.ranking import rank_candidates
from magscreen.store import CampaignStores

__all__ = ["anisotropy_stage", "record_anisotropy_check", "select_orderings"]


def select_orderings(
    docs: list[CandidateDoc], settings: AnisotropySettings
) -> list[tuple[CandidateDoc, str, str]]:
    """(candidate, ordering label, fingerprint) of the ``top_n`` best candidates, ranking order."""
    chosen = []
    for doc in rank_candidates(docs):
        if settings.ordering == "ground_state":
            if doc.resolved and doc.ground_state_fingerprint:
                chosen.append((doc, doc.ground_state_label or "", doc.ground_state_fingerprint))
        else:
            step = next((s for s in doc.ladder if s.label == "FM"), None)
            if step is not None:
                chosen.append((doc, step.label, step.fingerprint))
        if len(chosen) == settings.top_n:
            break
    return chosen


def _evaluate(structure: Structure, model, label: str, fingerprint: str, source: str) -> CandidateAnisotropy:
    from magscreen.screening.anisotropy_ml import OutsideSocDomain, ml_anisotropy

    version = getattr(model, "model_version", "none")
    base = {"model_version": version, "ordering_label": label, "ordering_fingerprint": fingerprint}
    if model is None:
        reason = "the calculator is not an ML model with a spin-orbit block"
        return CandidateAnisotropy(status="outside_domain", reason=reason, **base)
    try:
        result = ml_anisotropy(structure, model, source=source)
    except OutsideSocDomain as error:
        return CandidateAnisotropy(status="outside_domain", reason=str(error), **base)
    a = result.analysis
    return CandidateAnisotropy(
        status="predicted",
        **base,
        symmetry=a.symmetry,
        easy_axis=a.easy_axis,
        easy_axis_cartesian=a.easy_axis_cartesian,
        easy_axis_label=a.easy_axis_label,
        mae_ueV_per_atom=a.mae_ueV_per_atom,
        mae_MJ_m3=a.mae_MJ_m3,
        K1_MJ_m3=a.K1_MJ_m3,
        K2_MJ_m3=a.K2_MJ_m3,
        K1_ueV_per_atom=a.K1_ueV_per_atom,
        Ms_T=a.Ms_T,
        Ms_kA_m=a.Ms_kA_m,
        mu0_HA_T=a.mu0_HA_T,
        kappa=a.kappa,
        moments_muB=result.moments_muB,
        curves={plane: [list(t), list(e)] for plane, (t, e) in result.curves.items()},
    )


@job
def anisotropy_stage(
    campaign: CampaignDoc | dict,
    *,
    settings: AnisotropySettings | dict,
    model: str,
    stores: CampaignStores,
) -> Response:
    """Anisotropy of the best candidates into their documents; DFT checks added as new jobs.

    ``model`` is the campaign's calculator spec; ``settings.model`` overrides it. Returns the
    number of candidates with a prediction.
    """
    from magscreen.screening.calculators import load_calculator

    campaign = campaign if isinstance(campaign, CampaignDoc) else CampaignDoc(**campaign)
    settings = settings if isinstance(settings, AnisotropySettings) else AnisotropySettings(**settings)
    if settings.top_n == 0:
        return Response(output=0)
    stores.connect()
    query = {"candidate_id": {"$in": campaign.candidate_ids}, "model_version": campaign.model_version}
    docs = [CandidateDoc(**d) for d in stores.candidates.query(query)]
    selected = select_orderings(docs, settings)
    potential = getattr(load_calculator(settings.model or model), "model", None)  # None: Heisenberg
    jobs, n_predicted, start = [], 0, time.perf_counter()
    maker = None
    if settings.validate_ != "none":
        from magscreen.validation.base import build_validation_maker

        maker = build_validation_maker(settings.validate_, {"anisotropy": True, **settings.settings})
    for index, (doc, label, fingerprint) in enumerate(selected, start=1):
        ordering_id = MagneticOrderingDoc.make_id(doc.candidate_id, fingerprint, doc.model_version)
        ordering = stores.orderings.query_one({"ordering_id": ordering_id})
        structure = Structure.from_dict(ordering["structure"])
        record = _evaluate(structure, potential, label, fingerprint, source=f"{doc.candidate_id} {label}")
        n_predicted += record.status == "predicted"
        stores.candidates.update(
            {**doc.model_dump(mode="json"), "anisotropy": record.model_dump(mode="json")}
        )
        elapsed = time.perf_counter() - start
        eta = elapsed / index * (len(selected) - index)
        print(
            f"anisotropy {index}/{len(selected)} {doc.candidate_id} {label}: {record.status} "
            f"({elapsed:.0f} s, ETA {eta:.0f} s)",
            flush=True,
        )
        if maker is not None:
            dft = maker.make(
                structure,
                candidate_id=doc.candidate_id,
                ordering_label=label,
                ordering_fingerprint=fingerprint,
                model_version=doc.model_version,
            )
            check = record_anisotropy_check(
                dft.output, candidate_key=doc.candidate_key, engine=settings.validate_, stores=stores
            )
            jobs += [dft, check]
    if not jobs:
        return Response(output=n_predicted)
    return Response(output=n_predicted, addition=Flow(jobs, name="anisotropy checks"))


@job
def record_anisotropy_check(
    doc: DFTValidationDoc | dict, *, candidate_key: str, engine: str, stores: CampaignStores
) -> str:
    """Store the DFT document and copy its MAE into the candidate's ``anisotropy.check``."""
    doc = doc if isinstance(doc, DFTValidationDoc) else DFTValidationDoc(**doc)
    stores.connect()
    stores.validations.update(doc.model_dump(mode="json"))
    candidate = stores.candidates.query_one({"candidate_key": candidate_key})
    check = AnisotropyCheck(
        engine=engine,
        validation_id=doc.validation_id,
        mae_ueV_per_atom=doc.mae_ueV_per_atom,
        easy_axis_cartesian=doc.easy_axis,
    )
    candidate["anisotropy"]["check"] = check.model_dump(mode="json")
    stores.candidates.update(candidate)
    return doc.validation_id
