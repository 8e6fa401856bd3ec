"""ASE calculator, checkpoints, batching and the training API of the magnetic potential."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest
import torch
from potential_helpers import crystal, evaluate

from magscreen.errors import InputError, ModelDomainError
from magscreen.potential import MagneticCalculator, MagneticPotential, build_graph, collate
from magscreen.potential.calculator import SHIPPED_MODELS_DIR


def test_calculator_matches_model_and_reads_collinear_moments(model):
    """Collinear moments (N,) give the same results as the same moments as 3-vectors along z."""
    atoms = crystal()
    collinear = np.array([2.2, -2.2, 0.6, 0.0])
    atoms.set_initial_magnetic_moments(None)
    atoms.set_initial_magnetic_moments(collinear)
    atoms.calc = MagneticCalculator(model)
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    field = atoms.calc.get_property("magnetic_forces", atoms)

    vectors = np.zeros((4, 3))
    vectors[:, 2] = collinear
    reference = evaluate(model, atoms, vectors)
    assert energy == pytest.approx(reference["energy"], rel=1e-14)
    np.testing.assert_allclose(forces, reference["forces"], atol=1e-14)
    np.testing.assert_allclose(field, reference["magnetic_forces"], atol=1e-14)
    s = reference["stress"]
    np.testing.assert_allclose(
        atoms.get_stress(), [s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]], atol=1e-14
    )
    assert atoms.get_potential_energy(force_consistent=True) == energy


def test_calculator_follows_moment_changes(model):
    """Changing only the moments re-evaluates (with the cached neighbour list)."""
    atoms = crystal()
    atoms.calc = MagneticCalculator(model)
    first = atoms.get_potential_energy()
    flipped = atoms.get_initial_magnetic_moments().copy()
    flipped[0] *= -1
    atoms.set_initial_magnetic_moments(flipped)
    second = atoms.get_potential_energy()
    assert second != first
    assert second == pytest.approx(evaluate(model, atoms)["energy"], rel=1e-14)


PROPERTIES = ("energy", "forces", "stress", "magnetic_forces")


def _results(calc: MagneticCalculator, atoms, properties=PROPERTIES) -> dict[str, np.ndarray]:
    return {name: np.atleast_1d(calc.get_property(name, atoms)) for name in properties if name in PROPERTIES}


def test_spin_only_reevaluation_equals_fresh_calculator(model):
    """The backbone pass is reused while only the moments change, and redone after any change of
    positions, cell, atomic numbers, pbc or the model's weights; every result equals a fresh
    calculator's to 1e-10 (float64)."""
    model = copy.deepcopy(model)
    passes = []
    model.backbone.register_forward_hook(lambda *_: passes.append(1))
    atoms = crystal()
    atoms.calc = MagneticCalculator(model)
    rng = np.random.default_rng(11)

    def check(expected_passes: int, properties=PROPERTIES) -> None:
        before = len(passes)
        cached = _results(atoms.calc, atoms, properties)
        assert len(passes) - before == expected_passes
        fresh = _results(MagneticCalculator(model), atoms.copy(), properties)
        for name in properties:
            np.testing.assert_allclose(cached[name], fresh[name], rtol=0, atol=1e-10, err_msg=name)

    check(1)
    for _ in range(3):  # spin-only: energy and magnetic forces first, then forces and stress
        atoms.set_initial_magnetic_moments(rng.normal(size=(len(atoms), 3)) * 1.5)
        check(0, ("energy", "magnetic_forces"))
        check(0)
    atoms.positions[1] += [0.05, -0.02, 0.01]
    check(1)
    atoms.set_cell(atoms.cell[:] * 1.01, scale_atoms=False)
    check(1)
    atoms.numbers[0] = 28
    check(1)
    atoms.pbc = (True, True, False)
    check(1, ("energy", "forces", "magnetic_forces"))
    atoms.pbc = True
    check(1)
    with torch.no_grad():  # new weights (a training step) and new moments: ASE sees a spin-only change
        next(model.backbone.parameters()).add_(1e-3)
    atoms.set_initial_magnetic_moments(-atoms.get_initial_magnetic_moments())
    check(1)
    atoms.set_initial_magnetic_moments(rng.normal(size=(len(atoms), 3)))
    check(0)


def test_unknown_element_names_element_and_model(model):
    atoms = crystal()
    atoms[3].symbol = "Cu"
    atoms.calc = MagneticCalculator(model)
    with pytest.raises(ModelDomainError, match=r"element Cu .*" + model.model_version):
        atoms.get_potential_energy()


def test_unknown_model_name_is_input_error():
    with pytest.raises(InputError, match="no checkpoint or shipped model named 'no-such-model'"):
        MagneticCalculator("no-such-model")


def test_checkpoint_round_trip(tmp_path, model):
    """save/load keeps weights, hyperparameters, species, magnetic domain; the version tracks weights."""
    model.magnetic_domain = ("Fe", "Ni")
    path = model.save(tmp_path / "model.pt")
    loaded = MagneticPotential.load(path)
    assert loaded.model_version == model.model_version
    assert loaded.magnetic_domain == ("Fe", "Ni")
    assert loaded.species == ("O", "Fe", "Ni") and loaded.soc == model.soc
    atoms = crystal()
    assert evaluate(loaded, atoms)["energy"] == evaluate(model, atoms)["energy"]
    calc = MagneticCalculator(str(path))
    assert calc.model_version == model.model_version and calc.magnetic_domain == ("Fe", "Ni")
    with torch.no_grad():
        loaded.magnetic.receiver.bias.add_(1e-3)
    assert loaded.model_version != model.model_version
    model.magnetic_domain = ()


