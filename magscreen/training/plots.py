"""Plots of training runs: the learning curve written beside the checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

_CURVES = {
    "energy": ("E", "meV/atom"),
    "forces": ("F", "meV/A"),
    "magnetic_forces": ("H", "meV/mu_B"),
}


def plot_learning_curve(history: Sequence[dict], path: Path) -> Path:
    """Training loss and validation RMSE per label against epoch, stages marked; PNG at ``path``."""
    epochs = [r["epoch"] for r in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    axes[0].semilogy(epochs, [r["train_loss"] for r in history], color="k")
    axes[0].set(xlabel="epoch", ylabel="training loss (dimensionless)")
    for name, (symbol, unit) in _CURVES.items():
        for split, style in (("train", "--"), ("validation", "-")):
            key = f"{split}_rmse_{name}"
            points = [(r["epoch"], r[key]) for r in history if key in r]
            if points:
                x, y = zip(*points, strict=True)
                axes[1].semilogy(x, y, style, label=f"{split} {symbol} ({unit})")
    axes[1].set(xlabel="epoch", ylabel="RMSE")
    axes[1].legend(fontsize=7)
    for k in range(1, len(history)):
        if history[k]["stage"] != history[k - 1]["stage"]:
            for ax in axes:
                ax.axvline(history[k]["epoch"] - 0.5, color="0.7", lw=0.8)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
