"""Campaign step ``extend:``: DFT on a few orderings of each candidate the model cannot resolve, an
extended model fitted on them, and every ordering of that candidate ranked again by it.

Jobs (each takes the MSONable stores, so the step runs under ``run_locally``, FireWorks and
jobflow-remote alike):

1. :class:`ExtendCandidatesMaker` reads the screened candidates; for each one outside the model's
   magnetic knowledge it picks ``max_calculations`` orderings (:func:`choose_orderings`) and adds a
   :func:`guarded_dft` job per ordering that the ``validations`` store does not hold yet (a re-run
   skips finished DFT), then :func:`extend_candidate`.
2. :func:`guarded_dft` runs the validation maker's job or flow and returns its document, or the
   error of a calculation that failed (SCF not converged, ...): recorded, never raised, so one
   failed calculation neither stops the campaign nor is dropped silently.
3. :func:`extend_candidate` stores the DFT documents, records failed or unconverged ones, and with
   two or more usable ones
   extends the base model (:func:`magscreen.training.extend.extend_model`), writes the checkpoint
   and replaces itself by the candidate's screening with that model and :func:`record_extension`.
   With fewer it records the failure and the candidate keeps its unresolved ranking.
4. :func:`record_extension` stores the :class:`~magscreen.schemas.ExtensionDoc` (which DFT documents
   extended which model, what it ranked) and passes the re-ranked candidate on to the summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from jobflow import Flow, Maker, OnMissing, Response, job
from pymatgen.core import Structure

from magscreen.errors import MagscreenError
from magscreen.schemas import (
    CandidateDoc,
    DFTValidationDoc,
    ExtensionDoc,
    ExtensionOrdering,
    MagneticOrderingDoc,
)
from magscreen.screening.outcomes import CandidateOutcome
from magscreen.screening.screen_maker import ScreenCandidateMaker
from magscreen.sources import Candidate
from magscreen.store import CampaignStores
from magscreen.training.extension_settings import ExtensionSettings

__all__ = ["ExtendCandidatesMaker", "choose_orderings", "extend_candidate", "guarded_dft", "record_extension"]


def choose_orderings(orderings: list[MagneticOrderingDoc], k: int) -> list[MagneticOrderingDoc]:
    """The ``k`` orderings to compute: smallest cells first (DFT cost grows at least as N^2), among
    cells of one size the lowest ML energy first (the contenders for the ground state), then the
    fingerprint (a stable order). Non-collinear states that relaxed collinear are left out."""
    distinct = [o for o in orderings if not o.relaxed_collinear]
    ranked = sorted(
        distinct,
        key=lambda o: (
            o.n_atoms,
            o.relative_energy_meV if o.relative_energy_meV is not None else 0.0,
            o.fingerprint,
        ),
    )
    return ranked[:k]


def _dft_structure(ordering: MagneticOrderingDoc) -> Structure:
    """The ordering's relaxed cell with its starting moments (mu_B) as the ``magmom`` site property."""
    structure = Structure.from_dict(ordering.structure)
    structure.add_site_property("magmom", list(ordering.initial_moments))
    return structure


def _moment_lengths(orderings: list[MagneticOrderingDoc]) -> dict[str, float]:
    """Moment length per element (mu_B) of the campaign's orderings: the extended model is fitted at
    the lengths it will rank at."""
    lengths: dict[str, float] = {}
    for ordering in orderings:
        structure = Structure.from_dict(ordering.structure)
        for site, moment in zip(structure, ordering.initial_moments, strict=True):
            value = abs(moment) if isinstance(moment, int | float) else sum(c * c for c in moment) ** 0.5
            if value > 0:
                lengths.setdefault(site.specie.symbol, float(value))
    return lengths


