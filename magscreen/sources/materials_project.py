"""Candidates from the Materials Project summary endpoint, through mp-api's ``MPRester``.

The API key comes from the ``MP_API_KEY`` environment variable (or the ``api_key`` argument of a
program that has it); it is sent only in the request header and never appears in candidates,
logs or error messages. Connection failures, timeouts and server errors (429, 5xx) are retried
with exponential backoff; when the service stays unreachable a :class:`ServiceError` says so.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

import requests

from magscreen.errors import InputError, ServiceError, StructureError
from magscreen.sources.candidate import Candidate, check_structure, element_symbols

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.materialsproject.org/"
SOURCE = "Materials Project"
KEY_VARIABLE = "MP_API_KEY"

#: Summary fields requested from the Materials Project (emmet ``SummaryDoc`` names).
SUMMARY_FIELDS = (
    "material_id",
    "formula_pretty",
    "structure",
    "energy_above_hull",
    "is_magnetic",
    "ordering",
    "total_magnetization",
    "total_magnetization_normalized_formula_units",
    "theoretical",
)

_STATUS = re.compile(r"status code (\d{3})")
_RETRY_STATUS = {429, 500, 502, 503, 504}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _Retryable(Exception):
    """A failure worth another attempt (connection, timeout, 429, 5xx)."""


def _api_key(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get(KEY_VARIABLE, "")
    key = key.strip()
    if not key:
        raise InputError(
            f"no API key: set the {KEY_VARIABLE} environment variable to use the Materials Project source",
            source=SOURCE,
            field=KEY_VARIABLE,
            expected="a 32-character key from https://next-gen.materialsproject.org/api",
        )
    if len(key) != 32:
        raise InputError(
            f"the API key in {KEY_VARIABLE} has {len(key)} characters",
            source=SOURCE,
            field=KEY_VARIABLE,
            expected="a 32-character key from https://next-gen.materialsproject.org/api",
        )
    return key


def _scrub(text: str, key: str) -> str:
    """``text`` without the API key and without terminal colour codes (mp-api colours its errors)."""
    text = _ANSI.sub("", text)
    return text.replace(key, "***") if key else text


def _search_criteria(
    elements: Sequence[str] | None,
    exclude_elements: Sequence[str] | None,
    chemsys: str | Sequence[str] | None,
    formula: str | Sequence[str] | None,
    material_ids: Sequence[str] | None,
    max_atoms: int | None,
    energy_above_hull: float | None,
    magnetic_only: bool,
    extra_criteria: dict[str, Any] | None,
) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    if elements:
        criteria["elements"] = list(elements)
    if exclude_elements:
        criteria["exclude_elements"] = list(exclude_elements)
    if chemsys:
        criteria["chemsys"] = chemsys
    if formula:
        criteria["formula"] = formula
    if material_ids:
        criteria["material_ids"] = list(material_ids)
    if max_atoms is not None:
        criteria["num_sites"] = (1, int(max_atoms))
    if energy_above_hull is not None:
        criteria["energy_above_hull"] = (0.0, float(energy_above_hull))
    if magnetic_only:
        criteria["num_magnetic_sites"] = (1, int(max_atoms) if max_atoms is not None else 100_000)
    duplicated = set(criteria) & set(extra_criteria or {})
    if duplicated:
        raise InputError(
            f"criteria given twice: {', '.join(sorted(duplicated))}",
            source=SOURCE,
            field="extra_criteria",
            expected="each search criterion once",
        )
    criteria.update(extra_criteria or {})
    return criteria


def _probe(endpoint: str, timeout_s: float) -> None:
    """Check that the API answers (mp-api's own heartbeat request has no timeout)."""
    try:
        response = requests.get(endpoint.rstrip("/") + "/heartbeat", timeout=timeout_s)
    except requests.RequestException as error:
        raise _Retryable(f"{type(error).__name__}: {error}") from error
    if response.status_code in _RETRY_STATUS:
        raise _Retryable(f"heartbeat returned HTTP {response.status_code}")


def _search_once(
    key: str, endpoint: str, criteria: dict[str, Any], limit: int | None, timeout_s: float
) -> list[Any]:
    from mp_api.client import MPRester
    from mp_api.client.core.exceptions import MPRestError

    _probe(endpoint, timeout_s)
    chunk = {} if limit is None else {"chunk_size": max(1, min(int(limit), 1000)), "num_chunks": 1}
    try:
        with MPRester(api_key=key, endpoint=endpoint, mute_progress_bars=True) as rester:
            return list(rester.materials.summary.search(fields=list(SUMMARY_FIELDS), **criteria, **chunk))
    except requests.RequestException as error:
        raise _Retryable(f"{type(error).__name__}: {error}") from error
    except MPRestError as error:
        text = _scrub(str(error), key)
        match = _STATUS.search(text)
        status = int(match.group(1)) if match else None
        if status in (401, 403):
            raise InputError(
                f"the Materials Project refused the API key (HTTP {status})",
                source=SOURCE,
                field=KEY_VARIABLE,
                expected="a valid, active API key",
            ) from None
        if status in _RETRY_STATUS or (status is None and ("timed out" in text or "Connection" in text)):
            raise _Retryable(text) from None
        if status is not None:
            raise ServiceError(f"{SOURCE} refused the query (HTTP {status}): {text}") from None
        raise InputError(
            f"invalid search: {text}",
            source=SOURCE,
            field="criteria",
            expected="arguments of mp_api SummaryRester.search",
        ) from None
    except ValueError as error:  # mp-api's id validation
        raise InputError(
            f"invalid search: {_scrub(str(error), key)}",
            source=SOURCE,
            field="criteria",
            expected="Materials Project ids such as 'mp-13' and arguments of mp_api SummaryRester.search",
        ) from None


def _to_candidate(doc: Any) -> Candidate:
    def get(name: str) -> Any:
        return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)

    material_id = str(get("material_id"))
    structure = get("structure")
    if isinstance(structure, dict):
        from pymatgen.core import Structure

        structure = Structure.from_dict(structure)
    if structure is None:
        raise ServiceError(f"{SOURCE} returned {material_id} without a structure")
    check_structure(structure, f"{SOURCE} {material_id}", require_magnetic=False)
    ordering = get("ordering")
    ordering = getattr(ordering, "value", ordering)
    return Candidate(
        candidate_id=material_id,
        formula=structure.composition.reduced_formula,
        structure=structure,
        source="materials_project",
        energy_above_hull=get("energy_above_hull"),
        mp_ordering=None if ordering is None else str(ordering),
        total_magnetization=get("total_magnetization_normalized_formula_units"),
        reference=f"Materials Project {material_id} (https://next-gen.materialsproject.org/materials/{material_id})",
        notes="theoretical (no ICSD entry)" if get("theoretical") else "",
    )


