"""Store cost at campaign scale: N ordering documents, each checked by key then upserted.

This is what every relaxation job does (resume check, then upsert). Wall times, with the process CPU
time beside the totals (a loaded shared machine inflates the wall times). Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_stores.py --store sqlite --n 2000
    OMP_NUM_THREADS=1 python benchmarks/bench_stores.py --store monty --n 1000

``--store monty`` needs montydb (the ``bench`` extra: ``pip install -e ".[bench]"``);
magscreen itself does not use it.
Results: docs/benchmarks.md, "Stores at campaign scale".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from magscreen.store import SQLiteStore


def ordering_doc(i: int, structure: dict) -> dict:
    """A document the size of a MagneticOrderingDoc of a 32-atom NiO supercell."""
    return {
        "ordering_id": f"mp-{i // 8}:{i:016x}:model",
        "candidate_id": f"mp-{i // 8}",
        "ground_state_label": "AFM-II" if i % 3 else "FM",
        "structure": structure,
        "energy_eV": -150.0 - 0.01 * i,
        "magnetic_moments": [1.7] * 16 + [0.0] * 16,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "monty"], default="sqlite")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    structure = Structure(Lattice.cubic(8.36), ["Ni"] * 16 + ["O"] * 16, rng.random((32, 3)))
    structure.add_site_property("magmom", [2.0] * 16 + [0.0] * 16)
    as_dict = structure.as_dict()
    folder = Path(tempfile.mkdtemp())
    if args.store == "sqlite":
        store = SQLiteStore(str(folder / "db.sqlite"), "orderings", key="ordering_id")
    else:
        from maggma.stores import MontyStore

        store = MontyStore("orderings", database_path=str(folder), key="ordering_id")
    store.connect()
    print(f"{args.store}, {args.n} documents, load average {os.getloadavg()[0]:.1f}", flush=True)
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(args.n):
        doc = ordering_doc(i, as_dict)
        assert store.query_one({"ordering_id": doc["ordering_id"]}) is None
        store.update(doc)
        if (i + 1) % 500 == 0:
            print(f"{i + 1} check+upsert: {time.perf_counter() - start:.1f} s", flush=True)
    upserts, upserts_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    start, start_cpu = time.perf_counter(), time.process_time()
    hits = list(store.query({"ground_state_label": "AFM-II"}, properties=["candidate_id"]))
    scan, scan_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(
        f"{args.store}: {args.n} check+upsert {upserts:.1f} s ({upserts_cpu:.1f} s CPU); "
        f"full-scan query ({len(hits)} hits) {scan:.2f} s ({scan_cpu:.2f} s CPU)"
    )
    finished = datetime.now(timezone.utc)
    print(f"load average {os.getloadavg()[0]:.1f}, {finished:%Y-%m-%d %H:%M} UTC, commit {_commit()}")


def _commit() -> str:
    """The checkout's commit, with ``+dirty`` when the store code differs from it."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "magscreen/store.py", "benchmarks/bench_stores.py")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")


if __name__ == "__main__":
    main()
