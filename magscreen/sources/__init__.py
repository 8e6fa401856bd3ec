"""Candidate sources: the offline snapshot, the Materials Project (mp-api) and local structure files.

All three return :class:`Candidate` objects with an ordered pymatgen ``Structure``.
"""

from magscreen.sources.candidate import MAGNETIC_ELEMENTS, Candidate, check_structure
from magscreen.sources.files import load_structure_files
from magscreen.sources.materials_project import query_materials_project
from magscreen.sources.snapshot import default_snapshot_dir, load_snapshot

__all__ = [
    "MAGNETIC_ELEMENTS",
    "Candidate",
    "check_structure",
    "default_snapshot_dir",
    "load_snapshot",
    "load_structure_files",
    "query_materials_project",
]
