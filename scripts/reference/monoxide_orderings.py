"""GPAW PBE+U energies of the FM, AFM-I and AFM-II orderings of MnO, FeO, CoO and NiO.

Training data for the magnetic model: whole-ordering energy differences within one compound.
The orderings come from ``magscreen.magnetism.enumerate_collinear`` with the demo campaign's
``orderings`` settings (configs/demo.yaml: up to 2 magnetic atoms per cell, 3 orderings, its
starting moments), applied to the cubic rocksalt cell. Each ordering is one GPAW SCF (PBE+U with
the Materials Project U, 550 eV, Gamma-centred grid at the same k-point density for every ordering
of a compound): ``magscreen.validation.gpaw.calculation.single_point`` for NiO and MnO; for CoO and FeO,
whose ions are orbitally degenerate in the ideal cells, an SCF without point-group symmetry started
from a distorted cell (``_broken_symmetry_point``), which reaches gapped orbitally ordered states.

Lattice constants: NiO at the cell of the DeltaSpin training frames (a from their volume), the
others at the experimental values of ``magscreen.validation.gpaw.textbook``; ``--scales`` adds copies
strained isotropically (each compound at each lattice constant is one energy group).

Every finished calculation rewrites ``magscreen/data/reference/monoxide_orderings.extxyz`` (one
frame per compound and ordering; ``energy`` in eV, ``magmoms`` the GPAW atomic moments in mu_B,
info ``energy_group`` = compound: energies compare only within a group) and the summary table
``monoxide_orderings.md`` next to it. Restart files live in the work directory, so a rerun reads
finished calculations instead of recomputing them.

Run (serial; the commands that made the committed frames are listed in the .md):

    OMP_NUM_THREADS=1 python scripts/reference/monoxide_orderings.py
    OMP_NUM_THREADS=1 python scripts/reference/monoxide_orderings.py --compounds MnO --scales 0.96 1.04
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write
from pymatgen.core import Lattice, Structure

from magscreen.magnetism import enumerate_collinear
from magscreen.magnetism.ordering import Ordering
from magscreen.validation.gpaw.calculation import (
    INPUTS_FILE,
    RESTART_FILE,
    gpaw_calculator,
    gpaw_version,
    single_point,
)
from magscreen.validation.gpaw.ordering_input import ordering_input
from magscreen.validation.gpaw.settings import GPAWSettings, hubbard_u_for, kpoint_grid
from magscreen.validation.gpaw.textbook import rocksalt_afm2

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "configs" / "demo.yaml"
DELTASPIN_BOX = Path("/work/shared/data/nio_deltaspin/data_0/set.000/box.npy")
#: Formula units in one DeltaSpin NiO frame (32 atoms).
DELTASPIN_FORMULA_UNITS = 16
COMPOUNDS = ("NiO", "MnO", "CoO", "FeO")
ORDERING_LABELS = ("FM", "AFM-I", "AFM-II")
#: Gentler density mixing for a second try when the default SCF does not converge.
GENTLE_MIXER = {"backend": "pulay", "beta": 0.02, "nmaxold": 5, "weight": 100.0}
STATUS_FILE = "status.json"
#: Shift (Angstrom) of the oxygen sublattice, along a direction of no symmetry, that starts the
#: broken-symmetry SCF of the orbitally degenerate ions (high-spin Fe2+ d6, Co2+ d7).
KICK_A = 0.1
KICK_DIRECTION = np.array([1.0, 2.0, 3.0])
#: Strains of the cell (Cartesian, symmetric, no symmetry) during that first SCF: one per distorted
#: start, the later ones the first with its axes permuted cyclically (they favour other orbitals).
_STRAIN = 0.04 * np.array([[1.0, 0.3, 0.2], [0.3, -0.6, 0.1], [0.2, 0.1, -0.4]])
_CYCLE = np.roll(np.eye(3), 1, axis=0)
KICK_STRAINS = (_STRAIN, _CYCLE @ _STRAIN @ _CYCLE.T, _CYCLE.T @ _STRAIN @ _CYCLE)
#: The command of the calculations made before status files recorded theirs.
FIRST_COMMAND = "OMP_NUM_THREADS=1 python scripts/reference/monoxide_orderings.py --budget-min 25"
WORKDIR = REPO / "benchmarks" / "reference" / "runs" / "monoxide_orderings"
OUTPUT = REPO / "magscreen" / "data" / "reference" / "monoxide_orderings.extxyz"


class BudgetExceeded(Exception):
    """The wall-time budget of a compound ran out during a calculation."""


@dataclass
class OrderingResult:
    """One finished (or failed) ordering of a compound.

    Attributes
    ----------
    compound, ordering
        Compound and ordering label (FM, AFM-I, AFM-II).
    group
        Energy group: the compound at one lattice constant (``energy_group`` of the frame).
    frame
        Cell, positions, initial moments and GPAW results (energy in eV, moments in mu_B); None
        when the calculation failed.
    kpoints
        Monkhorst-Pack grid.
    wall_time_s
        Wall time of the calculation that produced the energy (s).
    note
        Mixer used, or why it failed.
    """

    compound: str
    ordering: str
    group: str
    frame: Atoms | None
    kpoints: list[int]
    wall_time_s: float
    note: str


def deltaspin_lattice(box_path: Path = DELTASPIN_BOX) -> float:
    """Cubic rocksalt constant (Angstrom) with the volume per formula unit of the DeltaSpin NiO cell.

    ``a**3 / 4`` per formula unit; the 32-atom frames hold 16 formula units.
    """
    boxes = np.load(box_path).reshape(-1, 3, 3)
    volumes = np.abs(np.linalg.det(boxes))
    if np.ptp(volumes) > 1e-6 * volumes.mean():
        raise ValueError(f"{box_path}: frames have different volumes ({volumes.min()}-{volumes.max()} A^3)")
    return float((4.0 * volumes[0] / DELTASPIN_FORMULA_UNITS) ** (1.0 / 3.0))


def textbook_lattice(metal: str) -> float:
    """Experimental rocksalt constant (Angstrom) of ``textbook.rocksalt_afm2`` (its 4-atom cell is a**3/2)."""
    return float((2.0 * rocksalt_afm2(metal, "FM").volume) ** (1.0 / 3.0))


def rocksalt(metal: str, a: float) -> Structure:
    """Cubic rocksalt metal monoxide with lattice constant ``a`` (Angstrom)."""
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [metal, "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def demo_orderings(structure: Structure, config_path: Path = DEMO_CONFIG) -> list[Ordering]:
    """Collinear orderings of ``structure`` enumerated with the demo campaign's ``orderings`` settings."""
    settings = yaml.safe_load(config_path.read_text())["orderings"]
    result = enumerate_collinear(
        structure,
        max_magnetic_atoms=settings["max_magnetic_atoms"],
        max_orderings=settings["max_orderings"],
        moments=settings["moments"],
        source=config_path,
    )
    labels = [o.label for o in result.orderings]
    if sorted(labels) != sorted(ORDERING_LABELS):
        raise ValueError(f"{config_path}: expected orderings {ORDERING_LABELS}, the enumerator gave {labels}")
    return result.orderings


