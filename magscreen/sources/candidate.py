"""The candidate: one crystal structure that enters the screening, with where it came from.

Every source (offline snapshot, Materials Project, local files) returns ``Candidate`` objects, and
every source checks its structures with :func:`check_structure` so that later stages can rely on
an ordered, finite structure that holds at least one magnetic element.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema
from pymatgen.core import Element, Structure

from magscreen.errors import InputError, StructureError
from magscreen.magnetism.sites import DEFAULT_MOMENTS

#: Elements that carry a local moment in the orderings' default moment table
#: (:data:`magscreen.magnetism.sites.DEFAULT_MOMENTS`), with oxidation states stripped, so that
#: candidate filtering and ordering enumeration agree on what is magnetic.
MAGNETIC_ELEMENTS: frozenset[str] = frozenset(
    Element(key.rstrip("+-0123456789")).symbol for key, moment in DEFAULT_MOMENTS.items() if moment
)

CandidateSource = Literal["snapshot", "materials_project", "file"]


def _as_structure(value: Any) -> Structure:
    if isinstance(value, Structure):
        return value
    if isinstance(value, dict):
        return Structure.from_dict(value)
    raise ValueError(f"expected a pymatgen Structure or its as_dict(), got {type(value).__name__}")


#: A pymatgen ``Structure`` field: accepts a Structure or its ``as_dict()``; dumps to the dict.
StructureField = Annotated[
    Structure,
    PlainValidator(_as_structure),
    PlainSerializer(lambda structure: structure.as_dict(), return_type=dict),
    WithJsonSchema({"type": "object", "description": "pymatgen Structure.as_dict()"}),
]


class Candidate(BaseModel):
    """A crystal structure to screen, with its provenance and what is known about its magnetism."""

    model_config = ConfigDict(extra="forbid")

    candidate_id: str = Field(
        description="Materials Project id (e.g. 'mp-19009') where known, else a stable name (e.g. 'FeO-B1')."
    )
    formula: str = Field(description="Reduced formula, e.g. 'Fe2O3'.")
    structure: StructureField = Field(description="Ordered crystal structure (Angstrom).")
    source: CandidateSource = Field(description="Where the candidate came from.")
    energy_above_hull: float | None = Field(
        None, description="Energy above the convex hull (eV/atom), as reported by the source."
    )
    mp_ordering: str | None = Field(
        None,
        description="Materials Project's ordering label of its ground state: 'FM', 'AFM', 'FiM', 'NM'.",
    )
    total_magnetization: float | None = Field(
        None,
        description="Total magnetisation of the source's ground state (Bohr magnetons per formula unit).",
    )
    experimental_ordering: str | None = Field(
        None, description="Experimentally reported magnetic ground state, e.g. 'FM', 'AFM-II', 'FiM'."
    )
    transition_temperature_K: float | None = Field(
        None, description="Experimental Curie (FM, FiM) or Neel (AFM) temperature (K)."
    )
    structure_type: str | None = Field(None, description="Structure type, e.g. 'rocksalt (B1)', 'L1_0'.")
    reference: str = Field("", description="Citation of the crystallographic (or database) source.")
    notes: str = Field("", description="Free text: values used, caveats.")

    @property
    def n_atoms(self) -> int:
        """Number of sites in the cell."""
        return len(self.structure)

    @property
    def elements(self) -> set[str]:
        """Element symbols present in the structure."""
        return {el.symbol for el in self.structure.composition.elements}

    @property
    def magnetic_elements(self) -> set[str]:
        """Element symbols of the structure that are in :data:`MAGNETIC_ELEMENTS`."""
        return self.elements & MAGNETIC_ELEMENTS


def element_symbols(elements: Iterable[str], source: str | Path, field: str = "elements") -> list[str]:
    """Validate element symbols (``'Fe'``, not ``'fe'`` or ``'Iron'``) and return them as strings.

    Raises
    ------
    InputError
        Naming ``source``, ``field`` and the symbols that are not elements.
    """
    symbols = [str(symbol) for symbol in elements]
    unknown = [symbol for symbol in symbols if not Element.is_valid_symbol(symbol)]
    if unknown:
        raise InputError(
            f"not element symbols: {', '.join(unknown)}",
            source=source,
            field=field,
            expected="element symbols such as 'Fe', 'Co', 'O'",
        )
    return symbols


def check_structure(structure: Structure, source: str | Path, *, require_magnetic: bool = True) -> None:
    """Raise :class:`StructureError` if ``structure`` cannot be screened.

    Parameters
    ----------
    structure
        Structure to check.
    source
        File or origin named in the error message.
    require_magnetic
        Whether at least one element of :data:`MAGNETIC_ELEMENTS` must be present.
    """
    lattice = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.all(np.isfinite(lattice)):
        raise StructureError(
            "lattice vectors contain NaN or infinite values",
            source=source,
            field="lattice",
            expected="finite lattice vectors (Angstrom)",
        )
    coords = np.asarray(structure.frac_coords, dtype=float)
    bad = np.flatnonzero(~np.all(np.isfinite(coords), axis=1)) if len(structure) else []
    if len(bad):
        raise StructureError(
            f"coordinates of site(s) {', '.join(str(i + 1) for i in bad[:5])} are NaN or infinite",
            source=source,
            field="coordinates",
            expected="finite atomic positions",
        )
    if abs(structure.volume) < 1e-6:
        raise StructureError(
            "cell volume is zero",
            source=source,
            field="lattice",
            expected="three independent lattice vectors",
        )
    if not structure.is_ordered:
        partial = [
            f"{i + 1} ({site.species.formula})" for i, site in enumerate(structure) if not site.is_ordered
        ]
        raise StructureError(
            f"disordered structure: partial occupancies on site(s) {', '.join(partial[:5])}",
            source=source,
            field="occupancy",
            expected="an ordered structure with every site fully occupied by one element",
        )
    if require_magnetic:
        present = {el.symbol for el in structure.composition.elements}
        if not present & MAGNETIC_ELEMENTS:
            raise StructureError(
                f"no magnetic element in {structure.composition.reduced_formula}",
                source=source,
                field="species",
                expected=f"at least one of {', '.join(sorted(MAGNETIC_ELEMENTS))}",
            )
