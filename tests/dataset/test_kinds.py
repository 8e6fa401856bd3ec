"""The frame-kind registry: a new kind plans its frames, computes its labels, exports its parameters."""

from __future__ import annotations

import numpy as np
from ase.io import read

from magscreen.dataset.engine import FrameLabels
from magscreen.dataset.export import export_dataset
from magscreen.dataset.kinds import FRAME_KINDS, FrameKind, PlannedFrame, register_kind
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config


def _plan_directions(ladder, config) -> list[PlannedFrame]:
    fm = ladder.orderings[0]
    frames = []
    for name, direction in (("z", [0.0, 0.0, 1.0]), ("x", [1.0, 0.0, 0.0])):
        frame = FRAME_KINDS["ordering"].plan(ladder, config)[0]
        assert frame.ordering == fm.label == "FM"
        frame.kind, frame.tier, frame.group_tag = "directions", 5, "soc"
        frame.frame_id += f".m{name}"
        frame.parameters = {"direction": direction}
        frames.append(frame)
    return frames


def _compute_directions(engine, frame, workdir) -> FrameLabels:
    labels = engine.compute(frame, workdir)
    # stand-in for a force-theorem energy: the SCF energy plus a uniaxial term along the direction
    labels.energy_eV += 1e-4 * (1.0 - frame.parameters["direction"][2] ** 2)
    return labels


def test_registered_kind_plans_computes_and_exports(write_config, emt_engine):
    register_kind(FrameKind("directions", "test kind", _plan_directions, _compute_directions))
    try:
        path = write_config(kinds=["ordering", "directions"])
        config = load_dataset_config(path)
        run_build(PlanSource(path), engine_factory=emt_engine)
        export_dataset(config.work_dir, config.export_dir, {})
        frames = [
            a for a in read(config.export_dir / "Ni-fcc.extxyz", index=":") if a.info["kind"] == "directions"
        ]
        assert sorted(a.info["frame_id"][-2:] for a in frames) == ["mx", "mz"]
        assert {a.info["energy_group"] for a in frames} == {"Ni-fcc@1.00/soc"}
        by_axis = {a.info["frame_id"][-1]: a for a in frames}
        assert np.allclose(by_axis["x"].info["direction"], [1.0, 0.0, 0.0])
        gap = by_axis["x"].get_potential_energy() - by_axis["z"].get_potential_energy()
        assert np.isclose(gap, 1e-4)
    finally:
        FRAME_KINDS.pop("directions")
