"""Data-efficiency study: validation error against the number of magnetic training frames.

For every backbone initialisation (pretrained SevenNet-0, or the same architecture with random
weights) and every training-set size, one run of the same stages and budget (the same number of
frames per epoch, ``data.epoch_size``, hence the same number of optimiser steps) is trained and
its ``best.pt`` evaluated on the full validation set. Backbone outputs are computed once per
initialisation and shared by its runs (the backbone is frozen in the study's stages).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from magscreen.training.config import TrainConfig  # noqa: E402
from magscreen.training.metrics import UNITS  # noqa: E402
from magscreen.training.trainer import Trainer  # noqa: E402

SYMBOLS = {"energy": "E", "forces": "F", "magnetic_forces": "H", "magnetic_forces_transverse": "H_perp"}


def run_study(
    config: TrainConfig,
    sizes: Sequence[int],
    inits: Sequence[str] = ("sevennet0", "scratch"),
    *,
    forces: bool = True,
    progress: bool = True,
) -> list[dict]:
    """Train one run per (initialisation, size) and collect validation errors.

    Parameters
    ----------
    config
        Base run: data split, stages (frozen backbone only), seed, ``data.epoch_size``; its
        ``output`` is the study folder, each run writes to ``<output>/<init>-<size>``.
    sizes
        Training-set sizes (frames, drawn with the seed; a size at or above the set is all of it).
    inits
        Backbone initialisations to compare.
    forces
        Evaluate validation forces too (a backward pass through the backbone per frame).

    Returns
    -------
    list of dict
        ``{"init", "n_train", "validation": {label: {"mae", "rmse", "n"}}}`` per run; also written
        to ``<output>/study.json``.
    """
    if any(stage.backbone != "frozen" for stage in config.stages):
        raise ValueError("the study shares backbone features between runs: every stage must be frozen")
    study_dir = Path(config.output)
    rows: list[dict] = []
    caches: dict[str, dict] = {init: {} for init in inits}
    for size in sizes:  # sizes outermost, so that both curves grow together
        for init in inits:
            run = config.model_copy(deep=True)
            run.model.init = init
            run.data.max_train_frames = size
            run.output = study_dir / f"{init}-{size}"
            trainer = Trainer(
                run,
                source=f"study {init}-{size}",
                progress=progress,
                caches=caches[init],
                final_forces=forces,
            )
            result = trainer.run()
            caches[init].update(trainer.raw_caches())
            rows.append(
                {
                    "init": init,
                    "n_train": result.metrics["n_train"],
                    "validation": result.metrics["validation"],
                }
            )
            (study_dir / "study.json").write_text(json.dumps(rows, indent=1))
    return rows


def study_table(rows: Sequence[dict]) -> str:
    """Markdown table: one line per training-set size, MAE of E, F, H for each initialisation."""
    inits = list(dict.fromkeys(r["init"] for r in rows))
    sizes = sorted({r["n_train"] for r in rows})
    names = _present(rows)
    header = ["frames"] + [f"{SYMBOLS[n]} {init} ({UNITS[n]})" for init in inits for n in names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_key = {(r["init"], r["n_train"]): r["validation"] for r in rows}
    for size in sizes:
        cells = [str(size)]
        for init in inits:
            for name in names:
                value = by_key.get((init, size), {}).get(name)
                cells.append("" if value is None else f"{value['mae']:.3g}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_study(rows: Sequence[dict], path: Path, baseline: dict | None = None) -> Path:
    """Validation MAE of E, F, H and H across the moment against training frames, per initialisation.

    ``baseline`` (label -> MAE, meV units) is drawn as a horizontal dashed line per panel.
    """
    names = _present(rows)
    fig, axes = plt.subplots(1, len(names), figsize=(3.8 * len(names), 3.6), constrained_layout=True)
    for ax, name in zip(axes, names, strict=True):
        symbol = SYMBOLS[name]
        for init in dict.fromkeys(r["init"] for r in rows):
            points = sorted(
                (r["n_train"], r["validation"][name]["mae"])
                for r in rows
                if r["init"] == init and name in r["validation"]
            )
            if not points:
                continue
            x, y = zip(*points, strict=True)
            ax.loglog(x, y, "o-", label="SevenNet-0 backbone" if init == "sevennet0" else "random backbone")
        if baseline and name in baseline:
            ax.axhline(baseline[name], ls="--", color="0.5", label="Heisenberg + Landau")
        ax.set(xlabel="training frames", ylabel=f"validation MAE {symbol} ({UNITS[name]})")
    axes[0].legend(fontsize=7)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _present(rows: Sequence[dict]) -> list[str]:
    """Labels evaluated in at least one run, in :data:`SYMBOLS` order."""
    return [name for name in SYMBOLS if any(name in r["validation"] for r in rows)]
