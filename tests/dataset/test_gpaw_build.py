"""A real GPAW build of bcc Fe at low settings (slow): the ladder, the records and the export."""

from __future__ import annotations

import numpy as np
import pytest

from magscreen.dataset.export import export_dataset
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config
from magscreen.dataset.store import FrameStore
from magscreen.training.data import read_extxyz


@pytest.mark.slow
def test_bcc_fe_ferromagnet_below_afm_b2(write_config):
    pytest.importorskip("gpaw")
    path = write_config(
        compounds=[{"name": "Fe-bcc", "snapshot": "Fe-bcc", "moments": {"Fe": 2.5}}],
        orderings={"max_magnetic_atoms": 2, "max_atoms": 2, "antiferro": 1},
        kinds=["ordering"],
        gpaw={"ecut_eV": 300, "kpoint_density": 2.5, "smearing_eV": 0.1, "stress": False},
    )
    config = load_dataset_config(path)
    assert run_build(PlanSource(path)) == 2
    records = FrameStore(config.work_dir).records()
    by_label = {r["ordering"]: r for r in records.values()}
    assert set(by_label) == {"FM", "AFM-B2"} and all(r["status"] == "done" for r in records.values())
    per_atom = {k: r["energy"] / len(r["symbols"]) for k, r in by_label.items()}
    assert per_atom["AFM-B2"] - per_atom["FM"] > 0.1  # bcc Fe is a ferromagnet by ~0.4 eV/atom in PBE
    assert 2.0 < np.mean(by_label["FM"]["magmoms"]) < 2.6
    assert np.isclose(np.sum(by_label["AFM-B2"]["magmoms"]), 0.0, atol=0.05)
    export_dataset(config.work_dir, config.export_dir, {})
    frames = read_extxyz(config.export_dir / "Fe-bcc.extxyz")
    assert {f.energy_group for f in frames} == {"Fe-bcc@1.00"}
    assert run_build(PlanSource(path)) == 0  # nothing left
