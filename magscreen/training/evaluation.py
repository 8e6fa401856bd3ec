"""Validation errors of a trained :class:`MagneticPotential` on labelled frames, in batches."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from magscreen.potential.graph import collate
from magscreen.potential.model import MagneticPotential
from magscreen.training.data import Frame
from magscreen.training.metrics import Prediction, errors


def predict_frames(
    model: MagneticPotential,
    frames: Sequence[Frame],
    *,
    forces: bool = True,
    batch_size: int = 8,
    progress: bool = False,
) -> list[Prediction]:
    """Energy, forces (when ``forces``) and magnetic forces of every frame.

    Without forces only the magnetic blocks are differentiated, which costs little more than a
    forward pass.
    """
    out: list[Prediction] = []
    starts = range(0, len(frames), batch_size)
    for start in tqdm(starts, desc="evaluating", disable=not progress, leave=False):
        chunk = frames[start : start + batch_size]
        graph = collate([f.graph(model.cutoff, model.dtype) for f in chunk])
        result = model(graph, compute_forces=forces)
        offsets = torch.cumsum(torch.tensor([0] + [f.n_atoms for f in chunk]), 0)
        for k in range(len(chunk)):
            atoms = slice(int(offsets[k]), int(offsets[k + 1]))
            out.append(
                (
                    float(result["energy"][k].detach()),
                    result["forces"][atoms].detach().double().numpy() if forces else None,
                    result["magnetic_forces"][atoms].detach().double().numpy(),
                )
            )
    return out


def validation_errors(model: MagneticPotential, frames: Sequence[Frame], *, forces: bool = True) -> dict:
    """MAE and RMSE per label (meV units, see :data:`magscreen.training.metrics.UNITS`)."""
    return errors(predict_frames(model, frames, forces=forces), frames)
