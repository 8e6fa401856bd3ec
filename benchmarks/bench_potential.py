"""Step time and peak memory of the magnetic potential against SevenNet-0 and CHGNet.

One step is one ASE calculation of energy, forces and stress (and, for magscreen, magnetic
forces) after the atoms moved, so every calculator rebuilds its neighbour list. Each case runs in
its own single-threaded subprocess so that its peak memory is its own. Ratios use the process CPU
time of a step, which a busy shared machine disturbs far less than wall time (both are printed).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py            # full table
    OMP_NUM_THREADS=1 python benchmarks/bench_potential.py --quick    # small cells only

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


def run_case(calculator: str, cell: str, repeats: int) -> dict:
    """Time ``repeats`` steps (after one warm-up step) in this process."""
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
        atoms.positions += 0.01 * rng.normal(size=atoms.positions.shape)
        start, start_cpu = time.perf_counter(), time.process_time()
        atoms.calc.calculate(atoms, properties, ["positions"])
        if step:
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "calculator": calculator,
        "cell": cell,
        "atoms": len(atoms),
        "step_s": statistics.median(cpu),
        "wall_s": statistics.median(wall),
        "peak_rss_mib": peak,
        "step_memory_mib": peak - rss_before,
    }


def _subprocess_case(calculator: str, cell: str, repeats: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [sys.executable, __file__, "--case", calculator, cell, "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        return {"calculator": calculator, "cell": cell, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    """Markdown table with the ratio of every step's CPU time to SevenNet-0's on the same cell."""
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


def scaling(results: list[dict]) -> str:
    """CPU-time ratio of the large to the small cell of each material (linear cost: 8x atoms)."""
    times = {(r["calculator"], r["cell"]): r["step_s"] for r in results if "step_s" in r}
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
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per case (median reported)")
    parser.add_argument("--quick", action="store_true", help="small cells only")
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1], args.repeats)))
        return

    from tqdm import tqdm

    cells = ["Fe-54", "NiO-32"] if args.quick else list(CELLS)
    cases = [(calc, cell) for cell in cells for calc in ("sevennet-0", *CALCULATORS[:2], "chgnet")]
    load_before = os.getloadavg()[0]
    results = []
    for calculator, cell in tqdm(cases, desc="benchmark cases"):
        results.append(_subprocess_case(calculator, cell, args.repeats))
    print(
        f"\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores visible, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}, "
        f"1 thread per case, float32, CPU, median of {args.repeats} steps\n"
    )
    print(table(results))
    print()
    print(scaling(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
