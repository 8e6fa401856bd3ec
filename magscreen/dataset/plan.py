"""Which frames a build computes, and in what order.

Per compound: the collinear orderings of ``magscreen.magnetism.enumerate_collinear`` within the
supercell limits; FM first, then the antiferro- and ferrimagnetic orderings with the smallest
cells (ties in the enumerator's priority: zero net moment, then symmetry). Every registered frame
kind turns the ladder into frames. The orderings at the reference lattice come first, in rounds
across both compound tiers (the first two orderings of every compound, tier 1 before tier 2, then
the next two, ...: whatever finishes gives as many compounds an ordering gap as possible); then
the other kinds by tier (strain 3, rattle 4). Within a round the compounds with the cheapest frames
come first, and within a compound the cheapest frames first.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from magscreen.dataset.kinds import FRAME_KINDS, CompoundLadder, PlannedFrame
from magscreen.dataset.settings import CompoundSpec, DatasetConfig, TrainingGPAWSettings
from magscreen.errors import InputError, StructureError
from magscreen.magnetism.ordering import Ordering

__all__ = [
    "build_plan",
    "cached_ladder",
    "compound_ladder",
    "compound_structure",
    "frame_cost",
    "is_metallic",
]


def compound_structure(spec: CompoundSpec) -> Structure:
    """The compound's crystal structure, from the offline snapshot or its structure file."""
    if spec.snapshot is not None:
        from magscreen.sources.snapshot import load_snapshot

        return load_snapshot(names=[spec.snapshot])[0].structure
    from magscreen.sources.files import load_structure_files

    return load_structure_files(spec.file)[0].structure


def is_metallic(spec: CompoundSpec, structure: Structure, gpaw: TrainingGPAWSettings) -> bool:
    """Whether the metals' k-point density applies: the spec's ``metallic``, else no gapped anion."""
    if spec.metallic is not None:
        return spec.metallic
    return not ({el.symbol for el in structure.composition.elements} & set(gpaw.gapped_anions))


def compound_ladder(
    spec: CompoundSpec, config: DatasetConfig, source: str | Path = "dataset config"
) -> CompoundLadder:
    """The compound's orderings: FM and up to ``antiferro`` others (the compound's own number where it
    sets one), smallest cells first, <= ``max_atoms``."""
    from magscreen.magnetism import enumerate_collinear

    structure = compound_structure(spec)
    plan = config.ordering_settings(spec)
    try:
        result = enumerate_collinear(
            structure,
            max_magnetic_atoms=plan.max_magnetic_atoms,
            max_orderings=None,
            moments=spec.moments or None,
            source=source,
        )
    except StructureError as error:
        return CompoundLadder(spec, [], is_metallic(spec, structure, config.gpaw), skipped=str(error))
    fitting = [o for o in result.orderings if len(o.structure) <= plan.max_atoms]
    ranked = sorted(
        enumerate(fitting), key=lambda item: (item[1].label != "FM", len(item[1].structure), item[0])
    )
    chosen = [o for _, o in ranked if o.label == "FM"][:1]
    chosen += [o for _, o in ranked if o.label != "FM"][: plan.antiferro]
    skipped = "" if chosen else f"no ordering within {plan.max_atoms} atoms"
    return CompoundLadder(
        spec, chosen, is_metallic(spec, structure, config.gpaw), n_found=result.n_found, skipped=skipped
    )


