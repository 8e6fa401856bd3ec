"""The head layouts of benchmarks/training/head_sharing.py are reparametrisations of the model's own."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from magscreen.potential import MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.training.readout import get_readout, set_readout

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "training"))
from head_sharing import anion_class, shared_map  # noqa: E402


def test_the_shared_layout_is_the_element_heads_with_equal_weights():
    """Element weights M @ w of any shared readout w put the same node weights on every element's head
    and the same pair weights on every pair of them (the unused shared slot stays zero), so the design
    columns of the shared layout, features @ M, are exact."""
    magnetic = MagneticHyperparameters(element_heads=("Fe", "Ni"))
    model = MagneticPotential(soc=False, seed=3, species=("O", "Fe", "Ni"), magnetic=magnetic).double()
    summed = shared_map(model.magnetic, len(get_readout(model)))
    shared = np.random.default_rng(0).normal(size=summed.shape[1])
    set_readout(model, summed @ shared)
    hyper = model.magnetic.hyper
    node = model.magnetic.exchange[-1]
    weights = node.weight.detach().view(hyper.head_slots, 2, -1)
    biases = node.bias.detach().view(hyper.head_slots, 2)
    assert torch.equal(weights[1], weights[2]) and torch.equal(biases[1], biases[2])
    assert not weights[0].any() and not biases[0].any()
    pair = model.magnetic.pair_radial[-1]
    per_pair = pair.weight.detach().view(hyper.pair_slots, -1, pair.in_features)
    fe_fe, ni_fe, ni_ni = per_pair[1 * 2 // 2 + 1], per_pair[2 * 3 // 2 + 1], per_pair[2 * 3 // 2 + 2]
    assert torch.equal(fe_fe, ni_fe) and torch.equal(ni_fe, ni_ni)
    assert not per_pair[[0, 1, 3]].any()  # pair slots (0, 0), (1, 0), (2, 0) of the unused shared slot
    assert (
        summed.sum()
        == len(get_readout(model))
        - (node.in_features + 1) * 2
        - (pair.in_features + 1) * (2 * hyper.bilinear_channels) * 3
    )


def test_anion_class_takes_the_most_electronegative_anion():
    assert anion_class(np.array([26, 8])) == "oxide"
    assert anion_class(np.array([28, 9, 19])) == "halide"  # KNiF3
    assert anion_class(np.array([25, 83])) == "pnictide"  # MnBi
    assert anion_class(np.array([8, 9, 25])) == "halide"  # F before O
    assert anion_class(np.array([26, 78])) == "metal"