def _on_alarm(signum: int, frame: object) -> None:
    raise BudgetExceeded


def _broken_symmetry_point(
    ordering: Ordering, settings: GPAWSettings, workdir: Path, strain: np.ndarray
) -> tuple[float, object, bool]:
    """SCF of the ideal cell without point-group symmetry, started from a distorted cell's density.

    The cell is first strained by ``strain`` (one of ``KICK_STRAINS``) and the oxygen sublattice
    shifted by ``KICK_A`` along a direction of no symmetry and the SCF converged there, which
    splits the metal t2g levels; the ideal cell and positions are then restored and the SCF
    continues from that density. Returns the energy (eV), the calculator and whether it was
    computed now (False: read from the restart file).
    """
    from gpaw import GPAW

    restart, inputs = workdir / RESTART_FILE, workdir / INPUTS_FILE
    record = json.loads(
        json.dumps(
            {
                "settings": settings.as_dict(),
                "kick_A": KICK_A,
                "kick_strain": strain.tolist(),
                "cell": np.round(ordering.structure.lattice.matrix, 6).tolist(),
                "moments": ordering.to_atoms().get_initial_magnetic_moments().tolist(),
            }
        )
    )
    if restart.is_file() and inputs.is_file() and json.loads(inputs.read_text()) == record:
        calc = GPAW(str(restart), txt=None)
        return float(calc.get_potential_energy()), calc, False
    atoms = ordering.to_atoms()
    ideal = atoms.copy()
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + strain), scale_atoms=True)
    oxygen = np.array(atoms.get_chemical_symbols()) == "O"
    atoms.positions[oxygen] += KICK_A * KICK_DIRECTION / np.linalg.norm(KICK_DIRECTION)
    atoms.calc = gpaw_calculator(atoms, settings, txt=workdir / "gpaw.txt")
    atoms.get_potential_energy()
    atoms.set_cell(ideal.cell, scale_atoms=False)
    atoms.set_positions(ideal.positions)
    energy = float(atoms.get_potential_energy())
    atoms.calc.write(str(restart))
    inputs.write_text(json.dumps(record))
    return energy, atoms.calc, True


