"""Step time and peak memory of the magnetic potential against SevenNet-0 and CHGNet.

One step is one ASE calculation of energy, forces and stress (and, for magscreen, magnetic
forces) after the atoms moved, so every calculator rebuilds its neighbour list. Each case runs in
its own single-threaded subprocess so that its peak memory is its own. Ratios use the process CPU
time of a step, which a busy shared machine disturbs far less than wall time (both are printed).

Spin-only re-evaluation (magscreen only): after one full step, only the moments change (every
direction tilted at random by about 6 degrees per step) and the calculator is asked for energy and
magnetic forces (``spin``: what spin relaxation, Monte Carlo and anisotropy sweeps need), or for
everything (``spin-all``: forces and stress too). Its ratio to the full step of the same run is
the speed-up of reusing the neighbour list and the backbone pass.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py            # full table
    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py --quick    # small cells only
    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py --quick --json out.json  # + raw results
    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py --cells Fe-432 --no-chgnet  # one cell
    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py --calculators sevennet-0 magscreen-soc-off

Cells: bcc Fe (a = 2.83 Angstrom, ferromagnetic 2.2 mu_B) with 54 and 432 atoms; NiO rocksalt
(a = 4.17 Angstrom, AFM-II, Ni 1.7 mu_B) with 32 and 256 atoms. Moments are tilted off z so the
spin-orbit blocks see non-collinear input.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np

CELLS = {"Fe-54": (3, 3, 3), "Fe-432": (6, 6, 6), "NiO-32": (2, 2, 1), "NiO-256": (4, 4, 2)}
CALCULATORS = ("magscreen-soc-off", "magscreen-soc-on", "sevennet-0", "chgnet")
SPIN_MODES = {
    "spin": ["energy", "magnetic_forces"],
    "spin-all": ["energy", "forces", "stress", "magnetic_forces"],
}
"""Spin-only modes of the magscreen calculators and the properties each step asks for."""


def build_cell(name: str):
    """The benchmark structure ``name`` with its moments (Bohr magnetons, (N, 3))."""
    from ase.build import bulk

    repeat = CELLS[name]
    rng = np.random.default_rng(0)
    if name.startswith("Fe"):
        atoms = bulk("Fe", "bcc", a=2.83, cubic=True).repeat(repeat)
        size = np.full(len(atoms), 2.2)
    else:
        atoms = bulk("NiO", "rocksalt", a=4.17, cubic=True).repeat(repeat)
        plane = np.round(atoms.positions.sum(axis=1) / (4.17 / 2)).astype(int) // 2  # (111) Ni planes
        size = np.where(atoms.numbers == 28, np.where(plane % 2 == 0, 1.7, -1.7), 0.0)
    direction = np.array([0.0, 0.0, 1.0]) + 0.2 * rng.normal(size=(len(atoms), 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    atoms.set_initial_magnetic_moments(None)
    atoms.set_initial_magnetic_moments(size[:, None] * direction)
    return atoms


def make_calculator(name: str):
    """ASE calculator for one of :data:`CALCULATORS` (float32, CPU)."""
    if name.startswith("magscreen"):
        from magscreen.potential import MagneticCalculator, MagneticPotential

        return MagneticCalculator(
            MagneticPotential.from_sevennet(soc=name.endswith("on"), zero_magnetic=False)
        )
    if name == "sevennet-0":
        from sevenn.calculator import SevenNetCalculator

        from magscreen.potential.backbone import SEVENNET0_CHECKPOINT

        return SevenNetCalculator(str(SEVENNET0_CHECKPOINT), device="cpu")
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(CHGNet.load(verbose=False), use_device="cpu")


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tilt(moments: np.ndarray, rng: np.random.Generator, angle: float = 0.1) -> np.ndarray:
    """Every moment turned by a random rotation of about ``angle`` radians, lengths kept."""
    size = np.linalg.norm(moments, axis=1, keepdims=True)
    direction = moments / np.where(size > 0, size, 1.0) + angle * rng.normal(size=moments.shape)
    return size * direction / np.linalg.norm(direction, axis=1, keepdims=True)


def run_case(calculator: str, cell: str, repeats: int, mode: str = "step") -> dict:
    """Time ``repeats`` steps (after one warm-up step) in this process.

    ``mode`` is ``step`` (the atoms move) or one of :data:`SPIN_MODES` (only the moments change).
    """
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    atoms = build_cell(cell)
    atoms.calc = make_calculator(calculator)
    rss_before = _rss_mib()
    properties = ["energy", "forces", "stress"] + (
        ["magnetic_forces"] if calculator.startswith("magscreen") else []
    )
    rng = np.random.default_rng(1)
    wall, cpu = [], []
    for step in range(repeats + 1):
        if step == 0 or mode == "step":
            atoms.positions += 0.01 * rng.normal(size=atoms.positions.shape)
            asked, changes = properties, ["positions"]
        else:
            atoms.set_initial_magnetic_moments(_tilt(atoms.get_initial_magnetic_moments(), rng))
            asked, changes = SPIN_MODES[mode], ["initial_magmoms"]
        start, start_cpu = time.perf_counter(), time.process_time()
        atoms.calc.calculate(atoms, asked, changes)
        if step:
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "calculator": calculator,
        "cell": cell,
        "mode": mode,
        "repeats": repeats,
        "atoms": len(atoms),
        "step_s": statistics.median(cpu),
        "wall_s": statistics.median(wall),
        "peak_rss_mib": peak,
        "step_memory_mib": peak - rss_before,
    }


def _subprocess_case(calculator: str, cell: str, repeats: int, mode: str = "step") -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [
        sys.executable,
        __file__,
        "--case",
        calculator,
        cell,
        "--repeats",
        str(repeats),
        "--mode",
        mode,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        error = done.stderr.strip().splitlines()[-1]
        return {"calculator": calculator, "cell": cell, "mode": mode, "error": error}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    """Markdown table with the ratio of every step's CPU time to SevenNet-0's on the same cell."""
    results = [r for r in results if r.get("mode", "step") == "step"]
    base = {r["cell"]: r["step_s"] for r in results if r["calculator"] == "sevennet-0" and "step_s" in r}
    lines = [
        "| cell | atoms | calculator | step CPU (s) | x SevenNet-0 | step wall (s) | peak RSS (MiB) "
        "| step memory (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['cell']} | | {r['calculator']} | failed: {r['error']} | | | | |")
            continue
        ratio = r["step_s"] / base[r["cell"]] if r["cell"] in base else float("nan")
        lines.append(
            f"| {r['cell']} | {r['atoms']} | {r['calculator']} | {r['step_s']:.3f} | {ratio:.2f} "
            f"| {r['wall_s']:.3f} | {r['peak_rss_mib']:.0f} | {r['step_memory_mib']:.0f} |"
        )
    return "\n".join(lines)


def spin_table(results: list[dict]) -> str:
    """Markdown table of the spin-only steps and their CPU-time ratio to a full step of the same run."""
    full = {
        (r["calculator"], r["cell"]): r["step_s"] for r in results if r["mode"] == "step" and "step_s" in r
    }
    lines = [
        "| cell | atoms | calculator | properties | spin-only step CPU (s) | full step CPU (s) "
        "| full / spin-only | spin-only wall (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["mode"] not in SPIN_MODES:
            continue
        asked = ", ".join(SPIN_MODES[r["mode"]])
        if "error" in r:
            lines.append(f"| {r['cell']} | | {r['calculator']} | {asked} | failed: {r['error']} | | | |")
            continue
        step = full.get((r["calculator"], r["cell"]), float("nan"))
        lines.append(
            f"| {r['cell']} | {r['atoms']} | {r['calculator']} | {asked} | {r['step_s']:.4f} | {step:.3f} "
            f"| {step / r['step_s']:.1f} | {r['wall_s']:.4f} |"
        )
    return "\n".join(lines)


def scaling(results: list[dict]) -> str:
    """CPU-time ratio of the large to the small cell of each material (linear cost: 8x atoms)."""
    times = {
        (r["calculator"], r["cell"]): r["step_s"] for r in results if r["mode"] == "step" and "step_s" in r
    }
    lines = []
    for calculator in CALCULATORS:
        for small, large in (("Fe-54", "Fe-432"), ("NiO-32", "NiO-256")):
            if (calculator, small) in times and (calculator, large) in times:
                ratio = times[calculator, large] / times[calculator, small]
                lines.append(f"- {calculator}: {large} / {small} step CPU time = {ratio:.2f} (8x atoms)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", nargs=2, metavar=("CALCULATOR", "CELL"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="step", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per case (median reported)")
    parser.add_argument("--spin-repeats", type=int, default=20, help="timed spin-only steps per case")
    parser.add_argument("--quick", action="store_true", help="small cells only")
    parser.add_argument("--cells", nargs="+", choices=list(CELLS), help="these cells only")
    parser.add_argument("--calculators", nargs="+", choices=CALCULATORS, help="these calculators only")
    parser.add_argument("--no-chgnet", action="store_true", help="leave CHGNet out (when not installed)")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1], args.repeats, args.mode)))
        return

    from tqdm import tqdm

    cells = args.cells or (["Fe-54", "NiO-32"] if args.quick else list(CELLS))
    peers = ("sevennet-0", *CALCULATORS[:2]) + (() if args.no_chgnet else ("chgnet",))
    cases = [(calc, cell, "step", args.repeats) for cell in cells for calc in peers]
    cases += [  # spin-all costs about a full step: as many repeats as a step
        (calc, cell, mode, args.spin_repeats if mode == "spin" else args.repeats)
        for cell in cells
        for calc in CALCULATORS[:2]
        for mode in SPIN_MODES
    ]
    if args.calculators:
        cases = [case for case in cases if case[0] in args.calculators]
    load_before = os.getloadavg()[0]
    started, commit = datetime.now(timezone.utc), _commit()  # the code measured, as the run starts
    results = []
    for calculator, cell, mode, repeats in tqdm(cases, desc="benchmark cases"):
        results.append(_subprocess_case(calculator, cell, repeats, mode))
    header = (
        f"{started:%Y-%m-%d %H:%M}-{datetime.now(timezone.utc):%H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, load average "
        f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}, 1 thread per case, float32, CPU, median of "
        f"{args.repeats} steps ({args.spin_repeats} steps in spin mode), magscreen commit {commit}"
    )
    print(f"\n{header}\n")
    print(table(results))
    print()
    print(spin_table(results))
    print()
    print(scaling(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"run": header, "results": results}, handle, indent=1)


def _commit(paths: tuple[str, ...] = ("magscreen/potential", "benchmarks/bench_potential.py")) -> str:
    """The checkout's commit, with ``+dirty`` when the code measured here (``paths``) differs from it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (
        "+dirty" if git("status", "--porcelain", "--", *paths) else ""
    )


if __name__ == "__main__":
    main()
