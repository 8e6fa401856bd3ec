"""``magscreen anisotropy``: ML path on a fitted toy model (easy axis, JSON fields, plot), refusals
outside the spin-orbit domain, bad options; the GPAW path (slow) on bcc Fe's cubic symmetry."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.potential import MagneticPotential
from magscreen.potential.graph import graph_from_atoms
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.screening.anisotropy import directions_from_angles
from magscreen.training.soc_fit import DirectionGroup, apply_soc_weights, fit_soc

runner = CliRunner()


def feni() -> Structure:
    return Structure(Lattice.tetragonal(2.5, 3.6), ["Fe", "Ni"], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.fixture(scope="module")
def fitted_model(tmp_path_factory):
    """Small random model whose spin-orbit block is fitted to E = -K sum (m.z)^2 on FeNi
    (K = 300 micro-eV per atom, easy axis c), written as a checkpoint."""
    magnetic = MagneticHyperparameters(spin_invariants=True, soc_channels=2, hidden=8)
    model = MagneticPotential(soc=False, seed=3, species=("O", "Fe", "Ni"), magnetic=magnetic).double()
    model = model.with_soc(seed=5)
    atoms = AseAtomsAdaptor.get_atoms(feni())
    directions = directions_from_angles([(t, p) for t in (0, 30, 60, 90) for p in (0, 45)])
    energies = -300e-6 * 2 * directions[:, 2] ** 2
    group = DirectionGroup("FeNi", atoms, np.array([2.6, 0.6]), directions, energies, source="toy")
    apply_soc_weights(model, fit_soc(model, [group], ridge=1e-12))
    graph = graph_from_atoms(atoms, model.cutoff, np.zeros((2, 3)))
    model.record_soc_domain([graph], [group.moment_vectors()[0]])
    path = tmp_path_factory.mktemp("model") / "feni_soc.pt"
    model.save(path)
    return path


def test_ml_json_recovers_the_fitted_easy_axis(fitted_model, tmp_path):
    cif = tmp_path / "FeNi.cif"
    feni().to(filename=str(cif))
    plot = tmp_path / "feni.png"
    arguments = ["anisotropy", str(cif), "--model", str(fitted_model), "--json", "--plot", str(plot)]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["engine"] == "ml" and payload["sign_convention"].startswith("MAE = E[100] - E[001]")
    assert payload["easy_axis"] == [0, 0, 1] and payload["easy_axis_label"] == "c"
    assert payload["mae_ueV_per_atom"] == pytest.approx(300.0, rel=0.05)
    assert payload["moments_muB"] == pytest.approx([2.6, 0.6])  # the fit's lengths, not the defaults
    for key in ("K1_MJ_m3", "K2_MJ_m3", "Ms_T", "Ms_kA_m", "mu0_HA_T", "kappa", "easy_axis_cartesian"):
        assert key in payload
    assert plot.stat().st_size > 0


def test_ml_refuses_outside_the_spin_orbit_domain(fitted_model, tmp_path):
    nio = Structure(Lattice.cubic(4.17), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cif = tmp_path / "NiO.cif"
    nio.to(filename=str(cif))
    result = runner.invoke(
        app, ["anisotropy", str(cif), "--model", str(fitted_model)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "outside the model's spin-orbit domain" in text and "--engine gpaw" in text


def test_ml_refuses_a_model_without_spin_orbit_block(tmp_path):
    model = MagneticPotential(soc=False, seed=3, species=("O", "Fe", "Ni")).double()
    path = model.save(tmp_path / "nosoc.pt")
    cif = tmp_path / "FeNi.cif"
    feni().to(filename=str(cif))
    result = runner.invoke(app, ["anisotropy", str(cif), "--model", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "no spin-orbit block" in text and "--engine gpaw" in text


def test_bad_engine_and_missing_file(tmp_path):
    result = runner.invoke(app, ["anisotropy", str(tmp_path / "none.cif"), "--engine", "vasp"])
    assert result.exit_code == 2 and "--engine" in result.output
    result = runner.invoke(app, ["anisotropy", str(tmp_path / "none.cif")], env={"COLUMNS": "200"})
    assert result.exit_code == 1 and "none.cif" in result.output


@pytest.mark.slow
def test_gpaw_engine_on_cubic_iron(tmp_path):
    """bcc Fe: [100] and [001] are equivalent by cubic symmetry, so the force-theorem MAE is zero to
    the SCF's noise and the analysis takes the cubic form (coarse 300 eV, 4x4x4 run)."""
    cif = tmp_path / "Fe.cif"
    Structure(Lattice.cubic(2.83), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(filename=str(cif))
    arguments = [
        "anisotropy",
        str(cif),
        "--engine",
        "gpaw",
        "--json",
        "--ecut",
        "300",
        "--kpoint-density",
        "1.5",
        "--smearing",
        "0.1",
        "--workdir",
        str(tmp_path / "gpaw"),
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["symmetry"] == "cubic"
    assert abs(payload["mae_ueV_per_atom"]) < 1.0
    assert payload["Ms_T"] == pytest.approx(2.1, rel=0.15)  # bcc Fe: 2.2 mu_B, mu0 Ms 2.15 T
