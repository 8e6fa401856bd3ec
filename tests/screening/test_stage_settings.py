"""Each stage's settings are declared once: the config section, the Maker and the CLI share one model."""

from __future__ import annotations

import inspect

from magscreen.cli.orderings import orderings as orderings_command
from magscreen.config import CampaignConfig
from magscreen.flows.campaign import CampaignMaker
from magscreen.magnetism.enumeration import OrderingSettings
from magscreen.screening.settings import RankSettings, RelaxSettings


def test_config_sections_are_the_stage_settings_and_reach_the_makers_unchanged():
    config = CampaignConfig(
        orderings={"max_orderings": 3, "noncollinear": True},
        relax={"calculator": "heisenberg:1,-10", "steps": 7, "torque_tol": 0.002},
        rank={"min_gap_meV": 2.5},
    )
    assert isinstance(config.orderings, OrderingSettings)
    assert isinstance(config.relax, RelaxSettings)
    assert isinstance(config.rank, RankSettings)
    screen = CampaignMaker.from_config(config).screen_maker
    assert screen.orderings == config.orderings
    assert screen.relax_maker.settings == config.relax
    assert screen.rank_maker.settings == config.rank


def test_orderings_command_defaults_are_the_campaign_defaults():
    defaults = {
        name: parameter.default for name, parameter in inspect.signature(orderings_command).parameters.items()
    }
    campaign = CampaignConfig().orderings
    assert defaults["max_magnetic_atoms"] == campaign.max_magnetic_atoms
    assert defaults["max_orderings"] == campaign.max_orderings
    assert defaults["noncollinear"] == campaign.noncollinear


def test_makers_with_settings_survive_the_fireworks_launchpad_serialisation():
    """FireWorks turns objects without ``as_dict`` into strings; the settings must come back whole."""
    from fireworks.utilities.fw_serializers import recursive_dict
    from monty.json import MontyDecoder

    from magscreen.screening.screen_maker import ScreenCandidateMaker

    config = CampaignConfig(orderings={"max_orderings": 3, "moments": {"Ni": 1.27}}, relax={"steps": 7})
    maker = CampaignMaker.from_config(config).screen_maker
    decoded = MontyDecoder().process_decoded(recursive_dict(maker.as_dict()))
    assert isinstance(decoded, ScreenCandidateMaker)
    assert decoded.orderings == config.orderings
    assert decoded.relax_maker.settings == config.relax
    assert decoded.rank_maker.settings == config.rank
