"""Domain extension: a toy Heisenberg compound stands in for DFT.

Base model: a small random backbone whose readout is fitted to bcc Fe with Heisenberg exchange.
New compound: rocksalt "MnO" with J1 = -4, J2 = -10 meV per Mn pair (AFM-II ground state, as the
real one), 18 collinear orderings of up to 4 Mn. Extending on its three cheapest orderings must
reproduce the energy ladder of all 18 and leave the base model's Fe predictions unchanged.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from scipy.stats import spearmanr
from typer.testing import CliRunner

from magscreen.cli import app
from magscreen.errors import InputError
from magscreen.magnetism.collinear import enumerate_collinear
from magscreen.magnetism.heisenberg import HeisenbergCalculator
from magscreen.potential import MagneticCalculator, MagneticPotential
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.potential.uncertainty import ReadoutPosterior
from magscreen.training.data import Frame
from magscreen.training.extend import (
    extend_model,
    read_extension_frames,
    with_element_heads,
)
from magscreen.training.readout import fit_readout, get_readout

J_MNO = {1: -0.004, 2: -0.010}  # eV per pair, HeisenbergCalculator sign: J > 0 ferromagnetic
MN_MOMENT = 4.5


def _fe_frames(n: int, seed: int) -> list[Frame]:
    """bcc Fe 2x2x2, random directions of 2 mu_B, Heisenberg J1 = 12, J2 = 4 meV labels."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        atoms = bulk("Fe", "bcc", a=2.87, cubic=True).repeat(2)
        directions = rng.normal(size=(len(atoms), 3))
        moments = 2.0 * directions / np.linalg.norm(directions, axis=1, keepdims=True)
        atoms.set_initial_magnetic_moments(None)
        atoms.set_initial_magnetic_moments(moments)
        atoms.calc = HeisenbergCalculator({1: 0.012, 2: 0.004})
        frames.append(
            Frame(
                numbers=atoms.numbers.copy(),
                positions=atoms.positions.copy(),
                cell=atoms.cell[:].copy(),
                pbc=atoms.pbc.copy(),
                moments=moments,
                energy=atoms.get_potential_energy(),
                magnetic_forces=atoms.calc.get_property("magnetic_forces", atoms),
                source=f"fe#{k}",
            )
        )
    return frames


def _base(element_heads: tuple[str, ...]) -> MagneticPotential:
    model = MagneticPotential(
        soc=False,
        seed=11,
        species=("O", "Fe", "Mn", "Ni"),
        cutoff=5.0,
        magnetic=MagneticHyperparameters(element_heads=element_heads),
    ).double()
    frames = _fe_frames(8, seed=0)
    graphs = [f.graph(model.cutoff) for f in frames]
    caches = [model.backbone_cache(g) for g in graphs]
    fit_readout(
        model,
        frames,
        graphs,
        caches,
        weights={"energy": 1.0, "magnetic_forces": 1.0},
        variances={"energy": 1e-4, "magnetic_forces": 1e-3, "forces": 1e-3},
        progress=False,
    )
    model.record_magnetic_domain(graphs, [f.moments for f in frames])
    return model


@pytest.fixture(scope="module")
def base() -> MagneticPotential:
    """Base model with an Fe head only: Mn is a new magnetic element."""
    return _base(("Fe",))


@pytest.fixture(scope="module")
def orderings() -> list:
    structure = AseAtomsAdaptor.get_structure(bulk("MnO", "rocksalt", a=4.445))
    return enumerate_collinear(
        structure, max_magnetic_atoms=4, max_orderings=None, moments={"Mn": MN_MOMENT}
    ).orderings


@pytest.fixture(scope="module")
def toy_dft(orderings) -> list[Frame]:
    """Heisenberg 'DFT' frames of every ordering, one energy group."""
    frames = []
    for k, ordering in enumerate(orderings):
        atoms = ordering.to_atoms()
        atoms.calc = HeisenbergCalculator(J_MNO)
        moments = np.zeros((len(atoms), 3))
        moments[:, 2] = atoms.get_initial_magnetic_moments()
        frames.append(
            Frame(
                numbers=atoms.numbers.copy(),
                positions=atoms.positions.copy(),
                cell=atoms.cell[:].copy(),
                pbc=atoms.pbc.copy(),
                moments=moments,
                energy=atoms.get_potential_energy() - 7.0 * len(atoms),  # arbitrary DFT zero
                source=f"toy-MnO.extxyz#{k}",
                energy_group="toy-MnO",
            )
        )
    return frames


