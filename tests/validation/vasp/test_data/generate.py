"""Write the reference VASP input/output sets of the mocked-VASP validation tests.

Run from the repository root:

    python tests/validation/vasp/test_data/generate.py

Layout (atomate2's mocked-VASP convention): ``<run>/inputs`` holds the INCAR, KPOINTS, POSCAR
and POTCAR.spec that the maker must write (checked by ``atomate2.utils.testing.vasp``), and
``<run>/outputs`` the files copied in place of running VASP.

The reference INCARs are typed out here from the Materials Project GGA(+U) static settings
(MPRelaxSet config: ENCUT 520 eV, EDIFF 5e-5 eV/atom, U(Ni) = 6.2 eV in oxides) plus the
magnetic tags the validation maker is responsible for, so the tests compare the maker against an
independent statement of what the INCAR should be. The k-point grids are those of pymatgen's
density rule (Gamma-centred, 100 k-points per inverse cubic Angstrom for the statics, 1000 for
the SOC runs).

The outputs are SYNTHETIC and minimal: they are not results of a VASP run (VASP is not
available to the project). Energies, moments and eigenvalues are plausible numbers chosen to
exercise the parsers (pymatgen Vasprun/Outcar, emmet TaskDoc); eigenvalues are given at a few
k-points only. FePt: E[100] - E[001] = +2.8 meV per 2-atom cell (+1400 micro-eV/atom, easy
axis c), the sign and order of magnitude of published GGA values for L1_0 FePt.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.vasp import Chgcar, Incar, Kpoints, Poscar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from validation_structures import fept_l10, nio_afm2  # noqa: E402

POTCAR_TITELS = {
    "Ni_pv": "PAW_PBE Ni_pv 19Jan2001",
    "O": "PAW_PBE O 08Apr2002",
    "Fe_pv": "PAW_PBE Fe_pv 06Sep2000",
    "Pt": "PAW_PBE Pt 04Feb2005",
}
ZVAL = {"Ni_pv": 16.0, "O": 6.0, "Fe_pv": 14.0, "Pt": 10.0}
MASS = {"Ni": 58.69, "O": 16.0, "Fe": 55.847, "Pt": 195.08}

MP_STATIC = {
    "ALGO": "Fast",
    "ENCUT": 520.0,
    "ISMEAR": -5,
    "ISPIN": 2,
    "LASPH": True,
    "LCHARG": True,
    "LORBIT": 11,
    "LREAL": False,
    "LWAVE": False,
    "NELM": 100,
    "NSW": 0,
    "PREC": "Accurate",
    "SIGMA": 0.05,
}


# ----------------------------------------------------------------------------- vasprun.xml
def _v(values) -> str:
    return " ".join(f"{x:16.8f}" for x in np.ravel(values))


def _i(name: str, value) -> str:
    if isinstance(value, bool):
        return f'<i type="logical" name="{name}"> {"T" if value else "F"} </i>'
    if isinstance(value, int):
        return f'<i type="int" name="{name}"> {value} </i>'
    if isinstance(value, str):
        return f'<i type="string" name="{name}">{value}</i>'
    return f'<i name="{name}"> {value:.8f} </i>'


def _tag(name: str, value) -> str:
    if isinstance(value, list):
        kind = ' type="int"' if all(isinstance(x, int) and not isinstance(x, bool) for x in value) else ""
        return f'<v{kind} name="{name}"> {" ".join(str(x) for x in value)} </v>'
    return _i(name, value)


def _structure_xml(structure: Structure, name: str | None = None) -> str:
    head = f'<structure name="{name}">' if name else "<structure>"
    basis = "\n".join(f"<v>{_v(row)}</v>" for row in structure.lattice.matrix)
    rec = "\n".join(
        f"<v>{_v(row)}</v>" for row in structure.lattice.reciprocal_lattice_crystallographic.matrix
    )
    pos = "\n".join(f"<v>{_v(site.frac_coords)}</v>" for site in structure)
    return (
        f'{head}\n<crystal>\n<varray name="basis">\n{basis}\n</varray>\n'
        f'<i name="volume"> {structure.volume:.8f} </i>\n<varray name="rec_basis">\n{rec}\n</varray>\n'
        f'</crystal>\n<varray name="positions">\n{pos}\n</varray>\n</structure>'
    )


def _eigen_xml(eigenvalues: np.ndarray, efermi: float) -> str:
    """eigenvalues: (spin, kpoint, band) in eV; occupations from a step at ``efermi``."""
    spins = []
    for s, per_spin in enumerate(eigenvalues, start=1):
        kpts = []
        for k, bands in enumerate(per_spin, start=1):
            rows = "\n".join(f"<r>{e:12.4f} {1.0 if e < efermi else 0.0:8.4f}</r>" for e in bands)
            kpts.append(f'<set comment="kpoint {k}">\n{rows}\n</set>')
        spins.append(f'<set comment="spin {s}">\n' + "\n".join(kpts) + "\n</set>")
    return (
        '<eigenvalues>\n<array>\n<dimension dim="1">band</dimension>\n<dimension dim="2">kpoint</dimension>\n'
        '<dimension dim="3">spin</dimension>\n<field>eigene</field>\n<field>occ</field>\n<set>\n'
        + "\n".join(spins)
        + "\n</set>\n</array>\n</eigenvalues>"
    )


ORBITALS = ("s", "py", "pz", "px", "dxy", "dyz", "dz2", "dxz", "x2-y2")


def _dos_xml(n_spins: int, n_ions: int, efermi: float) -> str:
    """Total and lm-projected (LORBIT = 11) DOS on a 7-point energy grid."""
    grid = np.linspace(efermi - 10.0, efermi + 5.0, 7)
    dens = np.exp(-((grid - efermi + 2.0) ** 2) / 4.0)
    total, partial = [], []
    for s in range(1, n_spins + 1):
        rows = "\n".join(
            f"<r>{e:10.4f} {d:10.4f} {c:10.4f}</r>"
            for e, d, c in zip(grid, dens, np.cumsum(dens), strict=True)
        )
        total.append(f'<set comment="spin {s}">\n{rows}\n</set>')
    for ion in range(1, n_ions + 1):
        spins = []
        for s in range(1, n_spins + 1):
            rows = "\n".join(
                f"<r>{e:10.4f} " + " ".join(f"{d / 9:.4f}" for _ in ORBITALS) + "</r>"
                for e, d in zip(grid, dens, strict=True)
            )
            spins.append(f'<set comment="spin {s}">\n{rows}\n</set>')
        partial.append(f'<set comment="ion {ion}">\n' + "\n".join(spins) + "\n</set>")
    fields = "\n".join(f"<field>{o}</field>" for o in ORBITALS)
    return (
        f'<dos>\n<i name="efermi"> {efermi:.8f} </i>\n<total>\n<array>\n'
        '<dimension dim="1">gridpoints</dimension>\n<dimension dim="2">spin</dimension>\n'
        "<field>energy</field>\n<field>total</field>\n<field>integrated</field>\n"
        "<set>\n" + "\n".join(total) + "\n</set>\n</array>\n</total>\n"
        '<partial>\n<array>\n<dimension dim="1">gridpoints</dimension>\n<dimension dim="2">spin</dimension>\n'
        f'<dimension dim="3">ion</dimension>\n<field>energy</field>\n{fields}\n'
        "<set>\n" + "\n".join(partial) + "\n</set>\n</array>\n</partial>\n</dos>"
    )


def vasprun_xml(
    structure: Structure,
    incar: dict,
    potcars: list[str],
    divisions: tuple[int, int, int],
    nbands: int,
    energy: float,
    eigenvalues: np.ndarray,
    efermi: float,
) -> str:
    """A minimal vasprun.xml for one ionic step that pymatgen's Vasprun parses completely."""
    noncollinear = bool(incar.get("LSORBIT") or incar.get("LNONCOLLINEAR"))
    species = [site.specie.symbol for site in structure]
    kinds = list(dict.fromkeys(species))
    nelect = sum(ZVAL[p] * species.count(el) for p, el in zip(potcars, kinds, strict=True))
    incar_xml = "\n".join(_tag(k, v) for k, v in incar.items() if k not in ("MAGMOM", "SAXIS"))
    magmom = np.ravel(incar.get("MAGMOM", [])).tolist()
    parameters = {
        "ENCUT": incar.get("ENCUT", 520.0),
        "NELECT": nelect,
        "NBANDS": nbands,
        "ISPIN": 1 if noncollinear else incar.get("ISPIN", 1),
        "LNONCOLLINEAR": noncollinear,
        "LSORBIT": bool(incar.get("LSORBIT", False)),
        "NELM": incar.get("NELM", 60),
        "NSW": incar.get("NSW", 0),
        "IBRION": -1,
        "ISIF": 2,
        "ICHARG": incar.get("ICHARG", 2),
        "ISMEAR": incar.get("ISMEAR", 1),
        "LORBIT": incar.get("LORBIT", 0),
        "SIGMA": incar.get("SIGMA", 0.2),
        "EDIFF": incar.get("EDIFF", 1e-4),
        "EDIFFG": -0.05,
        "LDAU": bool(incar.get("LDAU", False)),
        "GGA": "--",
        "METAGGA": "--",
        "LHFCALC": False,
        "LUSE_VDW": False,
        "AEXX": 0.0,
        "NKPTS": len(eigenvalues[0]),
        "MAGMOM": magmom or [0.0] * len(structure),
        "SAXIS": list(incar.get("SAXIS", [0, 0, 1])),
    }
    for key in ("LDAUU", "LDAUL", "LDAUJ"):
        if key in incar:
            parameters[key] = list(incar[key])
    parameters_xml = "\n".join(_tag(k, v) for k, v in parameters.items())
    kpoints = np.array([[0, 0, 0], [0.25, 0, 0], [0.25, 0.25, 0], [0.25, 0.25, 0.25]])[: len(eigenvalues[0])]
    weights = np.full(len(kpoints), 1.0 / len(kpoints))
    atoms = "\n".join(f"<rc><c>{el}</c><c>{kinds.index(el) + 1}</c></rc>" for el in species)
    types = "\n".join(
        f"<rc><c>{species.count(el)}</c><c>{el}</c><c>{MASS[el]:.8f}</c><c>{ZVAL[p]:.8f}</c>"
        f"<c>{POTCAR_TITELS[p]}</c></rc>"
        for p, el in zip(potcars, kinds, strict=True)
    )
    steps = [energy + 0.5, energy + 0.01, energy]
    scsteps = "\n".join(
        f'<scstep>\n<energy>\n<i name="e_fr_energy"> {e:.8f} </i>\n<i name="e_wo_entrp"> {e:.8f} </i>\n'
        f'<i name="e_0_energy"> {e:.8f} </i>\n</energy>\n</scstep>'
        for e in steps
    )
    zeros = "\n".join(f"<v>{_v(np.zeros(3))}</v>" for _ in structure)
    stress = "\n".join(f"<v>{_v(np.zeros(3))}</v>" for _ in range(3))
    return f"""<?xml version="1.0" encoding="ISO-8859-1"?>
<modeling>
<generator>
<i name="program" type="string">vasp </i>
<i name="version" type="string">6.4.2  </i>
<i name="subversion" type="string">20Apr23 (build Jan 01 2024 00:00:00) complex  parallel </i>
<i name="platform" type="string">LinuxGNU </i>
<i name="date" type="string">2026 11 25 </i>
<i name="time" type="string">12:00:00 </i>
</generator>
<incar>
{incar_xml}
<v name="MAGMOM"> {" ".join(f"{m:.4f}" for m in magmom)} </v>
</incar>
<kpoints>
<generation param="Gamma">
<v type="int" name="divisions"> {divisions[0]} {divisions[1]} {divisions[2]} </v>
<v name="usershift"> 0.0 0.0 0.0 </v>
<v name="genvec1"> {1 / divisions[0]:.8f} 0.0 0.0 </v>
<v name="genvec2"> 0.0 {1 / divisions[1]:.8f} 0.0 </v>
<v name="genvec3"> 0.0 0.0 {1 / divisions[2]:.8f} </v>
<v name="shift"> 0.0 0.0 0.0 </v>
</generation>
<varray name="kpointlist">
{chr(10).join(f"<v>{_v(k)}</v>" for k in kpoints)}
</varray>
<varray name="weights">
{chr(10).join(f"<v>{w:.8f}</v>" for w in weights)}
</varray>
</kpoints>
<parameters>
<separator name="general">
{parameters_xml}
</separator>
</parameters>
<atominfo>
<atoms> {len(structure)} </atoms>
<types> {len(kinds)} </types>
<array name="atoms">
<dimension dim="1">ion</dimension>
<field type="string">element</field>
<field type="int">atomtype</field>
<set>
{atoms}
</set>
</array>
<array name="atomtypes">
<dimension dim="1">type</dimension>
<field type="int">atomspertype</field>
<field type="string">element</field>
<field>mass</field>
<field>valence</field>
<field type="string">pseudopotential</field>
<set>
{types}
</set>
</array>
</atominfo>
{_structure_xml(structure, "initialpos")}
<calculation>
{scsteps}
{_structure_xml(structure)}
<varray name="forces">
{zeros}
</varray>
<varray name="stress">
{stress}
</varray>
<energy>
<i name="e_fr_energy"> {energy:.8f} </i>
<i name="e_wo_entrp"> {energy:.8f} </i>
<i name="e_0_energy"> {energy:.8f} </i>
</energy>
<time name="totalsc"> 10.00 10.00</time>
{_eigen_xml(eigenvalues, efermi)}
{_dos_xml(len(eigenvalues), len(structure), efermi)}
</calculation>
{_structure_xml(structure, "finalpos")}
</modeling>
"""


