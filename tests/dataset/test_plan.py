"""Which frames a build plans: orderings, strained and rattled copies, order of computation."""

from __future__ import annotations

import numpy as np

from magscreen.dataset.plan import build_plan
from magscreen.dataset.settings import load_dataset_config


def _plan(path):
    config = load_dataset_config(path)
    return config, *build_plan(config, source=path)


def test_ladder_is_fm_then_at_least_three_afm_smallest_cells_first(write_config):
    config, frames, ladders = _plan(write_config())
    (ladder,) = ladders
    labels = [o.label for o in ladder.orderings]
    sizes = [len(o.structure) for o in ladder.orderings]
    assert labels[0] == "FM"
    assert len(labels) == 4 and "FM" not in labels[1:]
    assert sizes[1:] == sorted(sizes[1:])
    assert max(sizes) <= config.orderings.max_atoms
    # fcc: the two-atom AFM-I and AFM-II cells come before any larger one
    assert set(labels[1:3]) == {"AFM-I", "AFM-II"}


def test_max_atoms_caps_the_cells(write_config):
    _, _, ladders = _plan(write_config(orderings={"max_magnetic_atoms": 4, "max_atoms": 2, "antiferro": 5}))
    assert all(len(o.structure) <= 2 for o in ladders[0].orderings)
    assert len(ladders[0].orderings) == 3  # FM, AFM-I, AFM-II: nothing else fits in two atoms


def test_strain_scales_the_cell_and_keeps_fractional_positions(write_config):
    _, frames, _ = _plan(write_config())
    by_id = {f.frame_id: f for f in frames}
    for frame in frames:
        if frame.kind != "strain":
            continue
        reference = by_id[frame.frame_id.rsplit(".s", 1)[0] + ".s1.00"]
        assert np.allclose(frame.atoms.cell.array, frame.scale * reference.atoms.cell.array, atol=1e-9)
        assert np.allclose(
            frame.atoms.get_scaled_positions(), reference.atoms.get_scaled_positions(), atol=1e-9
        )
        assert np.isclose(frame.atoms.get_volume(), frame.scale**3 * reference.atoms.get_volume())
        assert frame.energy_group == f"Ni-fcc@{frame.scale:.2f}"
        assert np.array_equal(
            frame.atoms.get_initial_magnetic_moments(), reference.atoms.get_initial_magnetic_moments()
        )


def test_rattles_are_reproducible_by_seed_and_share_their_lattice_group(write_config):
    _, first, _ = _plan(write_config())
    _, again, _ = _plan(write_config())
    _, other_seed, _ = _plan(write_config(rattle={"amplitudes_A": [0.05], "orderings": 1, "seed": 7}))
    rattled = [f for f in first if f.kind == "rattle"]
    assert rattled
    for frame in rattled:
        twin = next(f for f in again if f.frame_id == frame.frame_id)
        assert np.array_equal(frame.atoms.positions, twin.atoms.positions)
        other = next(f for f in other_seed if f.frame_id == frame.frame_id)
        assert not np.allclose(frame.atoms.positions, other.atoms.positions)
        assert frame.energy_group == "Ni-fcc@1.00"
        reference = next(f for f in first if f.frame_id == frame.frame_id.rsplit(".x", 1)[0])
        repeats = [int(n) for n in frame.frame_id.rsplit(".x", 1)[1].split(".")[0]]
        assert len(frame.atoms) >= 8 == len(reference.atoms) * np.prod(repeats)
        displacement = frame.atoms.positions - reference.atoms.repeat(repeats).positions
        assert 0 < np.abs(displacement).max() < 6 * frame.rattle_A
        assert np.isclose(displacement.std(), frame.rattle_A, rtol=0.5)


def test_tiers_in_order_orderings_first(write_config):
    _, frames, _ = _plan(write_config())
    tiers = [f.tier for f in frames]
    assert tiers == sorted(tiers)
    assert {f.kind for f in frames if f.tier == 1} == {"ordering"}
    assert {f.kind for f in frames if f.tier == 3} == {"strain"}
    assert {f.kind for f in frames if f.tier == 4} == {"rattle"}
    assert len({f.frame_id for f in frames}) == len(frames)


def test_every_compound_gets_its_first_gap_before_any_third_ordering(write_config):
    compounds = [{"name": "Ni-fcc", "snapshot": "Ni-fcc"}, {"name": "Fe-bcc", "snapshot": "Fe-bcc"}]
    _, frames, ladders = _plan(write_config(compounds=compounds, kinds=["ordering"]))
    rank = {(lad.spec.name, o.fingerprint): i for lad in ladders for i, o in enumerate(lad.orderings)}
    ranks = [rank[(f.compound, f.fingerprint)] for f in frames]
    assert len(ranks) == 8
    assert sorted(ranks[:4]) == [0, 0, 1, 1] and sorted(ranks[4:]) == [2, 2, 3, 3]
    assert {f.compound for f in frames[:4]} == {"Ni-fcc", "Fe-bcc"}


def test_a_compound_own_antiferro_lengthens_its_ladder_and_keeps_the_others(write_config):
    compounds = [
        {"name": "Ni-fcc", "snapshot": "Ni-fcc", "antiferro": 6},
        {"name": "Fe-bcc", "snapshot": "Fe-bcc"},
    ]
    config, frames, ladders = _plan(write_config(compounds=compounds, kinds=["ordering"]))
    sizes = {lad.spec.name: len(lad.orderings) for lad in ladders}
    assert sizes == {"Ni-fcc": 7, "Fe-bcc": 4}  # FM + 6 of its own, FM + the build's 3
    long = next(lad for lad in ladders if lad.spec.name == "Ni-fcc")
    cells = [len(o.structure) for o in long.orderings[1:]]
    assert cells == sorted(cells)
    # the first four orderings are those of the build-wide setting: same frames, nothing recomputed
    _, short_frames, _ = _plan(write_config(compounds=[{"name": "Ni-fcc", "snapshot": "Ni-fcc"}]))
    short = [f.frame_id for f in short_frames if f.kind == "ordering"]
    assert short == [f.frame_id for f in frames if f.compound == "Ni-fcc"][:4]
    # the later orderings come in later rounds, after every compound's first four
    ranks = [i for f in frames for i, o in enumerate(long.orderings) if o.fingerprint == f.fingerprint]
    assert sorted(ranks[-3:-1]) == [4, 5] and ranks[-1] == 6 and max(ranks[:-3]) == 3


def test_ladder_cache_key_changes_only_for_the_compound_that_sets_antiferro(write_config):
    plain = write_config(compounds=[{"name": "Fe-bcc", "snapshot": "Fe-bcc"}], kinds=["ordering"])
    config = load_dataset_config(plain)
    build_plan(config, source=plain)
    cached = sorted(p.name for p in (config.work_dir / "ladders").iterdir())
    again = write_config(compounds=[{"name": "Fe-bcc", "snapshot": "Fe-bcc", "antiferro": 3}])
    build_plan(load_dataset_config(again), source=again)  # the build's value written out: same ladder
    assert sorted(p.name for p in (config.work_dir / "ladders").iterdir()) == cached
    longer = write_config(compounds=[{"name": "Fe-bcc", "snapshot": "Fe-bcc", "antiferro": 5}])
    _, ladders = build_plan(load_dataset_config(longer), source=longer)
    assert len(ladders[0].orderings) == 6
    assert len(list((config.work_dir / "ladders").iterdir())) == 2
