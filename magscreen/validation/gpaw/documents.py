"""``DFTValidationDoc`` from a GPAW result."""

from __future__ import annotations

from typing import Literal

from pymatgen.io.ase import AseAtomsAdaptor

from magscreen.schemas.validation import DFTSettings, DFTValidationDoc
from magscreen.validation.gpaw.anisotropy import AnisotropyResult
from magscreen.validation.gpaw.calculation import SCFResult, gpaw_version
from magscreen.validation.gpaw.ordering_input import OrderingInput
from magscreen.validation.gpaw.settings import GPAWSettings

__all__ = ["validation_doc"]

Calculation = Literal["static", "relax", "soc_force_theorem", "noncollinear_static"]


def validation_doc(
    result: SCFResult,
    ordering: OrderingInput,
    settings: GPAWSettings,
    *,
    calculation: Calculation,
    candidate_id: str,
    ordering_label: str,
    ordering_fingerprint: str,
    model_version: str | None = None,
    anisotropy: AnisotropyResult | None = None,
) -> DFTValidationDoc:
    """Document of one GPAW calculation of one ordering.

    The final structure carries the computed moments (mu_B) as its ``magmom`` site property:
    floats for a collinear calculation, 3-vectors for a non-collinear one.
    """
    structure = AseAtomsAdaptor.get_structure(result.atoms.copy())
    moments = result.moments
    structure.add_site_property(
        "magmom", moments.tolist() if ordering.noncollinear else moments[:, 2].tolist()
    )
    n_atoms = len(result.atoms)
    n_magnetic = ordering.n_magnetic_atoms
    dft_settings = DFTSettings(
        functional=settings.xc + ("+U" if result.hubbard_u_eV else ""),
        plane_wave_cutoff_eV=settings.ecut_eV,
        kpoint_density=settings.kpoint_density,
        kpoints=result.kpoints,
        smearing_eV=settings.smearing_eV,
        hubbard_u_eV=result.hubbard_u_eV,
        spin_orbit=anisotropy is not None,
        noncollinear=ordering.noncollinear,
        extra={
            "mode": "pw",
            "occupations": "fermi-dirac",
            "kpts_gamma_centred": True,
            "hubbard_shell": "d",
            "scf_energy_tolerance_eV_per_electron": settings.energy_tolerance_eV,
            "soc": "force theorem (gpaw.spinorbit.soc_eigenstates)" if anisotropy else None,
            "relax_steps": result.steps,
        },
    )
    return DFTValidationDoc(
        validation_id=DFTValidationDoc.make_id(candidate_id, ordering_fingerprint, "gpaw", calculation),
        candidate_id=candidate_id,
        formula=structure.composition.reduced_formula,
        ordering_label=ordering_label,
        ordering_fingerprint=ordering_fingerprint,
        engine="gpaw",
        engine_version=gpaw_version(),
        calculation=calculation,
        settings=dft_settings,
        n_atoms=n_atoms,
        n_magnetic_atoms=n_magnetic,
        energy_eV=result.energy_eV,
        energy_per_atom_eV=result.energy_eV / n_atoms,
        energy_per_magnetic_atom_eV=result.energy_eV / n_magnetic if n_magnetic else None,
        magnetic_moments=moments.tolist(),
        total_magnetization=result.total_magnetization,
        structure=structure.as_dict(),
        anisotropy_energies_ueV_per_atom=anisotropy.energies_ueV_per_atom if anisotropy else None,
        mae_ueV_per_atom=anisotropy.mae_ueV_per_atom if anisotropy else None,
        easy_axis=anisotropy.easy_axis if anisotropy else None,
        converged=result.converged,
        wall_time_s=result.wall_time_s,
        model_version=model_version,
    )
