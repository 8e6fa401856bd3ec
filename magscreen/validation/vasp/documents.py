"""Turn atomate2 VASP task documents into :class:`DFTValidationDoc`.

Results are reported in the ordering's site order (the maker passes the permutation pymatgen
applied when writing the POSCAR).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from emmet.core.tasks import TaskDoc
from jobflow import job
from pymatgen.core import Structure

from magscreen.schemas.validation import DFTSettings, DFTValidationDoc

__all__ = ["force_theorem_anisotropy", "validation_document"]

EV_TO_UEV = 1e6
MONTY_TAGS = ("@module", "@class", "@version")
RECORDED_INCAR_TAGS = (
    "ISPIN",
    "LNONCOLLINEAR",
    "LSORBIT",
    "SAXIS",
    "ICHARG",
    "ISYM",
    "LDAU",
    "LDAUTYPE",
    "ISMEAR",
    "EDIFF",
    "NBANDS",
    "LMAXMIX",
    "LASPH",
    "PREC",
    "ALGO",
    "NSW",
    "IBRION",
    "ISIF",
    "MAGMOM",
)


def _task(task: TaskDoc | Mapping) -> TaskDoc:
    if isinstance(task, TaskDoc):
        return task
    return TaskDoc.model_validate({k: v for k, v in task.items() if not k.startswith("@")})


def _json_value(value):
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return np.asarray(value, dtype=float).tolist() if np.ndim(value) else float(value)


def _settings(task: TaskDoc, spin_orbit: bool, noncollinear: bool) -> DFTSettings:
    calc = task.calcs_reversed[0]
    incar = dict(calc.input.incar or {})
    parameters = dict(calc.input.parameters or {})
    kpoints = calc.input.kpoints
    grid = [int(k) for k in kpoints.kpts[0]] if kpoints is not None and len(kpoints.kpts) == 1 else None
    return DFTSettings(
        functional=_functional(task),
        plane_wave_cutoff_eV=parameters.get("ENCUT", incar.get("ENCUT")),
        kpoints=grid,
        smearing_eV=incar.get("SIGMA", parameters.get("SIGMA")),
        hubbard_u_eV={el: float(u) for el, u in (task.input.hubbards or {}).items() if u},
        spin_orbit=spin_orbit,
        noncollinear=noncollinear,
        extra={tag: _json_value(incar[tag]) for tag in RECORDED_INCAR_TAGS if tag in incar},
    )


def _functional(task: TaskDoc) -> str:
    """Functional name without the +U tag (U is recorded separately); VASP's 'GGA' is PBE."""
    run_type = str(getattr(task.run_type, "value", task.run_type)).removesuffix("+U")
    return "PBE" if run_type == "GGA" else run_type


def _moment_vectors(task: TaskDoc, axis: Sequence[float]) -> np.ndarray | None:
    """Site moments (N, 3) in mu_B from the OUTCAR ``magnetization`` table, POSCAR order.

    Collinear moments (signed magnitudes) are placed along ``axis``, the ordering's spin axis.
    """
    outcar = task.calcs_reversed[0].output.outcar or {}
    rows = outcar.get("magnetization") or ()
    if not rows:
        return None
    vectors = []
    for row in rows:
        total = row["tot"]
        moment = getattr(total, "moment", total)
        if isinstance(moment, Mapping):  # serialised Magmom
            moment = moment["moment"]
        vectors.append(
            float(moment) * np.asarray(axis, float) if np.ndim(moment) == 0 else np.asarray(moment, float)
        )
    return np.array(vectors, dtype=float)


def _in_ordering_order(values: Sequence, site_order: Sequence[int]) -> list:
    """Undo the POSCAR sort: ``values[j]`` belongs to ordering site ``site_order[j]``."""
    out: list = [None] * len(site_order)
    for j, i in enumerate(site_order):
        out[i] = values[j]
    return out


def force_theorem_anisotropy(
    energies_eV: Mapping[str, float], n_atoms: int, c_key: str, a_key: str
) -> tuple[dict[str, float], float, list[float]]:
    """Anisotropy energies from the force-theorem total energies of the LSORBIT runs.

    At fixed charge density the total-energy differences between magnetisation directions are
    the band-energy differences of the magnetic force theorem.

    Parameters
    ----------
    energies_eV
        Total energy (eV, whole cell) per direction, keyed ``"x,y,z"`` (Cartesian unit vector).
    n_atoms
        Atoms in the cell.
    c_key, a_key
        Keys of the direction along c and of the direction perpendicular to c in the a-c plane.

    Returns
    -------
    relative
        E[direction] - min E (micro-eV per atom).
    mae
        E[100] - E[001] = E[a] - E[c] (micro-eV per atom); positive means easy axis along c.
    easy_axis
        Lowest-energy direction (Cartesian unit vector).
    """
    lowest = min(energies_eV, key=energies_eV.get)
    relative = {k: (e - energies_eV[lowest]) / n_atoms * EV_TO_UEV for k, e in energies_eV.items()}
    mae = (energies_eV[a_key] - energies_eV[c_key]) / n_atoms * EV_TO_UEV
    return relative, mae, [float(x) for x in lowest.split(",")]


