"""What a campaign would do, checked and counted without running it (``magscreen run --dry-run``).

The checks load what the run will load: the calculator (model name or checkpoint), the validation
engine (its imports and its settings) and the store (a MongoDB server must answer; an embedded
store's folder must be creatable). The plan enumerates every candidate's orderings exactly as the
campaign will (:meth:`ScreenCandidateMaker.enumerate`), says which candidates hold magnetic atoms
outside the model's knowledge (so the model cannot resolve them yet), how many orderings the store
already holds, and how many DFT jobs the validation would add.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from magscreen.config import CampaignConfig
from magscreen.errors import InputError, MagscreenError
from magscreen.schemas import DomainGap, MagneticOrderingDoc
from magscreen.sources import Candidate
from magscreen.store import DATABASE_FILE, CampaignStores, build_stores

__all__ = ["CampaignPlan", "CandidatePlan", "plan_campaign"]


@dataclass
class CandidatePlan:
    """Orderings of one candidate the campaign would relax."""

    candidate_id: str
    formula: str
    orderings: list[str] = field(default_factory=list)
    n_dropped: int = 0
    n_in_store: int = 0
    out_of_domain: list[DomainGap] = field(default_factory=list)
    error: str | None = None


@dataclass
class CampaignPlan:
    """The checked plan of a campaign."""

    calculator: str
    model_version: str
    store: str
    candidates: list[CandidatePlan]
    validation_engine: str
    n_validation_jobs: int
    notes: list[str] = field(default_factory=list)

    @property
    def n_orderings(self) -> int:
        return sum(len(c.orderings) for c in self.candidates)

    @property
    def n_in_store(self) -> int:
        return sum(c.n_in_store for c in self.candidates)


def _check_embedded_folder(path: Path, source: Path) -> None:
    """The embedded store's folder exists or can be created (nothing is created here)."""
    folder = path.expanduser()
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
        raise InputError(
            f"cannot create the embedded store under {folder} ({existing} is not a writable folder)",
            source=source,
            field="store.path",
            expected="a folder magscreen may write",
        )


def _open_existing(config: CampaignConfig, source: Path) -> tuple[CampaignStores | None, str]:
    """Stores to count what is done (None when an embedded store does not exist yet), and where."""
    if config.store.kind == "embedded":
        _check_embedded_folder(config.store.path, source)
        if not (config.store.path / DATABASE_FILE).is_file():
            return None, f"{config.store.path / DATABASE_FILE} (new)"
    stores = build_stores(config.store, check=True)
    return stores, stores.location


def _vasp_notes() -> list[str]:
    from pymatgen.core import SETTINGS

    if SETTINGS.get("PMG_VASP_PSP_DIR"):
        return []
    return [
        "VASP: PMG_VASP_PSP_DIR is not set here (~/.config/.pmgrc.yaml); the machines that run the "
        "VASP jobs need it"
    ]


def plan_campaign(config: CampaignConfig, candidates: list[Candidate], source: Path) -> CampaignPlan:
    """Check what the campaign needs and count what it would do.

    Parameters
    ----------
    config
        The validated campaign config.
    candidates
        Its candidates (loaded from the config's source).
    source
        The config file, for messages.

    Raises
    ------
    InputError
        An unknown calculator, an engine that is not installed or does not take the settings, or a
        store folder that cannot be created; the message names the config and the field.
    ServiceError
        A MongoDB store that does not answer.
    """
    from magscreen.flows.campaign import CampaignMaker
    from magscreen.magnetism.moments import structure_to_atoms
    from magscreen.screening.calculators import domain_gaps, load_calculator, model_version
    from magscreen.screening.ranking import display_names

    try:
        calculator = load_calculator(config.relax.calculator, config.relax.device)
    except InputError as error:
        raise InputError(str(error), source=source, field="relax.calculator") from None
    try:
        maker = CampaignMaker.from_config(config)
    except InputError as error:  # a validation engine that is not installed, or unknown settings
        raise InputError(str(error), source=source) from None
    version = model_version(calculator)
    stores, location = _open_existing(config, source)
    plans = []
    for candidate in candidates:
        plan = CandidatePlan(candidate.candidate_id, candidate.formula)
        plans.append(plan)
        try:
            orderings, plan.n_dropped = maker.screen_maker.enumerate(candidate)
        except MagscreenError as error:
            plan.error = str(error)
            continue
        named = [
            SimpleNamespace(label=o.label, fingerprint=o.fingerprint, n_atoms=len(o.structure))
            for o in orderings
        ]
        names = display_names(named)
        plan.orderings = [names[o.fingerprint] for o in orderings]
        magnetic = sorted(candidate.magnetic_elements)
        plan.out_of_domain = domain_gaps(calculator, structure_to_atoms(orderings[0].structure), magnetic)
        if stores is not None:
            ids = [
                MagneticOrderingDoc.make_id(candidate.candidate_id, o.fingerprint, version) for o in orderings
            ]
            plan.n_in_store = stores.orderings.count({"ordering_id": {"$in": ids}})
    validate = config.validate_
    n_jobs = 0 if validate.engine == "none" else validate.top_n * validate.orderings_per_candidate
    notes = _vasp_notes() if "vasp" in (validate.engine, config.extend.engine) else []
    if config.extend.engine != "none":
        outside = [p.candidate_id for p in plans if p.out_of_domain]
        notes.append(
            f"domain extension: up to {config.extend.max_calculations * len(outside)} {config.extend.engine} "
            f"jobs ({config.extend.max_calculations} smallest orderings of each candidate outside the "
            f"model's knowledge: {', '.join(outside) or 'none'}), then an extended model "
            f"(checkpoints in {config.extend.models}) ranks those candidates again"
        )
    return CampaignPlan(
        calculator=config.relax.calculator,
        model_version=version,
        store=location,
        candidates=plans,
        validation_engine=validate.engine,
        n_validation_jobs=n_jobs,
        notes=notes,
    )
