"""Training the magnetic potential from Python; the implementation lives in :mod:`magscreen.training`.

>>> from magscreen.potential.train import train
>>> result = train("configs/train/monoxides.yaml")      # doctest: +SKIP
>>> result.metrics["validation"]["magnetic_forces"]["mae"]  # meV/mu_B  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from magscreen.training.config import load_train_config
from magscreen.training.trainer import Trainer, TrainResult

__all__ = ["TrainResult", "train"]


def train(config: str | Path, *, resume: bool = True, progress: bool = True) -> TrainResult:
    """Run the training a YAML config describes (same as ``magscreen train CONFIG``).

    Parameters
    ----------
    config
        Training config, e.g. ``configs/train/monoxides.yaml``.
    resume
        Continue from the run folder's ``last.pt`` when it exists.
    progress
        Show progress bars with live losses.
    """
    return Trainer(load_train_config(config), source=config, progress=progress).run(resume=resume)