def cached_ladder(
    spec: CompoundSpec, config: DatasetConfig, source: str | Path = "dataset config"
) -> CompoundLadder:
    """:func:`compound_ladder`, read from ``<work_dir>/ladders/`` when compound and ordering settings match.

    Enumerating every compound takes about a minute; each worker and ``status`` would repeat it. The key
    holds the compound's effective ordering settings (its own ``antiferro`` folded in), so compounds
    that set none keep their cached ladders.
    """
    key_text = json.dumps(
        [
            spec.model_dump(mode="json", exclude={"antiferro"}),
            config.ordering_settings(spec).model_dump(mode="json"),
            config.gpaw.gapped_anions,
        ],
        sort_keys=True,
    )
    key = hashlib.sha256(key_text.encode()).hexdigest()[:12]
    path = Path(config.work_dir) / "ladders" / f"{spec.name}-{key}.json"
    if path.is_file():
        data = json.loads(path.read_text())
        orderings = [
            Ordering(
                label=o["label"],
                kind="collinear",
                structure=Structure.from_dict(o["structure"]),
                fingerprint=o["fingerprint"],
            )
            for o in data["orderings"]
        ]
        return CompoundLadder(
            spec, orderings, data["metallic"], n_found=data["n_found"], skipped=data["skipped"]
        )
    ladder = compound_ladder(spec, config, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "orderings": [
            {"label": o.label, "fingerprint": o.fingerprint, "structure": o.structure.as_dict()}
            for o in ladder.orderings
        ],
        "metallic": ladder.metallic,
        "n_found": ladder.n_found,
        "skipped": ladder.skipped,
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
    return ladder


#: Orderings per compound in one round: every compound's first two orderings (FM and the
#: first AFM: one ordering gap) come before any compound's third.
ROUND_SIZE = 2

#: Cost factor of an SCF without point-group symmetry (rattled cells, distorted starts): more
#: irreducible k-points, and a distorted start converges twice.
NO_SYMMETRY_COST = 4.0


def frame_cost(frame: PlannedFrame, gpaw: TrainingGPAWSettings) -> float:
    """Relative SCF cost: atoms squared times k-points, times ``NO_SYMMETRY_COST`` without symmetry.

    The k-points are the frame's own ``kpoint_density`` parameter where it has one.
    """
    from magscreen.validation.gpaw.settings import kpoint_grid

    density = frame.parameters.get("kpoint_density") or (
        gpaw.kpoint_density if frame.metallic else gpaw.kpoint_density_gapped
    )
    cost = float(len(frame.atoms) ** 2 * np.prod(kpoint_grid(frame.atoms, density)))
    return cost * NO_SYMMETRY_COST if frame.broken_symmetry or frame.rattle_A > 0 else cost


def build_plan(
    config: DatasetConfig, only: list[str] | None = None, source: str | Path = "dataset config"
) -> tuple[list[PlannedFrame], list[CompoundLadder]]:
    """All frames of the build in computing order, and the ladders they came from.

    Parameters
    ----------
    config
        The build config.
    only
        Compound names to plan (default: all of the config).
    source
        The config file, for error messages.

    Raises
    ------
    InputError
        A name in ``only`` that is not a compound of the config.
    """
    names = [c.name for c in config.compounds]
    unknown = sorted(set(only or []) - set(names))
    if unknown:
        raise InputError(
            f"unknown compound(s) {', '.join(unknown)}",
            source=source,
            field="--only",
            expected="names from: " + ", ".join(names),
        )
    specs = [c for c in config.compounds if only is None or c.name in only]
    ladders = [cached_ladder(spec, config, source) for spec in specs]
    frames = [
        f for ladder in ladders for kind in config.kinds for f in FRAME_KINDS[kind].plan(ladder, config)
    ]
    costs = {f.frame_id: frame_cost(f, config.gpaw) for f in frames}
    group_cost: dict[tuple[int, str], float] = defaultdict(float)
    for f in frames:
        group_cost[(f.tier, f.compound)] += costs[f.frame_id]
    rank = {
        (ladder.spec.name, o.fingerprint): i for ladder in ladders for i, o in enumerate(ladder.orderings)
    }
    frames.sort(
        key=lambda f: (
            0 if f.kind == "ordering" else f.tier,
            rank[(f.compound, f.fingerprint)] // ROUND_SIZE,
            f.tier,
            group_cost[(f.tier, f.compound)],
            f.compound,
            costs[f.frame_id],
            f.frame_id,
        )
    )
    return frames, ladders
