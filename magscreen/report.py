"""Campaign report: a Markdown or HTML page with PNG plots, read from the stores.

Plots: one energy ladder per candidate (relative energy of every ordering, meV per magnetic atom)
and a campaign overview (gap between ground state and next ordering per candidate, coloured by the
ground-state label, hatched when the candidate lies outside the model's magnetic domain).
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from magscreen.errors import InputError  # noqa: E402
from magscreen.schemas import CampaignDoc, CandidateDoc, DFTValidationDoc  # noqa: E402
from magscreen.screening.ranking import rank_candidates  # noqa: E402
from magscreen.store import CampaignStores  # noqa: E402

__all__ = ["ReportData", "load_report_data", "write_report"]


class ReportData:
    """What a report shows: the campaign, its ranked candidates and their DFT validations."""

    def __init__(
        self, campaign: CampaignDoc, candidates: list[CandidateDoc], validations: list[DFTValidationDoc]
    ) -> None:
        self.campaign = campaign
        self.candidates = candidates
        self.validations = validations


def load_report_data(stores: CampaignStores, campaign: str | None = None) -> ReportData:
    """Read a campaign (the latest one when ``campaign`` is None) and its documents.

    Raises
    ------
    InputError
        No campaign of that name in the store.
    """
    criteria = {"name": campaign} if campaign else {}
    docs = list(stores.campaigns.query(criteria, sort={"completed_at": -1}, limit=1))
    if not docs:
        known = ", ".join(stores.campaigns.distinct("name")) or "none"
        raise InputError(
            f"no campaign {campaign!r}" if campaign else "no campaign",
            source=stores.location,
            field="campaigns",
            expected=f"a campaign run with 'magscreen run' (campaigns in store: {known})",
        )
    doc = CampaignDoc(**docs[0])
    found = stores.candidates.query(
        {"candidate_id": {"$in": doc.candidate_ids}, "model_version": doc.model_version}
    )
    candidates = rank_candidates([CandidateDoc(**d) for d in found])
    validations = [
        DFTValidationDoc(**d) for d in stores.validations.query({"candidate_id": {"$in": doc.candidate_ids}})
    ]
    return ReportData(doc, candidates, validations)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def plot_ladder(candidate: CandidateDoc, path: Path) -> Path:
    """Energy ladder of one candidate: a level per ordering (meV per magnetic atom)."""
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    for step in candidate.ladder:
        colour = "tab:red" if step.label == candidate.ground_state_label else "tab:blue"
        ax.hlines(step.relative_energy_meV, 0.1, 0.9, colors=colour, linewidth=2)
        ax.text(0.92, step.relative_energy_meV, step.label, va="center", fontsize=7)
    ax.set_xlim(0, 1.6)
    ax.set_xticks([])
    ax.set_ylabel("E - E(ground state) (meV / magnetic atom)")
    flag = "" if candidate.confidence.in_magnetic_domain else " (out of domain)"
    ax.set_title(f"{candidate.formula} {candidate.candidate_id}{flag}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_overview(candidates: list[CandidateDoc], path: Path) -> Path:
    """Gap to the next ordering per candidate, coloured by ground state; hatched if out of domain."""
    labels = sorted({c.ground_state_label for c in candidates})
    colours = {label: plt.cm.tab10(i % 10) for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(candidates) + 1.5), 3.4))
    for i, c in enumerate(candidates):
        ax.bar(
            i,
            c.gap_meV or 0.0,
            color=colours[c.ground_state_label],
            hatch="" if c.confidence.in_magnetic_domain else "//",
            edgecolor="black",
            linewidth=0.5,
        )
    ax.set_xticks(range(len(candidates)), [c.formula for c in candidates], rotation=60, fontsize=7)
    ax.set_ylabel("gap to next ordering (meV / magnetic atom)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[label]) for label in labels]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", hatch="//", edgecolor="black"))
    ax.legend(handles, [*labels, "outside magnetic domain"], fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _tables(data: ReportData) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of the report's tables."""
    ranking = []
    for i, c in enumerate(data.candidates, start=1):
        domain = (
            "yes"
            if c.confidence.in_magnetic_domain
            else "NO: " + ", ".join(c.confidence.out_of_domain_elements)
        )
        ranking.append(
            [
                str(i),
                c.candidate_id,
                c.formula,
                c.ground_state_label,
                _fmt(c.gap_meV),
                c.experimental_ordering or "-",
                str(c.n_orderings),
                domain,
                "yes" if c.confidence.gap_resolved else "no",
                "yes" if c.confidence.all_converged else "no",
            ]
        )
    tables = [
        (
            "Ranking",
            [
                "rank",
                "candidate",
                "formula",
                "ground state",
                "gap (meV/mag. atom)",
                "experiment",
                "orderings",
                "in magnetic domain",
                "gap resolved",
                "converged",
            ],
            ranking,
        )
    ]
    if data.validations:
        ml = {
            (c.candidate_id, s.fingerprint): s.relative_energy_meV for c in data.candidates for s in c.ladder
        }
        by_candidate: dict[str, list[DFTValidationDoc]] = defaultdict(list)
        for v in data.validations:
            by_candidate[v.candidate_id].append(v)
        rows = []
        for candidate_id, docs in by_candidate.items():
            energies = [
                v.energy_per_magnetic_atom_eV for v in docs if v.energy_per_magnetic_atom_eV is not None
            ]
            low = min(energies) if energies else None
            for v in docs:
                dft = None
                if low is not None and v.energy_per_magnetic_atom_eV is not None:
                    dft = 1000.0 * (v.energy_per_magnetic_atom_eV - low)
                rows.append(
                    [
                        candidate_id,
                        v.ordering_label,
                        v.engine,
                        _fmt(ml.get((candidate_id, v.ordering_fingerprint))),
                        _fmt(dft),
                        "yes" if v.converged else "no",
                    ]
                )
        header = ["candidate", "ordering", "engine", "ML (meV/mag. atom)", "DFT (meV/mag. atom)", "converged"]
        tables.append(("DFT validation", header, rows))
    if data.campaign.failed_candidates:
        rows = [[k, v] for k, v in data.campaign.failed_candidates.items()]
        tables.append(("Candidates that could not be screened", ["candidate", "reason"], rows))
    return tables


