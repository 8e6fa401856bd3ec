"""Job: ML relaxation of one ordering, skipped when the store already holds its document."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from jobflow import Maker, job
from maggma.core import Store
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.errors import MagscreenError
from magscreen.magnetism.moments import site_magmoms, structure_to_atoms
from magscreen.schemas import MagneticOrderingDoc
from magscreen.screening.calculators import domain_gaps, load_calculator, magnetic_domain, model_version
from magscreen.screening.ml_relax import relax_ordering
from magscreen.screening.outcomes import OrderingOutcome
from magscreen.screening.progress import emit
from magscreen.screening.settings import RelaxSettings

__all__ = ["RelaxOrderingMaker"]


def is_collinear(moments: np.ndarray, tolerance_deg: float = 5.0) -> bool:
    """Whether all non-zero moment vectors (N, 3) are parallel or antiparallel within a tolerance."""
    vectors = moments[np.linalg.norm(moments, axis=1) > 1e-6]
    if len(vectors) < 2:
        return True
    units = vectors / np.linalg.norm(vectors, axis=1)[:, None]
    return bool(np.all(np.abs(units @ units[0]) >= np.cos(np.radians(tolerance_deg))))


@dataclass
class RelaxOrderingMaker(Maker):
    """Relax one ordering with an ML calculator (positions and cell, then moments).

    Parameters
    ----------
    name
        Job name.
    settings
        Calculator spec, thresholds and what is relaxed (the campaign config's ``relax`` section).
    """

    name: str = "relax ordering"
    settings: RelaxSettings = field(default_factory=RelaxSettings)

    @job
    def make(
        self,
        structure: Structure,
        *,
        candidate_id: str,
        label: str,
        fingerprint: str,
        magnetic_elements: list[str],
        campaign: str,
        store: Store,
    ) -> OrderingOutcome:
        """Relax ``structure`` (moments in its ``magmom`` site property) unless the store has it.

        The document goes into ``store`` (the ``orderings`` collection) as soon as it is computed,
        so a killed campaign loses at most this job.
        """
        calculator = load_calculator(self.settings.calculator, self.settings.device)
        version = model_version(calculator)
        domain = magnetic_domain(calculator, structure_to_atoms(structure))
        gaps = domain_gaps(calculator, structure_to_atoms(structure), magnetic_elements)
        ordering_id = MagneticOrderingDoc.make_id(candidate_id, fingerprint, version)

        def outcome(skipped: bool, error: str | None = None) -> OrderingOutcome:
            emit("ordering", skipped=skipped, candidate_id=candidate_id, label=label)
            return OrderingOutcome(
                ordering_id=ordering_id,
                model_version=version,
                magnetic_domain=domain,
                domain_gaps=gaps,
                skipped=skipped,
                error=error,
            )

        store.connect()
        if store.query_one({store.key: ordering_id}, properties=[store.key]) is not None:
            return outcome(skipped=True)

        atoms = structure_to_atoms(structure)
        initial = np.asarray(atoms.get_initial_magnetic_moments(), dtype=float)
        try:
            result = relax_ordering(atoms, calculator, self.settings)
        except MagscreenError as error:  # e.g. an element the model does not know
            return outcome(skipped=False, error=str(error))
        relaxed = result.atoms
        moments = np.asarray(relaxed.get_initial_magnetic_moments(), dtype=float)
        final = AseAtomsAdaptor.get_structure(relaxed.copy())
        final.add_site_property("magmom", site_magmoms(moments, collinear=moments.ndim == 1))
        n_magnetic = sum(site.specie.symbol in magnetic_elements for site in final)
        total = moments.sum(axis=0)
        doc = MagneticOrderingDoc(
            ordering_id=ordering_id,
            candidate_id=candidate_id,
            formula=final.composition.reduced_formula,
            campaign=campaign,
            label=label,
            fingerprint=fingerprint,
            noncollinear=moments.ndim == 2,
            relaxed_collinear=is_collinear(moments) if initial.ndim == 2 else None,
            model_version=version,
            structure=final.as_dict(),
            n_atoms=len(final),
            n_magnetic_atoms=n_magnetic,
            energy_eV=result.energy_eV,
            energy_per_atom_eV=result.energy_eV / len(final),
            energy_per_magnetic_atom_eV=result.energy_eV / max(n_magnetic, 1),
            initial_moments=site_magmoms(initial, collinear=initial.ndim == 1),
            magnetic_moments=site_magmoms(moments, collinear=moments.ndim == 1),
            total_magnetization_muB=float(np.linalg.norm(total)),
            max_force_eV_per_A=result.max_force_eV_per_A,
            max_stress_GPa=result.max_stress_GPa,
            max_magnetic_force_eV_per_muB=result.max_magnetic_force_eV_per_muB,
            max_torque_eV=result.max_torque_eV,
            lattice_steps=result.lattice_steps,
            spin_steps=result.spin_steps,
            converged=result.converged,
            wall_time_s=result.wall_time_s,
        )
        store.update(doc.model_dump(mode="json"))
        return outcome(skipped=False)
