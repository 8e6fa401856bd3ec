"""The campaign sends its best candidates to an injected validation maker and stores the results.

The engine here is a test double: it evaluates the same Heisenberg model the campaign used and
writes a ``DFTValidationDoc``, so the validated gap must equal the ML gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from jobflow import Maker, job, run_locally
from pymatgen.core import Structure

from magscreen.config import load_config
from magscreen.flows.campaign import CampaignMaker
from magscreen.magnetism.moments import structure_to_atoms
from magscreen.report import write_report
from magscreen.schemas import CampaignDoc, DFTSettings, DFTValidationDoc
from magscreen.screening.calculators import load_calculator
from magscreen.sources.loader import load_candidates
from magscreen.store import build_stores

SPEC = "heisenberg:1,-10"


@dataclass
class HeisenbergValidationMaker(Maker):
    """Validation 'engine' for tests: a Heisenberg single point, reported as a DFT document."""

    name: str = "heisenberg validation"

    @job
    def make(
        self, structure: Structure, candidate_id, ordering_label, ordering_fingerprint, model_version=None
    ):
        atoms = structure_to_atoms(structure)
        energy = float(load_calculator(SPEC).get_potential_energy(atoms))
        n_magnetic = int((abs(atoms.get_initial_magnetic_moments()) > 0).sum())
        return DFTValidationDoc(
            validation_id=DFTValidationDoc.make_id(candidate_id, ordering_fingerprint, "gpaw", "static"),
            candidate_id=candidate_id,
            formula=structure.composition.reduced_formula,
            ordering_label=ordering_label,
            ordering_fingerprint=ordering_fingerprint,
            engine="gpaw",
            engine_version="heisenberg test double",
            calculation="static",
            settings=DFTSettings(functional="none"),
            n_atoms=len(structure),
            n_magnetic_atoms=n_magnetic,
            energy_eV=energy,
            energy_per_magnetic_atom_eV=energy / n_magnetic,
            model_version=model_version,
        )


def run_campaign(config_path):
    config = load_config(config_path)
    stores = build_stores(config.store)
    maker = CampaignMaker.from_config(config, validation_maker=HeisenbergValidationMaker())
    flow = maker.make(load_candidates(config.candidates), stores=stores)
    run_locally(flow, store=stores.job_store(), log=False, ensure_success=True)
    return stores, CampaignDoc(**stores.campaigns.query_one({"name": config.name}))


def test_top_candidate_is_validated_once(tmp_path, write_config):
    config = write_config(
        tmp_path, SPEC, validate={"engine": "gpaw", "top_n": 1, "orderings_per_candidate": 2}
    )
    stores, campaign = run_campaign(config)
    assert len(campaign.selected_for_validation) == 1
    assert campaign.n_validations_computed == 2
    docs = [DFTValidationDoc(**d) for d in stores.validations.query()]
    assert {d.candidate_id for d in docs} == set(campaign.selected_for_validation)
    assert sorted(d.ordering_label for d in docs) == ["AFM-II", "FM"]  # ground state and next ordering
    by_label = {d.ordering_label: d.energy_per_magnetic_atom_eV for d in docs}
    assert 1000 * (by_label["FM"] - by_label["AFM-II"]) == pytest.approx(54.0, abs=1e-6)

    page, _ = write_report(stores, tmp_path / "report", campaign="test")
    assert "## DFT validation" in page.read_text()

    _, again = run_campaign(config)  # re-run: nothing recomputed, nothing revalidated
    assert (again.n_orderings_computed, again.n_validations_computed, again.n_validations_skipped) == (
        0,
        0,
        2,
    )
    assert stores.validations.count() == 2
