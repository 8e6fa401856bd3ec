"""GPAW settings of the reference engine: plane-wave cutoff, k-point density, smearing, +U.

The defaults come from the convergence test in ``magscreen.validation.gpaw.convergence`` (numbers in
docs/reference.md): the AFM - FM energy differences of bcc Fe, NiO and MnF2 change by less than
1 meV per magnetic atom from 550 to 650 eV (NiO; bcc Fe 450 -> 550 eV: 0.2 meV), from 5 to 6
k-points per 1/Angstrom (bcc Fe, the metal; the insulators are converged at 2) and from 0.05 to
0.02 eV smearing (bcc Fe: 0.3 meV).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from monty.json import MSONable

from magscreen.errors import InputError

if TYPE_CHECKING:
    from ase import Atoms

__all__ = ["MP_HUBBARD_U_EV", "GPAWSettings", "hubbard_u_for", "kpoint_grid"]

#: Hubbard U (eV) on the d shell of the Materials Project GGA+U set (pymatgen ``MPRelaxSet``),
#: applied, as there, only to oxides and fluorides.
MP_HUBBARD_U_EV: dict[str, float] = {
    "Co": 3.32,
    "Cr": 3.7,
    "Fe": 5.3,
    "Mn": 3.9,
    "Mo": 4.38,
    "Ni": 6.2,
    "V": 3.25,
    "W": 6.2,
}

#: Anions that switch on the Materials Project +U values.
MP_HUBBARD_ANIONS = frozenset({"O", "F"})


def hubbard_u_for(symbols: list[str], hubbard: Literal["mp"] | dict[str, float] | None) -> dict[str, float]:
    """Hubbard U per element (eV, d shell) for a structure with these chemical symbols.

    Parameters
    ----------
    symbols
        Chemical symbols of the sites.
    hubbard
        ``"mp"`` for the Materials Project values (oxides and fluorides only), an explicit mapping
        element -> U (eV), or ``None`` for plain GGA.
    """
    present = set(symbols)
    if hubbard is None:
        return {}
    if hubbard == "mp":
        if not present & MP_HUBBARD_ANIONS:
            return {}
        return {el: u for el, u in MP_HUBBARD_U_EV.items() if el in present}
    return {el: float(u) for el, u in hubbard.items() if el in present and float(u) != 0.0}


def kpoint_grid(atoms: Atoms, density: float) -> list[int]:
    """Monkhorst-Pack grid with at least ``density`` k-points per inverse Angstrom along each b_i.

    ``n_i = max(1, ceil(2 pi |b_i| density))`` with b_i the reciprocal vectors without 2 pi
    (ASE's ``kptdensity2monkhorstpack``); only periodic directions get more than one point.
    """
    from ase.calculators.calculator import kptdensity2monkhorstpack

    return [int(n) for n in kptdensity2monkhorstpack(atoms, kptdensity=density, even=False)]


@dataclass
class GPAWSettings(MSONable):
    """Plane-wave PAW settings of one GPAW calculation.

    Parameters
    ----------
    xc
        Exchange-correlation functional ('PBE'; 'LDA' for non-collinear SCF, see docs/reference.md).
    ecut_eV
        Plane-wave cutoff (eV).
    kpoint_density
        k-points per inverse Angstrom along each reciprocal vector (2 pi included); the grid is
        Gamma-centred.
    smearing_eV
        Fermi-Dirac smearing width (eV).
    hubbard
        ``"mp"`` (Materials Project GGA+U values for oxides and fluorides), an explicit mapping
        element -> U on the d shell (eV), or ``None``.
    energy_tolerance_eV
        SCF convergence of the energy (eV per valence electron, GPAW's ``convergence['energy']``).
    max_scf_iterations
        SCF iteration limit.
    extra
        Further GPAW keywords passed unchanged (e.g. ``{"mixer": {"backend": "pulay", "beta": 0.05}}``).
    """

    xc: str = "PBE"
    ecut_eV: float = 550.0
    kpoint_density: float = 5.0
    smearing_eV: float = 0.05
    hubbard: Literal["mp"] | dict[str, float] | None = "mp"
    energy_tolerance_eV: float = 2.0e-5
    max_scf_iterations: int = 200
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            ("ecut_eV", self.ecut_eV > 0, "a positive cutoff in eV"),
            ("kpoint_density", self.kpoint_density > 0, "a positive density in k-points per 1/Angstrom"),
            ("smearing_eV", self.smearing_eV > 0, "a positive width in eV"),
            ("energy_tolerance_eV", self.energy_tolerance_eV > 0, "a positive tolerance in eV"),
            ("max_scf_iterations", self.max_scf_iterations > 0, "a positive number of iterations"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise InputError(
                    f"invalid value {getattr(self, name)!r}",
                    source="GPAWSettings",
                    field=name,
                    expected=expected,
                )
        if not (self.hubbard is None or self.hubbard == "mp" or isinstance(self.hubbard, dict)):
            raise InputError(
                f"invalid value {self.hubbard!r}",
                source="GPAWSettings",
                field="hubbard",
                expected="'mp', a mapping element -> U in eV, or None",
            )
