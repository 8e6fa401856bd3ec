"""Ranking: float-noise ties rank the same in every run, and a ground state is resolved only when the
model can back it (inside its knowledge, converged, gap above the tolerances and twice its sigma)."""

from __future__ import annotations

import pytest

from magscreen.schemas import CandidateDoc, Confidence, DomainGap, MagneticOrderingDoc
from magscreen.screening.ranking import (
    TIE_TOLERANCE_meV,
    agrees_with_experiment,
    display_names,
    energy_ladder,
    gap_meV,
    gap_uncertainty_meV,
    gap_uncertainty_regime,
    kind_agrees_with_experiment,
    kind_resolution,
    rank_candidates,
    resolution,
)


def ordering(label, fingerprint, energy_eV, n_atoms=4, converged=True, sigma=None) -> MagneticOrderingDoc:
    """An ordering of a 2-magnetic-atom cell at ``energy_eV`` per magnetic atom."""
    return MagneticOrderingDoc(
        ordering_id=f"X:{fingerprint}:m",
        candidate_id="X",
        formula="NiO",
        campaign="c",
        label=label,
        fingerprint=fingerprint,
        model_version="m",
        structure={},
        n_atoms=n_atoms,
        n_magnetic_atoms=2,
        energy_eV=2 * energy_eV,
        energy_per_atom_eV=2 * energy_eV / n_atoms,
        energy_per_magnetic_atom_eV=energy_eV,
        energy_uncertainty_meV=sigma,
        initial_moments=[],
        magnetic_moments=[],
        total_magnetization_muB=0.0,
        max_force_eV_per_A=0.01,
        lattice_steps=3,
        converged=converged,
        wall_time_s=0.1,
    )


def test_float_noise_does_not_decide_a_tie():
    # the same two orderings from an uninterrupted and a resumed run: energies equal up to 1e-9 eV,
    # the noise falling on a different ordering each time (MnF2, FeF2, CoF2, bcc Cr in the demo)
    first = [ordering("FM", "f1", -5.0), ordering("AFM q=(0,0,0)", "a1", -5.0 + 1e-9)]
    resumed = [ordering("FM", "f1", -5.0 + 1e-9), ordering("AFM q=(0,0,0)", "a1", -5.0)]
    ladders = [energy_ladder(docs) for docs in (first, resumed)]
    assert [d.fingerprint for d in ladders[0]] == [d.fingerprint for d in ladders[1]] == ["a1", "f1"]
    for ladder in ladders:
        resolved, reason = resolution(ladder, out_of_domain=[], min_gap_meV=0.0, gap_sigma_meV=None)
        assert not resolved and "tie" in reason and "FM (4 atoms)" in reason


def test_ladder_is_energy_order_beyond_the_tolerance_and_relative_to_the_lowest():
    docs = [ordering("FM", "a", -5.0), ordering("AFM-II", "z", -5.02), ordering("AFM-I", "m", -5.01)]
    ladder = energy_ladder(docs)
    assert [d.label for d in ladder] == ["AFM-II", "AFM-I", "FM"]
    assert [d.relative_energy_meV for d in ladder] == pytest.approx([0.0, 10.0, 20.0])
    assert gap_meV(ladder) == pytest.approx(10.0)
    assert TIE_TOLERANCE_meV < 10.0


def test_resolved_needs_a_gap_above_twice_its_uncertainty():
    ladder = energy_ladder([ordering("AFM-II", "a", -5.02, sigma=3.0), ordering("FM", "b", -5.0, sigma=4.0)])
    sigma = gap_uncertainty_meV(ladder)
    assert sigma == pytest.approx(5.0)  # independent errors: sqrt(3^2 + 4^2)
    assert resolution(ladder, out_of_domain=[], min_gap_meV=1.0, gap_sigma_meV=sigma) == (True, None)
    resolved, reason = resolution(ladder, out_of_domain=[], min_gap_meV=1.0, gap_sigma_meV=12.0)
    assert not resolved and "20.00 +- 12.00" in reason and "twice its uncertainty" in reason
    assert (
        gap_uncertainty_meV(energy_ladder([ordering("AFM-II", "a", -5.02), ordering("FM", "b", -5.0)]))
        is None
    )
    # the model's sigmas are relative to the lowest ordering (0 there): the gap's sigma is the next one's
    relative = energy_ladder(
        [ordering("AFM-II", "a", -5.02, sigma=0.0), ordering("FM", "b", -5.0, sigma=4.0)]
    )
    assert gap_uncertainty_meV(relative) == pytest.approx(4.0)


