"""Plot of an anisotropy scan: E(theta) in two planes through c (ML) or the computed points with the fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from magscreen.screening.anisotropy import AnisotropyAnalysis

__all__ = ["plot_anisotropy"]


def plot_anisotropy(
    analysis: AnisotropyAnalysis,
    path: str | Path,
    *,
    title: str,
    curves: dict[str, tuple[list[float], list[float]]] | None = None,
) -> Path:
    """Write E(theta) (micro-eV per atom) against the angle from c to ``path`` (PNG or PDF).

    ``curves`` (ML) are drawn as lines; the analysed directions as points at their angle from c,
    with the fitted uniaxial form (uniaxial crystals) as a dashed line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for label, (theta, energies) in (curves or {}).items():
        ax.plot(theta, energies, label=f"plane {label}")
    directions = np.asarray(analysis.directions)
    angles = np.degrees(np.arccos(np.clip(directions @ np.asarray(analysis.axis_cartesian), -1, 1)))
    energies = np.asarray(analysis.energies_ueV_per_atom)
    reference = energies[int(np.argmin(angles))]
    ax.plot(angles, energies - reference, "o", color="black", label="directions analysed")
    if analysis.symmetry == "uniaxial":
        theta = np.linspace(0.0, 180.0, 181)
        s = np.sin(np.radians(theta)) ** 2
        k2 = analysis.K2_ueV_per_atom or 0.0
        ax.plot(
            theta, analysis.K1_ueV_per_atom * s + k2 * s**2, "--", color="grey", label="K1 sin^2 + K2 sin^4"
        )
    ax.set_xlabel("angle of the magnetisation from c (degrees)")
    ax.set_ylabel("E - E[001] (micro-eV/atom)")
    ax.set_title(f"{title}: MAE {analysis.mae_ueV_per_atom:+.1f} ueV/atom, easy {analysis.easy_axis_label}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
