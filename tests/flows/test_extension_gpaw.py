"""The ``extend:`` step end to end with real DFT: bcc Fe (no Fe data in the shipped model) with GPAW.

GPAW at low settings (PBE, 300 eV, 2.5 k-points per 1/Angstrom, 0.1 eV smearing) computes FM and
AFM-B2 of the snapshot's bcc Fe; the shipped model, extended on them, must rank bcc Fe FM with the
DFT gap, and leave its monoxide predictions (Mn, Co, Ni heads) exactly as they were.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from ase.build import bulk
from jobflow import run_locally

from magscreen.config import load_config
from magscreen.flows.campaign import CampaignMaker
from magscreen.potential import MagneticCalculator
from magscreen.schemas import CandidateDoc, DFTValidationDoc, ExtensionDoc
from magscreen.sources.loader import load_candidates
from magscreen.store import build_stores

pytest.importorskip("gpaw")


@pytest.mark.slow
def test_gpaw_extension_ranks_bcc_fe_ferromagnetic(tmp_path):
    config_path = tmp_path / "campaign.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "name": "fe-extension",
                "candidates": {"source": "snapshot", "filters": {"names": ["Fe-bcc"]}},
                "orderings": {"max_magnetic_atoms": 2, "max_orderings": 2, "moments": {"Fe": 2.2}},
                "relax": {"calculator": "monoxides", "steps": 0, "relax_moments": False},
                "extend": {
                    "engine": "gpaw",
                    "max_calculations": 2,
                    "settings": {
                        "ecut_eV": 300,
                        "kpoint_density": 2.5,
                        "smearing_eV": 0.1,
                        "workdir": "gpaw",
                    },
                },
                "store": {"path": "db"},
            }
        )
    )
    config = load_config(config_path)
    stores = build_stores(config.store)
    flow = CampaignMaker.from_config(config).make(load_candidates(config.candidates), stores=stores)
    run_locally(flow, store=stores.job_store(), log=False, raise_immediately=True)

    extension = ExtensionDoc(**stores.extensions.query_one({}))
    assert extension.status == "extended", extension.orderings
    dft = {d["ordering_label"]: DFTValidationDoc(**d) for d in stores.validations.query()}
    assert set(dft) == {"FM", "AFM-B2"}
    dft_gap = 1e3 * (dft["AFM-B2"].energy_per_atom_eV - dft["FM"].energy_per_atom_eV)
    assert dft_gap > 50  # PBE bcc Fe: FM far below the B2 antiferromagnet
    ranked = CandidateDoc(**stores.candidates.query_one({"candidate_key": extension.ranked_candidate_key}))
    assert ranked.resolved and ranked.ground_state_label == "FM"
    ladder = {step.label: step.relative_energy_meV for step in ranked.ladder}
    assert ladder["AFM-B2"] == pytest.approx(dft_gap, rel=0.1)

    # the Mn, Co and Ni heads did not move: NiO (FM, 8 atoms) has the same energy with both models
    nio = bulk("NiO", "rocksalt", a=4.17, cubic=True)
    nio.set_initial_magnetic_moments(np.where(nio.numbers == 28, 1.27, 0.0))
    energies = []
    for model in ("monoxides", extension.checkpoint):
        atoms = nio.copy()
        atoms.calc = MagneticCalculator(model)
        energies.append(atoms.get_potential_energy())
    assert energies[1] == pytest.approx(energies[0], abs=1e-6)
