"""Which sites of a structure carry a magnetic moment, and how large it starts (Bohr magnetons)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from monty.serialization import loadfn
from pymatgen.core import Species, Structure

from magscreen.errors import StructureError

#: Default initial moment magnitudes (mu_B) per element or species string, pymatgen's
#: ``default_magmoms.yaml`` (MPRelaxSet values and spin-only moments, Horton et al. 2019). The file
#: is found without importing ``pymatgen.analysis.magnetism`` (seconds of analysers we do not use).
DEFAULT_MOMENTS: dict[str, float] = {
    str(key): float(value)
    for key, value in loadfn(
        Path(find_spec("pymatgen.analysis.magnetism").submodule_search_locations[0]) / "default_magmoms.yaml"
    ).items()
}

#: Largest number of atoms in a structure that magnetic_sites accepts unless told otherwise.
DEFAULT_MAX_ATOMS = 200


@dataclass(frozen=True)
class MagneticSites:
    """The magnetic sites of a structure.

    Attributes
    ----------
    indices
        Indices of the sites that carry a moment, ascending.
    moments
        Moment magnitude of every site of the structure (mu_B); zero on non-magnetic sites.
    """

    indices: tuple[int, ...]
    moments: np.ndarray

    @property
    def n_magnetic(self) -> int:
        """Number of magnetic sites."""
        return len(self.indices)


def site_moment(species: object, moments: dict[str, float]) -> float:
    """Initial moment magnitude (mu_B) of one species: its own string first, then its element."""
    text = str(species)
    if text in moments:
        return float(moments[text])
    if isinstance(species, Species) and str(species.element) in moments:
        return float(moments[str(species.element)])
    symbol = getattr(species, "symbol", None)
    return float(moments.get(str(symbol), 0.0)) if symbol is not None else 0.0


def magnetic_sites(
    structure: Structure,
    moments: dict[str, float] | None = None,
    *,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    source: str | Path | None = None,
) -> MagneticSites:
    """Find the magnetic sites of an ordered structure.

    Parameters
    ----------
    structure
        Ordered crystal structure.
    moments
        Moment magnitudes (mu_B) per element or species string (``"Fe"``, ``"Mn2+"``). Entries
        override :data:`DEFAULT_MOMENTS`; a value of 0 makes an element non-magnetic.
    max_atoms
        Largest number of atoms accepted.
    source
        File the structure came from, named in error messages.

    Raises
    ------
    StructureError
        For a disordered structure (partial occupancies), more than ``max_atoms`` atoms, or no
        magnetic site.
    """
    if not structure.is_ordered:
        disordered = next(i for i, site in enumerate(structure) if not site.is_ordered)
        raise StructureError(
            f"site {disordered} has partial occupancies ({structure[disordered].species}); "
            "magnetic orderings need one species per site",
            source=source,
            field="species",
            expected="an ordered structure",
        )
    if len(structure) > max_atoms:
        raise StructureError(
            f"structure has {len(structure)} atoms, more than the limit of {max_atoms}",
            source=source,
            field="sites",
            expected=f"at most {max_atoms} atoms (raise max_atoms to allow more)",
        )
    table = {**DEFAULT_MOMENTS, **(moments or {})}
    values = np.array([abs(site_moment(site.specie, table)) for site in structure], dtype=float)
    indices = tuple(int(i) for i in np.flatnonzero(values > 0))
    if not indices:
        raise StructureError(
            f"no magnetic site in {structure.composition.reduced_formula}",
            source=source,
            field="species",
            expected="at least one element with a non-zero moment (elements with default moments: "
            + ", ".join(sorted({k.rstrip("0123456789+-") for k in DEFAULT_MOMENTS}))
            + "; or give one: moments={'X': m} in Python, --moment X=m on the command line)",
        )
    return MagneticSites(indices=indices, moments=values)
