"""The orderings of one structure under one policy, for ``magscreen orderings`` and campaigns alike.

:class:`OrderingSettings` is the ``orderings`` section of a campaign config, the settings of the
screening job, and the defaults of ``magscreen orderings``; :func:`enumerate_orderings` applies
them: the collinear orderings in priority order, capped at ``max_orderings``, then (with
``noncollinear``) at most ``max_orderings`` non-collinear ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from magscreen.settings import StageSettings

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from magscreen.magnetism.collinear import EnumerationResult
    from magscreen.magnetism.ordering import Ordering

__all__ = ["OrderingSet", "OrderingSettings", "enumerate_orderings"]


class OrderingSettings(StageSettings):
    """Which magnetic orderings are enumerated per structure."""

    max_magnetic_atoms: int = Field(8, ge=1, description="Largest number of magnetic atoms in a supercell.")
    max_orderings: int = Field(
        8,
        ge=1,
        description="Most collinear orderings kept per structure (FM first, then by decreasing symmetry); "
        "with noncollinear, also the most non-collinear ones.",
    )
    noncollinear: bool = Field(
        False, description="Also enumerate non-collinear orderings (120-degree states, spirals, canted AFMs)."
    )
    moments: dict[str, float] = Field(
        default_factory=dict, description="Starting moment per element (Bohr magnetons), overriding defaults."
    )


@dataclass
class OrderingSet:
    """Orderings kept under :class:`OrderingSettings`.

    Attributes
    ----------
    collinear
        The collinear enumeration (parent cell, kept orderings, how many were found and dropped).
    orderings
        Collinear orderings, then non-collinear ones, highest priority first.
    n_dropped_noncollinear
        Non-collinear orderings left out by ``max_orderings``.
    """

    collinear: EnumerationResult
    orderings: list[Ordering]
    n_dropped_noncollinear: int = 0

    @property
    def n_dropped(self) -> int:
        """Orderings found but not kept (collinear and non-collinear)."""
        return self.collinear.n_dropped + self.n_dropped_noncollinear


def enumerate_orderings(
    structure: Structure, settings: OrderingSettings, *, source: str | Path | None = None
) -> OrderingSet:
    """The orderings of ``structure`` that ``settings`` keep.

    Raises
    ------
    StructureError
        No magnetic site, partial occupancies, or too many magnetic sites per primitive cell for
        ``max_magnetic_atoms`` (see :func:`~magscreen.magnetism.collinear.enumerate_collinear`).
    """
    from magscreen.magnetism.collinear import enumerate_collinear
    from magscreen.magnetism.noncollinear import enumerate_noncollinear

    moments = dict(settings.moments) or None
    collinear = enumerate_collinear(
        structure,
        max_magnetic_atoms=settings.max_magnetic_atoms,
        max_orderings=settings.max_orderings,
        moments=moments,
        source=source,
    )
    orderings = list(collinear.orderings)
    n_dropped = 0
    if settings.noncollinear:
        extra = enumerate_noncollinear(
            structure,
            max_magnetic_atoms=settings.max_magnetic_atoms,
            collinear=collinear,
            moments=moments,
            source=source,
        )
        orderings += extra[: settings.max_orderings]
        n_dropped = max(len(extra) - settings.max_orderings, 0)
    return OrderingSet(collinear=collinear, orderings=orderings, n_dropped_noncollinear=n_dropped)
