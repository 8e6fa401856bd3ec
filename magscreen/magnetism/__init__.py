"""Magnetic orderings: magnetic sites, collinear enumeration, non-collinear states, spin relaxation,
moments and the Heisenberg model.

The names below load their module on first use (PEP 562), so importing one light module of this
package (``enumeration``'s settings, ``moments``) does not import spglib and the enumerators.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> module of this package that defines it.
_EXPORTS = {
    "DEFAULT_MOMENTS": "sites",
    "EnumerationResult": "collinear",
    "HeisenbergCalculator": "heisenberg",
    "MagneticSites": "sites",
    "Ordering": "ordering",
    "OrderingSet": "enumeration",
    "OrderingSettings": "enumeration",
    "ParentCell": "parent",
    "SpinRelaxResult": "spin_relax",
    "enumerate_collinear": "collinear",
    "enumerate_noncollinear": "noncollinear",
    "enumerate_orderings": "enumeration",
    "magnetic_sites": "sites",
    "parent_cell": "parent",
    "relax_spins": "spin_relax",
}

__all__ = [
    "DEFAULT_MOMENTS",
    "EnumerationResult",
    "HeisenbergCalculator",
    "MagneticSites",
    "Ordering",
    "OrderingSet",
    "OrderingSettings",
    "ParentCell",
    "SpinRelaxResult",
    "enumerate_collinear",
    "enumerate_noncollinear",
    "enumerate_orderings",
    "magnetic_sites",
    "parent_cell",
    "relax_spins",
]

if TYPE_CHECKING:
    from magscreen.magnetism.collinear import EnumerationResult, enumerate_collinear
    from magscreen.magnetism.enumeration import OrderingSet, OrderingSettings, enumerate_orderings
    from magscreen.magnetism.heisenberg import HeisenbergCalculator
    from magscreen.magnetism.noncollinear import enumerate_noncollinear
    from magscreen.magnetism.ordering import Ordering
    from magscreen.magnetism.parent import ParentCell, parent_cell
    from magscreen.magnetism.sites import DEFAULT_MOMENTS, MagneticSites, magnetic_sites
    from magscreen.magnetism.spin_relax import SpinRelaxResult, relax_spins


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
