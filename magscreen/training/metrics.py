"""Validation errors of any predictor (the network or a baseline) on labelled frames."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from magscreen.training.data import Frame

Prediction = tuple[float, np.ndarray | None, np.ndarray]
"""(energy eV, forces eV/Angstrom (N, 3) or None when not computed, magnetic forces eV/mu_B (N, 3))."""
Predictor = Callable[[Frame], Prediction]

UNITS = {
    "energy": "meV/atom",
    "forces": "meV/A",
    "magnetic_forces": "meV/mu_B",
    "magnetic_forces_transverse": "meV/mu_B",
    "magnetic_forces_longitudinal": "meV/mu_B",
}


def errors(predictions: Sequence[Prediction], frames: Sequence[Frame]) -> dict:
    """Mean absolute and root-mean-square errors in meV units (see :data:`UNITS`).

    Energy per atom; forces per Cartesian component over all atoms; magnetic forces per component
    over the atoms that carry a moment, and split into the part across the moment (the torque
    part; the length of the error vector per atom) and along it (signed, per atom). Frames
    without a label are skipped for that label.

    Returns
    -------
    dict
        ``{label: {"mae": ..., "rmse": ..., "n": number of values}}``.
    """
    collected: dict[str, list[np.ndarray]] = {name: [] for name in UNITS}
    for (energy, forces, magnetic_forces), frame in zip(predictions, frames, strict=True):
        if frame.energy is not None:
            collected["energy"].append(np.atleast_1d((energy - frame.energy) / frame.n_atoms))
        if frame.forces is not None and forces is not None:
            collected["forces"].append((forces - frame.forces).ravel())
        if frame.magnetic_forces is not None:
            carrying = np.linalg.norm(frame.moments, axis=1) > 0
            error = (magnetic_forces - frame.magnetic_forces)[carrying]
            direction = frame.moments[carrying] / np.linalg.norm(
                frame.moments[carrying], axis=1, keepdims=True
            )
            along = np.einsum("ia,ia->i", error, direction)
            collected["magnetic_forces"].append(error.ravel())
            collected["magnetic_forces_transverse"].append(
                np.linalg.norm(error - along[:, None] * direction, axis=1)
            )
            collected["magnetic_forces_longitudinal"].append(along)
    out = {}
    for name, chunks in collected.items():
        if chunks and sum(c.size for c in chunks):
            values = 1e3 * np.concatenate(chunks)
            out[name] = {
                "mae": float(np.abs(values).mean()),
                "rmse": float(np.sqrt((values**2).mean())),
                "n": int(values.size),
            }
    return out


def evaluate(predict: Predictor, frames: Sequence[Frame]) -> dict:
    """:func:`errors` of ``predict`` on ``frames``."""
    return errors([predict(frame) for frame in frames], frames)
