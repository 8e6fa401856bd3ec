"""The structural part of the magnetic domain: a model trained on fcc Fe (Fe among Fe, 12 nearest
neighbours) does not claim bcc Fe (Fe among Fe, 8), whose energies it would take from fcc Fe's data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.graph import graph_from_atoms
from magscreen.potential.model import atom_coordination
from magscreen.screening.calculators import domain_gaps


def graph(atoms, cutoff: float = 5.0):
    return graph_from_atoms(atoms, cutoff, np.zeros((len(atoms), 3)), dtype=torch.float64)


@pytest.mark.parametrize(
    ("atoms", "expected"),
    [
        (bulk("Fe", "bcc", a=2.87), [8]),
        (bulk("Fe", "fcc", a=3.60), [12]),
        (bulk("Co", "hcp", a=2.51, c=4.07), [12, 12]),
        (bulk("NiO", "rocksalt", a=4.17), [6, 6]),
        (bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2), [8] * 16),
    ],
)
def test_coordination_numbers_of_known_lattices(atoms, expected):
    """Nearest neighbours within 1.1 times the nearest distance: bcc's second shell (15 % further) and
    the close-packed lattices' (41 %) stay out, the cell's size does not matter."""
    assert atom_coordination(graph(atoms)) == expected


@pytest.fixture(scope="module")
def fcc_trained() -> MagneticPotential:
    model = MagneticPotential(soc=False, seed=3, cutoff=5.0).double()
    fcc = bulk("Fe", "fcc", a=3.60, cubic=True)
    moments = np.tile([0.0, 0.0, 2.2], (len(fcc), 1))
    model.record_magnetic_domain([graph_from_atoms(fcc, 5.0, moments, dtype=torch.float64)], [moments])
    return model


def test_a_new_structure_type_of_a_known_environment_is_outside_the_domain(fcc_trained, tmp_path):
    assert fcc_trained.magnetic_coordination == {"Fe": {"Fe": [12]}}
    bcc = bulk("Fe", "bcc", a=2.87, cubic=True)
    assert not fcc_trained.coordination_known(graph(bcc)).any()
    assert fcc_trained.coordination_known(graph(bulk("Fe", "fcc", a=3.55))).all()  # strained: still fcc
    gaps = domain_gaps(MagneticCalculator(fcc_trained), bcc, ["Fe"])
    assert len(gaps) == 1 and gaps[0].coordination == [8] and gaps[0].trained_coordination == [12]
    assert "with 8 nearest neighbours" in gaps[0].describe() and "only with 12" in gaps[0].describe()
    assert domain_gaps(MagneticCalculator(fcc_trained), bulk("Fe", "fcc", a=3.6), ["Fe"]) == []
    loaded = MagneticPotential.load(fcc_trained.save(tmp_path / "fcc.pt"))
    assert loaded.magnetic_coordination == fcc_trained.magnetic_coordination


def test_models_without_a_coordination_record_judge_by_environment_only(fcc_trained):
    """Checkpoints from before the record, and element-only domains, gate nothing by structure."""
    fcc = bulk("Fe", "fcc", a=3.60, cubic=True)
    moments = np.tile([0.0, 0.0, 2.2], (len(fcc), 1))
    elements_only = MagneticPotential(soc=False, seed=3, cutoff=5.0).double()
    elements_only.record_magnetic_domain(
        [graph_from_atoms(fcc, 5.0, moments, dtype=torch.float64)], [moments], environments=False
    )
    assert elements_only.magnetic_coordination == {}
    assert elements_only.coordination_known(graph(bulk("Fe", "bcc", a=2.87))) is None
    assert domain_gaps(MagneticCalculator(elements_only), bulk("Fe", "bcc", a=2.87), ["Fe"]) == []
