"""Labels of a batch of frames as tensors with masks, and the masked, variance-normalised loss.

A label a frame does not carry is NaN in the tensor and False in its mask; the loss selects the
labelled entries by boolean indexing, so a missing label contributes nothing (and a masking bug
would show up as a NaN loss, never as a silent zero target).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from magscreen.training.data import Frame


@dataclass(frozen=True)
class LabelBatch:
    """Labels of ``B`` frames with ``N`` atoms in total.

    Attributes
    ----------
    n_atoms
        Atoms per frame, shape (B,).
    energy, energy_mask
        Total energies (eV), shape (B,).
    energy_weight
        Weight of each frame's energy error, shape (B,): ``energy_group_weight`` for frames with an
        energy group, 1 otherwise.
    forces, forces_mask
        Forces (eV/Angstrom), shape (N, 3); mask per atom (N,).
    magnetic_forces, magnetic_forces_mask
        Magnetic forces (eV/mu_B), shape (N, 3); mask per atom, True where the frame carries the
        label and the atom carries a moment (atoms without a moment are not constrained in
        constrained-moment DFT, so their zero is not a measurement).
    stress, stress_mask
        Stress (eV/Angstrom^3), shape (B, 3, 3).
    moment_directions
        Unit vectors along the moments, shape (N, 3); zero where an atom carries no moment.
    """

    n_atoms: torch.Tensor
    energy: torch.Tensor
    energy_mask: torch.Tensor
    energy_weight: torch.Tensor
    forces: torch.Tensor
    forces_mask: torch.Tensor
    magnetic_forces: torch.Tensor
    magnetic_forces_mask: torch.Tensor
    stress: torch.Tensor
    stress_mask: torch.Tensor
    moment_directions: torch.Tensor


def collate_labels(
    frames: Sequence[Frame], dtype: torch.dtype = torch.float64, energy_group_weight: float = 1.0
) -> LabelBatch:
    """Stack the labels of ``frames`` (NaN and mask False where a frame lacks a label)."""

    def per_atom(name: str, extra_mask=None) -> tuple[torch.Tensor, torch.Tensor]:
        values, masks = [], []
        for frame in frames:
            value = getattr(frame, name)
            present = value is not None
            values.append(value if present else np.full((frame.n_atoms, 3), np.nan))
            mask = np.full(frame.n_atoms, present)
            if extra_mask is not None:
                mask &= extra_mask(frame)
            masks.append(mask)
        return torch.as_tensor(np.concatenate(values), dtype=dtype), torch.as_tensor(np.concatenate(masks))

    def carrying(frame: Frame) -> np.ndarray:
        return np.linalg.norm(frame.moments, axis=1) > 0

    forces, forces_mask = per_atom("forces")
    magnetic, magnetic_mask = per_atom("magnetic_forces", carrying)
    return LabelBatch(
        n_atoms=torch.tensor([f.n_atoms for f in frames], dtype=dtype),
        energy=torch.tensor([np.nan if f.energy is None else f.energy for f in frames], dtype=dtype),
        energy_mask=torch.tensor([f.energy is not None for f in frames]),
        energy_weight=torch.tensor(
            [1.0 if f.energy_group is None else energy_group_weight for f in frames], dtype=dtype
        ),
        forces=forces,
        forces_mask=forces_mask,
        magnetic_forces=magnetic,
        magnetic_forces_mask=magnetic_mask,
        stress=torch.as_tensor(
            np.stack([np.full((3, 3), np.nan) if f.stress is None else f.stress for f in frames]), dtype=dtype
        ),
        stress_mask=torch.tensor([f.stress is not None for f in frames]),
        moment_directions=torch.as_tensor(
            np.concatenate([_directions(f.moments) for f in frames]), dtype=dtype
        ),
    )


def _directions(moments: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(moments, axis=1, keepdims=True)
    return np.divide(moments, norms, out=np.zeros_like(moments), where=norms > 0)


def squared_errors(
    predictions: dict[str, torch.Tensor],
    labels: LabelBatch,
    names: Sequence[str],
    longitudinal_weight: float = 1.0,
) -> dict:
    """Sum of squared errors and the number of labelled entries, per loss term.

    Energy enters per atom (eV/atom); forces, magnetic forces and stress per Cartesian component.
    The component of a magnetic-force error along the moment is weighted by ``longitudinal_weight``
    (1: plain squared error; 0: transverse part only, the part that exerts a torque).

    Returns
    -------
    dict
        ``{name: (sum of squared errors, count)}`` for each name in ``names``; count 0 (and a zero
        sum that still carries the autograd graph) when no frame of the batch has the label.
    """
    out = {}
    for name in names:
        mask = getattr(labels, f"{name}_mask")
        target = getattr(labels, name)
        prediction = predictions[name]
        if name == "energy":
            error = ((prediction - target) / labels.n_atoms * labels.energy_weight.sqrt())[mask]
        else:
            error = (prediction - target)[mask]
        squared = (error**2).sum()
        if name == "magnetic_forces" and longitudinal_weight != 1.0:
            along = (error * labels.moment_directions[mask]).sum(-1)
            squared = squared - (1.0 - longitudinal_weight) * (along**2).sum()
        out[name] = (squared, int(error.numel()))
    return out


def masked_loss(
    predictions: dict[str, torch.Tensor],
    labels: LabelBatch,
    weights: dict[str, float],
    variances: dict[str, float],
    longitudinal_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss = sum over terms of weight * mean squared error / label variance, labelled entries only.

    Parameters
    ----------
    predictions
        Model outputs named like the labels: ``energy`` (B,), ``forces`` (N, 3), ``magnetic_forces``
        (N, 3), ``stress`` (B, 3, 3).
    labels
        The batch's labels and masks.
    weights
        Weight per term; the terms used are the keys.
    variances
        Variance of each label type over the training set (its units squared).
    longitudinal_weight
        Weight of the magnetic-force error along the moment (see :func:`squared_errors`).

    Returns
    -------
    loss
        Scalar tensor.
    mse
        Mean squared error per term (label units squared), NaN where the batch has no such label.
    """
    errors = squared_errors(predictions, labels, list(weights), longitudinal_weight)
    loss = next(iter(predictions.values())).new_zeros(())
    mse = {}
    for name, (total, count) in errors.items():
        if count == 0:
            mse[name] = float("nan")
            continue
        loss = loss + weights[name] * total / count / variances[name]
        mse[name] = float(total.detach()) / count
    return loss, mse