@dataclass
class ExtendCandidatesMaker(Maker):
    """Extend the model on candidates it cannot resolve and rank them again.

    Parameters
    ----------
    name
        Job name.
    dft_maker
        Validation maker (GPAW, VASP; built by :func:`~magscreen.validation.base.build_validation_maker`)
        whose job or flow outputs a ``DFTValidationDoc``.
    engine
        Its name, recorded with the documents and used to find finished DFT in the store.
    max_calculations
        DFT orderings per candidate.
    fit
        Settings of the extension fit.
    models
        Folder of the extended checkpoints.
    base_model
        The campaign's ``relax.calculator`` (a shipped model name or checkpoint path).
    screen_maker
        The campaign's screening maker; the re-ranking uses it with the extended model.
    """

    name: str = "extend unresolved candidates"
    dft_maker: Maker | None = None
    engine: str = "gpaw"
    max_calculations: int = 3
    fit: ExtensionSettings = field(default_factory=ExtensionSettings)
    models: str = "extended-models"
    base_model: str = "monoxides"
    screen_maker: ScreenCandidateMaker = field(default_factory=ScreenCandidateMaker)

    @job
    def make(
        self,
        outcomes: list[CandidateOutcome],
        *,
        candidates: list[Candidate],
        campaign: str,
        stores: CampaignStores,
    ) -> Response:
        """Outcomes as screened, with each candidate outside the model's knowledge replaced by its
        ranking with an extended model (when its DFT succeeds)."""
        from magscreen.screening.calculators import load_calculator
        from magscreen.training.extend import moved_knowledge

        stores.connect()
        base = load_calculator(self.base_model).model
        by_id = {c.candidate_id: c for c in candidates}
        results: list = []
        jobs: list = []
        for outcome in outcomes:
            raw = outcome.candidate_key and stores.candidates.query_one(
                {"candidate_key": outcome.candidate_key}
            )
            doc = CandidateDoc(**raw) if raw else None
            if doc is None or doc.confidence.in_magnetic_domain:
                results.append(outcome)
                continue
            ids = [
                MagneticOrderingDoc.make_id(doc.candidate_id, s.fingerprint, doc.model_version)
                for s in doc.ladder
            ]
            orderings = [
                MagneticOrderingDoc(**d) for d in stores.orderings.query({"ordering_id": {"$in": ids}})
            ]
            moved = moved_knowledge(base, {g.element: g.environments for g in doc.confidence.out_of_domain})
            chosen = [] if moved else choose_orderings(orderings, self.max_calculations)
            inputs, plan = [], []
            for ordering in chosen:
                done = stores.validations.query_one(
                    {
                        "candidate_id": doc.candidate_id,
                        "ordering_fingerprint": ordering.fingerprint,
                        "engine": self.engine,
                    }
                )
                entry = ExtensionOrdering(
                    label=ordering.label,
                    fingerprint=ordering.fingerprint,
                    n_atoms=ordering.n_atoms,
                    reused=bool(done),
                )
                if done:
                    inputs.append({"doc": done, "error": None})
                else:
                    dft = guarded_dft(
                        self.dft_maker,
                        _dft_structure(ordering),
                        candidate_id=doc.candidate_id,
                        ordering_label=ordering.label,
                        ordering_fingerprint=ordering.fingerprint,
                        model_version=doc.model_version,
                    )
                    dft.name = f"dft {doc.candidate_id} {ordering.label}"
                    jobs.append(dft)
                    inputs.append(dft.output)
                plan.append(entry.model_dump(mode="json"))
            record = ExtensionDoc(
                extension_id=ExtensionDoc.make_id(doc.candidate_id, doc.model_version, self.engine),
                candidate_id=doc.candidate_id,
                formula=doc.formula,
                campaign=campaign,
                engine=self.engine,
                reason=doc.unresolved_reason,
                base_model_version=doc.model_version,
                status="failed",
                orderings=plan,
                n_orderings_enumerated=len(orderings),
                dft_atoms=sum(o.n_atoms for o in chosen),
                all_orderings_atoms=sum(o.n_atoms for o in orderings),
                error="; ".join(moved) + " (no readout posterior to hold what it knows there)"
                if moved
                else None,
            )
            if moved:  # no DFT: the fit would be refused
                stores.extensions.update(record.model_dump(mode="json"))
                results.append(outcome)
                continue
            fit = self.fit
            if not fit.moment_lengths:
                fit = fit.model_copy(update={"moment_lengths": _moment_lengths(orderings)})
            extend = extend_candidate(
                inputs,
                record=record.model_dump(mode="json"),
                outcome=outcome,
                candidate=by_id[doc.candidate_id],
                base_model=self.base_model,
                fit=fit,
                models=self.models,
                screen_maker=self.screen_maker,
                stores=stores,
            )
            extend.config.on_missing_references = OnMissing.NONE  # a lost worker's DFT arrives as None
            extend.name = f"extend {doc.candidate_id}"
            jobs.append(extend)
            results.append(extend.output)
        if not jobs:
            return Response(output=outcomes)
        return Response(replace=Flow(jobs, output=results, name="domain extension"))


@job
def guarded_dft(
    dft_maker: Maker,
    structure: Structure,
    *,
    candidate_id: str,
    ordering_label: str,
    ordering_fingerprint: str,
    model_version: str | None = None,
) -> dict:
    """One DFT validation (the maker's job or flow, run here): ``{"doc": DFTValidationDoc | None,
    "error": None | why it failed}``."""
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore

    work = dft_maker.make(
        structure,
        candidate_id=candidate_id,
        ordering_label=ordering_label,
        ordering_fingerprint=ordering_fingerprint,
        model_version=model_version,
    )
    flow = work if isinstance(work, Flow) else Flow([work], output=work.output)
    store = JobStore(MemoryStore())
    try:
        run_locally(flow, store=store, log=False, ensure_success=True, raise_immediately=True)
    except Exception as error:  # the engine's own errors (SCF not converged, ...) are the record
        return {"doc": None, "error": f"{type(error).__name__}: {error}"}
    store.connect()
    return {"doc": flow.output.resolve(store), "error": None}


