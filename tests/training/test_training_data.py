"""Readers: deepmd spin folders, extended XYZ, store documents; every bad input names file, key, frame."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from magscreen.errors import InputError
from magscreen.training.data import (
    check_elements,
    frames_from_validation_docs,
    read_deepmd_spin,
    read_extxyz,
    require_frames,
)


def test_deepmd_spin_round_trip(deepmd_folder):
    folder = deepmd_folder
    frames = read_deepmd_spin(folder)
    spin = np.load(folder / "set.000" / "spin.npy")
    assert len(frames) == 3
    assert list(frames[0].numbers) == [28, 28, 8, 8]
    np.testing.assert_array_equal(frames[1].moments, spin[1].reshape(4, 3))
    assert frames[0].labels == {"energy", "forces", "magnetic_forces"}
    assert frames[0].stress is None
    assert frames[2].source.endswith("set.000#2")


def test_deepmd_spin_nio(nio_data):
    frames = read_deepmd_spin(nio_data / "data_2")
    assert len(frames) == 31
    assert all(f.magnetic_elements == {"Ni"} for f in frames)
    np.testing.assert_allclose(np.linalg.norm(frames[0].moments[:16], axis=1), 1.2737, atol=1e-3)


def test_deepmd_missing_label_is_none_not_zero(deepmd_folder):
    folder = deepmd_folder
    (folder / "set.000" / "force.npy").unlink()
    frames = read_deepmd_spin(folder)
    assert all(f.forces is None and "forces" not in f.labels for f in frames)


def test_deepmd_missing_array(deepmd_folder):
    folder = deepmd_folder
    (folder / "set.000" / "spin.npy").unlink()
    with pytest.raises(InputError, match=r"spin\.npy: spin: missing array"):
        read_deepmd_spin(folder)


def test_deepmd_frame_counts_disagree(deepmd_folder):
    folder = deepmd_folder
    np.save(folder / "set.000" / "energy.npy", np.zeros(2))
    with pytest.raises(InputError, match=r"energy\.npy: energy: 2 frames but coord\.npy has 3"):
        read_deepmd_spin(folder)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_deepmd_non_finite_label_names_frame(deepmd_folder, bad):
    folder = deepmd_folder
    force = np.load(folder / "set.000" / "force_mag.npy")
    force[2, 5] = bad
    np.save(folder / "set.000" / "force_mag.npy", force)
    with pytest.raises(InputError, match=r"force_mag\.npy: force_mag: non-finite value .* in frame 2"):
        read_deepmd_spin(folder)


def test_moments_for_unknown_element(deepmd_folder):
    frames = read_deepmd_spin(deepmd_folder)
    with pytest.raises(
        InputError, match=r"set\.000#0: moments: moments given for element Ni .*does not know"
    ):
        check_elements(frames, known={"O", "Fe"}, model="SevenNet-0 backbone")
    check_elements(frames, known={"Ni", "O"})


def test_empty_split():
    with pytest.raises(
        InputError, match=r"nio\.yaml: data\.validation: the validation split holds no frames"
    ):
        require_frames([], split="validation", source="nio.yaml")


def _labelled_fe(moments: np.ndarray, stress: bool = True):
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True)
    atoms.arrays["magmoms"] = moments
    atoms.arrays["magnetic_forces"] = np.full((2, 3), 0.1)
    results = {"energy": -16.5, "forces": np.zeros((2, 3))}
    if stress:
        results["stress"] = np.array([0.01, 0.01, 0.01, 0, 0, 0])
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def test_extxyz_collinear_and_vector_moments(tmp_path):
    path = tmp_path / "fe.xyz"
    write(
        path, [_labelled_fe(np.array([2.2, -2.2])), _labelled_fe(np.array([[1.0, 0, 0], [0, 1, 0]]), False)]
    )
    first, second = read_extxyz(path)
    np.testing.assert_array_equal(first.moments, [[0, 0, 2.2], [0, 0, -2.2]])
    np.testing.assert_array_equal(second.moments, [[1, 0, 0], [0, 1, 0]])
    assert first.labels == {"energy", "forces", "magnetic_forces", "stress"}
    assert second.labels == {"energy", "forces", "magnetic_forces"}
    np.testing.assert_allclose(np.diag(first.stress), 0.01)


def test_extxyz_missing_moments(tmp_path):
    atoms = _labelled_fe(np.array([2.2, -2.2]))
    del atoms.arrays["magmoms"]
    path = tmp_path / "fe.xyz"
    write(path, [atoms])
    with pytest.raises(InputError, match=r"fe\.xyz: magmoms: frame 0 has no per-atom moments"):
        read_extxyz(path)


def test_extxyz_nan_label(tmp_path):
    good = _labelled_fe(np.array([2.2, -2.2]))
    bad = _labelled_fe(np.array([2.2, -2.2]))
    bad.arrays["magnetic_forces"][1, 2] = np.nan
    path = tmp_path / "fe.xyz"
    write(path, [good, bad])
    with pytest.raises(InputError, match=r"fe\.xyz: magnetic_forces: non-finite value .* in frame 1"):
        read_extxyz(path)


def test_validation_docs_give_energy_frames():
    from pymatgen.core import Lattice, Structure

    structure = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    doc = {
        "validation_id": "c:f:gpaw:static",
        "candidate_id": "c",
        "formula": "Fe",
        "ordering_label": "AFM",
        "ordering_fingerprint": "f",
        "engine": "gpaw",
        "engine_version": "24.6",
        "calculation": "static",
        "settings": {"functional": "PBE"},
        "n_atoms": 2,
        "n_magnetic_atoms": 2,
        "energy_eV": -16.0,
        "magnetic_moments": [[0, 0, 2.0], [0, 0, -2.0]],
        "structure": structure.as_dict(),
    }
    (frame,) = frames_from_validation_docs([doc, {**doc, "converged": False}])
    assert frame.labels == {"energy"}
    assert frame.energy == -16.0
    np.testing.assert_array_equal(frame.moments[1], [0, 0, -2.0])