def _attempt(
    ordering: Ordering, settings: GPAWSettings, workdir: Path, strain: np.ndarray | None, command: str
) -> tuple[Atoms, float, str]:
    """Single point of one ordering in ``workdir``; the frame, the wall time (s) and the command that
    made it (``command`` when computed now, else the one recorded in the status file).

    ``strain`` None: ``single_point`` with symmetry; else ``_broken_symmetry_point`` from that strain.
    """
    from gpaw import KohnShamConvergenceError

    workdir.mkdir(parents=True, exist_ok=True)
    status_path = workdir / STATUS_FILE
    record = json.loads(json.dumps(settings.as_dict()))
    if status_path.is_file():
        status = json.loads(status_path.read_text())
        if status["status"] == "failed" and status.get("settings") == record:
            raise KohnShamConvergenceError(status["reason"])
    start = time.perf_counter()
    try:
        if strain is not None:
            energy, calc, computed = _broken_symmetry_point(ordering, settings, workdir, strain)
            atoms, moments = calc.get_atoms(), np.asarray(calc.get_magnetic_moments(), dtype=float)
        else:
            structure = ordering_input(ordering.structure, source=ordering.label)
            result = single_point(structure, settings, workdir)
            atoms, energy, moments = result.atoms, result.energy_eV, result.moments[:, 2]
            computed = result.wall_time_s > 0
    except KohnShamConvergenceError as error:
        status_path.write_text(
            json.dumps({"status": "failed", "settings": record, "reason": f"SCF not converged: {error}"})
        )
        raise
    if computed:
        elapsed = time.perf_counter() - start
        status_path.write_text(
            json.dumps({"status": "done", "settings": record, "wall_time_s": elapsed, "command": command})
        )
    status = json.loads(status_path.read_text())
    wall, made_by = status["wall_time_s"], status.get("command", FIRST_COMMAND)
    frame = atoms.copy()
    frame.set_initial_magnetic_moments(ordering.to_atoms().get_initial_magnetic_moments())
    frame.calc = SinglePointCalculator(frame, energy=energy, magmoms=moments)
    return frame, wall, made_by


