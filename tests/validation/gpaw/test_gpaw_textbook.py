"""Textbook magnets at the documented GPAW defaults (slow: minutes per compound on one core).

Numbers and timings of a run are in docs/reference.md. Run with
``OMP_NUM_THREADS=1 pytest tests/validation/gpaw/test_gpaw_textbook.py -m slow``.
"""

from __future__ import annotations

import numpy as np
import pytest
from jobflow import run_locally

from magscreen.schemas.validation import DFTValidationDoc
from magscreen.validation.gpaw.makers import GPAWAnisotropyMaker, GPAWStaticMaker
from magscreen.validation.gpaw.settings import GPAWSettings
from magscreen.validation.gpaw.textbook import TEXTBOOK_ORDERINGS, hcp_co, textbook_pair

pytest.importorskip("gpaw")
pytestmark = pytest.mark.slow


def _doc(maker, structure, compound: str, label: str) -> DFTValidationDoc:
    job = maker.make(structure, candidate_id=compound, ordering_label=label, ordering_fingerprint=label)
    return run_locally(job, log=False, ensure_success=True)[job.uuid][1].output


#: Settings of the gapped antiferromagnets: the default cutoff, and 2 k-points per 1/Angstrom, which the
#: convergence test shows to be within 0.2 meV per magnetic atom of 3 for NiO and MnF2.
INSULATORS = GPAWSettings(ecut_eV=GPAWSettings.ecut_eV, kpoint_density=2.0)


def _gap_meV(compound: str, workdir, settings: GPAWSettings) -> tuple[float, dict[str, DFTValidationDoc]]:
    """E(AFM) - E(FM) in meV per magnetic atom."""
    fm, afm, _ = TEXTBOOK_ORDERINGS[compound]
    maker = GPAWStaticMaker(settings=settings, workdir=str(workdir))
    docs = {label: _doc(maker, s, compound, label) for label, s in textbook_pair(compound).items()}
    gap = (docs[afm].energy_per_magnetic_atom_eV - docs[fm].energy_per_magnetic_atom_eV) * 1000.0
    return gap, docs


@pytest.mark.parametrize("compound", ["NiO", "MnO", "MnF2"])
def test_superexchange_antiferromagnets(compound, tmp_path):
    """Kramers-Anderson superexchange through the anion: NiO, MnO (AFM-II) and MnF2 order antiparallel."""
    gap, docs = _gap_meV(compound, tmp_path, INSULATORS)
    assert gap < -5.0, f"{compound}: AFM - FM = {gap:.1f} meV per magnetic atom"
    afm = docs[TEXTBOOK_ORDERINGS[compound][1]]
    moments = np.array(afm.magnetic_moments)[:2, 2]
    assert moments[0] * moments[1] < 0
    expected = {"NiO": 1.7, "MnO": 4.6, "MnF2": 4.7}[compound]  # PBE+U moments inside PAW spheres
    assert np.all(np.abs(np.abs(moments) - expected) < 0.4)


def test_bcc_fe_is_ferromagnetic_at_default_settings(tmp_path):
    """Stoner ferromagnetism of bcc Fe at converged settings."""
    gap, docs = _gap_meV("Fe", tmp_path, GPAWSettings())
    assert gap > 100.0
    assert np.array(docs["FM"].magnetic_moments)[:, 2] == pytest.approx([2.2, 2.2], abs=0.15)


def test_hcp_co_easy_axis_is_c(tmp_path):
    """Magnetocrystalline anisotropy of hcp Co by the force theorem: easy axis along c (MAE > 0)."""
    doc = _doc(GPAWAnisotropyMaker(workdir=str(tmp_path)), hcp_co(), "Co", "FM")
    assert doc.mae_ueV_per_atom > 0, doc.anisotropy_energies_ueV_per_atom
    np.testing.assert_allclose(np.abs(doc.easy_axis), [0, 0, 1], atol=1e-6)


def test_unconstrained_noncollinear_scf_relaxes_canting(tmp_path):
    """Without a constraining field, exchange turns canted Fe moments back towards parallel (LDA)."""
    from pymatgen.electronic_structure.core import Magmom

    from magscreen.validation.gpaw.textbook import bcc_fe

    angle = np.radians(30.0)
    canted = bcc_fe("FM").copy(
        site_properties={
            "magmom": [Magmom([0, 0, 2.5]), Magmom([2.5 * np.sin(angle), 0, 2.5 * np.cos(angle)])]
        }
    )
    settings = GPAWSettings(xc="LDA", ecut_eV=300.0, kpoint_density=2.0, smearing_eV=0.1)
    doc = _doc(GPAWStaticMaker(settings=settings, workdir=str(tmp_path)), canted, "Fe", "canted-30")
    assert doc.calculation == "noncollinear_static" and doc.settings.noncollinear
    m1, m2 = np.array(doc.magnetic_moments)
    final = np.degrees(np.arccos(np.dot(m1, m2) / np.linalg.norm(m1) / np.linalg.norm(m2)))
    assert final < 15.0
