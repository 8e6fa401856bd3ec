"""The campaign report: legible ladders, visible unresolved candidates, plots named by formula and id,
HTML rendered from the Markdown by a Markdown library, accurate reasons."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import yaml
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.report import label_positions, ladder_figure, ladder_filename, overview_figure
from magscreen.schemas import CandidateDoc, Confidence, LadderStep

runner = CliRunner()


def candidate(levels: list[float], resolved: bool = True, formula: str = "Fe", candidate_id: str = "mp-13"):
    steps = [
        LadderStep(
            label="AFM q=(0,0,0)" if i else "FM",
            display_name=f"AFM q=(0,0,0) (4 atoms) #{i:06d}" if i else "FM (2 atoms)",
            fingerprint=f"f{i}",
            n_atoms=4 if i else 2,
            relative_energy_meV=level,
            total_magnetization_muB=0.0 if i else 4.4,
            total_magnetization_per_magnetic_atom=0.0 if i else 2.2,
            converged=True,
        )
        for i, level in enumerate(levels)
    ]
    return CandidateDoc(
        candidate_key=f"{candidate_id}:m",
        candidate_id=candidate_id,
        formula=formula,
        campaign="c",
        source="snapshot",
        structure={},
        n_atoms=2,
        magnetic_elements=["Fe"],
        model_version="m",
        n_orderings=len(steps),
        resolved=resolved,
        ground_state_label="FM" if resolved else None,
        ground_state_fingerprint="f0" if resolved else None,
        lowest_ordering_label="FM",
        gap_meV=sorted(levels)[1] - sorted(levels)[0],
        ladder=steps,
        confidence=Confidence(in_magnetic_domain=resolved, gap_resolved=resolved, all_converged=True),
    )


def test_label_positions_keep_their_spacing_and_stay_at_their_levels_when_apart():
    assert label_positions([0.0, 0.0, 0.0], 1.0) == [0.0, 1.0, 2.0]
    assert label_positions([0.0, 5.0, 5.2], 1.0) == [0.0, 5.0, 6.0]


@pytest.mark.parametrize("levels", [[0.0, 0.001, 0.002, 30.0], [0.0, 14.2, 14.25, 64.6, 64.7]])
def test_ladder_labels_do_not_overlap(levels):
    fig = ladder_figure(candidate(levels))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == len(levels)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), "two level labels overlap"
    assert all(fig.axes[0].bbox.contains(b.x0, b.y0) and fig.axes[0].bbox.contains(b.x1, b.y1) for b in boxes)
    plt.close(fig)


def test_plot_files_are_named_by_formula_and_candidate_id():
    assert ladder_filename(candidate([0.0, 1.0])) == "ladder_Fe_mp-13.png"


def test_unresolved_candidates_are_visible_in_the_overview_even_at_zero_gap():
    fig = overview_figure(
        [candidate([0.0, 50.0]), candidate([0.0, 0.0], resolved=False, candidate_id="mp-90")]
    )
    ax = fig.axes[0]
    marks = [t for t in ax.texts if t.get_text() == "unresolved"]
    assert len(marks) == 1 and marks[0].get_position()[0] == 1  # over the second bar, whose height is 0
    assert "ground state not resolved" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)


def test_report_html_is_rendered_from_markdown_with_units_and_reasons(tmp_path):
    # a Heisenberg campaign (every candidate inside the model, AFM-II by 54 meV per magnetic atom)
    config = {
        "name": "rep",
        "candidates": {"source": "snapshot", "filters": {"names": ["NiO"]}},
        "orderings": {"max_magnetic_atoms": 2, "max_orderings": 3},
        "relax": {"calculator": "heisenberg:1,-10", "spin_steps": 50},
        "store": {"path": "db"},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["run", str(tmp_path / "c.yaml"), "--report-dir", str(tmp_path / "md")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["report", "-c", str(tmp_path / "c.yaml"), "--format", "html", "--out", str(tmp_path / "html")]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "html" / "report.html").read_text()
    assert "`" not in page and "<code>" in page  # Markdown code spans rendered, no raw backticks
    assert "<table>" in page and "| rank |" not in page
    assert '<img alt="NiO mp-19009" src="ladder_NiO_mp-19009.png"' in page
    for header in ("gap (meV/mag. atom)", "net moment (muB/cell)", "supercell (atoms)"):
        assert header in page
    assert "calibration of the sigma" in page
    assert "54.00" in page and "54.00000000000001" not in page
    markdown = Path(tmp_path / "md" / "report.md").read_text()
    assert "never saw their magnetic elements" not in markdown
    assert "'fitted': both orderings are in the training data" in markdown  # what each calibration means
