"""``magscreen anisotropy``: easy axis, MAE, K1/K2, Ms, anisotropy field and hardness of one structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from magscreen.cli import app

SIGN_CONVENTION = "MAE = E[100] - E[001]; positive = easy axis c"


def _read_structure(path: Path):
    """pymatgen ``Structure`` from a CIF, POSCAR or pymatgen JSON file (``magmom`` kept when present)."""
    from pymatgen.core import Structure

    from magscreen.errors import InputError

    if not path.is_file():
        raise InputError("file not found", source=path, field="STRUCTURE", expected="a structure file")
    try:
        return Structure.from_file(path)
    except Exception as error:  # pymatgen raises many types for unreadable files
        raise InputError(
            f"cannot read a structure ({type(error).__name__}: {error})",
            source=path,
            field="STRUCTURE",
            expected="CIF, POSCAR or pymatgen JSON",
        ) from error


def _parse_moments(entries: list[str]) -> dict[str, float]:
    from magscreen.cli.orderings import parse_moments

    return parse_moments(entries)


def _gpaw(structure, moments: dict[str, float], settings, workdir: Path, source: str):
    """Force-theorem energies on the scan directions, analysed."""
    from magscreen.magnetism.sites import DEFAULT_MOMENTS
    from magscreen.screening.anisotropy import analyse_anisotropy, sample_directions
    from magscreen.screening.anisotropy_ml import structure_moments
    from magscreen.validation.gpaw.direction_scan import force_theorem_energies

    start = structure_moments(structure)
    if start is None or moments:
        table = {**DEFAULT_MOMENTS, **moments}
        start = [float(table.get(site.specie.symbol, 0.0)) for site in structure]
    structure = structure.copy(site_properties={"magmom": list(start)})
    directions = sample_directions(structure)
    scan = force_theorem_energies(structure, directions, settings, workdir, source=source)
    analysis = analyse_anisotropy(structure, directions, scan.energies_eV, scan.moments, source=source)
    return analysis, scan.moments, scan.kpoint_grid


@app.command()
def anisotropy(
    structure_file: Annotated[
        Path, typer.Argument(metavar="STRUCTURE", help="CIF, POSCAR or pymatgen JSON.")
    ],
    engine: Annotated[
        str, typer.Option(help="'ml' (the model's spin-orbit block) or 'gpaw' (force theorem).")
    ] = "ml",
    model: Annotated[
        str | None,
        typer.Option(
            help="Shipped model name or checkpoint path (ml engine); default: the campaigns' model "
            "(relax.calculator's default)."
        ),
    ] = None,
    moment: Annotated[
        list[str] | None,
        typer.Option(help="Moment length (mu_B) of an element, e.g. 'Fe=2.9'; repeat for several."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write E(theta) to this PNG/PDF.")] = None,
    kpoint_density: Annotated[
        float, typer.Option(help="gpaw: k-points per 1/Angstrom (docs/anisotropy.md: convergence).")
    ] = 6.0,
    ecut: Annotated[float, typer.Option(help="gpaw: plane-wave cutoff (eV).")] = 400.0,
    smearing: Annotated[float, typer.Option(help="gpaw: Fermi-Dirac width (eV).")] = 0.02,
    workdir: Annotated[Path, typer.Option(help="gpaw: folder of the SCF checkpoint.")] = Path(
        "gpaw-anisotropy"
    ),
) -> None:
    """Magnetocrystalline anisotropy of a ferro- or ferrimagnet: all moments rotated together.

    Prints the easy axis (lattice direction and Cartesian unit vector), MAE = E[100] - E[001]
    (micro-eV/atom and MJ/m^3; positive = easy axis c), K1 and K2 (uniaxial or cubic form), Ms,
    mu0 H_A = 2 K1 / Ms and the hardness kappa = sqrt(K1 / (mu0 Ms^2)).
    """
    from rich.console import Console

    from magscreen.errors import MagscreenError

    errors = Console(stderr=True)
    if engine not in ("ml", "gpaw"):
        errors.print(f"[red]error:[/red] --engine: {engine!r} (expected 'ml' or 'gpaw')")
        raise typer.Exit(code=2)
    source = str(structure_file)
    try:
        structure = _read_structure(structure_file)
        moments = _parse_moments(moment or [])
        if engine == "ml":
            payload, curves = _run_ml(structure, model, moments, source)
        else:
            from magscreen.validation.gpaw.settings import GPAWSettings

            settings = GPAWSettings(
                ecut_eV=ecut, kpoint_density=kpoint_density, smearing_eV=smearing, hubbard=None
            )
            analysis, scf_moments, grid = _gpaw(structure, moments, settings, workdir, source)
            payload = {
                "engine": "gpaw",
                "settings": {
                    "ecut_eV": ecut,
                    "kpoint_density": kpoint_density,
                    "kpoint_grid": grid,
                    "smearing_eV": smearing,
                    "xc": "PBE",
                },
                "moments_muB": [float(m) for m in scf_moments],
                **analysis.as_dict(),
            }
            curves = None
    except MagscreenError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=1) from error
    payload = {
        "structure_file": source,
        "formula": structure.composition.reduced_formula,
        "sign_convention": SIGN_CONVENTION,
        **payload,
    }
    if plot is not None:
        _plot(payload, curves, plot)
    if json_output:
        typer.echo(json.dumps(payload, indent=1))
        return
    _print_table(payload)
    if plot is not None:
        Console().print(f"plot: {plot}")


def _run_ml(structure, model_name: str | None, moments: dict[str, float], source: str) -> tuple[dict, dict]:
    from magscreen.potential.calculator import MagneticCalculator
    from magscreen.screening.anisotropy_ml import ml_anisotropy

    if model_name is None:
        from magscreen.screening.settings import RelaxSettings

        model_name = RelaxSettings().calculator
    model = MagneticCalculator(model_name).model
    result = ml_anisotropy(structure, model, moments=moments or None, source=source)
    payload = {
        "engine": "ml",
        "model_version": result.model_version,
        "moments_muB": result.moments_muB,
        **result.analysis.as_dict(),
    }
    return payload, result.curves


def _plot(payload: dict, curves, path: Path) -> None:
    from magscreen.screening.anisotropy import AnisotropyAnalysis
    from magscreen.screening.anisotropy_plot import plot_anisotropy

    fields = AnisotropyAnalysis.__dataclass_fields__
    analysis = AnisotropyAnalysis(**{k: v for k, v in payload.items() if k in fields})
    plot_anisotropy(analysis, path, title=f"{payload['formula']} ({payload['engine']})", curves=curves)


def _format(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _print_table(payload: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{payload['formula']}: anisotropy ({payload['engine']}) of {payload['structure_file']}"
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    easy = payload["easy_axis"]
    cart = ", ".join(f"{x:+.3f}" for x in payload["easy_axis_cartesian"])
    rows = [
        (
            "easy axis",
            f"{payload['easy_axis_label']}  [{' '.join(map(str, easy)) if easy else '?'}]  ({cart})",
        ),
        (
            "MAE = E[100] - E[001]",
            f"{payload['mae_ueV_per_atom']:+.1f} ueV/atom  {payload['mae_MJ_m3']:+.3f} MJ/m^3",
        ),
        (
            f"K1 ({payload['symmetry']})",
            f"{payload['K1_ueV_per_atom']:+.1f} ueV/atom  {payload['K1_MJ_m3']:+.3f} MJ/m^3",
        ),
        (
            "K2",
            f"{_format(payload['K2_ueV_per_atom'], '+.1f')} ueV/atom  "
            f"{_format(payload['K2_MJ_m3'], '+.3f')} MJ/m^3",
        ),
        ("fit rms", f"{payload['fit_rms_ueV_per_atom']:.2f} ueV/atom"),
        ("Ms", f"{payload['Ms_T']:.3f} T  {payload['Ms_kA_m']:.0f} kA/m"),
        ("mu0 H_A = 2 K1 / Ms", f"{_format(payload['mu0_HA_T'], '.2f')} T"),
        ("kappa = sqrt(K1 / (mu0 Ms^2))", _format(payload["kappa"], ".2f")),
        ("moments (mu_B)", ", ".join(f"{m:+.2f}" for m in payload["moments_muB"])),
    ]
    if payload["engine"] == "ml":
        rows.append(("model", payload["model_version"]))
    else:
        settings = payload["settings"]
        rows.append(
            (
                "GPAW",
                f"PBE {settings['ecut_eV']:g} eV, k {settings['kpoint_grid']}, "
                f"FD {settings['smearing_eV']:g} eV",
            )
        )
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    Console().print(SIGN_CONVENTION)
