"""jobflow Makers of the GPAW reference engine; every job outputs a ``DFTValidationDoc``.

All makers share the validation call of docs/architecture.md::

    maker.make(structure, candidate_id=..., ordering_label=..., ordering_fingerprint=...,
               model_version=None)

where ``structure`` carries the ordering as its ``magmom`` site property (mu_B). Each calculation
runs in ``<workdir>/<validation_id>`` (``workdir`` defaults to ``./gpaw-work`` of the process that
runs the job), where its restart files make a killed run continue where it stopped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jobflow import Flow, Maker, job
from pymatgen.core import Structure

from magscreen.errors import InputError
from magscreen.schemas.validation import DFTValidationDoc
from magscreen.validation.gpaw.anisotropy import force_theorem_anisotropy
from magscreen.validation.gpaw.calculation import relax, single_point
from magscreen.validation.gpaw.documents import validation_doc
from magscreen.validation.gpaw.ordering_input import OrderingInput, ordering_input
from magscreen.validation.gpaw.settings import GPAWSettings

__all__ = [
    "ANISOTROPY_DEFAULTS",
    "GPAWAnisotropyMaker",
    "GPAWRelaxMaker",
    "GPAWStaticMaker",
    "GPAWValidationMaker",
    "gpaw_validation_maker",
]

DEFAULT_WORKDIR = "gpaw-work"

#: Settings the force-theorem anisotropy starts from (dense k-points per 1/Angstrom, small
#: smearing in eV), where the caller does not choose them.
ANISOTROPY_DEFAULTS = {"kpoint_density": 8.0, "smearing_eV": 0.01}


def calculation_dir(workdir: str | None, candidate_id: str, fingerprint: str, calculation: str) -> Path:
    """Work directory of one calculation: ``<workdir>/<validation_id>`` with unsafe characters replaced."""
    validation_id = DFTValidationDoc.make_id(candidate_id, fingerprint, "gpaw", calculation)
    return Path(workdir or DEFAULT_WORKDIR).resolve() / re.sub(r"[^A-Za-z0-9._-]+", "_", validation_id)


def _as_structure(structure: Structure | dict) -> Structure:
    return structure if isinstance(structure, Structure) else Structure.from_dict(structure)


def _ordering(structure: Structure | dict, candidate_id: str, ordering_label: str) -> OrderingInput:
    """GPAW input of ``structure``'s ordering; errors name the candidate and the ordering."""
    return ordering_input(_as_structure(structure), source=f"{candidate_id} {ordering_label}")


@dataclass
class GPAWStaticMaker(Maker):
    """Spin-polarised SCF single point of one ordering (non-collinear when the moments are 3-vectors).

    Parameters
    ----------
    name
        Job name.
    settings
        Plane-wave cutoff (eV), k-point density (per 1/Angstrom), smearing (eV), functional, +U.
        Non-collinear moments need ``xc='LDA'`` (see docs/reference.md).
    workdir
        Parent of the calculation directories; None for ``./gpaw-work``.
    """

    name: str = "gpaw static"
    settings: GPAWSettings = field(default_factory=GPAWSettings)
    workdir: str | None = None

    @job(output_schema=DFTValidationDoc)
    def make(
        self,
        structure: Structure | dict,
        candidate_id: str,
        ordering_label: str,
        ordering_fingerprint: str,
        model_version: str | None = None,
    ) -> DFTValidationDoc:
        """Job: SCF energy and moments (mu_B) of ``structure``."""
        ordering = _ordering(structure, candidate_id, ordering_label)
        calculation = "noncollinear_static" if ordering.noncollinear else "static"
        directory = calculation_dir(self.workdir, candidate_id, ordering_fingerprint, calculation)
        result = single_point(ordering, self.settings, directory)
        return validation_doc(
            result,
            ordering,
            self.settings,
            calculation=calculation,
            candidate_id=candidate_id,
            ordering_label=ordering_label,
            ordering_fingerprint=ordering_fingerprint,
            model_version=model_version,
        )


@dataclass
class GPAWRelaxMaker(Maker):
    """BFGS relaxation of positions (and optionally the cell) of one collinear ordering.

    Parameters
    ----------
    name
        Job name.
    settings
        GPAW settings (see ``GPAWStaticMaker``).
    workdir
        Parent of the calculation directories; None for ``./gpaw-work``.
    fmax
        Force threshold (eV/Angstrom).
    relax_cell
        Relax the cell as well.
    steps
        Limit on ionic steps.
    """

    name: str = "gpaw relax"
    settings: GPAWSettings = field(default_factory=GPAWSettings)
    workdir: str | None = None
    fmax: float = 0.05
    relax_cell: bool = False
    steps: int = 50

    @job(output_schema=DFTValidationDoc)
    def make(
        self,
        structure: Structure | dict,
        candidate_id: str,
        ordering_label: str,
        ordering_fingerprint: str,
        model_version: str | None = None,
    ) -> DFTValidationDoc:
        """Job: relaxed structure, energy and moments (mu_B) of ``structure``."""
        ordering = _ordering(structure, candidate_id, ordering_label)
        directory = calculation_dir(self.workdir, candidate_id, ordering_fingerprint, "relax")
        result = relax(
            ordering,
            self.settings,
            directory,
            fmax=self.fmax,
            relax_cell=self.relax_cell,
            steps=self.steps,
        )
        return validation_doc(
            result,
            ordering,
            self.settings,
            calculation="relax",
            candidate_id=candidate_id,
            ordering_label=ordering_label,
            ordering_fingerprint=ordering_fingerprint,
            model_version=model_version,
        )