def _per_mn(model: MagneticPotential, frames: list[Frame]) -> np.ndarray:
    out = []
    for frame in frames:
        energy = model(frame.graph(model.cutoff), compute_forces=False, compute_magnetic_forces=False)[
            "energy"
        ]
        out.append(float(energy[0].detach()) / int((frame.numbers == 25).sum()))
    return np.array(out)


def test_three_cheapest_orderings_recover_the_ground_state_and_the_ladder(base, orderings, toy_dft):
    """FM, AFM-I, AFM-II (2-4 atom cells) fix J1 and J2; the other 15 orderings follow."""
    cheapest = np.argsort([f.n_atoms for f in toy_dft], kind="stable")[:3]
    extension = extend_model(base, [toy_dft[k] for k in cheapest])
    reference = np.array([f.energy for f in toy_dft]) / [int((f.numbers == 25).sum()) for f in toy_dft]
    predicted = _per_mn(extension.model, toy_dft)
    assert (
        orderings[int(np.argmin(predicted))].label == orderings[int(np.argmin(reference))].label == "AFM-II"
    )
    assert spearmanr(reference, predicted)[0] > 0.95
    gaps = (reference - reference.min(), predicted - predicted.min())
    assert np.abs(gaps[0] - gaps[1]).max() < 2e-3  # eV per Mn, on a 84 meV ladder
    assert max(abs(r) for r in extension.residuals_meV_per_atom.values()) < 0.5
    # the base model, moment-blind for Mn, could not rank them
    assert np.ptp(_per_mn(base, toy_dft)) < 1e-9


def test_base_predictions_unchanged_and_new_head_added(base, toy_dft):
    extension = extend_model(base, toy_dft[:3])
    assert extension.new_heads == ("Mn",)
    assert extension.model.hyper.element_heads == ("Fe", "Mn")
    assert "Mn" in extension.model.magnetic_domain and "Fe" in extension.model.magnetic_domain
    for frame in _fe_frames(3, seed=5):
        before = base(frame.graph(base.cutoff), compute_forces=False)
        after = extension.model(frame.graph(base.cutoff), compute_forces=False)
        assert float(after["energy"][0].detach()) == pytest.approx(
            float(before["energy"][0].detach()), abs=1e-10
        )
        np.testing.assert_allclose(
            after["magnetic_forces"].detach().numpy(), before["magnetic_forces"].detach().numpy(), atol=1e-10
        )


def test_a_grown_model_predicts_what_the_base_predicts(base, toy_dft):
    grown = with_element_heads(base, ["Mn", "Ni"])
    assert grown.hyper.element_heads == ("Fe", "Mn", "Ni")
    for frame in [*_fe_frames(2, seed=6), toy_dft[4]]:
        graph = frame.graph(base.cutoff)
        assert float(grown(graph)["energy"][0]) == float(base(graph)["energy"][0])


def test_shared_element_head_updates_within_the_base_posterior(toy_dft):
    """With a posterior that pins every base weight (zero deviations), only new heads may move."""
    base = _base(("Fe", "Mn"))
    pinned = copy.deepcopy(base)
    pinned.readout_posterior = ReadoutPosterior(
        deviations=np.zeros((4, len(get_readout(base)))), noise_scale=1.0
    )
    extension = extend_model(pinned, toy_dft[:3])
    assert extension.prior == "posterior"
    np.testing.assert_array_equal(get_readout(extension.model), get_readout(base))
    assert extension.model.readout_posterior is None
    free = extend_model(base, toy_dft[:3])
    assert free.prior == "ridge"
    assert np.abs(get_readout(free.model) - get_readout(base)).max() > 0


