"""The offline candidate set: well-known magnetic compounds shipped inside the package.

The set lives in ``magscreen/data/candidates/`` (one ``Candidate`` JSON per compound and an
``index.json``), so it is found both from a source checkout and from an installed wheel. It is
written, together with the CIF copies in ``configs/candidates/``, by
``scripts/build_candidate_snapshot.py`` from published crystallographic data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from magscreen.errors import InputError
from magscreen.sources.candidate import Candidate, check_structure, element_symbols

INDEX_NAME = "index.json"


def default_snapshot_dir() -> Path:
    """Folder of the snapshot shipped with the package."""
    return Path(str(resources.files("magscreen") / "data" / "candidates"))


def _read_index(index_path: Path) -> list[dict]:
    if not index_path.is_file():
        raise InputError(
            "snapshot index not found",
            source=index_path,
            expected=f"a folder holding {INDEX_NAME} and one JSON file per candidate",
        )
    try:
        index = json.loads(index_path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(f"not valid JSON ({error})", source=index_path) from error
    if not isinstance(index, list) or not all(isinstance(row, dict) and "file" in row for row in index):
        raise InputError(
            "unexpected layout",
            source=index_path,
            expected="a list of entries with 'name', 'candidate_id', 'formula' and 'file'",
        )
    return index


def _matches(row: dict, names: set[str]) -> bool:
    return bool(names & {str(row.get(key)) for key in ("name", "candidate_id", "formula")})


def load_snapshot(
    path: str | Path | None = None,
    *,
    elements: Iterable[str] | None = None,
    max_atoms: int | None = None,
    names: Iterable[str] | None = None,
) -> list[Candidate]:
    """Load the offline candidate set, optionally filtered.

    Parameters
    ----------
    path
        Snapshot folder holding ``index.json``, or the index file itself; default: the set
        shipped with magscreen.
    elements
        Keep candidates that contain *all* of these elements (Materials Project semantics).
    max_atoms
        Keep candidates with at most this many atoms in the (primitive) cell.
    names
        Keep candidates whose snapshot name (``'Fe-bcc'``), ``candidate_id`` (``'mp-13'``) or
        reduced formula (``'Fe'``) is in this list. A name that matches nothing is an error.

    Returns
    -------
    list[Candidate]
        Candidates in index order.
    """
    folder = default_snapshot_dir() if path is None else Path(path)
    if folder.is_file():  # the index itself was given
        folder, index_path = folder.parent, folder
    else:
        index_path = folder / INDEX_NAME
    index = _read_index(index_path)

    if names is not None:
        wanted = {str(name) for name in names}
        unknown = sorted(n for n in wanted if not any(_matches(row, {n}) for row in index))
        if unknown:
            known = ", ".join(str(row.get("name")) for row in index)
            raise InputError(
                f"unknown candidate name(s) {', '.join(unknown)}",
                source=index_path,
                field="names",
                expected=f"names, ids or formulas from: {known}",
            )
        index = [row for row in index if _matches(row, wanted)]

    required = set(element_symbols(elements, index_path)) if elements is not None else set()
    candidates = []
    for row in index:
        file = folder / row["file"]
        try:
            candidate = Candidate.model_validate_json(file.read_text())
        except FileNotFoundError as error:
            raise InputError("candidate file listed in the index is missing", source=file) from error
        except ValidationError as error:
            raise InputError(f"not a valid candidate document: {error}", source=file) from error
        check_structure(candidate.structure, file)
        if required and not required <= candidate.elements:
            continue
        if max_atoms is not None and candidate.n_atoms > max_atoms:
            continue
        candidates.append(candidate)
    return candidates
