"""Campaign commands: ``run``, ``status``, ``query`` and ``report``."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from magscreen.cli import app
from magscreen.cli.common import console, open_stores
from magscreen.config import COLLECTIONS, load_config
from magscreen.errors import InputError, MagscreenError

if TYPE_CHECKING:
    from magscreen.store import CampaignStores


ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Campaign config whose store to use.")
]
DbOption = Annotated[
    str,
    typer.Option("--db", help="Embedded store folder, or a mongodb:// URI (ignored with --config)."),
]

#: Fields shown when ``query`` is given no ``--fields``.
DEFAULT_FIELDS = {
    "candidates": [
        "candidate_id",
        "formula",
        "resolved",
        "ground_state_label",
        "gap_meV",
        "gap_uncertainty_meV",
        "gap_uncertainty_regime",
        "ground_state_kind",
        "experimental_ordering",
        "unresolved_reason",
    ],
    "orderings": [
        "candidate_id",
        "formula",
        "display_name",
        "n_atoms",
        "relative_energy_meV",
        "total_magnetization_muB",
        "converged",
    ],
    "campaigns": ["name", "model_version", "n_orderings", "n_orderings_computed", "n_orderings_skipped"],
    "validations": ["candidate_id", "ordering_label", "engine", "energy_per_magnetic_atom_eV", "converged"],
    "outputs": ["uuid", "index", "name"],
    "extensions": ["candidate_id", "formula", "status", "engine", "extended_model_version", "error"],
}


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
    return typer.Exit(code=1)


def _open_stores(config: Path | None, db: str) -> CampaignStores:
    """Existing stores of a config's ``store`` section, or of ``--db`` (folder or mongodb:// URI);
    a missing store is an error naming its path and where that came from (never created here)."""
    return open_stores(config, db, create=False)


class _ProgressBars:
    """Rich progress bars fed by the jobs' progress events."""

    def __init__(self, progress: Progress, n_candidates: int) -> None:
        self.progress = progress
        self.candidates = progress.add_task("candidates", total=n_candidates)
        self.orderings = progress.add_task("orderings", total=0)
        self.skipped = 0
        self.done = 0

    @property
    def total(self) -> int:
        """Orderings enumerated so far."""
        return int(self.progress.tasks[self.orderings].total or 0)

    def __call__(self, event: str, **info: Any) -> None:
        if event == "orderings":
            self.progress.update(self.orderings, total=self.total + info["n"])
        elif event == "ordering":
            self.done += 1
            self.skipped += bool(info["skipped"])
            self.progress.update(
                self.orderings,
                advance=1,
                description=f"orderings ({info['candidate_id']} {info['label']}; {self.skipped} skipped)",
            )
        elif event == "candidate":
            self.progress.update(
                self.candidates, advance=1, description=f"candidates ({info['candidate_id']})"
            )


def _check_calculator(config: Path, spec: str, device: str) -> None:
    """Load the config's calculator now, so a bad ``relax.calculator`` fails before any job runs."""
    from magscreen.screening.calculators import load_calculator

    try:
        load_calculator(spec, device)
    except InputError as error:
        raise InputError(str(error), source=config, field="relax.calculator") from None


def _best_table(candidates: list) -> Table:
    """Best candidates: resolved ground states with the largest gap first (see ``rank_candidates``)."""
    table = Table(title=f"best {len(candidates)} candidates (resolved ground states)")
    for column in ("rank", "candidate", "formula", "ground state", "gap (meV/mag. atom)", "experiment"):
        table.add_column(column)
    for i, c in enumerate(candidates, start=1):
        gap = "-" if c.gap_meV is None else f"{c.gap_meV:.1f}"
        if c.gap_uncertainty_meV is not None:
            gap += f" +- {c.gap_uncertainty_meV:.1f}"
            if c.gap_uncertainty_regime:
                gap += f" ({c.gap_uncertainty_regime})"
        table.add_row(
            str(i), c.candidate_id, c.formula, c.ground_state_label, gap, c.experimental_ordering or "-"
        )
    return table


def _unresolved_table(candidates: list) -> Table:
    """Candidates whose ground state the model does not resolve, with the reason."""
    table = Table(title=f"{len(candidates)} candidates without a resolved ground state")
    columns = (
        "candidate",
        "formula",
        "lowest ordering",
        "gap (meV/mag. atom)",
        "kind resolved",
        "why not resolved",
    )
    for column in columns:
        table.add_column(column)
    for c in candidates:
        gap = "-" if c.gap_meV is None else f"{c.gap_meV:.2f}"
        kind = c.ground_state_kind or "-"
        table.add_row(
            c.candidate_id, c.formula, c.lowest_ordering_label, gap, kind, c.unresolved_reason or ""
        )
    return table


