"""Campaign step ``extend:`` with a Heisenberg model standing in for DFT.

The base model knows Fe only; the candidate is a rocksalt "MnO" whose 'DFT' energies are a J1-J2
Heisenberg model (J1 = -4, J2 = -10 meV per pair: AFM-II ground state, FM 84 and AFM-I 52 meV per
Mn above it). The campaign must flag it outside the model's knowledge, compute its three cheapest
orderings, extend the model, rank all six orderings with the extended model (AFM-II, resolved),
and store which DFT documents extended which model; a re-run computes no DFT; failed or
unconverged DFT leaves the candidate unresolved, with the reasons recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import yaml
from ase.build import bulk
from ase.io import write
from jobflow import Maker, job, run_locally
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.config import load_config
from magscreen.errors import InputError
from magscreen.flows.campaign import CampaignMaker
from magscreen.magnetism.heisenberg import HeisenbergCalculator
from magscreen.potential import MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.schemas import CandidateDoc, DFTSettings, DFTValidationDoc, ExtensionDoc
from magscreen.sources.loader import load_candidates
from magscreen.store import build_stores

CALLS: list[str] = []  # orderings the stand-in computed (jobs run in this process)


@dataclass
class HeisenbergDFTMaker(Maker):
    """Stands in for a validation maker: the energy of an ordering is a J1-J2 Heisenberg energy (eV)."""

    name: str = "heisenberg dft"
    couplings: list[float] = field(default_factory=lambda: [-0.004, -0.010])
    fail: list[str] = field(default_factory=list)
    unconverged: list[str] = field(default_factory=list)

    @job
    def make(self, structure, candidate_id, ordering_label, ordering_fingerprint, model_version=None):
        CALLS.append(ordering_label)
        if ordering_label in self.fail:
            raise RuntimeError("SCF did not converge in 200 iterations")
        structure = structure if isinstance(structure, Structure) else Structure.from_dict(structure)
        atoms = AseAtomsAdaptor.get_atoms(structure)
        moments = np.array(structure.site_properties["magmom"], dtype=float)
        atoms.set_initial_magnetic_moments(moments)
        atoms.calc = HeisenbergCalculator(dict(enumerate(self.couplings, start=1)))
        energy = atoms.get_potential_energy() - 7.0 * len(atoms)
        return DFTValidationDoc(
            validation_id=DFTValidationDoc.make_id(candidate_id, ordering_fingerprint, "gpaw", "static"),
            candidate_id=candidate_id,
            formula=structure.composition.reduced_formula,
            ordering_label=ordering_label,
            ordering_fingerprint=ordering_fingerprint,
            engine="gpaw",
            engine_version="heisenberg stand-in",
            calculation="static",
            settings=DFTSettings(functional="Heisenberg J1-J2"),
            n_atoms=len(atoms),
            n_magnetic_atoms=int((moments != 0).sum()),
            energy_eV=energy,
            magnetic_moments=[[0.0, 0.0, float(m)] for m in moments],
            structure=structure.as_dict(),
            converged=ordering_label not in self.unconverged,
            wall_time_s=1.0,
        )


@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    """A small random model that knows Fe moments only (readout zeroed: moment-blind elsewhere)."""
    model = MagneticPotential(
        seed=5, species=("O", "Mn", "Fe"), cutoff=5.0, magnetic=MagneticHyperparameters(element_heads=("Fe",))
    ).double()
    with torch.no_grad():
        for layer in model.magnetic.output_layers():
            layer.weight.zero_()
            layer.bias.zero_()
    model.magnetic_domain = ("Fe",)
    model.magnetic_environments = {"Fe": [["Fe"]]}
    return model.save(tmp_path_factory.mktemp("base") / "base.pt")


def _config(folder, base_model, **extend):
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "MnO.cif", bulk("MnO", "rocksalt", a=4.445))
    config = {
        "name": "extension",
        "candidates": {"source": "files", "paths": ["MnO.cif"]},
        "orderings": {"max_magnetic_atoms": 4, "max_orderings": 6, "moments": {"Mn": 4.5}},
        "relax": {"calculator": str(base_model), "steps": 0, "relax_moments": False},
        "extend": {"engine": "gpaw", "max_calculations": 3, **extend},
        "store": {"path": "db"},
    }
    (folder / "campaign.yaml").write_text(yaml.safe_dump(config))
    return load_config(folder / "campaign.yaml")


def _run(config, dft_maker):
    stores = build_stores(config.store)
    flow = CampaignMaker.from_config(config, extension_dft_maker=dft_maker).make(
        load_candidates(config.candidates), stores=stores
    )
    run_locally(flow, store=stores.job_store(), log=False, raise_immediately=True)
    return stores


@pytest.fixture(scope="module")
def extended_campaign(tmp_path_factory, base_model):
    config = _config(tmp_path_factory.mktemp("campaign"), base_model)
    CALLS.clear()
    stores = _run(config, HeisenbergDFTMaker())
    return config, stores, list(CALLS)


def test_unresolved_candidate_is_extended_and_ranked_by_the_extended_model(extended_campaign):
    config, stores, calls = extended_campaign
    assert sorted(calls) == ["AFM-I", "AFM-II", "FM"]  # the three cheapest cells (2, 4, 4 atoms)
    base = CandidateDoc(**stores.candidates.query_one({"model_version": {"$regex": "^small"}}))
    assert not base.resolved and not base.confidence.in_magnetic_domain
    extension = ExtensionDoc(**stores.extensions.query_one({"candidate_id": base.candidate_id}))
    assert extension.status == "extended" and extension.base_model_version == base.model_version
    assert extension.new_element_heads == ["Mn"]
    assert {o.label for o in extension.orderings} == {"FM", "AFM-I", "AFM-II"}
    assert extension.dft_atoms == 10 and extension.all_orderings_atoms > extension.dft_atoms
    ranked = CandidateDoc(**stores.candidates.query_one({"candidate_key": extension.ranked_candidate_key}))
    assert ranked.model_version == extension.extended_model_version
    assert ranked.model_version.startswith(base.model_version + "+ext-")
    assert ranked.resolved and ranked.ground_state_label == "AFM-II" and extension.resolved
    ladder = {step.label: step.relative_energy_meV for step in ranked.ladder}
    assert ladder["FM"] == pytest.approx(84.0, abs=1.0) and ladder["AFM-I"] == pytest.approx(52.0, abs=1.0)
    # what Heisenberg says of the orderings no DFT saw: AFM-III has J1 4+/8-, J2 2+/4- per Mn
    assert ladder["AFM-III"] == pytest.approx(32.0, abs=2.0)
    ids = {o.validation_id for o in extension.orderings}
    assert ids == {d["validation_id"] for d in stores.validations.query({"candidate_id": base.candidate_id})}
    campaign = stores.campaigns.query_one({"name": "extension"})
    assert campaign["candidate_ids"] == [base.candidate_id]


def test_rerun_computes_no_dft_and_ranks_the_same(extended_campaign):
    config, _, _ = extended_campaign
    CALLS.clear()
    stores = _run(config, HeisenbergDFTMaker())
    assert CALLS == []
    extension = ExtensionDoc(**stores.extensions.query_one({}))
    assert all(o.reused for o in extension.orderings) and extension.status == "extended"
    assert CandidateDoc(
        **stores.candidates.query_one({"candidate_key": extension.ranked_candidate_key})
    ).resolved


def test_failed_and_unconverged_dft_leave_the_candidate_unresolved(tmp_path, base_model):
    config = _config(tmp_path, base_model)
    stores = _run(config, HeisenbergDFTMaker(fail=["AFM-I"], unconverged=["AFM-II"]))
    extension = ExtensionDoc(**stores.extensions.query_one({}))
    assert extension.status == "failed" and extension.extended_model_version is None
    errors = {o.label: o.error for o in extension.orderings}
    assert "SCF did not converge" in errors["AFM-I"] and "did not converge" in errors["AFM-II"]
    assert errors["FM"] is None
    docs = [CandidateDoc(**d) for d in stores.candidates.query()]
    assert len(docs) == 1 and not docs[0].resolved and docs[0].ground_state_label is None
    assert stores.campaigns.query_one({"name": "extension"})["candidate_ids"] == [docs[0].candidate_id]


def test_a_heisenberg_calculator_cannot_be_extended(tmp_path, base_model):
    config = _config(tmp_path, base_model)
    config = config.model_copy(
        update={"relax": config.relax.model_copy(update={"calculator": "heisenberg:1,-10"})}
    )
    with pytest.raises(InputError, match="extend.engine"):
        CampaignMaker.from_config(config, extension_dft_maker=HeisenbergDFTMaker())


def test_a_trained_element_in_a_new_environment_is_not_sent_to_dft(tmp_path, base_model):
    """Mn trained among {Mn, O} and no readout posterior: MnSe is recorded as not extensible, no DFT runs."""
    model = MagneticPotential(
        seed=5,
        species=("O", "Mn", "Fe", "Se"),
        cutoff=5.0,
        magnetic=MagneticHyperparameters(element_heads=("Fe",)),
    )
    model.magnetic_domain = ("Fe", "Mn")
    model.magnetic_environments = {"Fe": [["Fe"]], "Mn": [["Mn", "O"]]}
    trained = model.save(tmp_path / "trained.pt")
    config = _config(tmp_path / "campaign", trained)
    write(tmp_path / "campaign" / "MnO.cif", bulk("MnSe", "rocksalt", a=5.46))  # same file name, MnSe inside
    CALLS.clear()
    stores = _run(config, HeisenbergDFTMaker())
    assert CALLS == []
    extension = ExtensionDoc(**stores.extensions.query_one({}))
    assert extension.status == "failed" and extension.orderings == []
    assert "Mn among {Mn, Se}: the base model's Mn head was trained among {Mn, O}" in extension.error
    assert not CandidateDoc(**stores.candidates.query_one({})).resolved


def test_the_extension_step_survives_the_fireworks_round_trip(tmp_path, base_model):
    """Everything the step carries (GPAW maker, fit settings, screening maker) serialises as a
    LaunchPad stores it, so the same flow runs on FireWorks and jobflow-remote."""
    from fireworks import Workflow

    from magscreen.cli import submit
    from magscreen.flows.extension import ExtendCandidatesMaker
    from magscreen.validation.gpaw.makers import GPAWValidationMaker

    config = _config(tmp_path, base_model, settings={"ecut_eV": 300})
    workflow = submit.campaign_workflow(config)
    restored = Workflow.from_format(workflow.to_format("json"), "json")
    step = next(fw for fw in restored.fws if fw.name == "extend unresolved candidates")
    job = step.tasks[0]["job"]
    maker = job.maker if hasattr(job, "maker") else job.function.__self__
    assert isinstance(maker, ExtendCandidatesMaker)
    assert isinstance(maker.dft_maker, GPAWValidationMaker)
    assert maker.dft_maker.static_maker.settings.ecut_eV == 300
    assert maker.fit.energy_sigma_meV_per_atom == 1.0
