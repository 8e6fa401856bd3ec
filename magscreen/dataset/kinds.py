"""Frame kinds of the reference dataset: a small registry of what is computed from a compound's ladder.

A kind turns one compound's ordering ladder into planned frames and says which tier they belong to
(the build computes tier 1 before tier 2, ...). ``ordering`` frames are the ladder at the reference
lattice (tier of the compound), ``strain`` frames the ladder at the other lattice scales (tier 3),
``rattle`` frames randomly displaced copies of the first orderings (tier 4, forces and stress
matter most there). A later kind (e.g. force-theorem energies on magnetisation directions)
registers itself with :func:`register_kind`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from magscreen.dataset.settings import CompoundSpec, DatasetConfig
from magscreen.magnetism.ordering import Ordering

__all__ = [
    "FRAME_KINDS",
    "CompoundLadder",
    "FrameKind",
    "PlannedFrame",
    "register_kind",
]


@dataclass
class CompoundLadder:
    """The orderings of one compound that the dataset computes, FM first, then the smallest cells.

    Attributes
    ----------
    spec
        The compound's entry of the build config.
    orderings
        Chosen orderings (pymatgen structures with the ``magmom`` property, mu_B).
    n_found
        Symmetry-distinct orderings the enumerator found within the supercell limit.
    metallic
        Whether the metals' k-point density applies.
    n_found
        Symmetry-distinct orderings the enumerator found within the supercell limit.
    skipped
        Why orderings or the whole compound were left out (empty when nothing was).
    """

    spec: CompoundSpec
    orderings: list[Ordering]
    metallic: bool = True
    n_found: int = 0
    skipped: str = ""


@dataclass
class PlannedFrame:
    """One frame to compute.

    Attributes
    ----------
    frame_id
        Unique, file-name safe key (``<compound>.<ordering>.<fingerprint>.s<scale>[.r<amplitude>]``).
    compound, kind, ordering, fingerprint
        Compound name, frame kind, ordering label and the ordering's fingerprint.
    scale
        Lattice scale factor relative to the compound's structure.
    tier
        Build priority (1 first).
    atoms
        Cell and positions (Angstrom) with the initial collinear moments (mu_B).
    rattle_A
        Standard deviation of the displacements (Angstrom); 0 when not rattled.
    broken_symmetry
        Start the SCF from a distorted cell without point-group symmetry.
    metallic
        Whether the metals' k-point density applies.
    group_tag
        Appended to the energy group (``<compound>@<scale>/<tag>``) for frames whose energies compare
        only among themselves (e.g. one SCF's energies on several magnetisation directions).
    parameters
        Kind-specific settings (JSON numbers, strings or lists of numbers), recorded and exported as
        info keys; ``kpoint_density`` (per 1/Angstrom) and ``smearing_eV`` (eV), where present,
        replace the training settings for this frame (:meth:`GPAWEngine.gpaw_settings`).
    """

    frame_id: str
    compound: str
    kind: str
    ordering: str
    fingerprint: str
    scale: float
    tier: int
    atoms: Atoms
    rattle_A: float = 0.0
    broken_symmetry: bool = False
    metallic: bool = True
    group_tag: str = ""
    parameters: dict = field(default_factory=dict)

    @property
    def energy_group(self) -> str:
        """Frames of one compound at one lattice compare energies (``<compound>@<scale>[/<tag>]``)."""
        group = f"{self.compound}@{self.scale:.2f}"
        return f"{group}/{self.group_tag}" if self.group_tag else group


@dataclass(frozen=True)
class FrameKind:
    """A kind of frame: its name, what it is for, and how it is planned from a ladder.

    Attributes
    ----------
    name
        Registry key, recorded as the frame's ``kind``.
    description
        One line for the README and provenance.
    plan
        ``plan(ladder, config) -> frames`` of one compound.
    compute
        ``compute(engine, frame, workdir) -> FrameLabels`` when the kind needs more than the engine's
        SCF (e.g. force-theorem energies after it); None: ``engine.compute``.
    """

    name: str
    description: str
    plan: Callable[[CompoundLadder, DatasetConfig], list[PlannedFrame]]
    compute: Callable | None = None


FRAME_KINDS: dict[str, FrameKind] = {}


def register_kind(kind: FrameKind) -> FrameKind:
    """Add a frame kind to the registry (its name must be new)."""
    if kind.name in FRAME_KINDS:
        raise ValueError(f"frame kind {kind.name!r} is already registered")
    FRAME_KINDS[kind.name] = kind
    return kind


def slug(text: str) -> str:
    """File-name safe version of an ordering label ('AFM q=(0,0,1/2)' -> 'AFM_q_0_0_1_2')."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", text).strip("_")


