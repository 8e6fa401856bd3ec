"""Parsed VASP validations land in the campaign store next to the ML ranking of the same ordering."""

from __future__ import annotations

from jobflow import Flow, run_locally
from pymatgen.core import Structure
from validation_structures import nio_afm2

from magscreen.config import StoreConfig
from magscreen.flows.summary import save_validation
from magscreen.schemas import DFTValidationDoc, MagneticOrderingDoc
from magscreen.store import build_stores
from magscreen.validation.vasp import VaspValidationMaker


def _ml_document(candidate_id: str, fingerprint: str, energy_per_magnetic_atom: float) -> MagneticOrderingDoc:
    structure = nio_afm2()
    return MagneticOrderingDoc(
        ordering_id=MagneticOrderingDoc.make_id(candidate_id, fingerprint, "test-model"),
        candidate_id=candidate_id,
        formula="NiO",
        campaign="test",
        label="AFM-II",
        fingerprint=fingerprint,
        model_version="test-model",
        structure=structure.as_dict(),
        n_atoms=4,
        n_magnetic_atoms=2,
        energy_eV=2 * energy_per_magnetic_atom,
        energy_per_atom_eV=energy_per_magnetic_atom / 2,
        energy_per_magnetic_atom_eV=energy_per_magnetic_atom,
        relative_energy_meV=0.0,
        rank=0,
        initial_moments=[2.0, 0.0, -2.0, 0.0],
        magnetic_moments=[1.8, 0.0, -1.8, 0.0],
        total_magnetization=0.0,
        max_force_eV_per_A=0.01,
        lattice_steps=3,
        converged=True,
        wall_time_s=1.0,
    )


def test_vasp_documents_line_up_with_ml_orderings_in_the_embedded_store(mock_vasp, tmp_path):
    """The campaign path: the flow's document is resolved from the job store and saved by
    ``save_validation`` into ``validations``, next to the ML ``orderings`` of the same database."""
    stores = build_stores(StoreConfig(kind="embedded", path=tmp_path / "db"))
    dft = VaspValidationMaker().make(
        nio_afm2(),
        candidate_id="nio-test",
        ordering_label="AFM-II",
        ordering_fingerprint="nio-afm2",
        model_version="test-model",
    )
    mock_vasp({"nio-test AFM-II vasp static": "nio_afm2_static"})
    flow = Flow([dft, save_validation(dft.output, store=stores.validations)])
    run_locally(flow, create_folders=True, ensure_success=True, store=stores.job_store())
    stores.orderings.update(_ml_document("nio-test", "nio-afm2", -5.0).model_dump(mode="json"))
    stores.orderings.update(_ml_document("other", "other-fp", -4.0).model_dump(mode="json"))

    pairs = []
    for validation in stores.validations.query({"engine": "vasp"}):
        same_ordering = {
            "candidate_id": validation["candidate_id"],
            "fingerprint": validation["ordering_fingerprint"],
        }
        pairs.append((validation, list(stores.orderings.query(same_ordering))))
    assert len(pairs) == 1
    validation, (ml,) = pairs[0]
    dft_doc = DFTValidationDoc.model_validate(validation)
    assert dft_doc.validation_id == "nio-test:nio-afm2:vasp:static"
    assert ml["label"] == dft_doc.ordering_label == "AFM-II"
    assert ml["model_version"] == dft_doc.model_version == "test-model"
    assert Structure.from_dict(dft_doc.structure).composition.reduced_formula == "NiO"
    stores.close()
