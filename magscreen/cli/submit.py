"""``magscreen submit``: a campaign to a cluster workflow manager, FireWorks or jobflow-remote.

The campaign flow is the one ``magscreen run`` executes locally; only where it runs changes.

    magscreen submit show CONFIG
    magscreen submit fireworks CONFIG --launchpad workflows/fireworks/my_launchpad.yaml
    magscreen submit jobflow-remote CONFIG --project magscreen --worker cluster

The config's ``store`` section should point at MongoDB (``kind: mongodb``): every job writes its
documents there, wherever it runs. The jobs added at run time (DFT validation of the best
candidates, atomate2 VASP jobs with ``validate: {engine: vasp}``) are submitted by the campaign's
summary job to the same manager.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from magscreen.cli import app
from magscreen.config import CampaignConfig, load_config
from magscreen.errors import MagscreenError

if TYPE_CHECKING:
    from fireworks import Workflow
    from jobflow import Flow

    from magscreen.store import CampaignStores

__all__ = [
    "campaign_flow",
    "campaign_workflow",
    "describe_workflow",
    "submit_fireworks",
    "submit_jobflow_remote",
]

cli = typer.Typer(
    help="Submit a campaign to a cluster workflow manager: FireWorks or jobflow-remote.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(cli, name="submit")


def campaign_flow(config: CampaignConfig, *, check_store: bool = True) -> tuple[Flow, CampaignStores]:
    """The campaign flow of a config and the stores its jobs write to.

    Parameters
    ----------
    config
        Validated campaign config.
    check_store
        Connect to the store now (fails early when MongoDB is unreachable).
    """
    from magscreen.flows.campaign import CampaignMaker
    from magscreen.sources.loader import load_candidates
    from magscreen.store import build_stores

    stores = build_stores(config.store, check=check_store)
    candidates = load_candidates(config.candidates)
    maker = CampaignMaker.from_config(config)
    flow = maker.make(candidates, stores=stores, config=config.model_dump(mode="json", by_alias=True))
    return flow, stores


def campaign_workflow(config: CampaignConfig, *, check_store: bool = True) -> Workflow:
    """FireWorks workflow of a campaign; job outputs go to the campaign database's ``outputs``."""
    from jobflow.managers.fireworks import flow_to_workflow

    flow, stores = campaign_flow(config, check_store=check_store)
    return flow_to_workflow(flow, store=stores.job_store(), name=f"magscreen {config.name}")


def submit_fireworks(config: CampaignConfig, launchpad_file: Path) -> dict[int, int]:
    """Add the campaign workflow to a LaunchPad; returns FireWorks' old-to-new id mapping."""
    from fireworks import LaunchPad

    launchpad = LaunchPad.from_file(str(launchpad_file))
    return launchpad.add_wf(campaign_workflow(config))


def submit_jobflow_remote(
    config: CampaignConfig, project: str | None, worker: str | None, exec_config: str | None = None
) -> list[str]:
    """Submit the campaign flow to a jobflow-remote project; returns the job ids."""
    from jobflow_remote import submit_flow

    flow, _ = campaign_flow(config)
    return submit_flow(flow, worker=worker, project=project, exec_config=exec_config)


def _load(config: Path) -> CampaignConfig:
    try:
        return load_config(config)
    except MagscreenError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None


def describe_workflow(workflow: Workflow) -> list[str]:
    """One line per firework (name, and how many fireworks it waits for), then the DFT validation
    the summary firework will add at run time (its maker and the makers that maker runs)."""
    waits = {fw.fw_id: len(workflow.links.parent_links.get(fw.fw_id, [])) for fw in workflow.fws}
    lines = [
        fw.name + (f"  (waits for {waits[fw.fw_id]})" if waits[fw.fw_id] else "")
        for fw in sorted(workflow.fws, key=lambda fw: waits[fw.fw_id])
    ]
    for fw in workflow.fws:
        kwargs = fw.tasks[0]["job"].function_kwargs
        maker = kwargs.get("validation_maker")
        if maker is None or not kwargs.get("validate_top_n"):
            continue
        lines.append(
            f"adds at run time: {type(maker).__name__} ({kwargs['validation_engine']}), best "
            f"{kwargs['validate_top_n']} candidates x {kwargs['orderings_per_candidate']} orderings, each:"
        )
        describe = getattr(maker, "describe", None)
        lines += [f"  {line}" for line in (describe() if describe else [repr(maker)])]
    return lines


@cli.command("show")
def show_command(config: Annotated[Path, typer.Argument(help="Campaign config (YAML).")]) -> None:
    """Print the FireWorks workflow of a campaign without submitting it (no database needed)."""
    for line in describe_workflow(campaign_workflow(_load(config), check_store=False)):
        typer.echo(line)


@cli.command("fireworks")
def fireworks_command(
    config: Annotated[Path, typer.Argument(help="Campaign config (YAML).")],
    launchpad: Annotated[Path, typer.Option(help="LaunchPad file.")] = Path(
        "workflows/fireworks/my_launchpad.yaml"
    ),
) -> None:
    """Add the campaign to a FireWorks LaunchPad (then: qlaunch rapidfire)."""
    ids = submit_fireworks(_load(config), launchpad)
    typer.echo(f"added {len(ids)} fireworks to {launchpad}")


@cli.command("jobflow-remote")
def jobflow_remote_command(
    config: Annotated[Path, typer.Argument(help="Campaign config (YAML).")],
    project: Annotated[str | None, typer.Option(help="jobflow-remote project name.")] = None,
    worker: Annotated[str | None, typer.Option(help="Worker of the project.")] = None,
    exec_config: Annotated[str | None, typer.Option(help="Execution config of the project.")] = None,
) -> None:
    """Submit the campaign to jobflow-remote (then: jf runner start)."""
    ids = submit_jobflow_remote(_load(config), project, worker, exec_config)
    typer.echo(f"submitted {len(ids)} jobs to jobflow-remote project {project or '(default)'}")
