"""Frame kind ``force_theorem``: SOC band energies of the FM ordering on many magnetisation directions.

One collinear SCF (the engine's GPAW settings with the k-point density and smearing of the
config's ``force_theorem`` section, per compound where it says so; wave functions kept), then
``gpaw.spinorbit.soc_eigenstates`` for each direction of
:func:`~magscreen.screening.anisotropy.sample_directions`
(:func:`~magscreen.validation.gpaw.direction_scan.force_theorem_energies`). The record carries
``force_theorem: {directions, band_energies_eV, kpoint_grid, kpoint_density, smearing_eV}``;
only differences between one record's directions are labels (one energy group per compound),
which :func:`magscreen.training.soc_fit.read_dataset_records` turns into direction groups for
``benchmarks/training/fit_soc.py --dataset``. Opt in with ``kinds: [..., force_theorem]`` in a
dataset config (``configs/dataset/anisotropy.yaml`` plans nothing else); tier 5, after everything
else. Only the ladder's FM ordering is used: ``orderings: {antiferro: 0}`` keeps the ladder to it.
"""

from __future__ import annotations

from pathlib import Path

from magscreen.dataset.kinds import CompoundLadder, FrameKind, PlannedFrame, _frame, register_kind
from magscreen.dataset.settings import DatasetConfig

__all__ = ["compute_force_theorem"]

#: Tier of the kind: after orderings (1-2), strain (3) and rattle (4).
TIER = 5


def _plan(ladder: CompoundLadder, config: DatasetConfig) -> list[PlannedFrame]:
    """The FM ordering of every compound that has one, at the reference lattice."""
    frames = []
    for ordering in ladder.orderings:
        if ordering.label == "FM":
            frame = _frame(ladder, ordering, "force_theorem", 1.0, TIER)
            frame.frame_id += ".ft"
            frame.group_tag = "soc"  # other k-points and smearing: not comparable with the ladder
            # kpoint_density and smearing_eV replace the training settings (GPAWEngine.gpaw_settings)
            frame.parameters = config.force_theorem.for_compound(ladder.spec.name)
            frames.append(frame)
    return frames


def compute_force_theorem(engine, frame: PlannedFrame, workdir: Path):
    """Labels of a force-theorem frame: SCF energy and moments; the direction energies in ``details``."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from magscreen.dataset.engine import FrameFailed, FrameLabels
    from magscreen.screening.anisotropy import sample_directions
    from magscreen.validation.gpaw.direction_scan import force_theorem_energies

    attempt = engine.settings.attempts[0]
    settings = engine.gpaw_settings(frame, attempt)  # the frame's k-point density and smearing
    structure = AseAtomsAdaptor.get_structure(frame.atoms)
    structure.add_site_property("magmom", list(frame.atoms.get_initial_magnetic_moments()))
    directions = sample_directions(structure)
    try:
        scan = force_theorem_energies(structure, directions, settings, workdir, source=frame.frame_id)
    except Exception as error:  # an SCF failure fails the frame, with the reason in its record
        raise FrameFailed(f"force theorem: {type(error).__name__}: {error}") from error
    return FrameLabels(
        energy_eV=scan.scf_energy_eV,
        magmoms=scan.moments,
        forces=None,
        stress=None,
        converged=True,
        attempt=attempt.name,
        details={
            "force_theorem": {
                "directions": directions.tolist(),
                "band_energies_eV": [float(e) for e in scan.energies_eV],
                "kpoint_grid": scan.kpoint_grid,
                "kpoint_density": settings.kpoint_density,
                "smearing_eV": settings.smearing_eV,
            },
            "settings": settings.as_dict(),
        },
    )


register_kind(
    FrameKind(
        "force_theorem",
        "FM ordering: SOC band energies on many magnetisation directions (magnetic force theorem)",
        _plan,
        compute=compute_force_theorem,
    )
)
