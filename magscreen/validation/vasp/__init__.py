"""DFT validation with VASP through atomate2: makers and the parsing into ``DFTValidationDoc``."""

from magscreen.validation.vasp.documents import force_theorem_anisotropy, validation_document
from magscreen.validation.vasp.inputs import collinear_axis, ordering_moments, vasp_site_order, vasp_structure
from magscreen.validation.vasp.makers import VaspValidationMaker, force_theorem_maker

__all__ = [
    "VaspValidationMaker",
    "collinear_axis",
    "force_theorem_anisotropy",
    "force_theorem_maker",
    "ordering_moments",
    "validation_document",
    "vasp_site_order",
    "vasp_structure",
]