def _print_plan(plan: Any) -> None:
    """The dry run's plan: candidates, their orderings, what the model cannot resolve yet, DFT jobs."""
    out = Console(soft_wrap=True)
    out.print(f"plan: {plan.n_orderings} orderings of {len(plan.candidates)} candidates", highlight=False)
    for c in plan.candidates:
        if c.error:
            out.print(f"  {c.candidate_id} ({c.formula}): cannot be screened: {c.error}", highlight=False)
            continue
        dropped = f" (+{c.n_dropped} over max_orderings, not relaxed)" if c.n_dropped else ""
        out.print(
            f"  {c.candidate_id} ({c.formula}): {len(c.orderings)}: {', '.join(c.orderings)}{dropped}; "
            f"{c.n_in_store} in the store",
            highlight=False,
        )
        for gap in c.out_of_domain:
            out.print(f"      outside the model's knowledge: {gap.describe()}", highlight=False)
    unresolvable = [c.candidate_id for c in plan.candidates if c.out_of_domain]
    out.print(
        f"model {plan.calculator} ({plan.model_version}); store {plan.store}\n"
        f"orderings to relax: {plan.n_orderings - plan.n_in_store} "
        f"({plan.n_in_store} already in the store)\n"
        f"the model cannot resolve yet (magnetic atoms outside its knowledge): "
        f"{', '.join(unresolvable) or 'none'}",
        highlight=False,
    )
    if plan.validation_engine == "none":
        out.print("DFT validation: none (validate.engine: none)", highlight=False)
    else:
        out.print(
            f"DFT validation: up to {plan.n_validation_jobs} {plan.validation_engine} jobs "
            "(validate.top_n resolved candidates x validate.orderings_per_candidate lowest orderings, "
            "chosen after the ranking; those already stored are skipped)",
            highlight=False,
        )
    for note in plan.notes:
        out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