def test_the_gap_takes_the_calibration_regime_of_the_second_distinct_ordering():
    """The gap's sigma is the runner-up's (relative to the lowest), so is its regime; orderings that
    relaxed into a collinear state do not count."""
    low, repeat, high = (
        ordering("AFM-II", "a", -5.02, sigma=0.0),
        ordering("AFM-II", "r", -5.03, sigma=1.0),
        ordering("FM", "b", -5.0, sigma=4.0),
    )
    low.uncertainty_regime, high.uncertainty_regime = "fitted", "trained compound"
    repeat.relaxed_collinear, repeat.uncertainty_regime = True, "new compound"
    assert gap_uncertainty_regime(energy_ladder([high, repeat, low])) == "trained compound"
    assert gap_uncertainty_regime(energy_ladder([low])) is None


def test_orderings_without_a_stated_uncertainty_cannot_be_backed():
    ladder = energy_ladder([ordering("AFM-II", "a", -5.1, sigma=0.0), ordering("FM", "b", -5.0)])
    resolved, reason = resolution(
        ladder, out_of_domain=[], min_gap_meV=1.0, gap_sigma_meV=None, without_sigma=["FM (4 atoms)"]
    )
    assert (
        not resolved
        and reason == "the model states no uncertainty for FM (4 atoms) (moments it never learned)"
    )


def test_unconverged_orderings_are_named_and_unresolve_the_ground_state():
    ladder = energy_ladder([ordering("AFM-II", "a", -5.1), ordering("FM", "b", -5.0, converged=False)])
    resolved, reason = resolution(ladder, out_of_domain=[], min_gap_meV=1.0, gap_sigma_meV=None)
    assert not resolved and reason == "relaxation not converged: FM (4 atoms)"


def test_out_of_domain_reason_names_neighbours_not_just_the_element():
    neighbour = DomainGap(
        element="Mn", n_atoms=2, of_atoms=2, environments=[["F", "Mn"]], trained_environments=[["Mn", "O"]]
    )
    unseen = DomainGap(
        element="Fe", n_atoms=1, of_atoms=1, environments=[["Fe", "O"]], trained_environments=[]
    )
    assert neighbour.describe() == "all 2 Mn atoms among {F, Mn}: the model saw Mn moments only among {Mn, O}"
    assert unseen.describe() == "the Fe atom: the model never saw Fe with moments"
    ladder = energy_ladder([ordering("AFM-II", "a", -5.1), ordering("FM", "b", -5.0)])
    resolved, reason = resolution(ladder, out_of_domain=[neighbour], min_gap_meV=1.0, gap_sigma_meV=None)
    assert not resolved and reason == neighbour.describe()


def test_display_names_are_unique_within_a_candidate():
    docs = [
        ordering("AFM q=(0,0,0)", "aaaaaa11", -5.0, n_atoms=6),
        ordering("AFM q=(0,0,0)", "bbbbbb22", -5.1, n_atoms=6),
        ordering("AFM q=(0,0,0)", "cccccc33", -5.2, n_atoms=12),
        ordering("FM", "dddddd44", -5.3, n_atoms=3),
    ]
    names = display_names(docs)
    assert len(set(names.values())) == 4
    assert names["cccccc33"] == "AFM q=(0,0,0) (12 atoms)" and names["dddddd44"] == "FM (3 atoms)"
    assert names["aaaaaa11"] == "AFM q=(0,0,0) (6 atoms) #aaaaaa"
    assert {d.display_name for d in energy_ladder(docs)} == set(names.values())


@pytest.mark.parametrize(
    ("label", "experiment", "agrees"),
    [
        ("AFM q=(0,0,0)", "AFM", True),  # rutile fluorides: the experiment names only the kind
        ("FM", "AFM", False),
        ("AFM-I", "AFM-II", False),
        ("AFM-II", "AFM-II", True),
        ("AFM-G", "AFM (G-type on Fe)", True),
        ("FM", "AFM (C-type in the fct cell)", False),
        (None, "AFM", None),
        ("FM", None, None),
    ],
)
def test_agreement_with_experiment(label, experiment, agrees):
    assert agrees_with_experiment(label, experiment) is agrees


