"""Resumable build: workers claim planned frames, compute them and write one record each.

Frames that already have a record (done or failed) made with the current settings are skipped, so
a rerun computes only what is missing (or what a settings change invalidated); a failed frame keeps
its reason and is not retried unless ``retry_failed``. Each frame
prints one line with its wall time, the build's progress and an ETA (remaining cost times the
seconds per cost unit measured on this build's finished frames, divided by the workers).
"""

from __future__ import annotations

import multiprocessing
import shlex
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from magscreen.dataset.engine import FrameEngine, FrameFailed, FrameLabels, GPAWEngine
from magscreen.dataset.kinds import FRAME_KINDS, PlannedFrame
from magscreen.dataset.plan import build_plan, frame_cost
from magscreen.dataset.settings import DatasetConfig
from magscreen.dataset.store import FrameStore
from magscreen.errors import MagscreenError

__all__ = ["PlanSource", "build_record", "eta_seconds", "gpaw_engine", "run_build"]


def build_record(
    frame: PlannedFrame, labels: FrameLabels | None, reason: str, wall_s: float, cost: float, command: str
) -> dict:
    """The JSON record of a finished (``labels``) or failed (``reason``) frame; ``command`` made it."""
    atoms = frame.atoms
    record = {
        "frame_id": frame.frame_id,
        "compound": frame.compound,
        "kind": frame.kind,
        "ordering": frame.ordering,
        "fingerprint": frame.fingerprint,
        "scale": frame.scale,
        "rattle_A": frame.rattle_A,
        "tier": frame.tier,
        "energy_group": frame.energy_group,
        "status": "done" if labels is not None else "failed",
        "reason": reason,
        "symbols": atoms.get_chemical_symbols(),
        "cell": atoms.cell.array.tolist(),
        "positions": atoms.positions.tolist(),
        "pbc": atoms.pbc.tolist(),
        "initial_magmoms": atoms.get_initial_magnetic_moments().tolist(),
        "parameters": frame.parameters,
        "wall_time_s": round(wall_s, 2),
        "cost": cost,
        "host": socket.gethostname(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
    }
    if labels is not None:
        record.update(
            {
                "energy": labels.energy_eV,
                "magmoms": np.asarray(labels.magmoms).tolist(),
                "forces": None if labels.forces is None else np.asarray(labels.forces).tolist(),
                "stress": None if labels.stress is None else np.asarray(labels.stress).tolist(),
                "converged": labels.converged,
                "attempt": labels.attempt,
                **labels.details,
            }
        )
    return record


def eta_seconds(records: dict[str, dict], remaining_cost: float, workers: int) -> float | None:
    """Seconds left: remaining cost times measured seconds per cost unit, over the workers (None: no data)."""
    timed = [r for r in records.values() if r.get("wall_time_s", 0) > 0 and r.get("cost")]
    if not timed:
        return None
    rate = sum(r["wall_time_s"] for r in timed) / sum(r["cost"] for r in timed)
    return remaining_cost * rate / max(workers, 1)


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


@dataclass
class PlanSource:
    """Where workers read their plan: the build config (re-read when the file changes) and ``--only``.

    ``command`` is the command line recorded with every frame (default: this process's).
    """

    config_path: Path
    only: list[str] | None = None
    command: str = field(default_factory=lambda: shlex.join(sys.argv))

    def stamp(self) -> float:
        """Modification time of the config file."""
        return self.config_path.stat().st_mtime

    def load(self) -> tuple[DatasetConfig, list[PlannedFrame]]:
        """The config and its frames in computing order."""
        from magscreen.dataset.settings import load_dataset_config

        config = load_dataset_config(self.config_path)
        frames, _ = build_plan(config, self.only, source=self.config_path)
        return config, frames


def gpaw_engine(config: DatasetConfig) -> FrameEngine:
    """The GPAW engine with the config's training settings."""
    return GPAWEngine(config.gpaw)


def _next_frame(
    frames: list[PlannedFrame], store: FrameStore, retry_failed: bool, engine: FrameEngine
) -> PlannedFrame | None:
    """First frame in plan order that this process claims: no record, a record made with other settings
    (``engine.settings_key``), or a failed one with ``retry_failed``."""
    for frame in frames:
        if store.has_record(frame.frame_id):
            record = store.read(frame.frame_id)
            stale = record.get("settings_key", "") != engine.settings_key(frame)
            if not (stale or (retry_failed and record.get("status") == "failed")):
                continue
            if store.claim_for_retry(frame.frame_id):
                return frame
            continue
        if store.claim(frame.frame_id):
            return frame
    return None


def _worker(
    source: PlanSource,
    engine_factory: Callable[[DatasetConfig], FrameEngine],
    workers: int,
    label: str,
    retry_failed: bool,
    stop_after: int | None,
) -> int:
    """Compute every frame this worker can claim, in plan order; returns how many it computed.

    The plan is rebuilt when the config file changes, so compounds added to a running build's
    config are picked up after the frame in progress.
    """
    stamp = source.stamp()
    config, frames = source.load()
    store = FrameStore(config.work_dir)
    engine = engine_factory(config)
    computed = 0
    retried: set[str] = set()
    while stop_after is None or computed < stop_after:
        frame = _next_frame([f for f in frames if f.frame_id not in retried], store, retry_failed, engine)
        if frame is None:
            break
        retried.add(frame.frame_id)
        costs = {f.frame_id: frame_cost(f, config.gpaw) for f in frames}
        start = time.perf_counter()
        try:
            compute = FRAME_KINDS[frame.kind].compute or (lambda engine, *args: engine.compute(*args))
            labels, reason = compute(engine, frame, config.work_dir / "frames" / frame.frame_id), ""
        except FrameFailed as error:
            labels, reason = None, str(error)
        except Exception as error:  # an engine crash fails the frame, never the build
            labels, reason = None, f"{type(error).__name__}: {error}"
        wall = time.perf_counter() - start
        try:
            store.write(
                frame.frame_id,
                {
                    **build_record(frame, labels, reason, wall, costs[frame.frame_id], source.command),
                    "settings_key": engine.settings_key(frame),
                },
            )
        finally:
            store.release(frame.frame_id)
        computed += 1
        records = store.records()
        left = sum(c for fid, c in costs.items() if fid not in records)
        ended = [
            records[f.frame_id]["status"]
            for f in frames
            if f.frame_id in records and records[f.frame_id].get("settings_key") == engine.settings_key(f)
        ]
        status = "done" if labels is not None else f"FAILED ({reason[:300]})"
        print(
            f"[{label}] {frame.frame_id} ({len(frame.atoms)} atoms, tier {frame.tier}): {status}"
            f" in {wall:.0f} s"
            f" | {len(ended)}/{len(frames)} frames ({ended.count('failed')} failed) | ETA "
            f"{_format_seconds(eta_seconds(records, left, workers))}",
            flush=True,
        )
        if source.stamp() != stamp:
            print(f"[{label}] {source.config_path} changed: planning again", flush=True)
            stamp = source.stamp()
            try:
                config, frames = source.load()
            except MagscreenError as error:  # a half-edited config must not end a running build
                print(f"[{label}] keeping the previous plan: {error}", flush=True)
                continue
            engine = engine_factory(config)
    return computed


def run_build(
    source: PlanSource,
    *,
    engine_factory: Callable[[DatasetConfig], FrameEngine] = gpaw_engine,
    workers: int = 1,
    retry_failed: bool = False,
    stop_after: int | None = None,
) -> int:
    """Compute the planned frames that have no record yet; with ``workers`` > 1 in that many processes.

    Parameters
    ----------
    source
        The build config (and ``--only`` compounds).
    engine_factory
        Makes the engine from the config in each worker (a module-level function for ``workers`` > 1).
    workers
        Worker processes; 1 computes in this process.
    retry_failed
        Compute failed frames again (once per worker run).
    stop_after
        Each worker stops after computing this many frames (None: when no frame is left).

    Returns
    -------
    int
        Frames computed by this call.
    """
    if workers <= 1:
        return _worker(source, engine_factory, 1, "w1", retry_failed, stop_after)
    # SIGTERM leaves through the ``with`` block, whose exit terminates the worker processes too
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        jobs = [
            pool.apply_async(
                _worker, (source, engine_factory, workers, f"w{i + 1}", retry_failed, stop_after)
            )
            for i in range(workers)
        ]
        return sum(job.get() for job in jobs)
