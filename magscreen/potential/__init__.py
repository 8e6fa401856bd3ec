"""Magnetic equivariant potential: SevenNet-0 backbone + magnetic blocks, and its ASE calculator.

- :class:`MagneticPotential` (``model.py``): energy, forces, stress and magnetic forces -dE/dm;
- :class:`MagneticCalculator` (``calculator.py``): the ASE calculator;
- :func:`build_graph`, :func:`collate`, :class:`MagneticGraph` (``graph.py``): model input;
- ``backbone.py`` (SevenNet layers), ``magnetic.py`` (the magnetic blocks).
"""

from magscreen.potential.calculator import MagneticCalculator
from magscreen.potential.graph import MagneticGraph, build_graph, collate, graph_from_atoms
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.potential.model import BackboneCache, MagneticPotential

__all__ = [
    "BackboneCache",
    "MagneticCalculator",
    "MagneticGraph",
    "MagneticHyperparameters",
    "MagneticPotential",
    "build_graph",
    "collate",
    "graph_from_atoms",
]
