"""Export: extended XYZ per compound that the training reader reads back, with provenance."""

from __future__ import annotations

import json

import numpy as np
from ase.io import read
from ase.stress import voigt_6_to_full_3x3_stress

from magscreen.dataset.export import export_dataset
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config
from magscreen.dataset.store import FrameStore
from magscreen.training.data import read_extxyz


def test_export_round_trip_through_the_training_reader(write_config, emt_engine):
    path = write_config()
    config = load_dataset_config(path)
    run_build(PlanSource(path), engine_factory=emt_engine)
    records = FrameStore(config.work_dir).records()
    counts = export_dataset(config.work_dir, config.export_dir, {"dataset": "test"})
    assert counts == {"Ni-fcc": len(records)}

    frames = read_extxyz(config.export_dir / "Ni-fcc.extxyz")
    frame_ids = [a.info["frame_id"] for a in read(config.export_dir / "Ni-fcc.extxyz", index=":")]
    assert sorted(frame_ids) == sorted(records)
    for frame, frame_id in zip(frames, frame_ids, strict=True):
        record = records[frame_id]
        assert frame.energy == record["energy"]
        assert frame.energy_group == record["energy_group"] == f"Ni-fcc@{record['scale']:.2f}"
        assert np.allclose(frame.positions, record["positions"])
        assert np.allclose(frame.cell, record["cell"])
        assert np.allclose(frame.moments[:, 2], record["magmoms"])
        assert np.allclose(frame.moments[:, :2], 0.0)
        assert np.allclose(frame.forces, record["forces"])
        assert np.allclose(frame.stress, voigt_6_to_full_3x3_stress(np.array(record["stress"])))
        if record["kind"] == "rattle":
            assert np.abs(frame.forces).max() > 1e-2  # EMT forces on displaced atoms

    provenance = json.loads((config.export_dir / "provenance.json").read_text())
    assert provenance["dataset"] == "test"
    assert provenance["frames_per_compound"] == counts
    assert set(provenance["frames"]) == set(records)
    assert all(f["wall_time_s"] >= 0 for f in provenance["frames"].values())


def test_failed_frames_are_listed_not_exported(write_config, emt_engine):
    path = write_config()
    config = load_dataset_config(path)
    run_build(PlanSource(path), engine_factory=emt_engine)
    store = FrameStore(config.work_dir)
    frame_id, record = next(iter(store.records().items()))
    store.write(frame_id, {**record, "status": "failed", "reason": "SCF not converged"})
    counts = export_dataset(config.work_dir, config.export_dir, {})
    assert counts["Ni-fcc"] == len(store.records()) - 1
    provenance = json.loads((config.export_dir / "provenance.json").read_text())
    assert provenance["failed"] == {frame_id: "SCF not converged"}


def test_stress_left_out_when_the_build_does_not_trust_it(write_config, emt_engine):
    path = write_config(kinds=["ordering"])
    config = load_dataset_config(path)
    run_build(PlanSource(path), engine_factory=emt_engine)
    export_dataset(config.work_dir, config.export_dir, {}, stress=False)
    frames = read_extxyz(config.export_dir / "Ni-fcc.extxyz")
    assert frames and all(f.stress is None and f.forces is not None for f in frames)
