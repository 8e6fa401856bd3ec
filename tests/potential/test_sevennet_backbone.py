"""The pretrained backbone is SevenNet-0: same energy, forces and stress as sevenn's own calculator."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.backbone import SEVENNET0_CHECKPOINT


@pytest.fixture(scope="module")
def pretrained() -> MagneticPotential:
    return MagneticPotential.from_sevennet(soc=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_from_sevennet_reproduces_sevennet_calculator(pretrained):
    """With m = 0 (and with any m, while the magnetic heads are zero) E, F, sigma equal SevenNet-0's."""
    from sevenn.calculator import SevenNetCalculator

    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    atoms.rattle(0.05, seed=2)
    reference = atoms.copy()
    reference.calc = SevenNetCalculator(str(SEVENNET0_CHECKPOINT), device="cpu")
    atoms.calc = MagneticCalculator(pretrained)
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), abs=1e-4)
    np.testing.assert_allclose(atoms.get_forces(), reference.get_forces(), atol=1e-5)
    np.testing.assert_allclose(atoms.get_stress(), reference.get_stress(), atol=1e-6)

    atoms.set_initial_magnetic_moments(np.random.default_rng(0).normal(size=(len(atoms), 3)))
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), abs=1e-4)
    assert pretrained.cutoff == 5.0 and len(pretrained.species) == 89 and not pretrained.backbone.is_parity


def test_pretrained_checkpoint_round_trip(pretrained, tmp_path):
    """A fine-tuning run saves and reloads the SevenNet-0-based model unchanged."""
    loaded = MagneticPotential.load(pretrained.save(tmp_path / "pretrained.pt"))
    assert loaded.model_version == pretrained.model_version
    assert loaded.model_version.startswith("sevennet-0-soc-")


def test_sevennet_architecture_from_scratch_is_finite():
    """A randomly initialised SevenNet-0-sized network divides by the real neighbour count, not 0."""
    from ase.build import bulk

    from magscreen.potential import MagneticPotential
    from magscreen.potential.backbone import sevennet0_config

    model = MagneticPotential(soc=False, backbone_config=sevennet0_config(), backbone_name="scratch")
    atoms = bulk("NiO", "rocksalt", a=4.17)
    atoms.set_initial_magnetic_moments([1.7, 0.0])
    atoms.calc = MagneticCalculator(model)
    assert np.isfinite(atoms.get_potential_energy()) and np.all(np.isfinite(atoms.get_forces()))