def _count_orderings(maker: Any, candidates: list, at_least: int) -> int:
    """Orderings of the whole campaign (enumerated again, as the jobs do: the jobs enumerate a
    candidate only when they reach it); ``at_least`` if a second Ctrl-C cuts the count short."""
    total = 0
    try:
        for candidate in candidates:
            try:
                total += len(maker.screen_maker.enumerate(candidate)[0])
            except MagscreenError:
                continue  # reported as not screened by the jobs
    except KeyboardInterrupt:
        return at_least
    return max(total, at_least)


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Campaign config (YAML).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would run, run nothing.")] = False,
    report_dir: Annotated[
        Path | None, typer.Option("--report-dir", help="Report folder [default: magscreen-report/<name>].")
    ] = None,
) -> None:
    """Run a screening campaign; what the store already holds is skipped."""
    import logging
    import warnings

    from jobflow import run_locally

    from magscreen.flows.campaign import CampaignMaker
    from magscreen.report import load_report_data, write_report
    from magscreen.schemas import CampaignDoc
    from magscreen.screening.anisotropy_report import anisotropy_table
    from magscreen.screening.progress import listening
    from magscreen.sources.loader import load_candidates
    from magscreen.store import build_stores

    try:
        cfg = load_config(config)
        candidates = load_candidates(cfg.candidates)
        if dry_run:
            from magscreen.flows.plan import plan_campaign

            plan = plan_campaign(cfg, candidates, config)
        else:
            _check_calculator(config, cfg.relax.calculator, cfg.relax.device)
            try:
                maker = CampaignMaker.from_config(cfg)
            except InputError as error:  # e.g. a validation engine that is not installed
                raise InputError(str(error), source=config) from None
            stores = build_stores(cfg.store)
    except MagscreenError as error:
        raise _fail(error) from None
    if dry_run:
        console.print(
            f"campaign [bold]{cfg.name}[/]: {len(candidates)} candidates from {cfg.candidates.source}",
            highlight=False,
        )
        _print_plan(plan)
        console.print("dry run: checked calculator, store and validation engine; nothing computed")
        return
    console.print(
        f"campaign [bold]{cfg.name}[/]: {len(candidates)} candidates from {cfg.candidates.source}, "
        f"calculator {cfg.relax.calculator}, store {stores.location}",
        highlight=False,
    )
    flow = maker.make(candidates, stores=stores, config=cfg.model_dump(mode="json", by_alias=True))
    if cfg.store.kind == "embedded":
        stores.outputs.remove_docs({})  # job outputs of the previous local run (a shared MongoDB keeps them)
    logging.getLogger("jobflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning, module="jobflow")
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    bars = None
    try:
        with Progress(*columns, console=console) as progress:
            bars = _ProgressBars(progress, len(candidates))
            with listening(bars):
                run_locally(flow, store=stores.job_store(), log=False, raise_immediately=True)
    except MagscreenError as error:
        raise _fail(error) from None
    except KeyboardInterrupt:
        done = bars.done if bars else 0
        total = _count_orderings(maker, candidates, at_least=bars.total if bars else 0)
        console.print(
            f"interrupted after {done} of {total} orderings; run the same command to resume",
            highlight=False,
        )
        raise typer.Exit(code=130) from None
    found = stores.campaigns.query_one({"name": cfg.name})
    if found is None:
        raise _fail(RuntimeError(f"campaign {cfg.name} did not finish; see the errors above"))
    doc = CampaignDoc(**found)
    console.print(
        f"orderings: {doc.n_orderings_computed} computed, {doc.n_orderings_skipped} skipped "
        f"(already in the store); candidates ranked: {len(doc.candidate_ids)}",
        highlight=False,
    )
    if doc.validation_engine != "none":
        console.print(
            f"{doc.validation_engine} validations: {doc.n_validations_computed} run, "
            f"{doc.n_validations_skipped} skipped",
            highlight=False,
        )
    for candidate_id, reason in doc.failed_candidates.items():
        console.print(f"[yellow]not screened[/] {candidate_id}: {reason}", highlight=False)
    ranked = load_report_data(stores, cfg.name).candidates
    resolved = [c for c in ranked if c.resolved]
    unresolved = [c for c in ranked if not c.resolved]
    if cfg.rank.top_n:
        Console().print(_best_table(resolved[: cfg.rank.top_n]))
    if unresolved:
        Console().print(_unresolved_table(unresolved))
    anisotropy = anisotropy_table(ranked)
    if anisotropy is not None:
        title, header, rows = anisotropy
        table = Table(title=title)
        for column in header:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    page, _ = write_report(stores, report_dir or Path("magscreen-report") / cfg.name, campaign=cfg.name)
    typer.echo(f"results: {stores.location}")
    typer.echo(f"report:  {page.resolve()}")
    if resolved:
        example = json.dumps({"ground_state_label": resolved[0].ground_state_label})
        typer.echo(f"query:   magscreen query '{example}' -c {config}")


@app.command()
def status(config: ConfigOption = None, db: DbOption = "magscreen-db") -> None:
    """Show the campaigns in a store and how many documents it holds."""
    try:
        stores = _open_stores(config, db)
    except MagscreenError as error:
        raise _fail(error) from None
    out = Console()
    out.print(f"store: {stores.location}", highlight=False)
    counts = Table(title="documents")
    counts.add_column("collection")
    counts.add_column("documents", justify="right")
    for name in COLLECTIONS:
        counts.add_row(name, str(getattr(stores, name).count()))
    out.print(counts)
    campaigns = Table(title="campaigns")
    for column in (
        "name",
        "model",
        "candidates",
        "failed",
        "orderings",
        "computed",
        "skipped",
        "completed (UTC)",
    ):
        campaigns.add_column(column)
    for doc in stores.campaigns.query(sort={"completed_at": -1}):
        campaigns.add_row(
            doc["name"],
            doc["model_version"],
            str(len(doc["candidate_ids"])),
            str(len(doc["failed_candidates"])),
            str(doc["n_orderings"]),
            str(doc["n_orderings_computed"]),
            str(doc["n_orderings_skipped"]),
            str(doc["completed_at"])[:19],
        )
    out.print(campaigns)


def _get(doc: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(doc, list) and part.isdigit():
            doc = doc[int(part)] if int(part) < len(doc) else None
        elif isinstance(doc, dict):
            doc = doc.get(part)
        else:
            return None
    return doc


def _rounded(value: Any, digits: int = 8) -> Any:
    """``value`` with every float rounded to ``digits`` significant digits (no float noise such as
    54.00000000000001 in JSON and CSV output)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def _cell(value: Any, table: bool = True) -> str:
    """One table (4 significant digits) or CSV (8) cell; lists of plain values joined by ';'."""
    if isinstance(value, float):
        if table:
            return f"{value:.1f}" if abs(value) >= 1e4 else f"{value:.4g}"
        return repr(_rounded(value))
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return ";".join(_cell(v, table) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(_rounded(value))
    return "" if value is None else str(value)


#: Fields of a candidate that exist only when its ground state is resolved -> the fields that hold
#: the lowest ordering of every candidate.
UNRESOLVED_FIELDS = {
    "ground_state_label": "lowest_ordering_label",
    "ground_state_fingerprint": "lowest_ordering_fingerprint",
}


def _with_unresolved(filter_: Any) -> Any:
    """The filter with ground-state fields replaced by the lowest-ordering fields (which every
    candidate has, resolved or not)."""
    if isinstance(filter_, dict):
        return {UNRESOLVED_FIELDS.get(k, k): _with_unresolved(v) for k, v in filter_.items()}
    if isinstance(filter_, list):
        return [_with_unresolved(v) for v in filter_]
    if isinstance(filter_, str) and filter_.lstrip("$") in UNRESOLVED_FIELDS:
        return "$" + UNRESOLVED_FIELDS[filter_.lstrip("$")]
    return filter_


@app.command()
def query(
    criteria: Annotated[
        str, typer.Argument(help='MongoDB filter as JSON, e.g. \'{"ground_state_label": "AFM-II"}\'.')
    ],
    collection: Annotated[
        str, typer.Option("--collection", help=f"One of {', '.join(COLLECTIONS)}.")
    ] = "candidates",
    fields: Annotated[
        str | None,
        typer.Option("--fields", help="Comma-separated (dotted) fields; 'all' for whole documents."),
    ] = None,
    sort: Annotated[
        str | None, typer.Option("--sort", help="Field to sort by; prefix '-' for descending.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most documents returned (0: all).")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    include_unresolved: Annotated[
        bool,
        typer.Option(
            "--include-unresolved",
            help="Candidates: match ground_state_label (and _fingerprint) against the lowest ordering "
            "of every candidate, also those whose ground state the model does not resolve.",
        ),
    ] = False,
    config: ConfigOption = None,
    db: DbOption = "magscreen-db",
) -> None:
    """Query a store with a MongoDB filter (pymongo syntax).

    Candidates whose ground state the model does not resolve have no ``ground_state_label``, so
    label filters leave them out unless ``--include-unresolved`` is given.
    """
    try:
        filter_ = json.loads(criteria)
    except json.JSONDecodeError as error:
        raise _fail(ValueError(f"query filter is not valid JSON ({error}): {criteria}")) from None
    if not isinstance(filter_, dict):
        raise _fail(ValueError(f"query filter must be a JSON object, got {criteria}"))
    if collection not in COLLECTIONS:
        raise _fail(
            ValueError(f"unknown collection {collection!r}; expected one of {', '.join(COLLECTIONS)}")
        )
    if fmt not in ("table", "json", "csv"):
        raise _fail(ValueError(f"unknown format {fmt!r}; expected table, json or csv"))
    try:
        stores = _open_stores(config, db)
    except MagscreenError as error:
        raise _fail(error) from None
    names = None if fields == "all" else (fields.split(",") if fields else DEFAULT_FIELDS[collection])
    sort_spec = {sort.lstrip("-"): -1 if sort.startswith("-") else 1} if sort else None
    store = getattr(stores, collection)
    widened = _with_unresolved(filter_) if collection == "candidates" else filter_
    if include_unresolved:
        filter_ = widened
    elif widened != filter_:
        left_out = store.count({"$and": [widened, {"resolved": False}]})
        if left_out:
            console.print(
                f"note: {left_out} candidates without a resolved ground state have a lowest ordering "
                "that matches; --include-unresolved lists them",
                highlight=False,
            )
    docs = list(store.query(filter_, properties=names, sort=sort_spec, limit=limit))
    if fmt == "json":
        rows = docs if names is None else [{name: _get(d, name) for name in names} for d in docs]
        typer.echo(json.dumps(_rounded(rows), indent=2, default=str))
        return
    names = names or sorted({k for d in docs for k in d})
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(names)
        writer.writerows([[_cell(_get(d, n), table=False) for n in names] for d in docs])
        sys.stdout.write(buffer.getvalue())
        return
    table = Table(title=f"{collection}: {len(docs)} documents")
    for name in names:
        table.add_column(name, min_width=min(len(name), 24))
    for d in docs:
        table.add_row(*[_cell(_get(d, n)) for n in names])
    Console().print(table)


@app.command()
def report(
    config: ConfigOption = None,
    db: DbOption = "magscreen-db",
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Campaign name [default: latest].")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", help="Report folder [default: magscreen-report/<name>].")
    ] = None,
) -> None:
    """Write a Markdown or HTML report with PNG plots and print their paths."""
    from magscreen.report import load_report_data, write_report

    if fmt not in ("md", "html"):
        raise _fail(ValueError(f"unknown format {fmt!r}; expected md or html"))
    try:
        stores = _open_stores(config, db)
        name = campaign or (load_config(config).name if config else load_report_data(stores).campaign.name)
        page, plots = write_report(stores, out or Path("magscreen-report") / name, campaign=name, fmt=fmt)
    except MagscreenError as error:
        raise _fail(error) from None
    typer.echo(f"report: {page.resolve()}")
    for plot in plots:
        typer.echo(f"plot:   {plot.resolve()}")
