"""``magscreen dataset build|status|export CONFIG``: the GPAW reference dataset."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from magscreen.cli import app
from magscreen.cli.common import console
from magscreen.errors import MagscreenError

dataset_app = typer.Typer(help="Build, inspect and export the GPAW reference dataset.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")

ConfigArg = Annotated[
    Path, typer.Argument(help="Dataset build config (YAML), e.g. configs/dataset/reference.yaml")
]
OnlyOpt = Annotated[
    list[str] | None, typer.Option("--only", help="Compute only these compounds (repeatable).")
]


@contextmanager
def _reported() -> Iterator[None]:
    """Bad input ends the command with its message (file, key, expectation) and exit code 1."""
    try:
        yield
    except MagscreenError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from None


@dataset_app.command()
def build(
    config: ConfigArg,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (one SCF each).")] = 1,
    only: OnlyOpt = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Compute failed frames again.")
    ] = False,
) -> None:
    """Compute the frames that have no record yet (resumable; several builds may run at once)."""
    from magscreen.dataset.runner import PlanSource, run_build

    command = shlex.join(["magscreen", *sys.argv[1:]])
    source = PlanSource(config.resolve(), only or None, command=command)
    with _reported():
        computed = run_build(source, workers=workers, retry_failed=retry_failed)
    typer.echo(f"{computed} frames computed")


@dataset_app.command()
def status(config: ConfigArg, only: OnlyOpt = None) -> None:
    """Frames planned, done, failed, running and stale (made with other settings), per compound and tier."""
    from rich.console import Console
    from rich.table import Table

    from magscreen.dataset.engine import GPAWEngine
    from magscreen.dataset.plan import build_plan
    from magscreen.dataset.settings import load_dataset_config
    from magscreen.dataset.store import FrameStore

    with _reported():
        settings = load_dataset_config(config)
        frames, ladders = build_plan(settings, only or None, source=config)
    store = FrameStore(settings.work_dir)
    records, running = store.records(), store.running()
    table = Table(title=f"dataset {settings.name}: {settings.work_dir}")
    for column in ("tier", "compound", "planned", "done", "failed", "running", "stale", "mean wall (s)"):
        table.add_column(column)
    engine = GPAWEngine(settings.gpaw)
    rows: dict[tuple[int, str], list] = {}
    for frame in frames:
        row = rows.setdefault((frame.tier, frame.compound), [0, 0, 0, 0, 0, []])
        row[0] += 1
        record = records.get(frame.frame_id)
        if frame.frame_id in running:
            row[3] += 1
        elif record is not None and record.get("settings_key") != engine.settings_key(frame):
            row[4] += 1
        elif record is not None:
            row[1 if record["status"] == "done" else 2] += 1
            if record["status"] == "done" and record["wall_time_s"] > 0:
                row[5].append(record["wall_time_s"])
    for (tier, compound), (planned, done, failed, run, stale, walls) in rows.items():
        mean = f"{sum(walls) / len(walls):.0f}" if walls else "-"
        table.add_row(str(tier), compound, *map(str, (planned, done, failed, run, stale)), mean)
    Console().print(table)
    for ladder in ladders:
        if ladder.skipped:
            typer.echo(f"{ladder.spec.name}: skipped ({ladder.skipped})")
    failed = {fid: r["reason"] for fid, r in records.items() if r["status"] == "failed"}
    for frame_id, reason in failed.items():
        typer.echo(f"failed {frame_id}: {reason}")


@dataset_app.command()
def export(config: ConfigArg) -> None:
    """Write <export_dir>/<compound>.extxyz and provenance.json from the finished frames.

    Records of planned frames made with other settings than the config's (stale) are left out.
    """
    from magscreen.dataset.engine import GPAWEngine
    from magscreen.dataset.export import export_dataset
    from magscreen.dataset.kinds import FRAME_KINDS
    from magscreen.dataset.plan import build_plan
    from magscreen.dataset.settings import load_dataset_config
    from magscreen.dataset.store import FrameStore

    with _reported():
        settings = load_dataset_config(config)
        frames, _ = build_plan(settings, source=config)
    engine = GPAWEngine(settings.gpaw)
    records = FrameStore(settings.work_dir).records()
    stale = {
        f.frame_id
        for f in frames
        if f.frame_id in records and records[f.frame_id].get("settings_key") != engine.settings_key(f)
    }
    provenance = {
        "dataset": settings.name,
        "config": settings.model_dump(mode="json"),
        "engine": GPAWEngine(settings.gpaw).describe(),
        "kinds": {name: kind.description for name, kind in FRAME_KINDS.items()},
        "export_command": shlex.join(["magscreen", *sys.argv[1:]]),
    }
    counts = export_dataset(
        settings.work_dir, settings.export_dir, provenance, stress=settings.gpaw.stress, exclude=stale
    )
    typer.echo(f"{sum(counts.values())} frames of {len(counts)} compounds written to {settings.export_dir}")
    if stale:
        typer.echo(f"{len(stale)} frames made with other settings left out (the build recomputes them)")