def _summary_lines(data: ReportData) -> list[str]:
    c = data.campaign
    outside = [d.candidate_id for d in data.candidates if not d.confidence.in_magnetic_domain]
    lines = [
        f"Model version: `{c.model_version}`",
        f"Candidates ranked: {len(data.candidates)}; orderings: {c.n_orderings} "
        f"({c.n_orderings_computed} computed, {c.n_orderings_skipped} taken from the store)",
        f"Completed: {c.completed_at:%Y-%m-%d %H:%M UTC}",
    ]
    if outside:
        lines.append(
            "Outside the model's magnetic domain (ranked, but the model never saw their magnetic "
            f"elements with moments): {', '.join(outside)}"
        )
    if c.selected_for_validation:
        lines.append(f"Selected for {c.validation_engine} validation: {', '.join(c.selected_for_validation)}")
    return lines


def _markdown(data: ReportData, overview: str, ladders: list[tuple[CandidateDoc, str]]) -> str:
    out = [f"# Campaign {data.campaign.name}", ""]
    out += [f"- {line}" for line in _summary_lines(data)] + ["", f"![overview]({overview})", ""]
    for title, header, rows in _tables(data):
        out += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    out += ["## Energy ladders", ""]
    out += [f"![{c.candidate_id}]({name})" for c, name in ladders] + [""]
    return "\n".join(out)


def _html(data: ReportData, overview: str, ladders: list[tuple[CandidateDoc, str]]) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Campaign {e(data.campaign.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px}</style>",
        f"</head><body><h1>Campaign {e(data.campaign.name)}</h1><ul>",
    ]
    out += [f"<li>{e(line)}</li>" for line in _summary_lines(data)]
    out += ["</ul>", f"<img src='{e(overview)}' alt='overview'>"]
    for title, header, rows in _tables(data):
        out += [f"<h2>{e(title)}</h2><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"]
        out += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in rows]
        out.append("</table>")
    out.append("<h2>Energy ladders</h2>")
    out += [f"<img src='{e(name)}' alt='{e(c.candidate_id)}'>" for c, name in ladders]
    out.append("</body></html>")
    return "\n".join(out)


def write_report(
    stores: CampaignStores,
    out_dir: str | Path,
    *,
    campaign: str | None = None,
    fmt: Literal["md", "html"] = "md",
) -> tuple[Path, list[Path]]:
    """Write the report of a campaign and its plots.

    Parameters
    ----------
    stores
        Connected campaign stores.
    out_dir
        Folder of the report; created if missing.
    campaign
        Campaign name; the latest campaign by default.
    fmt
        'md' (Markdown) or 'html'.

    Returns
    -------
    tuple
        Path of the report page and paths of the PNG plots.
    """
    data = load_report_data(stores, campaign)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = [plot_overview(data.candidates, out_dir / "overview.png")]
    ladders = []
    for candidate in data.candidates:
        path = plot_ladder(candidate, out_dir / f"ladder_{_slug(candidate.candidate_id)}.png")
        plots.append(path)
        ladders.append((candidate, path.name))
    render = _markdown if fmt == "md" else _html
    page = out_dir / f"report.{fmt}"
    page.write_text(render(data, plots[0].name, ladders))
    return page, plots