def crn_like(fm_eV=-5.0 + 0.19015, fm_sigma=22.47, **fm) -> list[MagneticOrderingDoc]:
    """The demo's CrN: AFM-I lowest, AFM-II 14.19 +- 22.50 above, FM 190.15 +- 22.47 above (meV)."""
    return energy_ladder(
        [
            ordering("AFM-I", "a", -5.0, sigma=0.0),
            ordering("AFM-II", "b", -5.0 + 0.01419, sigma=22.50),
            ordering("FM", "c", fm_eV, n_atoms=2, sigma=fm_sigma, **fm),
        ]
    )


def test_the_kind_is_resolved_where_the_ordering_within_it_is_not():
    ladder = crn_like()
    resolved, reason = resolution(
        ladder, out_of_domain=[], min_gap_meV=1.0, gap_sigma_meV=gap_uncertainty_meV(ladder)
    )
    assert not resolved and "14.19 +- 22.50" in reason
    claim = kind_resolution(ladder, out_of_domain=[], min_gap_meV=1.0)
    assert claim is not None and (claim.kind, claim.rival) == ("AFM", "FM (2 atoms)")
    assert claim.gap_meV == pytest.approx(190.15) and claim.gap_uncertainty_meV == pytest.approx(22.47)


@pytest.mark.parametrize(
    ("ladder", "why"),
    [
        (crn_like(fm_eV=-5.0 + 0.040, fm_sigma=22.47), "FM within twice its sigma (40 <= 44.94)"),
        (crn_like(converged=False), "an unconverged ordering"),
        (crn_like()[:2], "no ordering of another kind"),
    ],
)
def test_the_kind_is_not_claimed_without_backing(ladder, why):
    assert kind_resolution(ladder, out_of_domain=[], min_gap_meV=1.0) is None, why


def test_the_kind_is_not_claimed_outside_the_domain_or_without_sigmas():
    gap = DomainGap(element="Cr", n_atoms=2, of_atoms=2, environments=[["Cr", "N"]], trained_environments=[])
    assert kind_resolution(crn_like(), out_of_domain=[gap], min_gap_meV=1.0) is None
    assert (
        kind_resolution(crn_like(), out_of_domain=[], min_gap_meV=1.0, without_sigma=["FM (2 atoms)"]) is None
    )
    assert kind_resolution(crn_like(), out_of_domain=[], min_gap_meV=200.0) is None


@pytest.mark.parametrize(
    ("kind", "experiment", "agrees"),
    [
        ("AFM", "AFM (double (110) layers)", True),  # CrN: the experiment names the kind
        ("AFM", "AFM-II", None),  # which AFM ordering is what the claim leaves open
        ("FM", "AFM-II", False),
        ("FM", "FM", True),
        (None, "AFM", None),
        ("AFM", None, None),
    ],
)
def test_agreement_of_a_resolved_kind(kind, experiment, agrees):
    assert kind_agrees_with_experiment(kind, experiment) is agrees


def _candidate(candidate_id, gap, resolved) -> CandidateDoc:
    return CandidateDoc(
        candidate_key=f"{candidate_id}:m",
        candidate_id=candidate_id,
        formula=candidate_id,
        campaign="c",
        source="snapshot",
        structure={},
        n_atoms=2,
        magnetic_elements=["Ni"],
        model_version="m",
        n_orderings=2,
        resolved=resolved,
        gap_meV=gap,
        ladder=[],
        confidence=Confidence(in_magnetic_domain=True, gap_resolved=resolved, all_converged=True),
    )


def test_candidates_rank_resolved_first_and_float_noise_does_not_reorder_them():
    docs = [
        _candidate("b", 50.0 + 1e-9, True),
        _candidate("a", 50.0, True),
        _candidate("c", 0.5, False),
        _candidate("d", 80.0, True),
        _candidate("e", 0.000002, False),
    ]
    assert [d.candidate_id for d in rank_candidates(docs)] == ["d", "a", "b", "c", "e"]