def test_lineage_names_the_base_and_the_frames(base, toy_dft, tmp_path):
    extension = extend_model(base, toy_dft[:3])
    version = extension.model.model_version
    assert version.startswith(base.model_version + "+ext-" + extension.frames_sha256[:12] + "-")
    record = extension.model.lineage[-1]
    assert record["base_model_version"] == base.model_version
    assert [f["source"] for f in record["frames"]] == [f.source for f in toy_dft[:3]]
    path = extension.model.save(tmp_path / "extended.pt")
    loaded = MagneticCalculator(path)
    assert loaded.model_version == version and loaded.model.lineage == extension.model.lineage
    shifted = [toy_dft[0], toy_dft[1], Frame(**{**toy_dft[2].__dict__, "energy": toy_dft[2].energy + 0.01})]
    assert extend_model(base, shifted).frames_sha256 != extension.frames_sha256
    twice = extend_model(extension.model, toy_dft[3:6])
    assert twice.model.model_version.startswith(version + "+ext-")


def _write(path, frames: list[Frame], damage=None, index: int = 0) -> None:
    images = []
    for frame in frames:
        atoms = frame.to_atoms()
        atoms.calc = SinglePointCalculator(atoms, energy=frame.energy)
        atoms.new_array("magmoms", frame.moments[:, 2].copy())
        atoms.set_initial_magnetic_moments(None)
        images.append(atoms)
    if damage is not None:
        damage(images, index)
    write(path, images, format="extxyz")


