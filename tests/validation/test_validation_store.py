"""Parsed VASP validations land in the campaign store next to the ML ranking of the same ordering."""

from __future__ import annotations

from jobflow import run_locally
from validation_structures import nio_afm2

from magscreen.config import StoreConfig
from magscreen.schemas import DFTValidationDoc, MagneticOrderingDoc
from magscreen.store import build_stores
from magscreen.validation import VaspValidationMaker


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
    stores = build_stores(StoreConfig(kind="embedded", path=tmp_path / "db"))
    flow = VaspValidationMaker().make(
        nio_afm2(),
        candidate_id="nio-test",
        ordering_label="AFM-II",
        ordering_fingerprint="nio-afm2",
        model_version="test-model",
    )
    mock_vasp({"nio-test AFM-II vasp static": "nio_afm2_static"})
    run_locally(flow, create_folders=True, ensure_success=True, store=stores.job_store())

    # the flow's output reached the jobflow outputs collection of the same database
    output = stores.outputs.query_one({"uuid": flow.output.uuid})
    assert output["output"]["validation_id"] == "nio-test:nio-afm2:vasp:static"

    dft = DFTValidationDoc.model_validate(
        {k: v for k, v in output["output"].items() if not k.startswith("@")}
    )
    stores.validations.update(dft.model_dump(mode="json"))
    stores.orderings.update(_ml_document("nio-test", "nio-afm2", -5.0).model_dump(mode="json"))
    stores.orderings.update(_ml_document("other", "other-fp", -4.0).model_dump(mode="json"))

    pairs = []
    for validation in stores.validations.query({"engine": "vasp"}):
        ml = list(
            stores.orderings.query(
                {
                    "candidate_id": validation["candidate_id"],
                    "fingerprint": validation["ordering_fingerprint"],
                }
            )
        )
        pairs.append((validation, ml))
    assert len(pairs) == 1
    validation, (ml,) = pairs[0]
    assert ml["label"] == validation["ordering_label"] == "AFM-II"
    assert ml["model_version"] == validation["model_version"] == "test-model"
    assert validation["energy_per_magnetic_atom_eV"] == dft.energy_per_magnetic_atom_eV
    stores.close()