@job(output_schema=DFTValidationDoc)
def validation_document(
    task: TaskDoc | Mapping,
    *,
    candidate_id: str,
    ordering_label: str,
    ordering_fingerprint: str,
    calculation: str,
    site_order: Sequence[int],
    n_magnetic_atoms: int,
    model_version: str | None = None,
    noncollinear: bool = False,
    soc_tasks: Mapping[str, TaskDoc | Mapping] | None = None,
    c_key: str | None = None,
    a_key: str | None = None,
    moment_axis: Sequence[float] = (0.0, 0.0, 1.0),
) -> DFTValidationDoc:
    """Build the validation document of one ordering from its VASP task document(s).

    Parameters
    ----------
    task
        Task document of the collinear/non-collinear static or relaxation (the SCF of the
        force-theorem route).
    calculation
        ``static``, ``relax``, ``noncollinear_static`` or ``soc_force_theorem``.
    site_order
        Ordering-site index of each POSCAR site.
    soc_tasks
        Task documents of the LSORBIT runs keyed by direction ``"x,y,z"`` (force-theorem route).
    c_key, a_key
        Keys of ``soc_tasks`` along c and perpendicular to c (a-c plane), for the MAE.
    moment_axis
        Spin axis of a collinear ordering (Cartesian unit vector): the direction of the reported
        collinear moments.
    """
    task = _task(task)
    soc = {key: _task(t) for key, t in (soc_tasks or {}).items()}
    runs = [task, *soc.values()]
    n_atoms = task.nsites or len(site_order)
    energy = float(task.output.energy)
    final = Structure.from_sites(_in_ordering_order(list(task.output.structure), site_order))
    moments = _moment_vectors(task, moment_axis)
    anisotropy = mae = easy_axis = None
    if soc:
        anisotropy, mae, easy_axis = force_theorem_anisotropy(
            {key: float(t.output.energy) for key, t in soc.items()}, n_atoms, c_key, a_key
        )
    return DFTValidationDoc(
        validation_id=DFTValidationDoc.make_id(candidate_id, ordering_fingerprint, "vasp", calculation),
        candidate_id=candidate_id,
        formula=final.composition.reduced_formula,
        ordering_label=ordering_label,
        ordering_fingerprint=ordering_fingerprint,
        engine="vasp",
        engine_version=str(task.calcs_reversed[0].vasp_version),
        calculation=calculation,
        # the LSORBIT runs carry the settings that matter for the anisotropy
        settings=_settings(runs[-1], spin_orbit=bool(soc), noncollinear=noncollinear or bool(soc)),
        n_atoms=n_atoms,
        n_magnetic_atoms=n_magnetic_atoms,
        energy_eV=energy,
        energy_per_atom_eV=energy / n_atoms,
        energy_per_magnetic_atom_eV=energy / n_magnetic_atoms if n_magnetic_atoms else None,
        magnetic_moments=None if moments is None else _in_ordering_order(moments.tolist(), site_order),
        total_magnetization=None if moments is None else float(np.linalg.norm(moments.sum(axis=0))),
        structure=_without_class_tags(final.as_dict()),
        anisotropy_energies_ueV_per_atom=anisotropy,
        mae_ueV_per_atom=mae,
        easy_axis=easy_axis,
        converged=all(_succeeded(t) for t in runs),
        wall_time_s=sum(
            c.output.run_stats.elapsed_time or 0.0
            for t in runs
            for c in t.calcs_reversed
            if c.output.run_stats
        )
        or None,
        model_version=model_version,
    )


def _without_class_tags(data):
    """Drop monty's ``@module``/``@class`` tags (``Structure.from_dict`` does not need them).

    Untagged, the structure stays a plain dict when jobflow decodes the document from a store;
    tagged, MontyDecoder would turn it into a ``Structure`` that the ``dict`` field rejects.
    """
    if isinstance(data, dict):
        return {k: _without_class_tags(v) for k, v in data.items() if k not in MONTY_TAGS}
    if isinstance(data, list):
        return [_without_class_tags(v) for v in data]
    return data


def _succeeded(task: TaskDoc) -> bool:
    return str(getattr(task.state, "value", task.state)) == "successful"
