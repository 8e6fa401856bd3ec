"""Start-up cost of the ``magscreen`` command line: CPU seconds (user + sys) of whole commands.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_cli.py --json benchmarks/results/bench_cli.json``
(``--repeats N``, default 7).

Each command runs ``--repeats`` times in a fresh process (after one unmeasured warm-up run that
fills the file cache); the CPU time of each run is the child's user + sys time from
``resource.getrusage(RUSAGE_CHILDREN)``, so other processes on a loaded machine do not count.
Targets (issue 17): ``magscreen --help`` <= 1.0 s CPU; ``magscreen orderings`` on a 2-atom bcc
Fe cell <= 3.0 s CPU. Prints a markdown table and writes the raw numbers, machine and commit as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: name -> (arguments after ``magscreen``, target in CPU seconds)
COMMANDS = {
    "magscreen --help": (["--help"], 1.0),
    "magscreen orderings Fe-bcc.cif": (["orderings", "{fe}"], 3.0),
}

FE_BCC_CIF = """data_Fe
_cell_length_a 2.87
_cell_length_b 2.87
_cell_length_c 2.87
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Fe1 Fe 0 0 0
Fe2 Fe 0.5 0.5 0.5
"""


def run_once(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """CPU seconds (user + sys) and wall seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def git_commit(root: Path) -> str:
    """Commit of the checkout at ``root`` (with '+dirty' when it has uncommitted changes)."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
    ).stdout
    return commit.strip() + ("+dirty" if dirty.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="Measured runs per command.")
    parser.add_argument("--json", type=Path, default=None, help="Write the raw numbers here.")
    parser.add_argument(
        "--checkout",
        type=Path,
        default=Path(__file__).resolve().parents[1],
        help="Measure the magscreen package of another checkout (e.g. a git worktree of an older commit).",
    )
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(args.checkout.resolve())}
    executable = shutil.which("magscreen") or str(Path(sys.executable).with_name("magscreen"))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        fe = Path(folder) / "Fe-bcc.cif"
        fe.write_text(FE_BCC_CIF)
        for name, (arguments, target) in COMMANDS.items():
            command = [executable, *(a.format(fe=fe) for a in arguments)]
            run_once(command, env)  # warm-up: file cache, .pyc files
            runs = [run_once(command, env) for _ in range(args.repeats)]
            cpu = statistics.median(r[0] for r in runs)
            rows.append(
                {
                    "command": name,
                    "cpu_s_median": round(cpu, 3),
                    "cpu_s_runs": [round(r[0], 3) for r in runs],
                    "wall_s_median": round(statistics.median(r[1] for r in runs), 3),
                    "target_cpu_s": target,
                    "meets_target": cpu <= target,
                }
            )
    print("| command | CPU median (s) | CPU min-max (s) | wall median (s) | target (s CPU) | met |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        low, high = min(row["cpu_s_runs"]), max(row["cpu_s_runs"])
        met = "yes" if row["meets_target"] else "NO"
        print(
            f"| `{row['command']}` | {row['cpu_s_median']:.2f} | {low:.2f}-{high:.2f} | "
            f"{row['wall_s_median']:.2f} | {row['target_cpu_s']:.1f} | {met} |"
        )
    if args.json is not None:
        result = {
            "commit": git_commit(args.checkout),
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "repeats": args.repeats,
            "rows": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
