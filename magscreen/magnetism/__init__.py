"""Magnetic orderings: magnetic sites, collinear enumeration, non-collinear states, spin relaxation."""

from magscreen.magnetism.collinear import EnumerationResult, enumerate_collinear
from magscreen.magnetism.heisenberg import HeisenbergCalculator
from magscreen.magnetism.noncollinear import enumerate_noncollinear
from magscreen.magnetism.ordering import Ordering
from magscreen.magnetism.parent import ParentCell, parent_cell
from magscreen.magnetism.sites import DEFAULT_MOMENTS, MagneticSites, magnetic_sites
from magscreen.magnetism.spin_relax import SpinRelaxResult, relax_spins

__all__ = [
    "DEFAULT_MOMENTS",
    "EnumerationResult",
    "HeisenbergCalculator",
    "MagneticSites",
    "Ordering",
    "ParentCell",
    "SpinRelaxResult",
    "enumerate_collinear",
    "enumerate_noncollinear",
    "magnetic_sites",
    "parent_cell",
    "relax_spins",
]
