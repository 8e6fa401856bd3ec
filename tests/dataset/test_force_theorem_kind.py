"""The force_theorem frame kind: planned from the FM ordering in its own energy group; its records
become direction groups of the spin-orbit fit; a real GPAW build of bcc Fe (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from magscreen.dataset import force_theorem
from magscreen.dataset.plan import build_plan
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config
from magscreen.dataset.store import FrameStore
from magscreen.training.soc_fit import read_dataset_records


def test_plans_the_fm_ordering_in_its_own_group(write_config):
    config = load_dataset_config(write_config(kinds=["ordering", "force_theorem"]))
    planned, _ = build_plan(config)
    frames = [f for f in planned if f.kind == "force_theorem"]
    assert len(frames) == 1
    (frame,) = frames
    assert frame.ordering == "FM" and frame.tier == 5 and frame.frame_id.endswith(".ft")
    assert frame.energy_group == "Ni-fcc@1.00/soc"


def test_records_become_direction_groups(tmp_path):
    directions = [[0, 0, 1], [1, 0, 0], [0, 0, -1]]
    record = {
        "kind": "force_theorem",
        "status": "done",
        "compound": "Ni-fcc",
        "symbols": ["Ni"],
        "positions": [[0, 0, 0]],
        "cell": [[0, 1.76, 1.76], [1.76, 0, 1.76], [1.76, 1.76, 0]],
        "pbc": [True, True, True],
        "magmoms": [0.63],
        "force_theorem": {
            "directions": directions,
            "band_energies_eV": [-5.0, -5.000002, -5.0],
            "kpoint_grid": [9, 9, 9],
        },
    }
    (tmp_path / "Ni-fcc.FM.abc.s1.00.ft.json").write_text(json.dumps(record))
    (tmp_path / "other.json").write_text(json.dumps({**record, "kind": "ordering"}))
    (group,) = read_dataset_records(tmp_path)
    assert group.name == "Ni-fcc" and len(group.directions) == 2  # -c dropped (time reversal)
    assert group.relative_ueV_per_atom() == pytest.approx([0.0, -2.0])


@pytest.mark.slow
def test_gpaw_build_of_bcc_iron(write_config, monkeypatch):
    """bcc Fe at low settings: one FM force-theorem frame; [100] and [001] equal by cubic symmetry."""
    pytest.importorskip("gpaw")
    monkeypatch.setattr(force_theorem, "FORCE_THEOREM_KPOINT_DENSITY", 1.5)
    monkeypatch.setattr(force_theorem, "FORCE_THEOREM_SMEARING_EV", 0.1)
    path = write_config(
        compounds=[{"name": "Fe-bcc", "snapshot": "Fe-bcc", "moments": {"Fe": 2.5}}],
        orderings={"max_magnetic_atoms": 2, "max_atoms": 2, "antiferro": 1},
        kinds=["force_theorem"],
        gpaw={"ecut_eV": 300, "stress": False},
    )
    config = load_dataset_config(path)
    assert run_build(PlanSource(path)) == 1
    (record,) = FrameStore(config.work_dir).records().values()
    assert record["status"] == "done", record["reason"]
    (group,) = read_dataset_records(config.work_dir / "records")
    energies = group.relative_ueV_per_atom()
    along = {tuple(np.round(d, 6)): e for d, e in zip(group.directions, energies, strict=True)}
    assert 2.0 < np.mean(np.abs(group.moments)) < 2.6
    assert len(along) == len(group.directions)
    assert np.ptp(energies) < 50.0  # cubic metal: micro-eV anisotropy at most