def test_cli_writes_a_checkpoint_the_calculator_loads(base, toy_dft, tmp_path):
    base_path = base.save(tmp_path / "base.pt")
    frames_path = tmp_path / "toy-MnO.extxyz"
    _write(frames_path, toy_dft[:3])
    out = tmp_path / "extended.pt"
    result = CliRunner().invoke(
        app, ["extend", str(base_path), str(frames_path), "-o", str(out), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "new element heads: Mn" in result.output
    calc = MagneticCalculator(out)
    assert calc.model_version.startswith(base.model_version + "+ext-")
    read = read_extension_frames([frames_path])
    assert {f.energy_group for f in read} == {"toy-MnO.extxyz"}
    predicted = _per_mn(calc.model, toy_dft)
    assert int(np.argmin(predicted)) == int(np.argmin([f.energy / (f.numbers == 25).sum() for f in toy_dft]))


def _drop_energy(images, index):
    images[index].calc = None


def _nan_position(images, index):
    images[index].positions[0, 0] = np.nan


def _drop_moments(images, index):
    del images[index].arrays["magmoms"]


@pytest.mark.parametrize(
    ("damage", "field"),
    [(_drop_energy, "energy"), (_nan_position, "positions"), (_drop_moments, "magmoms")],
)
def test_bad_frames_name_file_frame_and_field(toy_dft, tmp_path, damage, field):
    path = tmp_path / "bad.extxyz"
    _write(path, toy_dft[:3], damage, 1)
    with pytest.raises(InputError) as error:
        read_extension_frames([path])
    assert error.value.source == str(path) and error.value.field == field
    assert "frame 1" in str(error.value)


def test_unknown_element_and_lonely_frames_are_input_errors(base, toy_dft):
    foreign = Frame(**{**toy_dft[0].__dict__, "numbers": np.where(toy_dft[0].numbers == 8, 29, 25)})
    with pytest.raises(InputError) as error:
        extend_model(base, [foreign, toy_dft[1]])
    assert error.value.source == "toy-MnO.extxyz#0" and "Cu" in str(error.value)
    alone = [Frame(**{**f.__dict__, "energy_group": f"g{k}"}) for k, f in enumerate(toy_dft[:3])]
    with pytest.raises(InputError, match="single frame"):
        extend_model(base, alone)
    no_moments = Frame(**{**toy_dft[0].__dict__, "moments": np.zeros_like(toy_dft[0].moments)})
    with pytest.raises(InputError) as error:
        extend_model(base, [no_moments, toy_dft[1]])
    assert error.value.field == "magmoms" and "frame 0" in str(error.value)


def test_cli_takes_the_validation_documents_of_a_store(base, toy_dft, tmp_path):
    """Shared growth: what an earlier campaign computed (DFTValidationDocs) extends the next model."""
    from magscreen.config import StoreConfig
    from magscreen.schemas import DFTSettings, DFTValidationDoc
    from magscreen.store import build_stores

    stores = build_stores(StoreConfig(kind="embedded", path=tmp_path / "db"))
    for k, frame in enumerate(toy_dft[:3]):
        structure = Structure(frame.cell, frame.numbers, frame.positions, coords_are_cartesian=True)
        doc = DFTValidationDoc(
            validation_id=f"toy-MnO:{frame.source}:gpaw:static",
            candidate_id="toy-MnO",
            formula="MnO",
            ordering_label=frame.source,
            ordering_fingerprint=frame.source,
            engine="gpaw",
            engine_version="heisenberg stand-in",
            calculation="static",
            settings=DFTSettings(
                functional="Heisenberg J1-J2", kpoints=[8 - 2 * k] * 3
            ),  # grids follow cells
            n_atoms=frame.n_atoms,
            n_magnetic_atoms=int((frame.numbers == 25).sum()),
            energy_eV=frame.energy,
            magnetic_moments=frame.moments.tolist(),
            structure=structure.as_dict(),
        )
        stores.validations.update(doc.model_dump(mode="json"))
    stores.close()
    base_path = base.save(tmp_path / "base.pt")
    out = tmp_path / "grown.pt"
    runner = CliRunner()
    result = runner.invoke(app, ["extend", str(base_path), "--store", str(tmp_path / "db"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    model = MagneticCalculator(out).model
    assert len(model.lineage[-1]["validation_ids"]) == 3
    predicted = _per_mn(model, toy_dft)
    reference = [f.energy / (f.numbers == 25).sum() for f in toy_dft]
    assert int(np.argmin(predicted)) == int(np.argmin(reference))
    missing = runner.invoke(
        app, ["extend", str(base_path), "--store", str(tmp_path / "nowhere"), "-o", str(out)]
    )
    assert missing.exit_code == 1 and "no store here" in missing.output


def test_a_trained_head_in_a_new_environment_is_refused_without_a_posterior(base):
    """Fe was trained among {Fe}; rocksalt FeO frames put it among {Fe, O}: without a posterior the
    fit would move what the model knows of bcc Fe, so it is refused; with one it is allowed."""
    atoms = bulk("FeO", "rocksalt", a=4.3)
    frames = []
    for k, signs in enumerate(([1.0], [-1.0])):
        cell = atoms.repeat((2, 1, 1))
        moments = np.zeros((len(cell), 3))
        moments[cell.numbers == 26, 2] = [3.5, 3.5 * signs[0]]
        frames.append(
            Frame(
                numbers=cell.numbers.copy(),
                positions=cell.positions.copy(),
                cell=cell.cell[:].copy(),
                pbc=cell.pbc.copy(),
                moments=moments,
                energy=-10.0 - 0.01 * k,
                source=f"FeO.extxyz#{k}",
                energy_group="FeO",
            )
        )
    with pytest.raises(
        InputError, match=r"Fe among \{Fe, O\}: the base model's Fe head was trained among \{Fe\}"
    ):
        extend_model(base, frames)
    held = copy.deepcopy(base)
    held.readout_posterior = ReadoutPosterior(
        deviations=np.ones((4, len(get_readout(base)))), noise_scale=1.0
    )
    assert extend_model(held, frames).prior == "posterior"


def test_the_spin_orbit_block_is_left_alone(toy_dft):
    """Collinear ordering energies carry no anisotropy: the spin-orbit output layer does not move,
    and a grown model keeps the spin-orbit domain."""
    model = MagneticPotential(
        soc=True,
        seed=3,
        species=("O", "Fe", "Mn"),
        cutoff=5.0,
        magnetic=MagneticHyperparameters(element_heads=("Fe",)),
    ).double()
    model.soc_domain = ("Mn",)  # the toy's Mn atoms see the spin-orbit block
    model.soc_environments = {"Mn": [["Mn", "O"]]}
    soc_before = model.magnetic.soc_coefficients[-1].weight.detach().clone()
    extension = extend_model(model, toy_dft[:3])
    assert extension.new_heads == ("Mn",) and extension.model.soc_domain == ("Mn",)
    assert torch.equal(extension.model.magnetic.soc_coefficients[-1].weight.detach(), soc_before)
    assert max(abs(r) for r in extension.residuals_meV_per_atom.values()) < 0.5
