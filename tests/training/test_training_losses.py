"""Masked losses: a label a frame does not carry contributes nothing, and is never a zero target."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from magscreen.training.data import Frame
from magscreen.training.losses import collate_labels, masked_loss


def _frame(rng, forces: bool) -> Frame:
    moments = np.zeros((3, 3))
    moments[0] = [0, 0, 1.5]
    return Frame(
        numbers=np.array([28, 8, 8]),
        positions=rng.normal(size=(3, 3)),
        cell=np.eye(3) * 5,
        pbc=np.ones(3, bool),
        moments=moments,
        energy=float(rng.normal()),
        forces=rng.normal(size=(3, 3)) if forces else None,
        magnetic_forces=rng.normal(size=(3, 3)),
    )


def _predictions(rng) -> dict[str, torch.Tensor]:
    return {
        "energy": torch.tensor(rng.normal(size=2)),
        "forces": torch.tensor(rng.normal(size=(6, 3)), requires_grad=True),
        "magnetic_forces": torch.tensor(rng.normal(size=(6, 3))),
    }


def test_frame_without_forces_contributes_nothing_to_force_loss():
    rng = np.random.default_rng(3)
    frames = [_frame(rng, forces=True), _frame(rng, forces=False)]
    labels = collate_labels(frames)
    assert torch.isnan(labels.forces[3:]).all()  # missing labels are NaN, not zeros
    assert labels.forces_mask.tolist() == [True] * 3 + [False] * 3
    weights = {"forces": 1.0}
    variances = {"forces": 0.5}
    prediction = _predictions(rng)
    loss, _ = masked_loss(prediction, labels, weights, variances)
    loss.backward()
    assert torch.all(prediction["forces"].grad[3:] == 0)
    assert torch.all(prediction["forces"].grad[:3] != 0)
    changed = {**prediction, "forces": prediction["forces"].detach().clone()}
    changed["forces"][3:] += 100.0
    assert masked_loss(changed, labels, weights, variances)[0] == loss
    expected = ((prediction["forces"][:3] - torch.tensor(frames[0].forces)) ** 2).mean() / 0.5
    torch.testing.assert_close(loss, expected)


def test_magnetic_force_loss_only_on_atoms_with_a_moment():
    rng = np.random.default_rng(4)
    labels = collate_labels([_frame(rng, True), _frame(rng, True)])
    assert labels.magnetic_forces_mask.tolist() == [True, False, False, True, False, False]


def test_batch_without_a_label_gives_zero_term_not_nan():
    rng = np.random.default_rng(5)
    labels = collate_labels([_frame(rng, False), _frame(rng, False)])
    loss, mse = masked_loss(_predictions(rng), labels, {"forces": 1.0}, {"forces": 1.0})
    assert float(loss) == 0.0
    assert np.isnan(mse["forces"])


def test_transverse_only_magnetic_force_loss_ignores_error_along_moment():
    """longitudinal weight 0: an error parallel to m (no torque) costs nothing, one across m does."""
    rng = np.random.default_rng(6)
    frame = _frame(rng, True)
    labels = collate_labels([frame])
    base = {"energy": torch.tensor([frame.energy]), "magnetic_forces": torch.tensor(frame.magnetic_forces)}
    along, across = base["magnetic_forces"].clone(), base["magnetic_forces"].clone()
    along[0] += torch.tensor([0.0, 0.0, 0.3])  # atom 0 carries m = (0, 0, 1.5)
    across[0] += torch.tensor([0.3, 0.0, 0.0])
    weights, variances = {"magnetic_forces": 1.0}, {"magnetic_forces": 1.0}
    loss_along, _ = masked_loss({**base, "magnetic_forces": along}, labels, weights, variances, 0.0)
    loss_across, _ = masked_loss({**base, "magnetic_forces": across}, labels, weights, variances, 0.0)
    assert float(loss_along) == pytest.approx(0.0, abs=1e-15)
    assert float(loss_across) == pytest.approx(0.3**2 / 3)