@dataclass
class GPAWAnisotropyMaker(Maker):
    """Collinear SCF followed by force-theorem SOC anisotropy (MAE = E[100] - E[001], ueV/atom).

    Parameters
    ----------
    name
        Job name.
    settings
        GPAW settings of the collinear SCF; anisotropy needs dense k-points and small smearing.
    workdir
        Parent of the calculation directories; None for ``./gpaw-work``.
    extra_directions
        Cartesian magnetisation directions evaluated besides c and a.
    """

    name: str = "gpaw soc anisotropy"
    settings: GPAWSettings = field(default_factory=lambda: GPAWSettings(**ANISOTROPY_DEFAULTS))
    workdir: str | None = None
    extra_directions: list[list[float]] = field(default_factory=list)

    @job(output_schema=DFTValidationDoc)
    def make(
        self,
        structure: Structure | dict,
        candidate_id: str,
        ordering_label: str,
        ordering_fingerprint: str,
        model_version: str | None = None,
    ) -> DFTValidationDoc:
        """Job: energy, moments (mu_B), anisotropy energies and MAE (ueV/atom) of ``structure``."""
        ordering = _ordering(structure, candidate_id, ordering_label)
        if ordering.noncollinear:
            raise InputError(
                "non-collinear moments",
                source=f"{candidate_id} {ordering_label}",
                field="magmom",
                expected="collinear moments for the force-theorem anisotropy",
            )
        directory = calculation_dir(self.workdir, candidate_id, ordering_fingerprint, "soc_force_theorem")
        result = single_point(ordering, self.settings, directory, wave_functions=True)
        anisotropy = force_theorem_anisotropy(result.calc, self.extra_directions)
        return validation_doc(
            result,
            ordering,
            self.settings,
            calculation="soc_force_theorem",
            candidate_id=candidate_id,
            ordering_label=ordering_label,
            ordering_fingerprint=ordering_fingerprint,
            model_version=model_version,
            anisotropy=anisotropy,
        )


@dataclass
class GPAWValidationMaker(Maker):
    """Validation of one ordering with GPAW: optional relaxation, then a single point or SOC anisotropy.

    The flow's output is the ``DFTValidationDoc`` of its last job (anisotropy if requested, else
    relaxation if requested, else the static single point); every job's document is in the job store.

    Parameters
    ----------
    name
        Flow name.
    static_maker
        Single point used when no anisotropy is requested.
    relax_maker
        Relaxation run first (its structure feeds the next step), or None.
    anisotropy_maker
        Force-theorem anisotropy run last, or None.
    """

    name: str = "gpaw validation"
    static_maker: GPAWStaticMaker = field(default_factory=GPAWStaticMaker)
    relax_maker: GPAWRelaxMaker | None = None
    anisotropy_maker: GPAWAnisotropyMaker | None = None

    def make(
        self,
        structure: Structure,
        candidate_id: str,
        ordering_label: str,
        ordering_fingerprint: str,
        model_version: str | None = None,
    ) -> Flow:
        """Flow whose output is the ``DFTValidationDoc`` of the last calculation."""
        ids = dict(
            candidate_id=candidate_id,
            ordering_label=ordering_label,
            ordering_fingerprint=ordering_fingerprint,
            model_version=model_version,
        )
        jobs = []
        if self.relax_maker is not None:
            jobs.append(self.relax_maker.make(structure, **ids))
            structure = jobs[-1].output.structure
        if self.anisotropy_maker is not None:
            jobs.append(self.anisotropy_maker.make(structure, **ids))
        elif not jobs:
            jobs.append(self.static_maker.make(structure, **ids))
        return Flow(jobs, output=jobs[-1].output, name=f"{self.name} {candidate_id} {ordering_label}")


def gpaw_validation_maker(
    *, relax: bool = False, anisotropy: bool = False, workdir: str | None = None, **settings
) -> GPAWValidationMaker:
    """GPAW validation: a single point, or a relaxation and/or force-theorem anisotropy.

    Parameters
    ----------
    relax
        Relax the positions first (BFGS).
    anisotropy
        Replace the single point by the force-theorem SOC anisotropy; it uses
        :data:`ANISOTROPY_DEFAULTS` for the k-point density and smearing not given in ``settings``.
    workdir
        Parent of the calculation folders; None for ``./gpaw-work``.
    settings
        :class:`GPAWSettings` fields (``xc``, ``ecut_eV``, ``kpoint_density``, ...).
    """
    gpaw = GPAWSettings(**settings)
    return GPAWValidationMaker(
        static_maker=GPAWStaticMaker(settings=gpaw, workdir=workdir),
        relax_maker=GPAWRelaxMaker(settings=gpaw, workdir=workdir) if relax else None,
        anisotropy_maker=(
            GPAWAnisotropyMaker(settings=GPAWSettings(**{**ANISOTROPY_DEFAULTS, **settings}), workdir=workdir)
            if anisotropy
            else None
        ),
    )
