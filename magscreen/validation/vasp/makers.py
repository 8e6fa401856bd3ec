"""VASP validation of an ML-ranked magnetic ordering, as an atomate2 flow.

Three routes, chosen from the ordering and the maker's settings:

- **collinear** moments: an MP-compatible GGA(+U) static (or relaxation) with ISPIN = 2 and
  MAGMOM in POSCAR site order;
- **non-collinear** moments: the same static with LNONCOLLINEAR = .TRUE. and 3-vector MAGMOM;
- **anisotropy** (collinear orderings): the magnetic force theorem. A collinear SCF writes the
  charge and magnetisation density (CHGCAR); one non-self-consistent LSORBIT run per
  magnetisation direction reads it (ICHARG = 11) with SAXIS = direction and MAGMOM = (0, 0, m_i)
  in the SAXIS frame, and the band-energy differences give the anisotropy
  (Liechtenstein et al., J. Magn. Magn. Mater. 67, 65 (1987); Daalderop et al., PRB 41, 11919
  (1990)).

Every route ends in one :class:`~magscreen.schemas.validation.DFTValidationDoc`.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field

import numpy as np
from atomate2.vasp.jobs.base import BaseVaspMaker
from atomate2.vasp.jobs.mp import MPGGARelaxMaker, MPGGAStaticMaker
from jobflow import Flow, Maker
from pymatgen.core import Structure
from pymatgen.io.vasp.sets import MPSOCSet

from magscreen.errors import InputError
from magscreen.validation.base import c_and_a_directions, direction_key
from magscreen.validation.vasp.documents import validation_document
from magscreen.validation.vasp.inputs import (
    ZERO_MOMENT,
    collinear_axis,
    ordering_moments,
    vasp_site_order,
    vasp_structure,
)

__all__ = ["VaspValidationMaker", "force_theorem_maker"]


def force_theorem_maker(saxis: tuple[float, float, float], reciprocal_density: float) -> BaseVaspMaker:
    """Non-self-consistent LSORBIT run at the collinear charge density, magnetisation along ``saxis``.

    Parameters
    ----------
    saxis
        Magnetisation direction, Cartesian components (VASP SAXIS).
    reciprocal_density
        k-points per inverse cubic Angstrom of reciprocal volume (pymatgen convention).
    """
    generator = MPSOCSet(
        structure=None,  # MPSOCSet needs it explicit (its default is the property object)
        saxis=tuple(saxis),
        nbands_factor=2.0,  # spinor bands: twice the bands of one collinear spin channel
        reciprocal_density=reciprocal_density,
        force_gamma=True,
        user_incar_settings={"LCHARG": False, "LWAVE": False},
    )
    return BaseVaspMaker(
        name="soc force theorem",
        input_set_generator=generator,
        copy_vasp_kwargs={"additional_vasp_files": ("CHGCAR",)},
    )


@dataclass
class VaspValidationMaker(Maker):
    """Validate one magnetic ordering with VASP through atomate2.

    Parameters
    ----------
    name
        Flow name; job names add the candidate and ordering.
    relax
        Relax positions and cell (MP GGA(+U) relaxation) instead of a static calculation on
        the ML structure. Collinear and non-collinear routes only.
    anisotropy
        Run the force-theorem SOC route and report the MAE. It starts from a collinear state, so
        non-collinear orderings get the non-collinear static instead.
    extra_directions
        Cartesian magnetisation directions computed besides c and the direction perpendicular to
        c in the a-c plane, which are always computed (MAE = E[100] - E[001] = E[a] - E[c], the
        convention of the GPAW engine, magscreen.validation.gpaw.anisotropy).
    soc_reciprocal_density
        k-point density of the LSORBIT runs (k-points per inverse cubic Angstrom); MAE of
        metals converges slowly with k-points.
    static_maker
        atomate2 maker of the collinear/non-collinear static and of the SCF before SOC.
    relax_maker
        atomate2 maker used when ``relax`` is set.
    """

    name: str = "vasp validation"
    relax: bool = False
    anisotropy: bool = False
    extra_directions: tuple[tuple[float, float, float], ...] = ()
    soc_reciprocal_density: float = 1000.0
    static_maker: BaseVaspMaker = field(default_factory=MPGGAStaticMaker)
    relax_maker: BaseVaspMaker = field(default_factory=MPGGARelaxMaker)

    def __post_init__(self) -> None:
        if self.anisotropy and self.relax:
            raise InputError(
                "the force-theorem anisotropy route runs at the ML geometry",
                field="validate.settings",
                expected="'relax' and 'anisotropy' not both true",
            )

    def describe(self) -> list[str]:
        """The atomate2 jobs one ordering gets, in order, as readable lines."""
        first = self.relax_maker if self.relax else self.static_maker
        lines = [
            f"{type(first).__module__}.{type(first).__name__} ({type(first.input_set_generator).__name__}): "
            "ISPIN = 2 with MAGMOM of a collinear ordering, LNONCOLLINEAR with 3-vector MAGMOM otherwise"
        ]
        if self.anisotropy:
            n = 2 + len(self.extra_directions)
            lines.append(
                f"{n} x force-theorem SOC (MPSOCSet): LSORBIT, ICHARG = 11, SAXIS along c, a and extras"
            )
        return lines

    def make(
        self,
        structure: Structure,
        candidate_id: str,
        ordering_label: str,
        ordering_fingerprint: str,
        model_version: str | None = None,
    ) -> Flow:
        """Flow of VASP jobs for one ordering, ending in a ``DFTValidationDoc``.

        Parameters
        ----------
        structure
            Cell of the ordering with its ``magmom`` site property (mu_B; floats along z or
            3-vectors).
        candidate_id, ordering_label, ordering_fingerprint
            Keys that link the document to the ML ranking of the same ordering.
        model_version
            Version of the ML model whose prediction is being checked.
        """
        moments = ordering_moments(structure)
        axis = collinear_axis(moments)
        tag = f"{candidate_id} {ordering_label}"
        order = vasp_site_order(structure)
        metadata = {
            "candidate_id": candidate_id,
            "ordering_label": ordering_label,
            "ordering_fingerprint": ordering_fingerprint,
            "model_version": model_version,
            "site_order": order,
            "n_magnetic_atoms": int(np.count_nonzero(np.linalg.norm(moments, axis=1) > ZERO_MOMENT)),
        }

        step = "relax" if self.relax else "static"
        maker = deepcopy(self.relax_maker if self.relax else self.static_maker)
        if axis is None:
            maker.input_set_generator.user_incar_settings = {
                **(maker.input_set_generator.user_incar_settings or {}),
                "LNONCOLLINEAR": True,
                "ISYM": -1,
            }
            maker.name = f"{tag} vasp noncollinear {step}"
            run = maker.make(vasp_structure(structure, moments.tolist()))
            calculation = "relax" if self.relax else "noncollinear_static"
            document = validation_document(run.output, calculation=calculation, noncollinear=True, **metadata)
            return self._flow([run, document], tag)

        signed = (moments @ axis).tolist()
        metadata["moment_axis"] = axis.tolist()
        maker.name = f"{tag} vasp {step}"
        run = maker.make(vasp_structure(structure, signed))
        if not self.anisotropy:
            document = validation_document(run.output, calculation=step, **metadata)
            return self._flow([run, document], tag)

        c_axis, a_axis = c_and_a_directions(structure.lattice.matrix)
        extra = [np.asarray(d, dtype=float) / np.linalg.norm(d) for d in self.extra_directions]
        directions = [np.round(d, 8) + 0.0 for d in (c_axis, a_axis, *extra)]  # no '-0.0000' keys
        soc_structure = vasp_structure(structure, [[0.0, 0.0, m] for m in signed])
        soc_runs = {}
        for direction in directions:
            key = direction_key(direction)
            soc_maker = force_theorem_maker(tuple(float(x) for x in direction), self.soc_reciprocal_density)
            soc_maker.name = f"{tag} vasp soc saxis={key}"
            soc_runs[key] = soc_maker.make(soc_structure, prev_dir=run.output.dir_name)
        document = validation_document(
            run.output,
            calculation="soc_force_theorem",
            soc_tasks={key: job.output for key, job in soc_runs.items()},
            c_key=direction_key(directions[0]),
            a_key=direction_key(directions[1]),
            **metadata,
        )
        return self._flow([run, *soc_runs.values(), document], tag)

    def _flow(self, jobs: list, tag: str) -> Flow:
        """Flow whose output is its last job's (the document job, named after the ordering)."""
        jobs[-1].name = f"{tag} vasp validation document"
        return Flow(jobs, output=jobs[-1].output, name=f"{self.name} {tag}")