def run_ordering(
    compound: str,
    group: str,
    ordering: Ordering,
    settings: GPAWSettings,
    workdir: Path,
    *,
    starts: int = 0,
    command: str = "",
) -> OrderingResult:
    """Compute one ordering, retrying with ``GENTLE_MIXER`` when the default SCF does not converge.

    With ``starts`` > 0 the SCF runs without point-group symmetry from that many distorted starts
    (``_broken_symmetry_point`` with the first ``starts`` of ``KICK_STRAINS``) and the lowest
    energy is kept. Raises ``BudgetExceeded`` (from the alarm) when the compound's time runs out.
    """
    from gpaw import KohnShamConvergenceError

    grid = kpoint_grid(ordering.to_atoms(), settings.kpoint_density)
    if starts:
        settings = _with_extra(settings, symmetry={"point_group": False})
        runs = [
            (
                f", no point-group symmetry, distorted start {i}",
                strain,
                workdir.with_name(workdir.name + "-nosym" + (str(i) if i else "")),
            )
            for i, strain in enumerate(KICK_STRAINS[:starts])
        ]
    else:
        runs = [("", None, workdir)]
    reasons, found = [], []
    for start_note, strain, folder in runs:
        for note, attempt_settings, attempt_folder in (
            ("default mixer", settings, folder),
            (
                "Pulay mixer beta 0.02",
                _with_extra(settings, mixer=GENTLE_MIXER),
                folder.with_name(folder.name + "-gentle"),
            ),
        ):
            try:
                frame, wall, made_by = _attempt(ordering, attempt_settings, attempt_folder, strain, command)
            except KohnShamConvergenceError as error:
                reasons.append(f"{note}{start_note}: {error or 'SCF not converged'}")
                continue
            found.append((frame, wall, note + start_note, attempt_settings, made_by))
            break
    if not found:
        return OrderingResult(compound, ordering.label, group, None, grid, float("nan"), "; ".join(reasons))
    frame, wall, note, used, made_by = min(found, key=lambda item: item[0].get_potential_energy())
    if len(found) > 1:
        note += f" (lowest of {len(found)} starts)"
    frame.info.update(_frame_info(compound, group, ordering, used, grid, wall, note))
    frame.info["command"] = made_by
    return OrderingResult(compound, ordering.label, group, frame, grid, wall, note)


def _with_extra(settings: GPAWSettings, **extra: object) -> GPAWSettings:
    return GPAWSettings(**{**settings.__dict__, "extra": {**settings.extra, **extra}})


def _frame_info(
    compound: str,
    group: str,
    ordering: Ordering,
    settings: GPAWSettings,
    grid: list[int],
    wall: float,
    note: str,
) -> dict:
    u = hubbard_u_for(ordering.to_atoms().get_chemical_symbols(), settings.hubbard)
    return {
        "compound": compound,
        "ordering": ordering.label,
        "energy_group": group,
        "fingerprint": ordering.fingerprint,
        "xc": f"{settings.xc}+U" if u else settings.xc,
        "hubbard_u_eV": float(next(iter(u.values()), 0.0)),
        "ecut_eV": float(settings.ecut_eV),
        "kpoint_density_per_A": float(settings.kpoint_density),
        "kpoints": "x".join(str(n) for n in grid),
        "smearing_eV": float(settings.smearing_eV),
        "mixer": note,
        "gpaw_version": gpaw_version(),
        "wall_time_s": round(float(wall), 1),
    }


def metal_of(compound: str) -> str:
    """Metal symbol of a monoxide formula ('NiO' -> 'Ni')."""
    return compound[:-1]


def exchange_constants(relative: dict[str, float]) -> tuple[float, float]:
    """Heisenberg J1, J2 (meV, unit spins, E = sum over pairs J S_i.S_j) from the ordering energies.

    Per metal atom: E(FM) = 6 J1 + 3 J2, E(AFM-I) = -2 J1 + 3 J2, E(AFM-II) = -3 J2, so with
    energies relative to AFM-II, J1 = (E_FM - E_AFM-I) / 8 and J2 = (E_AFM-I + 2 J1) / 6.
    Positive J is antiferromagnetic.
    """
    j1 = (relative["FM"] - relative["AFM-I"]) / 8.0
    return j1, (relative["AFM-I"] + 2.0 * j1) / 6.0


def relative_energies_meV(results: list[OrderingResult]) -> dict[str, float]:
    """E - E(AFM-II) per metal atom (meV) of the finished orderings of one group; {} without AFM-II."""
    per_metal = {}
    for r in results:
        if r.frame is not None:
            n_metal = sum(s != "O" for s in r.frame.get_chemical_symbols())
            per_metal[r.ordering] = r.frame.get_potential_energy() / n_metal
    if "AFM-II" not in per_metal:
        return {}
    return {label: 1000.0 * (e - per_metal["AFM-II"]) for label, e in per_metal.items()}


