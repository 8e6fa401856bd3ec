"""Export a build's records: ``<compound>.extxyz`` per compound and ``provenance.json``.

Each frame carries the per-atom arrays ``magmoms`` (self-consistent DFT moments, mu_B) and
``forces`` (eV/Angstrom), and the info keys ``energy`` (eV), ``stress`` (eV/Angstrom^3, ASE
convention), ``energy_group`` (``<compound>@<scale>``), ``compound``, ``ordering``, ``kind``,
``scale``, ``converged`` and ``frame_id``; ``magscreen.training.data.read_extxyz`` reads them as
training frames. A ``force_theorem`` frame adds ``ft_directions`` (K Cartesian unit vectors,
flattened to 3K numbers) and ``ft_band_energies_eV`` (K band energies of the cell, eV; only their
differences are labels). Failed frames are not exported; the provenance lists them with their reasons. The
export owns ``*.extxyz`` in its folder: files of compounds without exported frames are removed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from magscreen.dataset.store import FrameStore

__all__ = ["export_dataset", "record_atoms"]

PROVENANCE = "provenance.json"


def record_atoms(record: dict, stress: bool = True) -> Atoms:
    """A finished record as ASE ``Atoms`` with its labels (single-point calculator) and info keys.

    ``stress`` False leaves the record's stress out (a build whose settings do not trust it).
    """
    atoms = Atoms(
        symbols=record["symbols"], positions=record["positions"], cell=record["cell"], pbc=record["pbc"]
    )
    atoms.set_initial_magnetic_moments(record["initial_magmoms"])
    results = {"energy": float(record["energy"]), "magmoms": np.asarray(record["magmoms"], dtype=float)}
    if record.get("forces") is not None:
        results["forces"] = np.asarray(record["forces"], dtype=float)
    if stress and record.get("stress") is not None:
        results["stress"] = np.asarray(record["stress"], dtype=float)
    atoms.calc = SinglePointCalculator(atoms, **results)
    for key in ("frame_id", "compound", "ordering", "kind", "energy_group", "scale", "converged", "attempt"):
        atoms.info[key] = record[key]
    for key, value in record.get("parameters", {}).items():  # kind-specific settings
        atoms.info[key] = np.asarray(value, dtype=float) if isinstance(value, list) else value
    atoms.info["kpoints"] = "x".join(str(n) for n in record.get("kpoints", []))
    if "force_theorem" in record:  # the labels of a force_theorem frame: band energy per direction
        scan = record["force_theorem"]
        atoms.info["kpoints"] = "x".join(str(n) for n in scan["kpoint_grid"])
        atoms.info["ft_directions"] = np.asarray(scan["directions"], dtype=float).reshape(-1)
        atoms.info["ft_band_energies_eV"] = np.asarray(scan["band_energies_eV"], dtype=float)
    atoms.info["wall_time_s"] = record["wall_time_s"]
    return atoms


def export_dataset(
    work_dir: str | Path,
    export_dir: str | Path,
    provenance: dict,
    *,
    stress: bool = True,
    exclude: set[str] | frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Write the finished frames per compound and the provenance file; returns frames per compound.

    Parameters
    ----------
    work_dir
        The build's work folder.
    export_dir
        Destination folder (``reference/dataset``).
    provenance
        Settings, engine versions and build command to record (``provenance.json`` adds the date,
        per-frame wall times and the failed frames).
    stress
        Export the stress where a record has one.
    exclude
        Frame ids left out (records made with settings the build no longer uses).
    """
    from ase.io import write

    store = FrameStore(work_dir)
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    by_compound: dict[str, list[dict]] = defaultdict(list)
    failed = {}
    for frame_id, record in store.records().items():
        if frame_id in exclude:
            continue
        if record["status"] == "done":
            by_compound[record["compound"]].append(record)
        else:
            failed[frame_id] = record["reason"]
    counts = {}
    for compound, records in sorted(by_compound.items()):
        records.sort(key=lambda r: (r["scale"], r["kind"], r["frame_id"]))
        path = export_dir / f"{compound}.extxyz"
        tmp = path.with_name(f".{path.name}.tmp")
        write(tmp, [record_atoms(r, stress) for r in records], format="extxyz")
        tmp.replace(path)
        counts[compound] = len(records)
    for path in export_dir.glob("*.extxyz"):  # a compound with no exported frame left
        if path.stem not in counts:
            path.unlink()
    frames = {
        fid: {
            "compound": r["compound"],
            "kind": r["kind"],
            "ordering": r["ordering"],
            "scale": r["scale"],
            "status": r["status"],
            "wall_time_s": r["wall_time_s"],
            "attempt": r.get("attempt"),
            "kpoints": r.get("kpoints"),
            "date": r["date"],
            "command": r["command"],
        }
        for fid, r in store.records().items()
    }
    document = {
        **provenance,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "frames_per_compound": counts,
        "failed": failed,
        "frames": frames,
    }
    (export_dir / PROVENANCE).write_text(json.dumps(document, indent=1) + "\n")
    return counts
