"""``magscreen extend MODEL FRAMES... --output PATH``: a few DFT frames teach a model new compounds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from magscreen.cli import app
from magscreen.errors import MagscreenError

console = Console()


@app.command()
def extend(
    model: Annotated[
        str, typer.Argument(help="Base model: a shipped name (e.g. monoxides) or a checkpoint (.pt).")
    ],
    frames: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Extended XYZ files of DFT frames: per-atom 'magmoms' (mu_B), 'energy' (eV), optional "
            "'energy_group' (default: one group per file)."
        ),
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Checkpoint to write (.pt).")] = Path(
        "extended.pt"
    ),
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Also take every converged DFT validation document of this store (embedded store folder "
            "or mongodb:// URI): what earlier campaigns computed.",
        ),
    ] = None,
    energy_sigma: Annotated[
        float, typer.Option("--energy-sigma", help="One-sigma noise of a DFT energy (meV/atom).")
    ] = 1.0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """Extend a trained model with DFT frames of compounds it does not know; what it knows stays.

    A magnetic element without trained head is learnt from the frames; a head trained elsewhere
    moves only within the model's readout posterior (refused when the model has none).
    """
    try:
        _extend(model, frames or [], output, store, energy_sigma, progress)
    except MagscreenError as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(code=1) from None


def _extend(
    model: str, paths: list[Path], output: Path, store: str | None, energy_sigma: float, progress: bool
) -> None:
    from magscreen.errors import InputError
    from magscreen.potential.calculator import MagneticCalculator
    from magscreen.training.extend import extend_model, read_extension_frames
    from magscreen.training.extension_settings import ExtensionSettings

    frames = read_extension_frames(paths)
    provenance = {}
    if store is not None:
        docs = _validation_docs(store)
        from magscreen.training.data import frames_from_validation_docs

        from_store = frames_from_validation_docs(docs)
        provenance["validation_ids"] = [f.source.removeprefix("store:") for f in from_store]
        frames += from_store
    if not frames:
        raise InputError(
            "no frames given", field="FRAMES / --store", expected="extended XYZ files or a store"
        )
    base = MagneticCalculator(model).model
    result = extend_model(
        base,
        frames,
        ExtensionSettings(energy_sigma_meV_per_atom=energy_sigma),
        progress=progress,
        provenance=provenance,
    )
    result.model.save(output)
    table = Table(title=f"{len(frames)} frames, {result.parameters} readout weights, {result.seconds:.1f} s")
    table.add_column("frame")
    table.add_column("energy group")
    table.add_column("model - DFT (meV/atom)", justify="right")
    for frame in frames:
        table.add_row(frame.source, frame.energy_group, f"{result.residuals_meV_per_atom[frame.source]:+.2f}")
    console.print(table)
    console.print(f"base      {result.base_version}", highlight=False)
    console.print(f"extended  {result.model.model_version}", highlight=False)
    console.print(
        f"prior: {result.prior}; new element heads: {', '.join(result.new_heads) or 'none'}; "
        f"magnetic domain: {', '.join(result.model.magnetic_domain)}",
        highlight=False,
    )
    console.print(f"wrote {output} (load it with MagneticCalculator('{output}'))", highlight=False)


def _validation_docs(store: str) -> list[dict]:
    """Every document of a store's ``validations`` collection; a missing embedded store is an error."""
    from magscreen.config import StoreConfig
    from magscreen.errors import InputError
    from magscreen.store import DATABASE_FILE, build_stores

    if store.startswith(("mongodb://", "mongodb+srv://")):
        config = StoreConfig(kind="mongodb", uri=store)
    else:
        if not (Path(store) / DATABASE_FILE).is_file():
            raise InputError(
                "no store here", source=store, field="--store", expected=f"a folder holding {DATABASE_FILE}"
            )
        config = StoreConfig(kind="embedded", path=Path(store))
    stores = build_stores(config)
    try:
        return list(stores.validations.query({}))
    finally:
        stores.close()
