"""Candidates from local structure files: CIF (mcif), POSCAR/CONTCAR, extended XYZ, pymatgen JSON, or a
folder of them. Moments a file carries (mcif moments, extxyz ``initial_magmoms``, a ``magmom`` site
property in JSON) stay on the structure as its ``magmom`` site property."""

from __future__ import annotations

import warnings
from pathlib import Path

from pymatgen.core import Structure

from magscreen.errors import InputError, StructureError
from magscreen.sources.candidate import Candidate, check_structure

EXPECTED_FORMATS = (
    "CIF (*.cif, *.mcif), POSCAR/CONTCAR (POSCAR*, CONTCAR*, *.vasp, *.poscar), extended XYZ "
    "(*.extxyz, *.xyz) or pymatgen JSON (*.json)"
)


def structure_format(path: Path) -> str | None:
    """Format of ``path`` from its name: ``'cif'``, ``'poscar'``, ``'extxyz'``, ``'json'`` or ``None``."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix in (".cif", ".mcif"):
        return "cif"
    if suffix == ".json":
        return "json"
    if suffix in (".vasp", ".poscar") or name.startswith(("poscar", "contcar")):
        return "poscar"
    if suffix in (".extxyz", ".xyz"):
        return "extxyz"
    return None


def _read_cif(path: Path) -> list[Structure]:
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return CifParser(path).parse_structures(primitive=False)
        except Exception as error:
            details = "; ".join(str(w.message) for w in caught)
            raise StructureError(
                f"unreadable CIF: {error}" + (f" ({details})" if details else ""),
                source=path,
                expected="a CIF with cell parameters and _atom_site positions",
            ) from error


def _read_poscar(path: Path) -> list[Structure]:
    from pymatgen.io.vasp import Poscar

    try:
        return [Poscar.from_file(path, check_for_potcar=False).structure]
    except Exception as error:
        raise StructureError(
            f"unreadable POSCAR: {type(error).__name__}: {error}",
            source=path,
            expected="VASP 5 POSCAR layout (comment, scale, 3 lattice vectors, species, counts, coordinates)",
        ) from error


def _read_extxyz(path: Path) -> list[Structure]:
    from ase.io import read
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        frames = read(path, index=":", format="extxyz")
    except Exception as error:
        raise StructureError(
            f"unreadable extended XYZ: {type(error).__name__}: {error}",
            source=path,
            expected='extended XYZ frames with a Lattice="..." entry in the comment line',
        ) from error
    structures = []
    for number, atoms in enumerate(frames, start=1):
        if atoms.cell.rank < 3 or not all(atoms.pbc):
            raise StructureError(
                f"frame {number} has no periodic cell",
                source=path,
                field="Lattice",
                expected='a 3D periodic cell (Lattice="..." and pbc="T T T")',
            )
        structures.append(AseAtomsAdaptor.get_structure(atoms))
    return structures


def _read_json(path: Path) -> list[Structure]:
    """A pymatgen ``Structure`` as JSON (``Structure.as_dict()``; ``magscreen orderings --write``)."""
    try:
        return [Structure.from_file(path)]
    except Exception as error:
        raise StructureError(
            f"unreadable pymatgen JSON: {type(error).__name__}: {error}",
            source=path,
            expected="a pymatgen Structure as JSON (Structure.as_dict())",
        ) from error


_READERS = {"cif": _read_cif, "poscar": _read_poscar, "extxyz": _read_extxyz, "json": _read_json}


def _read_file(path: Path, require_magnetic: bool) -> list[Candidate]:
    fmt = structure_format(path)
    if fmt is None:
        raise InputError(
            f"unrecognised structure file format '{path.suffix or path.name}'",
            source=path,
            expected=EXPECTED_FORMATS,
        )
    structures = _READERS[fmt](path)
    if not structures:
        raise StructureError("the file holds no structure", source=path, expected=EXPECTED_FORMATS)
    candidates = []
    for number, structure in enumerate(structures, start=1):
        origin = path if len(structures) == 1 else f"{path} (structure {number})"
        check_structure(structure, origin, require_magnetic=require_magnetic)
        candidate_id = path.stem if len(structures) == 1 else f"{path.stem}-{number}"
        candidates.append(
            Candidate(
                candidate_id=candidate_id,
                formula=structure.composition.reduced_formula,
                structure=structure,
                source="file",
                reference=str(path),
            )
        )
    return candidates


def load_structure_files(path: str | Path, *, require_magnetic: bool = True) -> list[Candidate]:
    """Read candidates from a structure file or from every structure file in a folder.

    Parameters
    ----------
    path
        A CIF, POSCAR/CONTCAR or extended XYZ file (all frames are read), or a folder: its files
        with a recognised name are read in sorted order, other files are ignored.
    require_magnetic
        Reject structures without a magnetic element (see ``MAGNETIC_ELEMENTS``).

    Returns
    -------
    list[Candidate]
        ``candidate_id`` is the file stem (``<stem>-<n>`` for multi-structure files),
        ``source='file'`` and ``reference`` the file path.

    Raises
    ------
    InputError
        Missing path, unrecognised format, empty folder.
    StructureError
        Unreadable file, disordered structure (partial occupancies), NaN/inf coordinates,
        or no magnetic element; the message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file or folder not found", source=path, expected=EXPECTED_FORMATS)
    if path.is_file():
        return _read_file(path, require_magnetic)
    files = sorted(p for p in path.iterdir() if p.is_file() and structure_format(p) is not None)
    if not files:
        raise InputError("folder holds no structure files", source=path, expected=EXPECTED_FORMATS)
    candidates = [candidate for file in files for candidate in _read_file(file, require_magnetic)]
    ids = [c.candidate_id for c in candidates]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise InputError(
            f"several files give the candidate id(s) {', '.join(duplicated)}",
            source=path,
            expected="file names with distinct stems (e.g. not both NiO.cif and NiO.vasp)",
        )
    return candidates


def load_one_structure(path: str | Path, *, field: str | None = None) -> Structure:
    """The single structure of a structure file, read as :func:`load_structure_files` reads it.

    Magnetic elements are not required. ``field`` (e.g. a command-line option) is named in the error.

    Raises
    ------
    InputError
        The file holds more (or fewer) than one structure; as :func:`load_structure_files` otherwise.
    """
    candidates = load_structure_files(path, require_magnetic=False)
    if len(candidates) != 1:
        raise InputError(
            f"the file holds {len(candidates)} structures",
            source=path,
            field=field,
            expected="exactly one structure",
        )
    return candidates[0].structure