def query_materials_project(
    *,
    elements: Iterable[str] | None = None,
    exclude_elements: Iterable[str] | None = None,
    chemsys: str | Sequence[str] | None = None,
    formula: str | Sequence[str] | None = None,
    material_ids: Iterable[str] | None = None,
    max_atoms: int | None = None,
    energy_above_hull: float | None = None,
    magnetic_only: bool = True,
    limit: int | None = None,
    extra_criteria: dict[str, Any] | None = None,
    api_key: str | None = None,
    endpoint: str | None = None,
    retries: int = 3,
    backoff_s: float = 2.0,
    timeout_s: float = 10.0,
) -> list[Candidate]:
    """Search the Materials Project summary endpoint and return the hits as candidates.

    Parameters
    ----------
    elements
        Materials must contain all of these elements.
    exclude_elements
        Materials must contain none of these elements.
    chemsys
        Chemical system(s), e.g. ``'Fe-O'`` or ``['Fe-O', 'Mn-O']``.
    formula
        Formula(s), including anonymous ones (``'AB2'``).
    material_ids
        Restrict to these ids (``'mp-13'``).
    max_atoms
        At most this many sites in the Materials Project cell.
    energy_above_hull
        Largest energy above the hull (eV/atom) to accept.
    magnetic_only
        Keep only materials with at least one magnetic site in Materials Project's ground state.
    limit
        Largest number of materials to fetch (at most 1000); ``None`` fetches all matches.
    extra_criteria
        Further keyword arguments of ``MPRester.materials.summary.search``
        (e.g. ``{"spacegroup_number": 225}``).
    api_key
        Materials Project API key; default: the ``MP_API_KEY`` environment variable.
    endpoint
        API address; default: ``MP_API_ENDPOINT`` or ``https://api.materialsproject.org/``.
    retries
        Attempts after the first one when the service fails transiently.
    backoff_s
        Wait before the first retry (s); doubles with every further retry.
    timeout_s
        Timeout of the reachability check (s); mp-api's own requests time out after 20 s.

    Returns
    -------
    list[Candidate]
        One candidate per material, ``source='materials_project'``; disordered or non-finite
        structures are skipped with a warning in the log.

    Raises
    ------
    InputError
        No or malformed key, a key the service refuses, or criteria it does not understand.
    ServiceError
        The Materials Project is unreachable after all retries, or refused the request.
    """
    key = _api_key(api_key)
    endpoint = endpoint or os.environ.get("MP_API_ENDPOINT") or DEFAULT_ENDPOINT
    endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
    criteria = _search_criteria(
        element_symbols(elements, SOURCE) if elements is not None else None,
        element_symbols(exclude_elements, SOURCE, "exclude_elements")
        if exclude_elements is not None
        else None,
        chemsys,
        formula,
        list(material_ids) if material_ids is not None else None,
        max_atoms,
        energy_above_hull,
        magnetic_only,
        extra_criteria,
    )

    docs: list[Any] | None = None
    reason = ""
    for attempt in range(retries + 1):
        try:
            docs = _search_once(key, endpoint, criteria, limit, timeout_s)
            break
        except _Retryable as error:
            reason = _scrub(str(error), key)
            if attempt < retries:
                wait = backoff_s * 2**attempt
                logger.warning(
                    "%s: attempt %d failed (%s); retrying in %.1f s", SOURCE, attempt + 1, reason, wait
                )
                time.sleep(wait)
    if docs is None:
        raise ServiceError(
            f"{SOURCE} at {endpoint} is unreachable after {retries + 1} attempts: {reason}. "
            "Check the network connection, or use the offline snapshot (source: snapshot)."
        )

    candidates = []
    for doc in docs[:limit] if limit is not None else docs:
        try:
            candidates.append(_to_candidate(doc))
        except StructureError as error:
            logger.warning("skipping %s", error)
    return candidates
