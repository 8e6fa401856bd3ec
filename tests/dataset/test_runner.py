"""Resumable builds: a killed build computes only what is missing; failures are recorded, not retried."""

from __future__ import annotations

import json
import os
import socket

import pytest

from magscreen.dataset.engine import ASEEngine, FrameFailed
from magscreen.dataset.plan import build_plan
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config
from magscreen.dataset.store import FrameStore


def _emt():
    from ase.calculators.emt import EMT

    return EMT()


class CountingEngine(ASEEngine):
    """EMT engine that counts its frames and dies (like a killed process) on the ``die_at``-th one."""

    def __init__(self, die_at: int | None = None, fail: str | None = None) -> None:
        super().__init__(_emt, name="emt")
        self.computed: list[str] = []
        self.die_at = die_at
        self.fail = fail

    def compute(self, frame, workdir):
        if self.die_at is not None and len(self.computed) + 1 == self.die_at:
            raise KeyboardInterrupt  # not an engine failure: the process stops mid-frame
        if frame.frame_id == self.fail:
            raise FrameFailed("default: SCF not converged in 150 iterations")
        self.computed.append(frame.frame_id)
        return super().compute(frame, workdir)


def _frame_ids(path) -> list[str]:
    config = load_dataset_config(path)
    return [f.frame_id for f in build_plan(config)[0]]


def test_killed_build_resumes_with_only_the_missing_frames(write_config):
    path = write_config()
    planned = _frame_ids(path)
    first = CountingEngine(die_at=4)
    with pytest.raises(KeyboardInterrupt):
        run_build(PlanSource(path), engine_factory=lambda config: first)
    assert first.computed == planned[:3]
    store = FrameStore(load_dataset_config(path).work_dir)
    assert set(store.records()) == set(planned[:3])

    second = CountingEngine()
    assert run_build(PlanSource(path), engine_factory=lambda config: second) == len(planned) - 3
    assert second.computed == planned[3:]
    assert set(store.records()) == set(planned)
    third = CountingEngine()
    assert run_build(PlanSource(path), engine_factory=lambda config: third) == 0
    assert third.computed == []


def test_live_claims_are_left_alone_and_stale_claims_taken_over(write_config):
    path = write_config()
    planned = _frame_ids(path)
    store = FrameStore(load_dataset_config(path).work_dir)
    host = socket.gethostname()
    (store.claims_dir / f"{planned[0]}.json").write_text(json.dumps({"pid": os.getppid(), "host": host}))
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    (store.claims_dir / f"{planned[1]}.json").write_text(json.dumps({"pid": dead, "host": host}))
    engine = CountingEngine()
    run_build(PlanSource(path), engine_factory=lambda config: engine)
    assert planned[0] not in engine.computed  # another live worker holds it
    assert planned[1] in engine.computed
    assert set(engine.computed) == set(planned[1:])
    assert not store.has_record(planned[0])
    assert list(store.running()) == [planned[0]]


def test_failed_frame_is_recorded_with_its_reason_and_not_retried(write_config):
    path = write_config()
    planned = _frame_ids(path)
    engine = CountingEngine(fail=planned[1])
    run_build(PlanSource(path), engine_factory=lambda config: engine)
    store = FrameStore(load_dataset_config(path).work_dir)
    record = store.read(planned[1])
    assert record["status"] == "failed"
    assert "SCF not converged" in record["reason"]
    again = CountingEngine()
    run_build(PlanSource(path), engine_factory=lambda config: again)
    assert again.computed == []
    retry = CountingEngine()
    run_build(PlanSource(path), engine_factory=lambda config: retry, retry_failed=True)
    assert retry.computed == [planned[1]]
    assert store.read(planned[1])["status"] == "done"


def test_config_edited_during_a_build_is_planned_again_and_a_broken_edit_is_ignored(write_config):
    path = write_config(kinds=["ordering"])
    planned = _frame_ids(path)

    class EditingEngine(CountingEngine):
        def compute(self, frame, workdir):
            labels = super().compute(frame, workdir)
            if len(self.computed) == 1:  # a typo lands in the config while the first frame runs
                path.write_text(path.read_text().replace("max_atoms:", "max_atom:"))
            elif len(self.computed) == 2:  # fixed, with strained copies added
                path.write_text(
                    path.read_text()
                    .replace("max_atom:", "max_atoms:")
                    .replace("- ordering", "- ordering\n- strain")
                )
            return labels

    engine = EditingEngine()
    run_build(PlanSource(path), engine_factory=lambda config: engine)
    strained = [f for f in _frame_ids(path) if f not in planned]
    assert strained and set(engine.computed) == set(planned) | set(strained)


def test_records_made_with_other_settings_are_computed_again(write_config):
    path = write_config(kinds=["ordering"])
    planned = _frame_ids(path)
    run_build(PlanSource(path), engine_factory=lambda config: CountingEngine())
    same = CountingEngine()
    run_build(PlanSource(path), engine_factory=lambda config: same)
    assert same.computed == []

    class OtherSettings(CountingEngine):
        def settings_key(self, frame):
            return "tighter"

    other = OtherSettings()
    run_build(PlanSource(path), engine_factory=lambda config: other)
    assert other.computed == planned
    store = FrameStore(load_dataset_config(path).work_dir)
    assert {r["settings_key"] for r in store.records().values()} == {"tighter"}