def group_name(compound: str, scale: float) -> str:
    """Energy group of a compound at ``scale`` times its reference lattice constant ('MnO', 'MnO@0.98')."""
    return compound if scale == 1.0 else f"{compound}@{scale:g}"


def rocksalt_constant(frame: Atoms) -> float:
    """Cubic rocksalt constant (Angstrom) with the frame's volume per metal atom (a**3 / 4)."""
    n_metal = sum(s != "O" for s in frame.get_chemical_symbols())
    return float((4.0 * frame.get_volume() / n_metal) ** (1.0 / 3.0))


def results_from_file(extxyz: Path, skip: set[tuple[str, str]]) -> list[OrderingResult]:
    """The finished frames already in ``extxyz`` but not in ``skip`` (energy group, ordering), as results."""
    if not extxyz.is_file():
        return []
    kept = []
    for frame in read(extxyz, index=":", format="extxyz"):
        info = frame.info
        if (info["energy_group"], info["ordering"]) in skip:
            continue
        info.setdefault("command", FIRST_COMMAND)
        kept.append(
            OrderingResult(
                info["compound"],
                info["ordering"],
                info["energy_group"],
                frame,
                [int(n) for n in str(info["kpoints"]).split("x")],
                float(info["wall_time_s"]),
                str(info["mixer"]),
            )
        )
    return kept


