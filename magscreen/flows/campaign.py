"""The campaign flow: every candidate screened, then the campaign ranked and the best validated."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Maker

from magscreen.config import CampaignConfig
from magscreen.errors import InputError
from magscreen.flows.anisotropy import anisotropy_stage
from magscreen.flows.extension import ExtendCandidatesMaker
from magscreen.flows.summary import summarize_campaign
from magscreen.screening.anisotropy_settings import AnisotropySettings
from magscreen.screening.rank_maker import RankCandidateMaker
from magscreen.screening.relax_maker import RelaxOrderingMaker
from magscreen.screening.screen_maker import ScreenCandidateMaker
from magscreen.sources import Candidate
from magscreen.store import CampaignStores
from magscreen.validation.base import build_validation_maker

__all__ = ["CampaignMaker"]


@dataclass
class CampaignMaker(Maker):
    """Screening campaign: candidates -> orderings -> ML relax -> rank -> optional DFT validation.

    Parameters
    ----------
    name
        Campaign name (the key of its :class:`~magscreen.schemas.CampaignDoc`).
    screen_maker
        Maker of the per-candidate screening (orderings, relaxation, ranking).
    validation_maker
        Any validation maker with ``make(structure, candidate_id=, ordering_label=,
        ordering_fingerprint=, model_version=)`` (GPAW, VASP); None skips validation.
    validation_engine
        Name of that engine ('gpaw', 'vasp'), recorded with the campaign.
    validate_top_n
        Best-ranked candidates sent to validation.
    orderings_per_candidate
        Lowest orderings validated per candidate.
    anisotropy
        Spin-orbit anisotropy stage (the config's ``anisotropy:``), run after the summary; top_n 0 skips it.
    anisotropy_model
        Calculator spec of the campaign (the stage's model unless its settings name one).
    extend_maker
        Domain extension of the candidates outside the model's knowledge (the config's ``extend:``),
        run between the screening and the summary; None skips it.
    """

    name: str = "campaign"
    screen_maker: ScreenCandidateMaker = field(default_factory=ScreenCandidateMaker)
    validation_maker: Maker | None = None
    validation_engine: str = "none"
    validate_top_n: int = 0
    orderings_per_candidate: int = 2
    anisotropy: AnisotropySettings = field(default_factory=AnisotropySettings)
    anisotropy_model: str = "monoxides"
    extend_maker: ExtendCandidatesMaker | None = None

    def make(
        self, candidates: list[Candidate], *, stores: CampaignStores, config: dict | None = None
    ) -> Flow:
        """Flow of one screening job per candidate and a summary job.

        Every job takes the (MSONable) stores and skips work whose documents they already hold,
        so the flow runs unchanged with ``run_locally``, FireWorks or jobflow-remote.
        """
        screens = []
        for candidate in candidates:
            screen = self.screen_maker.make(candidate, campaign=self.name, stores=stores)
            screen.name = f"screen {candidate.candidate_id}"
            screens.append(screen)
        outcomes = [s.output for s in screens]
        extension = []
        if self.extend_maker is not None:
            extension = [
                self.extend_maker.make(outcomes, candidates=candidates, campaign=self.name, stores=stores)
            ]
            outcomes = extension[0].output
        summary = summarize_campaign(
            outcomes,
            name=self.name,
            config=config or {},
            stores=stores,
            validation_maker=self.validation_maker,
            validation_engine=self.validation_engine,
            validate_top_n=self.validate_top_n,
            orderings_per_candidate=self.orderings_per_candidate,
        )
        summary.name = "summarize campaign"
        stages = [summary]
        if self.anisotropy.top_n:
            stage = anisotropy_stage(
                summary.output, settings=self.anisotropy, model=self.anisotropy_model, stores=stores
            )
            stage.name = "anisotropy"
            stages.append(stage)
        return Flow([*screens, *extension, *stages], output=summary.output, name=self.name)

    @classmethod
    def from_config(
        cls,
        config: CampaignConfig,
        validation_maker: Maker | None = None,
        extension_dft_maker: Maker | None = None,
    ) -> CampaignMaker:
        """Campaign maker of a validated config; the validation maker is built from
        ``validate.engine`` and the extension's DFT maker from ``extend.engine`` unless given."""
        screen = ScreenCandidateMaker(
            orderings=config.orderings,
            relax_maker=RelaxOrderingMaker(settings=config.relax),
            rank_maker=RankCandidateMaker(settings=config.rank, calculator=config.relax.calculator),
        )
        validate = config.validate_
        if validation_maker is None and validate.engine != "none":
            validation_maker = build_validation_maker(validate.engine, validate.settings)
        extend = config.extend
        extend_maker = None
        if extend.engine != "none":
            if config.relax.calculator.startswith("heisenberg:"):
                raise InputError(
                    "a Heisenberg calculator has no readout to extend",
                    field="extend.engine",
                    expected="'none', or relax.calculator naming an ML model (shipped name or .pt)",
                )
            extend_maker = ExtendCandidatesMaker(
                dft_maker=extension_dft_maker or build_validation_maker(extend.engine, extend.settings),
                engine=extend.engine,
                max_calculations=extend.max_calculations,
                fit=extend.fit,
                models=str(extend.models),
                base_model=config.relax.calculator,
                screen_maker=screen,
            )
        return cls(
            name=config.name,
            extend_maker=extend_maker,
            screen_maker=screen,
            validation_maker=validation_maker,
            validation_engine=validate.engine,
            anisotropy=config.anisotropy,
            anisotropy_model=config.relax.calculator,
            validate_top_n=validate.top_n if validation_maker is not None else 0,
            orderings_per_candidate=validate.orderings_per_candidate,
        )
