"""What every DFT validation engine shares: the maker call, the anisotropy directions, the factory.

An engine lives in its own sub-package (``gpaw/``, ``vasp/``) and provides a maker with the call
of :class:`ValidationMaker`; :func:`build_validation_maker` is the one place that turns a
``validate`` config section (or the ``magscreen validate`` options) into such a maker. Engines are
imported only when a maker is built, so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from magscreen.errors import InputError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "ENGINES",
    "ENGINE_REQUIREMENTS",
    "ValidationMaker",
    "build_validation_maker",
    "c_and_a_directions",
    "direction_key",
    "require_engine",
]

#: Validation engines :func:`build_validation_maker` knows.
ENGINES = ("gpaw", "vasp")

#: Modules each engine needs at run time, and the command that installs them.
ENGINE_REQUIREMENTS = {
    "gpaw": (("gpaw",), 'pip install -e ".[gpaw]"'),
    "vasp": (("atomate2.vasp.jobs.core", "pymatgen.io.vasp"), "pip install -e . (atomate2, VASP jobs)"),
}


def require_engine(engine: str) -> None:
    """Import what ``engine`` needs now, so a missing package fails before any job runs.

    Raises
    ------
    InputError
        A module of the engine is not importable; the message says how to install it.
    """
    modules, install = ENGINE_REQUIREMENTS[engine]
    for module in modules:
        try:
            import_module(module)
        except ImportError as error:
            raise InputError(
                f"{engine} is not installed ({error}); install it with: {install}",
                field="validate.engine",
            ) from None


class ValidationMaker(Protocol):
    """The call every validation maker shares (GPAW, VASP, ...).

    ``structure`` carries the ordering as its ``magmom`` site property (mu_B: floats along z, or
    3-vectors); the returned job or flow outputs a :class:`~magscreen.schemas.DFTValidationDoc`.
    """

    def make(
        self,
        structure: Structure,
        candidate_id: str,
        ordering_label: str,
        ordering_fingerprint: str,
        model_version: str | None = None,
    ) -> Any:
        """Job or flow whose output is the ``DFTValidationDoc`` of this ordering."""


def direction_key(direction: np.ndarray) -> str:
    """Key 'x,y,z' of a Cartesian unit vector, components to 4 decimals."""
    return ",".join(f"{c:.4f}" for c in np.asarray(direction, dtype=float) + 0.0)


def c_and_a_directions(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along c and, perpendicular to it, along the part of a orthogonal to c.

    The anisotropy MAE = E[100] - E[001] of every engine is E(a direction) - E(c direction).
    """
    c = cell[2] / np.linalg.norm(cell[2])
    a = cell[0] - np.dot(cell[0], c) * c
    return c, a / np.linalg.norm(a)


def build_validation_maker(engine: str, settings: Mapping[str, Any]) -> ValidationMaker:
    """The validation maker of ``engine`` with the options of a ``validate.settings`` section.

    ``gpaw``: ``relax`` and ``anisotropy`` (booleans) add a GPAW relaxation and a force-theorem
    anisotropy step (instead of the single point), ``workdir`` is the parent of the calculation
    folders, and every other key is a :class:`~magscreen.validation.gpaw.settings.GPAWSettings`
    field (``xc``, ``ecut_eV``, ``kpoint_density``, ...); the anisotropy step starts from denser
    k-points and smaller smearing (:data:`~magscreen.validation.gpaw.makers.ANISOTROPY_DEFAULTS`)
    unless the settings name them. ``vasp``: the fields of
    :class:`~magscreen.validation.vasp.VaspValidationMaker` (``relax``, ``anisotropy``,
    ``directions``, ...).

    Raises
    ------
    InputError
        An unknown engine, an engine that is not installed (with its install command), or a
        setting the engine does not know.
    """
    options = dict(settings)
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", field="validate.engine", expected=" or ".join(ENGINES))
    require_engine(engine)
    try:
        if engine == "gpaw":
            from magscreen.validation.gpaw.makers import gpaw_validation_maker

            return gpaw_validation_maker(
                relax=bool(options.pop("relax", False)),
                anisotropy=bool(options.pop("anisotropy", False)),
                workdir=options.pop("workdir", None),
                **options,
            )
        from magscreen.validation.vasp import VaspValidationMaker

        return VaspValidationMaker(**options)
    except TypeError as error:
        raise InputError(
            f"{engine} does not accept these settings ({error})",
            field="validate.settings",
            expected=f"keyword arguments of the {engine} validation maker",
        ) from None
