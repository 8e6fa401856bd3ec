"""Campaign anisotropy stage: fields of the candidate documents, domain refusals, query by kappa."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ase.build import bulk
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.config import load_config
from magscreen.potential import MagneticPotential
from magscreen.potential.graph import graph_from_atoms
from magscreen.schemas import CandidateDoc
from magscreen.store import build_stores

runner = CliRunner()


@pytest.fixture(scope="module")
def soc_model(tmp_path_factory):
    """Small random potential with a spin-orbit block whose domain is Fe among Fe (bcc iron)."""
    model = MagneticPotential(soc=True, seed=3, species=("O", "Mn", "Fe", "Ni"), channels=4, num_layers=1)
    with torch.no_grad():
        model.magnetic.soc_coefficients[-1].weight.normal_(
            0.0, 0.05, generator=torch.Generator().manual_seed(1)
        )
    iron = bulk("Fe", "bcc", a=2.87, cubic=True)
    graph = graph_from_atoms(iron, model.cutoff, np.zeros((2, 3)))
    model.record_soc_domain([graph], [np.array([[0, 0, 2.2], [0, 0, 2.2]])])
    model.magnetic_domain = ("Ni",)
    return model.save(tmp_path_factory.mktemp("model") / "tiny_soc.pt")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, soc_model, write_config):
    folder = tmp_path_factory.mktemp("anisotropy")
    config = write_config(
        folder,
        str(soc_model),
        candidates={"filters": {"names": ["Fe-bcc", "NiO"]}},
        anisotropy={"top_n": 2, "ordering": "FM"},
        relax={"steps": 0},  # the snapshot's cubic cell stays exactly cubic
    )
    result = runner.invoke(app, ["run", str(config), "--report-dir", str(folder / "report")])
    assert result.exit_code == 0, result.output
    assert "Anisotropy (MAE = E[100] - E[001]" in result.output  # the run summary's table
    return config, build_stores(load_config(config).store), folder


def test_documents_carry_the_anisotropy_or_say_why_not(campaign):
    _, stores, _ = campaign
    docs = {d["formula"]: CandidateDoc(**d) for d in stores.candidates.query()}
    iron, nio = docs["Fe"].anisotropy, docs["NiO"].anisotropy
    assert iron.status == "predicted" and iron.ordering_label == "FM"
    assert iron.symmetry == "cubic" and iron.easy_axis_label in ("<100>", "<110>", "<111>")
    assert iron.mae_ueV_per_atom == pytest.approx(0.0, abs=1e-6)  # cubic: [100] ~ [001]
    assert iron.Ms_T > 0 and iron.moments_muB == pytest.approx([2.2] * len(iron.moments_muB))
    assert nio.status == "outside_domain" and "spin-orbit domain" in nio.reason
    assert nio.K1_MJ_m3 is None and nio.kappa is None  # no numbers without a prediction


def test_query_filters_and_sorts_on_anisotropy_fields(campaign):
    config, _, _ = campaign
    arguments = [
        "query",
        '{"anisotropy.status": "predicted"}',
        "--config",
        str(config),
        "--fields",
        "formula,anisotropy.K1_MJ_m3,anisotropy.easy_axis_label",
        "--sort",
        "-anisotropy.K1_MJ_m3",
        "--format",
        "json",
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["formula"] for row in rows] == ["Fe"]


def test_summary_and_report_show_the_anisotropy(campaign):
    _, _, folder = campaign
    report = (folder / "report" / "report.md").read_text()
    assert "## Anisotropy" in report and "outside" in report
    assert list((folder / "report").glob("anisotropy_*.png"))
