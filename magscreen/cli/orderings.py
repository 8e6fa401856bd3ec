"""``magscreen orderings``: list (and write) the magnetic orderings of one structure file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from magscreen.cli import app
from magscreen.errors import InputError, MagscreenError
from magscreen.magnetism.enumeration import OrderingSettings

if TYPE_CHECKING:
    from magscreen.magnetism.ordering import Ordering

#: The defaults of a campaign's ``orderings`` section are this command's defaults.
DEFAULTS = OrderingSettings()


@app.command()
def orderings(
    structure_file: Annotated[Path, typer.Argument(help="CIF, POSCAR/CONTCAR or extended XYZ file.")],
    max_magnetic_atoms: Annotated[
        int, typer.Option(help="Largest number of magnetic atoms in a supercell.")
    ] = DEFAULTS.max_magnetic_atoms,
    max_orderings: Annotated[
        int,
        typer.Option(
            help="How many collinear orderings to keep (with --noncollinear, also how many non-collinear)."
        ),
    ] = DEFAULTS.max_orderings,
    noncollinear: Annotated[
        bool, typer.Option("--noncollinear", help="Add spin spirals, 120-degree states and canted AFMs.")
    ] = False,
    moment: Annotated[
        list[str] | None,
        typer.Option(help="Moment magnitude (mu_B) of an element, e.g. 'Fe=2.2'; repeat for several."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    write: Annotated[
        Path | None,
        typer.Option(help="Folder to write each ordering to (pymatgen JSON and extxyz) with an index.json."),
    ] = None,
) -> None:
    """List the symmetry-distinct magnetic orderings of a structure: label, size, fingerprint."""
    from rich.console import Console

    from magscreen.magnetism.enumeration import enumerate_orderings
    from magscreen.sources.files import load_one_structure

    console, errors = Console(), Console(stderr=True)
    try:
        structure = load_one_structure(structure_file)
        settings = OrderingSettings(
            max_magnetic_atoms=max_magnetic_atoms,
            max_orderings=max_orderings,
            noncollinear=noncollinear,
            moments=parse_moments(moment or []),
        )
        found_set = enumerate_orderings(structure, settings, source=structure_file)
        result, found = found_set.collinear, found_set.orderings
    except MagscreenError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    rows = [summary(o) for o in found]
    if write is not None:
        write_orderings(found, rows, write)
    if json_output:
        payload = {
            "structure_file": str(structure_file),
            "formula": structure.composition.reduced_formula,
            "parent_spacegroup": result.parent.spacegroup,
            "n_found_collinear": result.n_found,
            "n_dropped_collinear": result.n_dropped,
            "n_dropped_noncollinear": found_set.n_dropped_noncollinear,
            "orderings": rows,
        }
        typer.echo(json.dumps(payload, indent=1))
        return
    from rich.table import Table

    formula = structure.composition.reduced_formula
    table = Table(title=f"{formula}: magnetic orderings of {structure_file.name}")
    for column in ("#", "label", "kind", "magnetic atoms", "atoms", "fingerprint"):
        numeric = column in ("#", "magnetic atoms", "atoms")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=column == "fingerprint")
    for index, row in enumerate(rows):
        table.add_row(
            str(index),
            row["label"],
            row["kind"],
            str(row["n_magnetic_atoms"]),
            str(row["n_atoms"]),
            row["fingerprint"],
        )
    console.print(table)
    console.print(
        f"collinear: {result.n_found} symmetry-distinct up to {max_magnetic_atoms} magnetic atoms, "
        f"{len(result.orderings)} kept, {result.n_dropped} dropped by --max-orderings"
        + (f"; non-collinear: {found_set.n_dropped_noncollinear} dropped" if noncollinear else "")
    )
    if write is not None:
        console.print(f"wrote {len(rows)} orderings to {write}")


def parse_moments(entries: list[str]) -> dict[str, float]:
    """``["Fe=2.2", "O=0"]`` -> ``{"Fe": 2.2, "O": 0.0}``."""
    moments = {}
    for entry in entries:
        element, _, value = entry.partition("=")
        try:
            moments[element.strip()] = float(value)
        except ValueError as error:
            raise InputError(
                f"cannot read {entry!r}", field="--moment", expected="ELEMENT=VALUE, e.g. Fe=2.2"
            ) from error
        if not element.strip():
            raise InputError(
                f"no element in {entry!r}", field="--moment", expected="ELEMENT=VALUE, e.g. Fe=2.2"
            )
    return moments


def summary(ordering: Ordering) -> dict:
    """What the listing shows of one ordering (JSON-ready)."""
    return {
        "label": ordering.label,
        "kind": ordering.kind,
        "n_magnetic_atoms": ordering.n_magnetic_atoms,
        "n_atoms": len(ordering.structure),
        "fingerprint": ordering.fingerprint,
        "parameters": ordering.parameters,
    }


def write_orderings(found: list[Ordering], rows: list[dict], folder: Path) -> None:
    """Write each ordering twice and list them in ``index.json``.

    ``NNN_label.json`` is the pymatgen ``Structure`` with its ``magmom`` site property (lossless,
    ``Structure.from_file`` reads it); ``NNN_label.extxyz`` is the ASE view with
    ``initial_magmoms`` ((N,) collinear, (N, 3) non-collinear).
    """
    from ase.io import write
    from monty.serialization import dumpfn

    folder.mkdir(parents=True, exist_ok=True)
    for index, (ordering, row) in enumerate(zip(found, rows, strict=True)):
        stem = f"{index:03d}_" + re.sub(r"[^A-Za-z0-9]+", "_", ordering.label).strip("_")
        dumpfn(ordering.structure, folder / f"{stem}.json")
        write(folder / f"{stem}.extxyz", ordering.to_atoms(), format="extxyz")
        row["files"] = [f"{stem}.json", f"{stem}.extxyz"]
    (folder / "index.json").write_text(json.dumps(rows, indent=2))