def test_bad_checkpoint_is_input_error(tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"weights": torch.zeros(2)}, bad)
    with pytest.raises(InputError, match="bad.pt: format"):
        MagneticPotential.load(bad)
    with pytest.raises(InputError, match="missing.pt"):
        MagneticPotential.load(tmp_path / "missing.pt")


def test_batched_frames_equal_separate_frames(model):
    """collate: one pass over several structures gives each structure's own results."""
    structures = [crystal(0), crystal(1).repeat((1, 2, 1)), crystal(2)]
    graphs = [
        build_graph(
            a.numbers, a.positions, a.cell[:], a.pbc, a.get_initial_magnetic_moments(), cutoff=model.cutoff
        )
        for a in structures
    ]
    out = model(collate(graphs), compute_stress=True)
    start = 0
    for k, atoms in enumerate(structures):
        single = evaluate(model, atoms)
        stop = start + len(atoms)
        assert out["energy"][k].item() == pytest.approx(single["energy"], rel=1e-12)
        np.testing.assert_allclose(out["forces"][start:stop].detach(), single["forces"], atol=1e-12)
        np.testing.assert_allclose(
            out["magnetic_forces"][start:stop].detach(), single["magnetic_forces"], atol=1e-12
        )
        np.testing.assert_allclose(out["stress"][k].detach(), single["stress"], atol=1e-12)
        start = stop


def test_evaluate_batch_of_moment_configurations(model):
    """Many moment configurations of one structure equal one calculation each."""
    atoms = crystal()
    configurations = np.random.default_rng(4).normal(size=(5, len(atoms), 3))
    calc = MagneticCalculator(model)
    batch = calc.evaluate_batch(atoms, configurations, forces=True, chunk_size=2)
    for k, moments in enumerate(configurations):
        single = evaluate(model, atoms, moments)
        assert batch["energy"][k] == pytest.approx(single["energy"], rel=1e-12)
        np.testing.assert_allclose(batch["magnetic_forces"][k], single["magnetic_forces"], atol=1e-12)
        np.testing.assert_allclose(batch["forces"][k], single["forces"], atol=1e-12)
    collinear = calc.evaluate_batch(atoms, configurations[:, :, 2])
    assert collinear["magnetic_forces"].shape == (5, len(atoms), 3)


def test_backbone_cache_reproduces_energy_and_magnetic_forces(model):
    """Frozen-backbone training: cached node features give the same energy and magnetic forces."""
    atoms = crystal()
    graph = build_graph(
        atoms.numbers,
        atoms.positions,
        atoms.cell[:],
        atoms.pbc,
        atoms.get_initial_magnetic_moments(),
        cutoff=model.cutoff,
    )
    full = model(graph, compute_stress=True)
    cached = model(graph, compute_stress=True, cache=model.backbone_cache(graph))
    assert cached["energy"].item() == pytest.approx(full["energy"].item(), rel=1e-13)
    torch.testing.assert_close(cached["magnetic_forces"], full["magnetic_forces"], rtol=0, atol=1e-13)
    # forces miss only the path through the backbone features, which vanishes with E_mag(R, 0) = 0
    graph = replace(graph, moments=torch.zeros_like(graph.moments))
    full = model(graph, compute_stress=True)
    cached = model(graph, compute_stress=True, cache=model.backbone_cache(graph))
    torch.testing.assert_close(cached["forces"], full["forces"], rtol=0, atol=1e-12)


def test_parameter_groups_partition_the_model(model):
    backbone = {id(p) for p in model.backbone_parameters()}
    magnetic = {id(p) for p in model.magnetic_parameters()}
    assert backbone and magnetic and not backbone & magnetic
    assert backbone | magnetic == {id(p) for p in model.parameters()}


def test_derivatives_under_no_grad(model):
    """Forces and magnetic forces come back even when the caller disabled autograd."""
    atoms = crystal()
    reference = evaluate(model, atoms)
    with torch.no_grad():
        quiet = evaluate(model, atoms)
    np.testing.assert_array_equal(quiet["forces"], reference["forces"])
    np.testing.assert_array_equal(quiet["magnetic_forces"], reference["magnetic_forces"])


def test_deep_copy_keeps_version_and_checkpoint_loads(tmp_path):
    """A deep copy of the shipped model (e3nn then registers its compiled constants as buffers) keeps
    the model version, and its checkpoint loads into a fresh model with the same energy."""
    shipped = MagneticPotential.load(SHIPPED_MODELS_DIR / "monoxides.pt")
    twin = copy.deepcopy(shipped)
    assert any("._tensor_constant" in key for key in twin.state_dict())  # the case this test is about
    assert twin.model_version == shipped.model_version
    loaded = MagneticPotential.load(twin.save(tmp_path / "twin.pt"))
    atoms = crystal()
    assert evaluate(loaded, atoms)["energy"] == evaluate(shipped, atoms)["energy"]