def _usable(raw: dict | None, entry: dict) -> DFTValidationDoc | None:
    """The document of one DFT job, or None with the reason written into ``entry``."""
    if raw is None:
        entry["error"] = "the DFT job left no output (its worker failed; see the workflow log)"
        return None
    if raw["doc"] is None:
        entry["error"] = raw["error"]
        return None
    doc = raw["doc"] if isinstance(raw["doc"], DFTValidationDoc) else DFTValidationDoc(**raw["doc"])
    entry["validation_id"] = doc.validation_id
    if not doc.converged:
        entry["error"] = "the DFT calculation did not converge"
        return None
    if doc.energy_eV is None or doc.magnetic_moments is None:
        entry["error"] = "the DFT document has no energy or no moments"
        return None
    return doc


@job
def extend_candidate(
    dft_docs: list,
    *,
    record: dict,
    outcome: CandidateOutcome,
    candidate: Candidate,
    base_model: str,
    fit: ExtensionSettings,
    models: str,
    screen_maker: ScreenCandidateMaker,
    stores: CampaignStores,
) -> Response | CandidateOutcome:
    """Store the DFT documents, extend the base model on them and re-screen the candidate with it."""
    from magscreen.screening.calculators import load_calculator
    from magscreen.training.data import frames_from_validation_docs
    from magscreen.training.extend import extend_model

    stores.connect()
    usable = []
    for raw, entry in zip(dft_docs, record["orderings"], strict=True):
        doc = _usable(raw, entry)
        if raw is not None and raw["doc"] is not None and not entry["reused"]:
            stored = (
                raw["doc"] if isinstance(raw["doc"], DFTValidationDoc) else DFTValidationDoc(**raw["doc"])
            )
            stores.validations.update(stored.model_dump(mode="json"))
        if doc is not None:
            usable.append(doc)
            record["dft_wall_time_s"] += doc.wall_time_s or 0.0
    if len(usable) < 2:
        stores.extensions.update(ExtensionDoc(**record).model_dump(mode="json"))
        return outcome
    base = load_calculator(base_model).model
    try:
        extension = extend_model(
            base,
            frames_from_validation_docs(usable),
            fit,
            provenance={
                "candidate_id": candidate.candidate_id,
                "validation_ids": [d.validation_id for d in usable],
            },
        )
    except MagscreenError as error:  # e.g. the DFT put an element in an environment the base was trained on
        record["error"] = str(error)
        stores.extensions.update(ExtensionDoc(**record).model_dump(mode="json"))
        return outcome
    version = extension.model.model_version
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", candidate.candidate_id)
    checkpoint = extension.model.save(Path(models) / f"{safe}-{version.rsplit('+ext-', 1)[-1]}.pt")
    record.update(
        status="extended",
        extended_model_version=version,
        checkpoint=str(checkpoint),
        new_element_heads=list(extension.new_heads),
        prior=extension.prior,
        residuals_meV_per_atom=extension.residuals_meV_per_atom,
    )
    relax = screen_maker.relax_maker
    ranker = replace(
        screen_maker,
        relax_maker=replace(
            relax, settings=relax.settings.model_copy(update={"calculator": str(checkpoint)})
        ),
        rank_maker=replace(screen_maker.rank_maker, calculator=str(checkpoint)),
    )
    screen = ranker.make(candidate, campaign=record["campaign"], stores=stores)
    screen.name = f"screen {candidate.candidate_id} (extended model)"
    save = record_extension(screen.output, record=record, stores=stores)
    save.name = f"record extension {candidate.candidate_id}"
    return Response(replace=Flow([screen, save], output=save.output))


@job
def record_extension(outcome: CandidateOutcome, *, record: dict, stores: CampaignStores) -> CandidateOutcome:
    """Store the extension document with the extended model's ranking; pass the outcome on."""
    stores.connect()
    if outcome.candidate_key:
        doc = CandidateDoc(**stores.candidates.query_one({"candidate_key": outcome.candidate_key}))
        record.update(
            ranked_candidate_key=doc.candidate_key,
            resolved=doc.resolved,
            ground_state_label=doc.ground_state_label,
        )
    stores.extensions.update(ExtensionDoc(**record).model_dump(mode="json"))
    return outcome
