"""``magscreen validate``: DFT validation of orderings with the GPAW reference engine."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from magscreen.cli import app
from magscreen.cli.common import console, open_stores
from magscreen.errors import InputError, MagscreenError
from magscreen.validation.gpaw.settings import GPAWSettings

if TYPE_CHECKING:
    from pymatgen.core import Structure
    from rich.table import Table

    from magscreen.schemas.validation import DFTValidationDoc
    from magscreen.store import CampaignStores
    from magscreen.validation.base import ValidationMaker


def _start_gpaw_mpi() -> None:
    """Make ASE use GPAW's MPI world under ``mpiexec`` (with ``GPAW_MPI_BACKEND=cgpaw``).

    ASE fixes its world on first use, and some imports (matscipy's logger) use it before GPAW is
    imported; forgetting that choice lets ASE pick GPAW's communicator.
    """
    if importlib.util.find_spec("gpaw") is None:
        return
    from ase.parallel import world as ase_world

    ase_world.comm = None
    import gpaw.mpi  # noqa: F401


def _read_structure(path: Path, magmoms: str | None) -> Structure:
    """Structure from a file (the campaign's reader: CIF/mcif, POSCAR, extxyz, pymatgen JSON), moments
    from the file or ``magmoms``."""
    from magscreen.sources.files import load_one_structure

    if not path.is_file():
        raise InputError("file not found", source=path, field="--structure", expected="a structure file")
    structure = load_one_structure(path, field="--structure")
    if magmoms is not None:
        try:
            values = [float(v) for v in magmoms.replace(",", " ").split()]
        except ValueError:
            raise InputError(
                f"unreadable moments {magmoms!r}",
                source=path,
                field="--magmoms",
                expected="one number per site (mu_B), comma separated",
            ) from None
        if len(values) != len(structure):
            raise InputError(
                f"{len(values)} moments for {len(structure)} sites",
                source=path,
                field="--magmoms",
                expected=f"{len(structure)} numbers (mu_B)",
            )
        structure.add_site_property("magmom", values)
    return structure


def _orderings_from_store(stores: CampaignStores, candidate: str, top: int) -> list[dict]:
    docs = list(
        stores.orderings.query(
            {"candidate_id": candidate, "rank": {"$ne": None}}, sort={"rank": 1}, limit=top
        )
    )
    if not docs:
        raise InputError(
            f"no ranked orderings of candidate {candidate!r}",
            source=stores.location,
            field="orderings.candidate_id",
            expected="a candidate of a finished campaign",
        )
    return docs


@app.command()
def validate(
    engine: Annotated[str, typer.Option(help="DFT engine; 'gpaw' (open source) is built in.")] = "gpaw",
    structure: Annotated[
        list[Path] | None,
        typer.Option("--structure", "-s", help="Structure file with moments (magmom); repeat for several."),
    ] = None,
    magmoms: Annotated[
        str | None, typer.Option(help="Moments (mu_B) per site for a file without them, e.g. '2.5,-2.5'.")
    ] = None,
    candidate: Annotated[
        str | None,
        typer.Option(
            help="Candidate id: without --structure, validate its top orderings from the store; "
            "with --structure, the id the documents get (default: reduced formula)."
        ),
    ] = None,
    top: Annotated[int, typer.Option(help="How many of the candidate's lowest orderings to validate.")] = 2,
    label: Annotated[
        str | None, typer.Option(help="Ordering label for --structure (default: file stem).")
    ] = None,
    db: Annotated[
        str, typer.Option("--db", "--store", help="Embedded store folder, or a mongodb:// URI.")
    ] = "magscreen-db",
    calculation: Annotated[
        str, typer.Option(help="'static', 'relax' (BFGS positions), or 'anisotropy' (SOC force theorem).")
    ] = "static",
    workdir: Annotated[Path, typer.Option(help="Folder of GPAW restart files (reruns resume).")] = Path(
        "gpaw-work"
    ),
    ecut: Annotated[float, typer.Option(help="Plane-wave cutoff (eV).")] = GPAWSettings.ecut_eV,
    kpoint_density: Annotated[
        float, typer.Option(help="k-points per 1/Angstrom along each reciprocal vector.")
    ] = GPAWSettings.kpoint_density,
    smearing: Annotated[float, typer.Option(help="Fermi-Dirac width (eV).")] = GPAWSettings.smearing_eV,
    xc: Annotated[str, typer.Option(help="Functional (PBE; LDA for non-collinear moments).")] = "PBE",
    hubbard: Annotated[
        str, typer.Option(help="'mp' (Materials Project U for oxides/fluorides) or 'none'.")
    ] = "mp",
) -> None:
    """Run DFT validation of orderings and write DFTValidationDoc documents into the store."""
    from ase.parallel import world as ase_world
    from pymatgen.core import Structure

    from magscreen.validation.base import build_validation_maker
    from magscreen.validation.gpaw.ordering_input import structure_fingerprint

    _start_gpaw_mpi()
    try:
        if engine != "gpaw":
            raise InputError(
                f"engine {engine!r} is not available here",
                field="--engine",
                expected="'gpaw' (VASP validation runs from a campaign's validate step)",
            )
        if calculation not in ("static", "relax", "anisotropy"):
            raise InputError(
                f"unknown calculation {calculation!r}",
                field="--calculation",
                expected="'static', 'relax' or 'anisotropy'",
            )
        if hubbard not in ("mp", "none"):
            raise InputError(f"unknown value {hubbard!r}", field="--hubbard", expected="'mp' or 'none'")
        if not structure and not candidate:
            raise InputError(
                "nothing to validate",
                field="--structure/--candidate",
                expected="structure files, or a candidate whose orderings are in the store",
            )
        settings = GPAWSettings(
            xc=xc,
            ecut_eV=ecut,
            kpoint_density=kpoint_density,
            smearing_eV=smearing,
            hubbard=None if hubbard == "none" else "mp",
        )
        stores = open_stores(None, db)
        if not structure:
            tasks = [
                (
                    Structure.from_dict(d["structure"]),
                    d["candidate_id"],
                    d["label"],
                    d["fingerprint"],
                    d.get("model_version"),
                )
                for d in _orderings_from_store(stores, candidate, top)
            ]
        else:
            tasks = []
            for path in structure:
                s = _read_structure(path, magmoms)
                candidate_id = candidate or s.composition.reduced_formula
                tasks.append((s, candidate_id, label or path.stem, structure_fingerprint(s), None))
        maker = build_validation_maker(
            "gpaw",
            {
                **asdict(settings),
                "relax": calculation == "relax",
                "anisotropy": calculation == "anisotropy",
                "workdir": str(workdir.resolve()),
            },
        )
        docs = _run(maker, tasks)
        if ase_world.rank == 0:  # under MPI every rank holds the same documents
            stores.validations.update([d.model_dump(mode="json") for d in docs])
    except MagscreenError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(_summary(docs))
    console.print(f"{len(docs)} validation documents written to {stores.location} (collection validations)")


def _run(maker: ValidationMaker, tasks: list[tuple]) -> list[DFTValidationDoc]:
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    docs = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("GPAW validation", total=len(tasks))
        for structure, candidate_id, label, fingerprint, model_version in tasks:
            progress.update(bar, description=f"GPAW {candidate_id} {label}")
            flow = maker.make(
                structure,
                candidate_id=candidate_id,
                ordering_label=label,
                ordering_fingerprint=fingerprint,
                model_version=model_version,
            )
            responses = run_locally(flow, store=JobStore(MemoryStore()), log=False, ensure_success=True)
            docs.append(responses[flow.jobs[-1].uuid][1].output)
            progress.advance(bar)
    return docs


def _summary(docs: list[DFTValidationDoc]) -> Table:
    from rich.table import Table

    lowest = {}
    for d in docs:
        e = d.energy_per_magnetic_atom_eV
        lowest[d.candidate_id] = min(lowest.get(d.candidate_id, e), e)
    table = Table(
        "candidate",
        "ordering",
        "calculation",
        "E - E_min (meV/mag. atom)",
        "moments (mu_B)",
        "MAE (ueV/atom)",
        "time (s)",
    )
    for d in docs:
        moments = " ".join(
            f"{m[2]:+.2f}" if not d.settings.noncollinear else "vec" for m in d.magnetic_moments
        )
        table.add_row(
            d.candidate_id,
            d.ordering_label,
            d.calculation,
            f"{(d.energy_per_magnetic_atom_eV - lowest[d.candidate_id]) * 1000:.1f}",
            moments,
            "" if d.mae_ueV_per_atom is None else f"{d.mae_ueV_per_atom:+.1f}",
            f"{d.wall_time_s or 0:.0f}",
        )
    return table