# ----------------------------------------------------------------------------- OUTCAR, OSZICAR
def _moment_block(axis: str, moments: np.ndarray) -> str:
    rows = "\n".join(f"{i:5d}        0.000   0.000 {m:8.3f} {m:8.3f}" for i, m in enumerate(moments, start=1))
    return (
        f" magnetization ({axis})\n\n# of ion       s       p       d       tot\n"
        f"------------------------------------------\n{rows}\n"
        f"--------------------------------------------------\n"
        f"tot          0.000   0.000 {moments.sum():8.3f} {moments.sum():8.3f}\n\n"
    )


def outcar(energy: float, efermi: float, nelect: float, nbands: int, nkpts: int, moments: np.ndarray) -> str:
    """A minimal OUTCAR: header tags, Fermi level, moments per axis (x; or x, y, z), energy, timing.

    ``moments`` has shape (N,) for a collinear run or (N, 3) for a non-collinear one.
    """
    moments = np.asarray(moments, dtype=float)
    if moments.ndim == 1:
        blocks = _moment_block("x", moments)
        total = f"{moments.sum():.7f}"
        spin = "   ISPIN  =      2    spin polarized calculation?"
    else:
        blocks = "".join(_moment_block(axis, moments[:, j]) for j, axis in enumerate("xyz"))
        total = " ".join(f"{x:.7f}" for x in moments.sum(axis=0))
        spin = "   LNONCOLLINEAR =      T non collinear calculations"
    bands_line = f"number of bands    NBANDS= {nbands:6d}"
    return f""" vasp.6.4.2 20Apr23 (build Jan 01 2024 00:00:00) complex

 executed on             LinuxGNU date 2026.11.25  12:00:00
 running on    1 total cores

   k-points           NKPTS = {nkpts:6d}   k-points in BZ     NKDIM = {nkpts:6d}   {bands_line}
   total plane-waves  NPLWV =  32768
   IBRION =     -1    ionic relax: 0-MD 1-quasi-New 2-CG
{spin}

 E-fermi : {efermi:10.4f}     XC(G=0):  -8.0000     alpha+bet : -5.0000

 number of electron {nelect:14.7f} magnetization {total}

{blocks}
  FREE ENERGIE OF THE ION-ELECTRON SYSTEM (eV)
  ---------------------------------------------------
  free  energy   TOTEN  = {energy:18.8f} eV

  energy  without entropy= {energy:18.8f}  energy(sigma->0) = {energy:18.8f}


 General timing and accounting informations for this job:
 ========================================================

                  Total CPU time used (sec):       10.000
                            User time (sec):        9.000
                          System time (sec):        1.000
                         Elapsed time (sec):       10.000

                   Maximum memory used (kb):      100000.
                   Average memory used (kb):          N/A

                          Minor page faults:        10000
                          Major page faults:            0
                 Voluntary context switches:          100
"""


