"""The force_theorem frame kind: planned from the FM ordering in its own energy group, with the
config's k-point density and smearing (per build and per compound); its records become direction
groups of the spin-orbit fit; a real GPAW build of bcc Fe (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.io import read, write

from magscreen.dataset.engine import GPAWEngine
from magscreen.dataset.export import record_atoms
from magscreen.dataset.plan import build_plan
from magscreen.dataset.runner import PlanSource, run_build
from magscreen.dataset.settings import load_dataset_config
from magscreen.dataset.store import FrameStore
from magscreen.errors import InputError
from magscreen.training.soc_fit import read_dataset_records


def test_plans_the_fm_ordering_in_its_own_group(write_config):
    config = load_dataset_config(write_config(kinds=["ordering", "force_theorem"]))
    planned, _ = build_plan(config)
    frames = [f for f in planned if f.kind == "force_theorem"]
    assert len(frames) == 1
    (frame,) = frames
    assert frame.ordering == "FM" and frame.tier == 5 and frame.frame_id.endswith(".ft")
    assert frame.energy_group == "Ni-fcc@1.00/soc"
    assert frame.parameters == {"kpoint_density": 6.0, "smearing_eV": 0.02}  # the settings' defaults


def test_config_sets_the_mesh_per_build_and_per_compound(write_config):
    """The force_theorem section's k-point density and smearing reach the frame's GPAW settings and its
    settings key (a changed mesh recomputes the frame); the ordering frames keep the training settings."""
    path = write_config(
        compounds=[
            {"name": "Ni-fcc", "snapshot": "Ni-fcc"},
            {"name": "Co-hcp", "snapshot": "Co-hcp", "moments": {"Co": 1.7}},
        ],
        orderings={"max_magnetic_atoms": 2, "max_atoms": 2, "antiferro": 0},
        kinds=["ordering", "force_theorem"],
        force_theorem={
            "kpoint_density": 7.0,
            "compounds": {"Co-hcp": {"kpoint_density": 8.0, "smearing_eV": 0.01}},
        },
    )
    config = load_dataset_config(path)
    planned, _ = build_plan(config)
    assert sorted((f.compound, f.kind) for f in planned) == [
        ("Co-hcp", "force_theorem"),
        ("Co-hcp", "ordering"),
        ("Ni-fcc", "force_theorem"),
        ("Ni-fcc", "ordering"),
    ]  # antiferro: 0 keeps the ladder to FM
    engine = GPAWEngine(config.gpaw)
    settings = {(f.compound, f.kind): engine.gpaw_settings(f, config.gpaw.attempts[0]) for f in planned}
    assert (
        settings["Ni-fcc", "force_theorem"].kpoint_density,
        settings["Ni-fcc", "force_theorem"].smearing_eV,
    ) == (
        7.0,
        0.02,
    )
    assert (
        settings["Co-hcp", "force_theorem"].kpoint_density,
        settings["Co-hcp", "force_theorem"].smearing_eV,
    ) == (
        8.0,
        0.01,
    )
    assert settings["Ni-fcc", "ordering"].kpoint_density == config.gpaw.kpoint_density
    keys = {engine.settings_key(f) for f in planned if f.compound == "Ni-fcc"}
    assert len(keys) == 2  # ordering and force-theorem frames differ in their settings key


def test_force_theorem_overrides_name_compounds_of_the_build(write_config):
    path = write_config(force_theorem={"compounds": {"Co-hcp": {"kpoint_density": 8.0}}})
    with pytest.raises(InputError, match="force_theorem.compounds names no compound of the build: Co-hcp"):
        load_dataset_config(path)


def test_records_become_direction_groups(tmp_path):
    directions = [[0, 0, 1], [1, 0, 0], [0, 0, -1]]
    record = {
        "kind": "force_theorem",
        "status": "done",
        "compound": "Ni-fcc",
        "symbols": ["Ni"],
        "positions": [[0, 0, 0]],
        "cell": [[0, 1.76, 1.76], [1.76, 0, 1.76], [1.76, 1.76, 0]],
        "pbc": [True, True, True],
        "magmoms": [0.63],
        "force_theorem": {
            "directions": directions,
            "band_energies_eV": [-5.0, -5.000002, -5.0],
            "kpoint_grid": [9, 9, 9],
        },
    }
    (tmp_path / "Ni-fcc.FM.abc.s1.00.ft.json").write_text(json.dumps(record))
    (tmp_path / "other.json").write_text(json.dumps({**record, "kind": "ordering"}))
    (group,) = read_dataset_records(tmp_path)
    assert group.name == "Ni-fcc" and len(group.directions) == 2  # -c dropped (time reversal)
    assert group.relative_ueV_per_atom() == pytest.approx([0.0, -2.0])

    # the export carries the direction energies as info keys
    extra = {"frame_id": "Ni-fcc.FM.abc.s1.00.ft", "ordering": "FM", "energy_group": "Ni-fcc@1.00/soc"}
    record.update(extra, scale=1.0, converged=True, attempt="default", energy=-5.5, wall_time_s=1.0)
    record.update(initial_magmoms=[0.7], parameters={"kpoint_density": 6.0, "smearing_eV": 0.02})
    write(tmp_path / "Ni-fcc.extxyz", [record_atoms(record)], format="extxyz")
    atoms = read(tmp_path / "Ni-fcc.extxyz")
    assert np.allclose(atoms.info["ft_directions"].reshape(-1, 3), directions)
    assert np.allclose(atoms.info["ft_band_energies_eV"], record["force_theorem"]["band_energies_eV"])
    assert atoms.info["kpoints"] == "9x9x9" and atoms.info["kpoint_density"] == 6.0


@pytest.mark.slow
def test_gpaw_build_of_bcc_iron(write_config):
    """bcc Fe at low settings: one FM force-theorem frame; [100] and [001] equal by cubic symmetry."""
    pytest.importorskip("gpaw")
    path = write_config(
        compounds=[{"name": "Fe-bcc", "snapshot": "Fe-bcc", "moments": {"Fe": 2.5}}],
        orderings={"max_magnetic_atoms": 2, "max_atoms": 2, "antiferro": 1},
        kinds=["force_theorem"],
        gpaw={"ecut_eV": 300, "stress": False},
        force_theorem={"kpoint_density": 1.5, "smearing_eV": 0.1},
    )
    config = load_dataset_config(path)
    assert run_build(PlanSource(path)) == 1
    (record,) = FrameStore(config.work_dir).records().values()
    assert record["status"] == "done", record["reason"]
    (group,) = read_dataset_records(config.work_dir / "records")
    energies = group.relative_ueV_per_atom()
    along = {tuple(np.round(d, 6)): e for d, e in zip(group.directions, energies, strict=True)}
    assert 2.0 < np.mean(np.abs(group.moments)) < 2.6
    assert len(along) == len(group.directions)
    assert np.ptp(energies) < 50.0  # cubic metal: micro-eV anisotropy at most
