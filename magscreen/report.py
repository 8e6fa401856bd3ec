"""Campaign report: a Markdown page (or HTML rendered from it by the ``markdown`` library) with PNG
plots, read from the stores.

Plots: one energy ladder per candidate, ``ladder_<formula>_<candidate id>.png`` (relative energy of
every ordering, meV per magnetic atom, labels spread so they never overlap) and a campaign overview
(gap between the lowest and the next ordering per candidate, coloured by the ground-state label;
candidates whose ground state is not resolved are grey, hatched and marked 'unresolved').
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
from magscreen.schemas import UNCERTAINTY_REGIMES, CampaignDoc, CandidateDoc, DFTValidationDoc  # noqa: E402
from magscreen.screening.anisotropy_report import anisotropy_table, plot_candidate_anisotropies  # noqa: E402
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


def ladder_filename(candidate: CandidateDoc) -> str:
    """``ladder_<formula>_<candidate id>.png``, e.g. ``ladder_Fe_mp-13.png``."""
    return f"ladder_{_slug(candidate.formula)}_{_slug(candidate.candidate_id)}.png"


def label_positions(levels: list[float], spacing: float) -> list[float]:
    """Heights of level labels: each at its level, pushed up just enough to stay ``spacing`` above
    the label below (``levels`` in ascending order; same units as ``spacing``)."""
    out: list[float] = []
    for level in levels:
        out.append(level if not out else max(level, out[-1] + spacing))
    return out


def ladder_figure(candidate: CandidateDoc) -> plt.Figure:
    """Energy ladder of one candidate: a level per ordering (meV per magnetic atom), labelled with
    its display name and net moment; the resolved ground state in red."""
    steps = sorted(candidate.ladder, key=lambda step: step.relative_energy_meV)
    levels = [step.relative_energy_meV for step in steps]
    span = max(max(levels) - min(levels), 1e-3)
    height = 2.6 + 0.28 * len(steps)
    fig, ax = plt.subplots(figsize=(6.0, height))
    # one label line is ~9 points; in data units that is span * 9 pt / (axes height ~ 0.7 * height * 72 pt)
    spacing = 1.35 * span * 9.0 / (0.7 * height * 72.0)
    labels = label_positions(levels, spacing)
    for step, level, label_y in zip(steps, levels, labels, strict=True):
        ground = candidate.resolved and step.fingerprint == candidate.ground_state_fingerprint
        colour = "tab:red" if ground else ("tab:blue" if candidate.resolved else "tab:gray")
        ax.hlines(level, 0.05, 0.55, colors=colour, linewidth=2)
        ax.plot([0.55, 0.62], [level, label_y], color="0.6", linewidth=0.6)
        moment = f"{step.total_magnetization_muB:.2f} muB/cell"
        flag = "" if step.converged else ", not converged"
        sigma = "" if step.energy_uncertainty_meV is None else f" +- {step.energy_uncertainty_meV:.2f}"
        text = f"{step.display_name or step.label}: {level:.2f}{sigma} meV ({moment}{flag})"
        ax.text(0.63, label_y, text, va="center", fontsize=7)
    ax.set_xlim(0, 2.6)
    ax.set_ylim(min(levels) - 0.08 * span, max(labels) + 0.12 * span)
    ax.set_xticks([])
    ax.set_ylabel("E - E(lowest) (meV / magnetic atom)")
    state = ""
    if not candidate.resolved:
        kind = f"; the kind {candidate.ground_state_kind} is" if candidate.ground_state_kind else ""
        state = f" (ground state not resolved{kind})"
    ax.set_title(f"{candidate.formula} {candidate.candidate_id}{state}", fontsize=8)
    fig.tight_layout()
    return fig


def plot_ladder(candidate: CandidateDoc, path: Path) -> Path:
    """Save :func:`ladder_figure` as a PNG at ``path``."""
    fig = ladder_figure(candidate)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def overview_figure(candidates: list[CandidateDoc]) -> plt.Figure:
    """Gap to the next ordering per candidate (meV per magnetic atom), coloured by ground state;
    unresolved candidates grey, hatched and marked 'unresolved' whatever their gap (with the kind
    where only that is resolved)."""
    labels = sorted({c.ground_state_label for c in candidates if c.resolved})
    colours = {label: plt.cm.tab10(i % 10) for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * len(candidates) + 1.5), 3.6))
    top = max([c.gap_meV or 0.0 for c in candidates] + [1.0])
    for i, c in enumerate(candidates):
        if c.resolved:
            ax.bar(i, c.gap_meV or 0.0, color=colours[c.ground_state_label], edgecolor="black", linewidth=0.5)
            continue
        ax.bar(i, c.gap_meV or 0.0, color="0.85", hatch="//", edgecolor="black", linewidth=0.5)
        mark = "unresolved" + (f" (kind {c.ground_state_kind})" if c.ground_state_kind else "")
        ax.text(i, 0.02 * top, mark, rotation=90, ha="center", va="bottom", fontsize=6, color="0.3")
    ax.set_xticks(range(len(candidates)), [c.formula for c in candidates], rotation=60, fontsize=7)
    ax.set_ylabel("gap to next ordering (meV / magnetic atom)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[label]) for label in labels]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="0.85", hatch="//", edgecolor="black"))
    ax.legend(handles, [*labels, "ground state not resolved"], fontsize=6, loc="upper right")
    fig.tight_layout()
    return fig


def plot_overview(candidates: list[CandidateDoc], path: Path) -> Path:
    """Save :func:`overview_figure` as a PNG at ``path``."""
    fig = overview_figure(candidates)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _gap(c: CandidateDoc) -> str:
    if c.gap_uncertainty_meV is None:
        return _fmt(c.gap_meV, 2)
    regime = f" ({c.gap_uncertainty_regime})" if c.gap_uncertainty_regime else ""
    return f"{_fmt(c.gap_meV, 2)} +- {c.gap_uncertainty_meV:.2f}{regime}"


def _kind(c: CandidateDoc) -> str:
    """'AFM (FM +190.15 +- 22.47)' where only the ground state's kind is resolved, else '-'."""
    if c.ground_state_kind is None or c.kind_gap_meV is None:
        return "-"
    sigma = "" if c.kind_gap_uncertainty_meV is None else f" +- {c.kind_gap_uncertainty_meV:.2f}"
    return f"{c.ground_state_kind} ({c.kind_rival} +{c.kind_gap_meV:.2f}{sigma})"


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _tables(data: ReportData) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of the report's tables."""
    resolved = [c for c in data.candidates if c.resolved]
    unresolved = [c for c in data.candidates if not c.resolved]
    tables = [
        (
            "Ranking (resolved ground states)",
            [
                "rank",
                "candidate",
                "formula",
                "ground state",
                "gap (meV/mag. atom)",
                "experiment",
                "agrees",
                "orderings",
            ],
            [
                [
                    str(i),
                    c.candidate_id,
                    c.formula,
                    c.ground_state_label or "-",
                    _gap(c),
                    c.experimental_ordering or "-",
                    _yes(c.agrees_with_experiment),
                    str(c.n_orderings),
                ]
                for i, c in enumerate(resolved, start=1)
            ],
        )
    ]
    if unresolved:
        tables.append(
            (
                "Not resolved (no ground-state label)",
                [
                    "candidate",
                    "formula",
                    "lowest ordering",
                    "gap (meV/mag. atom)",
                    "kind resolved (lowest rival, meV/mag. atom)",
                    "experiment",
                    "agrees",
                    "why",
                ],
                [
                    [
                        c.candidate_id,
                        c.formula,
                        c.lowest_ordering_label,
                        _gap(c),
                        _kind(c),
                        c.experimental_ordering or "-",
                        _yes(c.agrees_with_experiment),
                        c.unresolved_reason or "-",
                    ]
                    for c in unresolved
                ],
            )
        )
    tables.append(
        (
            "Orderings",
            [
                "candidate",
                "ordering",
                "supercell (atoms)",
                "E - E(lowest) (meV/mag. atom)",
                "one sigma (meV/mag. atom)",
                "calibration of the sigma",
                "net moment (muB/cell)",
                "converged",
            ],
            [
                [
                    c.candidate_id,
                    step.display_name or step.label,
                    str(step.n_atoms),
                    _fmt(step.relative_energy_meV, 2),
                    _fmt(step.energy_uncertainty_meV, 2),
                    step.uncertainty_regime or "-",
                    _fmt(step.total_magnetization_muB, 2),
                    _yes(step.converged),
                ]
                for c in data.candidates
                for step in c.ladder
            ],
        )
    )
    anisotropy = anisotropy_table(data.candidates)
    if anisotropy is not None:
        tables.append(anisotropy)
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
                        _yes(v.converged),
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
    resolved = [d.candidate_id for d in data.candidates if d.resolved]
    kinds = [d.candidate_id for d in data.candidates if not d.resolved and d.ground_state_kind]
    lines = [
        f"Model version: `{c.model_version}`",
        f"Candidates ranked: {len(data.candidates)}; orderings: {c.n_orderings} "
        f"({c.n_orderings_computed} computed, {c.n_orderings_skipped} taken from the store)",
        f"Completed: {c.completed_at:%Y-%m-%d %H:%M UTC}",
        f"Ground states resolved: {len(resolved)} of {len(data.candidates)}. A ground state is resolved "
        "when every magnetic atom is inside the model's knowledge (its element seen with moments among "
        "the same neighbour elements, at the same coordination number), the relaxations converged and "
        "the gap exceeds `rank.min_gap_meV`, the tie tolerance and twice its uncertainty (when the model "
        "gives one); "
        "the others carry no ground-state label and are listed with the reason.",
        f"Of those, the kind alone (FM, AFM, FiM) is resolved for {len(kinds)}"
        + (f" ({', '.join(kinds)})" if kinds else "")
        + ": every ordering of another kind lies above the lowest by more than the same margins.",
        "The uncertainty's calibration depends on what the model was trained on: "
        + "; ".join(f"'{name}': {meaning}" for name, meaning in UNCERTAINTY_REGIMES.items())
        + " (docs/model.md).",
    ]
    if c.selected_for_validation:
        lines.append(f"Selected for {c.validation_engine} validation: {', '.join(c.selected_for_validation)}")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(data: ReportData, overview: str, ladders: list[tuple[CandidateDoc, str]]) -> str:
    out = [f"# Campaign {data.campaign.name}", ""]
    out += [f"- {line}" for line in _summary_lines(data)] + ["", f"![overview]({overview})", ""]
    for title, header, rows in _tables(data):
        out += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows] + [""]
    out += ["## Energy ladders", ""]
    out += [f"![{c.formula} {c.candidate_id}]({name})" for c, name in ladders] + [""]
    return "\n".join(out)


def _html(markdown_text: str, title: str) -> str:
    """An HTML page rendered from the report's Markdown by the ``markdown`` library."""
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"], output_format="html")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:80em;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 6px}</style>"
        f"</head><body>\n{body}\n</body></html>\n"
    )


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
        'md' (Markdown) or 'html' (rendered from the same Markdown).

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
        path = plot_ladder(candidate, out_dir / ladder_filename(candidate))
        plots.append(path)
        ladders.append((candidate, path.name))
    text = _markdown(data, plots[0].name, ladders)
    anisotropy_plots = plot_candidate_anisotropies(data.candidates, out_dir)
    if anisotropy_plots:
        plots += [path for _, path in anisotropy_plots]
        text += "## Anisotropy: E(theta) in two planes through c\n\n"
        text += "".join(f"![{c.formula} {c.candidate_id}]({path.name})\n" for c, path in anisotropy_plots)
    page = out_dir / f"report.{fmt}"
    page.write_text(text if fmt == "md" else _html(text, f"Campaign {data.campaign.name}"))
    return page, plots