def oszicar(energy: float, total_moment: float) -> str:
    return (
        "       N       E                     dE             d eps       ncg     rms          rms(c)\n"
        f"DAV:   1    {energy + 0.5: .12E}   {energy + 0.5: .5E}   -0.1E+02   100   0.1E+01\n"
        f"DAV:   2    {energy: .12E}   {-0.5: .5E}   -0.1E-04   100   0.1E-03    0.1E-02\n"
        f"   1 F= {energy: .8E} E0= {energy: .8E}  d E = {energy: .6E}  mag= {total_moment:10.4f}\n"
    )


# ----------------------------------------------------------------------------- run directories
def write_run(
    run: Path,
    structure: Structure,
    incar: dict,
    kpoints: tuple[int, int, int],
    potcars: list[str],
    nbands: int,
    energy: float,
    efermi: float,
    eigenvalues: np.ndarray,
    moments: np.ndarray,
    charge_density: bool = False,
) -> None:
    """Write ``run/inputs`` (what the maker must produce) and ``run/outputs`` (what 'VASP' leaves)."""
    shutil.rmtree(run, ignore_errors=True)
    inputs, outputs = run / "inputs", run / "outputs"
    inputs.mkdir(parents=True)
    Incar(incar).write_file(inputs / "INCAR")
    Kpoints.gamma_automatic(kpoints).write_file(inputs / "KPOINTS")
    Poscar(structure).write_file(inputs / "POSCAR")
    (inputs / "POTCAR.spec").write_text("\n".join(potcars) + "\n")
    shutil.copytree(inputs, outputs)
    Poscar(structure).write_file(outputs / "CONTCAR")
    species = [site.specie.symbol for site in structure]
    kinds = list(dict.fromkeys(species))
    nelect = sum(ZVAL[p] * species.count(el) for p, el in zip(potcars, kinds, strict=True))
    (outputs / "vasprun.xml").write_text(
        vasprun_xml(structure, incar, potcars, kpoints, nbands, energy, eigenvalues, efermi)
    )
    (outputs / "OUTCAR").write_text(outcar(energy, efermi, nelect, nbands, len(eigenvalues[0]), moments))
    total = float(np.sum(moments, axis=0)[-1] if np.ndim(moments) == 2 else np.sum(moments))
    (outputs / "OSZICAR").write_text(oszicar(energy, total))
    if charge_density:
        grid = np.ones((2, 2, 2)) * nelect
        Chgcar(Poscar(structure), {"total": grid, "diff": grid * 0.1}).write_file(outputs / "CHGCAR")


