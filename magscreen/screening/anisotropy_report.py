"""The anisotropy part of a campaign's report and run summary: a table and E(theta) plots per candidate."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["anisotropy_rows", "anisotropy_table", "plot_candidate_anisotropies"]

HEADER = [
    "candidate",
    "formula",
    "ordering",
    "easy axis",
    "MAE (ueV/atom)",
    "K1 (MJ/m^3)",
    "mu0 Ms (T)",
    "mu0 H_A (T)",
    "kappa",
    "DFT MAE (ueV/atom)",
]


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def anisotropy_rows(candidates: list) -> list[list[str]]:
    """One row per candidate with an ``anisotropy`` field, largest kappa first (no prediction last)."""
    with_field = [c for c in candidates if c.anisotropy is not None]
    with_field.sort(key=lambda c: (c.anisotropy.kappa is None, -(c.anisotropy.kappa or 0.0), c.candidate_id))
    rows = []
    for c in with_field:
        a = c.anisotropy
        if a.status != "predicted":
            status = a.status.replace("_", " ")  # the reason is in the document (anisotropy.reason)
            rows.append([c.candidate_id, c.formula, a.ordering_label, status, *["-"] * 6])
            continue
        axis = a.easy_axis_label or "-"
        if a.easy_axis:
            axis += " [" + " ".join(str(i) for i in a.easy_axis) + "]"
        dft = _fmt(a.check.mae_ueV_per_atom, "+.1f") if a.check else "-"
        rows.append(
            [
                c.candidate_id,
                c.formula,
                a.ordering_label,
                axis,
                _fmt(a.mae_ueV_per_atom, "+.1f"),
                _fmt(a.K1_MJ_m3, "+.2f"),
                _fmt(a.Ms_T, ".2f"),
                _fmt(a.mu0_HA_T, ".1f"),
                _fmt(a.kappa, ".2f"),
                dft,
            ]
        )
    return rows


def anisotropy_table(candidates: list) -> tuple[str, list[str], list[list[str]]] | None:
    """(title, header, rows) of the report's anisotropy table; None when no candidate has the field."""
    rows = anisotropy_rows(candidates)
    if not rows:
        return None
    return "Anisotropy (MAE = E[100] - E[001], positive = easy axis c; ML spin-orbit block)", HEADER, rows


def plot_candidate_anisotropies(candidates: list, out_dir: Path) -> list[tuple[object, Path]]:
    """E(theta) plot ``anisotropy_<formula>_<candidate id>.png`` of every candidate with a prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for c in candidates:
        a = c.anisotropy
        if a is None or a.status != "predicted" or not a.curves:
            continue
        fig, ax = plt.subplots(figsize=(5.0, 3.4))
        for plane, (theta, energies) in a.curves.items():
            ax.plot(theta, energies, label=f"plane {plane}")
        ax.set_xlabel("angle of the magnetisation from c (degrees)")
        ax.set_ylabel("E - E[001] (micro-eV/atom)")
        mae = f"MAE {a.mae_ueV_per_atom:+.1f} ueV/atom"
        ax.set_title(f"{c.formula} {a.ordering_label}: {mae}, easy {a.easy_axis_label}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{c.formula}_{c.candidate_id}")
        path = Path(out_dir) / f"anisotropy_{slug}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append((c, path))
    return written
