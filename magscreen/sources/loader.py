"""Candidates of a campaign, from the source and filters of its config."""

from __future__ import annotations

import re

from magscreen.config import CandidatesConfig
from magscreen.sources import Candidate, load_snapshot, load_structure_files, query_materials_project

__all__ = ["load_candidates"]

MP_ID = re.compile(r"mp-\d+")


def load_candidates(config: CandidatesConfig) -> list[Candidate]:
    """Candidates named by a ``candidates`` config section, filtered.

    ``elements`` keeps candidates holding all the listed elements; ``max_atoms`` bounds the cell;
    ``energy_above_hull`` (eV/atom) drops candidates known to lie higher (unknown values pass);
    ``names`` keeps candidates by id, name or formula (for the Materials Project, ``mp-<n>`` names
    are material ids and the others formulas).
    """
    filters = config.filters
    if config.source == "snapshot":
        candidates = load_snapshot(
            config.snapshot, elements=filters.elements, max_atoms=filters.max_atoms, names=filters.names
        )
    elif config.source == "materials_project":
        names = filters.names or []
        ids = [n for n in names if MP_ID.fullmatch(n)]
        formulas = [n for n in names if not MP_ID.fullmatch(n)]
        candidates = query_materials_project(
            elements=filters.elements,
            material_ids=ids or None,
            formula=formulas or None,
            max_atoms=filters.max_atoms,
            energy_above_hull=filters.energy_above_hull,
            extra_criteria=config.mp_query or None,
        )
    else:
        candidates = [c for path in config.paths for c in load_structure_files(path)]
        if filters.elements:
            candidates = [c for c in candidates if set(filters.elements) <= c.elements]
        if filters.max_atoms is not None:
            candidates = [c for c in candidates if c.n_atoms <= filters.max_atoms]
        if filters.names:
            candidates = [c for c in candidates if {c.candidate_id, c.formula} & set(filters.names)]
    if filters.energy_above_hull is not None:
        candidates = [
            c
            for c in candidates
            if c.energy_above_hull is None or c.energy_above_hull <= filters.energy_above_hull
        ]
    return candidates