def scaled_atoms(ordering: Ordering, scale: float) -> Atoms:
    """The ordering's cell scaled by ``scale`` (fractional positions kept), with initial moments (mu_B).

    The cell is rotated into ASE's standard (lower-triangular) form, as the GPAW engine needs.
    """
    from magscreen.validation.gpaw.ordering_input import ordering_input

    structure = ordering.structure.copy()
    structure.scale_lattice(structure.volume * scale**3)
    return ordering_input(structure, source=ordering.label).atoms


def _frame(ladder: CompoundLadder, ordering: Ordering, kind: str, scale: float, tier: int) -> PlannedFrame:
    spec = ladder.spec
    return PlannedFrame(
        frame_id=f"{spec.name}.{slug(ordering.label)}.{ordering.fingerprint[:6]}.s{scale:.2f}",
        compound=spec.name,
        kind=kind,
        ordering=ordering.label,
        fingerprint=ordering.fingerprint,
        scale=scale,
        tier=tier,
        atoms=scaled_atoms(ordering, scale),
        broken_symmetry=spec.broken_symmetry,
        metallic=ladder.metallic,
    )


def _plan_orderings(ladder: CompoundLadder, config: DatasetConfig) -> list[PlannedFrame]:
    return [_frame(ladder, o, "ordering", 1.0, ladder.spec.tier) for o in ladder.orderings]


def _plan_strain(ladder: CompoundLadder, config: DatasetConfig) -> list[PlannedFrame]:
    return [
        _frame(ladder, o, "strain", s, 3)
        for s in config.strain.scales
        if abs(s - 1.0) > 1e-9
        for o in ladder.orderings
    ]


def rattle_displacements(frame_id: str, n_atoms: int, amplitude_A: float, seed: int) -> np.ndarray:
    """Gaussian displacements (Angstrom), shape (N, 3), fixed by the frame id and the seed."""
    digest = int(hashlib.sha256(f"{seed}:{frame_id}".encode()).hexdigest()[:16], 16)
    return np.random.default_rng(digest).normal(0.0, amplitude_A, size=(n_atoms, 3))


def rattle_repeats(atoms: Atoms, min_atoms: int) -> list[int]:
    """Repeats of the cell vectors giving at least ``min_atoms`` atoms, the shortest direction first."""
    counts = [1, 1, 1]
    lengths = atoms.cell.lengths()
    while len(atoms) * int(np.prod(counts)) < min_atoms:
        axis = int(np.argmin([lengths[i] * counts[i] for i in range(3)]))
        counts[axis] += 1
    return counts


def _plan_rattle(ladder: CompoundLadder, config: DatasetConfig) -> list[PlannedFrame]:
    frames = []
    for ordering in ladder.orderings[: config.rattle.orderings]:
        for amplitude in config.rattle.amplitudes_A:
            frame = _frame(ladder, ordering, "rattle", 1.0, 4)
            repeats = rattle_repeats(frame.atoms, config.rattle.min_atoms)
            frame.atoms = frame.atoms.repeat(repeats)
            frame.frame_id += f".x{''.join(map(str, repeats))}.r{amplitude:.3f}"
            frame.rattle_A = amplitude
            frame.atoms.positions += rattle_displacements(
                frame.frame_id, len(frame.atoms), amplitude, config.rattle.seed
            )
            frames.append(frame)
    return frames


register_kind(FrameKind("ordering", "collinear ordering at the reference lattice", _plan_orderings))
register_kind(FrameKind("strain", "collinear ordering in an isotropically strained cell", _plan_strain))
register_kind(
    FrameKind("rattle", "ordering with Gaussian atomic displacements (forces, stress)", _plan_rattle)
)

# kinds in their own modules register themselves on import
from magscreen.dataset import force_theorem as _force_theorem  # noqa: E402,F401