def bands(
    n_spins: int, n_kpoints: int, n_bands: int, lowest: float, gap_at: float | None, gap: float
) -> np.ndarray:
    """Eigenvalues (spin, kpoint, band) in eV: evenly spread, with an optional gap above ``gap_at``."""
    levels = np.linspace(lowest, lowest + 0.8 * n_bands, n_bands)
    if gap_at is not None:
        levels = np.where(levels > gap_at, levels + gap, levels)
    out = np.empty((n_spins, n_kpoints, n_bands))
    for s in range(n_spins):
        for k in range(n_kpoints):
            out[s, k] = levels + 0.05 * k + 0.02 * s
    return out


def main() -> None:
    # NiO AFM-II, GGA+U static (sorted sites: Ni(+), Ni(-), O, O)
    nio = nio_afm2().get_sorted_structure()
    nio_incar = MP_STATIC | {
        "EDIFF": 0.0002,
        "LDAU": True,
        "LDAUJ": [0, 0],
        "LDAUL": [2, 0],
        "LDAUPRINT": 1,
        "LDAUTYPE": 2,
        "LDAUU": [6.2, 0],
        "LMAXMIX": 4,
        "MAGMOM": [2.0, -2.0, 0.0, 0.0],
    }
    write_run(
        HERE / "nio_afm2_static",
        nio,
        nio_incar,
        (8, 8, 8),
        ["Ni_pv", "O"],
        nbands=36,
        energy=-22.9016,
        efermi=5.60,
        eigenvalues=bands(2, 3, 36, -18.0, 5.2, 3.1),
        moments=np.array([1.703, -1.703, 0.0, 0.0]),
    )

    # FePt: collinear SCF, then force-theorem SOC runs along z (001) and x (100)
    fept = fept_l10()
    scf_incar = MP_STATIC | {"EDIFF": 0.0001, "LMAXMIX": 6, "MAGMOM": [3.0, 0.4]}
    write_run(
        HERE / "fept_soc" / "scf",
        fept,
        scf_incar,
        (10, 10, 7),
        ["Fe_pv", "Pt"],
        nbands=18,
        energy=-16.5210,
        efermi=7.40,
        eigenvalues=bands(2, 3, 18, -2.0, None, 0.0),
        moments=np.array([2.934, 0.352]),
        charge_density=True,
    )
    soc_energies = {(0, 0, 1): -16.6103, (1, 0, 0): -16.6075}
    for saxis, energy in soc_energies.items():
        soc_incar = MP_STATIC | {
            "EDIFF": 0.0001,
            "ICHARG": 11,
            "ISYM": -1,
            "LCHARG": False,
            "LMAXMIX": 6,
            "LSORBIT": True,
            "MAGMOM": [[0.0, 0.0, 3.0], [0.0, 0.0, 0.4]],
            "NBANDS": 36,
            "SAXIS": list(saxis),
        }
        # non-collinear OUTCAR moments are written in the SAXIS frame: along SAXIS is (0, 0, m)
        along = np.outer([2.931, 0.351], [0.0, 0.0, 1.0])
        write_run(
            HERE / "fept_soc" / f"soc_{''.join(map(str, saxis))}",
            fept,
            soc_incar,
            (23, 23, 16),
            ["Fe_pv", "Pt"],
            nbands=36,
            energy=energy,
            efermi=7.41,
            eigenvalues=bands(1, 3, 36, -2.0, None, 0.0),
            moments=along,
        )


if __name__ == "__main__":
    main()