def write_outputs(results: list[OrderingResult], extxyz: Path) -> None:
    """Rewrite the extended XYZ file and its Markdown summary from ``results``, one section per group."""
    extxyz.parent.mkdir(parents=True, exist_ok=True)
    frames = [r.frame for r in results if r.frame is not None]
    if frames:
        write(extxyz, frames, format="extxyz")
    info = frames[0].info if frames else {}
    lines = [
        "# GPAW ordering ladders of the rocksalt monoxides",
        "",
        f"Frames: `{extxyz.name}` (one per compound, lattice constant and ordering; `energy` eV,",
        "`magmoms` mu_B; energies compare only within one `energy_group`: the compound at one lattice",
        "constant, named `MnO` at the reference constant and `MnO@0.98` at 0.98 times it). Produced by",
        "",
        *[f"    {made_by}" for made_by in dict.fromkeys(f.info["command"] for f in frames)],
        "",
        "(each run rewrites the groups it computes and keeps the others already in the file; the",
        "`command` of each frame says which run made it, restart files in the work directory).",
        "",
        f"Settings: GPAW {gpaw_version()}, {info.get('xc', 'PBE+U')} (Materials Project U on the metal d",
        f"shell), {info.get('ecut_eV', 550.0):g} eV plane waves, Gamma-centred k-grids (density per group",
        f"below), Fermi-Dirac {info.get('smearing_eV', 0.05):g} eV, SCF tolerance 2e-05 eV per valence",
        "electron, at most 200 SCF iterations; a second try with a Pulay mixer (beta 0.02) when the",
        "first does not converge.",
        "Orderings from `magscreen.magnetism.enumerate_collinear` with configs/demo.yaml's `orderings`",
        "(ideal cubic rocksalt, unrelaxed). Starting moments from that file. Reference lattice",
        "constants: NiO at the DeltaSpin training cell, the others experimental",
        "(`magscreen.validation.gpaw.textbook`); `--scales` adds isotropically strained copies.",
        "",
        "High-spin Fe2+ (d6) and Co2+ (d7) have partly filled minority t2g levels. With the symmetry of",
        "the ideal cells imposed, PBE+U converges to metallic states with fractional t2g occupations",
        "(CoO FM, FeO FM and AFM-II), up to ~0.9 eV per metal atom above the gapped ones. Those",
        "compounds are therefore computed without point-group symmetry (time reversal kept), starting",
        "from the density of a distorted cell (generic 4 % strain, oxygen sublattice shifted by",
        f"{KICK_A} A along (1,2,3)); the SCF then continues in the ideal cell and keeps an orbitally",
        "ordered, gapped state; with several starts (the strain's axes permuted) the lowest is kept.",
        "This finds a low-lying state, not provably the lowest one (the note column says which start),",
        "and the k-point density is lower (no symmetry reduction of the grid). CoO shows how many such",
        "states there are: its FM cell started from 2.5 mu_B per Co converged 190 meV lower than from",
        "2.6 mu_B (the file keeps the lower, from the first run); AFM-I came out 279 meV/Co above AFM-II",
        "from each of three distorted starts (its gap 1.5 eV against AFM-II's 3.0 eV: an orbital order",
        "the tetragonal AFM-I cell favours, so its energy is partly orbital, not magnetic); and AFM-II",
        "at 0.98 a lies 70 meV/Co above FM, against 76 and 64 meV below it at a and 1.02 a.",
        "",
        "Heisenberg J1, J2: E = sum over pairs J S_i.S_j with unit spins, per metal atom",
        "FM = 6 J1 + 3 J2, AFM-I = -2 J1 + 3 J2, AFM-II = -3 J2 (positive J antiferromagnetic).",
        "",
    ]
    for name in dict.fromkeys(r.group for r in results):
        group = [r for r in results if r.group == name]
        done = [r.frame for r in group if r.frame is not None]
        if done:
            head = done[0].info
            symmetry = ", no point-group symmetry" if "no point-group symmetry" in head["mixer"] else ""
            lines += [
                f"## {name}, a = {rocksalt_constant(done[0]):.4f} A, U = {head['hubbard_u_eV']:g} eV, "
                f"{head['ecut_eV']:g} eV, {head['kpoint_density_per_A']:g} k-points per 1/A{symmetry}"
            ]
        else:
            lines += [f"## {name}"]
        lines += [
            "",
            "| ordering | cell atoms | k-grid | E - E(AFM-II) (meV/metal) | metal moment (mu_B) | wall (s) "
            "| note |",
            "|---|---|---|---|---|---|---|",
        ]
        relative = relative_energies_meV(group)
        for r in group:
            if r.frame is None:
                lines.append(f"| {r.ordering} | | {'x'.join(map(str, r.kpoints))} | failed | | | {r.note} |")
                continue
            metal = [
                abs(m)
                for s, m in zip(r.frame.get_chemical_symbols(), r.frame.get_magnetic_moments(), strict=True)
                if s != "O"
            ]
            gap = f"{relative[r.ordering]:+.1f}" if r.ordering in relative else "(no AFM-II)"
            lines.append(
                f"| {r.ordering} | {len(r.frame)} | {'x'.join(map(str, r.kpoints))} | {gap} | "
                f"{np.mean(metal):.3f} | {r.wall_time_s:.0f} | {r.note} |"
            )
        if all(label in relative for label in ORDERING_LABELS):
            j1, j2 = exchange_constants(relative)
            lines += ["", f"J1 = {j1:+.2f} meV, J2 = {j2:+.2f} meV"]
        lines.append("")
    extxyz.with_suffix(".md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compounds", nargs="+", default=list(COMPOUNDS), choices=COMPOUNDS)
    parser.add_argument(
        "--scales",
        nargs="+",
        type=float,
        default=[1.0],
        help="lattice constants as multiples of the reference one (one energy group each)",
    )
    parser.add_argument(
        "--orderings",
        nargs="+",
        default=list(ORDERING_LABELS),
        choices=ORDERING_LABELS,
        help="orderings to compute (the others of a group are kept from the output file)",
    )
    parser.add_argument("--ecut", type=float, default=550.0, help="plane-wave cutoff (eV)")
    parser.add_argument("--kpoint-density", type=float, default=3.0, help="k-points per 1/Angstrom")
    parser.add_argument(
        "--budget-min",
        type=float,
        default=15.0,
        help="wall-time budget per group (minutes); the calculation in flight is dropped",
    )
    parser.add_argument(
        "--broken-symmetry",
        nargs="*",
        default=["CoO", "FeO"],
        choices=COMPOUNDS,
        help="compounds of orbitally degenerate ions, computed without point-group "
        "symmetry from a distorted start",
    )
    parser.add_argument(
        "--starts",
        type=int,
        default=1,
        choices=range(1, len(KICK_STRAINS) + 1),
        help="distorted starts per ordering of those compounds (the lowest is kept)",
    )
    parser.add_argument(
        "--all-starts",
        nargs="*",
        default=[],
        metavar="COMPOUND:ORDERING",
        help=f"orderings that get all {len(KICK_STRAINS)} distorted starts, e.g. CoO:AFM-I",
    )
    parser.add_argument(
        "--broken-symmetry-kpoint-density",
        type=float,
        default=2.0,
        help="k-points per 1/Angstrom for those (no symmetry reduction of the grid)",
    )
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    command = "OMP_NUM_THREADS=1 python scripts/reference/monoxide_orderings.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    settings = {
        c: GPAWSettings(
            ecut_eV=args.ecut,
            hubbard="mp",
            kpoint_density=args.broken_symmetry_kpoint_density
            if c in args.broken_symmetry
            else args.kpoint_density,
        )
        for c in args.compounds
    }
    lattices = {
        c: deltaspin_lattice() if c == "NiO" else textbook_lattice(metal_of(c)) for c in args.compounds
    }
    groups = {group_name(c, scale): (c, a * scale) for c, a in lattices.items() for scale in args.scales}
    print(
        f"NiO lattice from the DeltaSpin cell ({DELTASPIN_BOX}): a = {deltaspin_lattice():.4f} A", flush=True
    )
    signal.signal(signal.SIGALRM, _on_alarm)
    results = results_from_file(args.output, skip={(g, label) for g in groups for label in args.orderings})
    for name, (compound, a) in groups.items():
        orderings = demo_orderings(rocksalt(metal_of(compound), a))
        start = time.monotonic()
        signal.alarm(int(args.budget_min * 60))
        try:
            for ordering in (o for o in orderings if o.label in args.orderings):
                grid = kpoint_grid(ordering.to_atoms(), settings[compound].kpoint_density)
                print(f"{name} {ordering.label}: {len(ordering.structure)} atoms, k {grid} ...", flush=True)
                starts = (
                    0
                    if compound not in args.broken_symmetry
                    else (
                        len(KICK_STRAINS)
                        if f"{compound}:{ordering.label}" in args.all_starts
                        else args.starts
                    )
                )
                result = run_ordering(
                    compound,
                    name,
                    ordering,
                    settings[compound],
                    args.workdir / name / ordering.label,
                    starts=starts,
                    command=command,
                )
                results.append(result)
                energy = "failed" if result.frame is None else f"{result.frame.get_potential_energy():.6f} eV"
                print(f"  {energy}, {result.wall_time_s:.0f} s, {result.note}", flush=True)
                write_outputs(results, args.output)
        except BudgetExceeded:
            elapsed = time.monotonic() - start
            print(f"{name}: budget of {args.budget_min} min used up after {elapsed:.0f} s", flush=True)
            done = {r.ordering for r in results if r.group == name}
            results += [
                OrderingResult(
                    compound,
                    o.label,
                    name,
                    None,
                    kpoint_grid(o.to_atoms(), settings[compound].kpoint_density),
                    float("nan"),
                    f"not finished within {args.budget_min:g} min",
                )
                for o in orderings
                if o.label not in done and o.label in args.orderings
            ]
            write_outputs(results, args.output)
        finally:
            signal.alarm(0)
        relative = relative_energies_meV([r for r in results if r.group == name])
        print(f"{name}: E - E(AFM-II) (meV/metal) {relative}", flush=True)
        if all(label in relative for label in ORDERING_LABELS):
            print(f"{name}: J1, J2 = {exchange_constants(relative)} meV", flush=True)


if __name__ == "__main__":
    main()
