"""Document of one candidate's ranking: ground state, energy ladder, gap and confidence."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, Field

from magscreen.schemas.anisotropy import CandidateAnisotropy

__all__ = ["CandidateDoc", "Confidence", "DomainGap", "LadderStep"]


class LadderStep(BaseModel):
    """One ordering in a candidate's energy ladder."""

    label: str = Field(description="Ordering label, e.g. 'FM', 'AFM-II'.")
    display_name: str = Field(
        "",
        description="Name unique within the candidate: the label, the supercell size and, where those "
        "repeat, the first characters of the fingerprint, e.g. 'AFM q=(0,0,0) (6 atoms)'.",
    )
    fingerprint: str = Field(description="Ordering fingerprint.")
    n_atoms: int = Field(0, description="Atoms in the ordering's supercell.")
    relative_energy_meV: float = Field(
        description="Energy above the lowest ordering (meV per magnetic atom)."
    )
    energy_uncertainty_meV: float | None = Field(
        None,
        description="One sigma of the energy relative to the lowest ordering (meV per magnetic atom); "
        "None when unknown.",
    )
    uncertainty_regime: str | None = Field(
        None,
        description="Calibration regime of energy_uncertainty_meV: 'fitted' (this ordering and the "
        "lowest are both in the model's training data at this volume), 'trained compound' or 'new "
        "compound' (magscreen.potential.uncertainty.REGIMES); None when there is no uncertainty.",
    )
    total_magnetization_muB: float = Field(
        0.0, description="Magnitude of the summed moment of the supercell (Bohr magnetons per cell)."
    )
    total_magnetization_per_magnetic_atom: float = Field(
        description="Magnitude of the summed moment per magnetic atom (Bohr magnetons)."
    )
    converged: bool = Field(description="Whether the relaxation of this ordering converged.")
    relaxed_collinear: bool | None = Field(
        None, description="Non-collinear ordering that relaxed into a collinear state (left out of the gap)."
    )


class DomainGap(BaseModel):
    """Atoms of one magnetic element whose moments the model cannot judge (outside its knowledge)."""

    element: str = Field(description="Magnetic element, e.g. 'Mn'.")
    n_atoms: int = Field(description="Atoms of the element outside the model's knowledge in the supercell.")
    of_atoms: int = Field(description="Atoms of the element in the supercell.")
    environments: list[list[str]] = Field(
        description="Elements within the model's cutoff around those atoms, one list per distinct "
        "environment."
    )
    trained_environments: list[list[str]] = Field(
        description="Environments in which the model saw the element with moments in training; "
        "empty when it never saw the element with moments."
    )
    coordination: list[int] = Field(
        default_factory=list,
        description="Coordination numbers of those atoms (neighbours within 1.1 times the nearest "
        "distance), where their environment is a trained one but their coordination is not.",
    )
    trained_coordination: list[int] = Field(
        default_factory=list,
        description="Coordination numbers at which the model saw the element with moments in those "
        "environments.",
    )

    def describe(self) -> str:
        """One sentence: which atoms, which neighbours, what the model knows."""
        found = " or ".join("{" + ", ".join(env) + "}" for env in self.environments) or "{}"
        if self.n_atoms < self.of_atoms:
            atoms = f"{self.n_atoms} of {self.of_atoms} {self.element} atoms"
        else:
            plural = f"all {self.n_atoms} {self.element} atoms"
            atoms = f"the {self.element} atom" if self.n_atoms == 1 else plural
        if not self.trained_environments:
            return f"{atoms}: the model never saw {self.element} with moments"
        if self.coordination:
            counts = " or ".join(map(str, self.coordination))
            trained = " or ".join(map(str, self.trained_coordination))
            return (
                f"{atoms} among {found} with {counts} nearest neighbours: the model saw {self.element} "
                f"moments there only with {trained} (another structure type)"
            )
        known = " or ".join("{" + ", ".join(env) + "}" for env in self.trained_environments)
        return f"{atoms} among {found}: the model saw {self.element} moments only among {known}"


class Confidence(BaseModel):
    """How far the ranking can be trusted."""

    in_magnetic_domain: bool = Field(
        description="Whether every magnetic atom of the candidate is inside the model's knowledge "
        "(its element seen with moments in training, among the same neighbour elements and, where the "
        "model records it, at the same coordination number)."
    )
    out_of_domain_elements: list[str] = Field(
        default_factory=list,
        description="Magnetic elements of the candidate with atoms outside the model's knowledge.",
    )
    out_of_domain: list[DomainGap] = Field(
        default_factory=list, description="Which atoms are outside the model's knowledge, and why."
    )
    gap_resolved: bool = Field(
        description="Whether the gap to the next ordering exceeds the campaign's min_gap_meV, the tie "
        "tolerance and, when the model gives one, twice the gap's uncertainty."
    )
    all_converged: bool = Field(description="Whether every ordering's relaxation converged.")


class CandidateDoc(BaseModel):
    """Ranking of one candidate's orderings by one model."""

    candidate_key: str = Field(description="Unique key: '<candidate_id>:<model_version>'.")
    candidate_id: str = Field(description="Candidate identifier (Materials Project id or snapshot name).")
    formula: str = Field(description="Reduced formula.")
    campaign: str = Field(description="Name of the campaign that ranked the candidate.")
    source: str = Field(description="Where the candidate came from: 'snapshot', 'materials_project', 'file'.")
    structure: dict = Field(description="Input structure of the candidate (pymatgen Structure.as_dict()).")
    n_atoms: int = Field(description="Atoms in the candidate's cell.")
    magnetic_elements: list[str] = Field(description="Elements that carry moments in the orderings.")
    model_version: str = Field(description="Version of the calculator (ML model) that ranked the orderings.")
    n_orderings: int = Field(description="Orderings relaxed and ranked.")
    n_orderings_dropped: int = Field(
        0, description="Orderings the enumeration found but did not keep (over max_orderings)."
    )
    resolved: bool = Field(
        False,
        description="Whether the model resolves the ground state: every magnetic atom inside its "
        "knowledge, the orderings' relaxations converged, the gap above rank.min_gap_meV and the tie "
        "tolerance and, when the model gives an uncertainty, above twice the gap's uncertainty.",
    )
    unresolved_reason: str | None = Field(
        None, description="Why the ground state is not resolved (which atoms, orderings or numbers)."
    )
    ground_state_label: str | None = Field(
        None,
        description="Label of the predicted ground state, e.g. 'AFM-II'; None when not resolved "
        "(see lowest_ordering_label).",
    )
    ground_state_fingerprint: str | None = Field(
        None, description="Fingerprint of the predicted ground state; None when not resolved."
    )
    lowest_ordering_label: str = Field(
        "",
        description="Label of the lowest ordering in the ladder, resolved or not (a prediction only "
        "when 'resolved' is true).",
    )
    lowest_ordering_fingerprint: str = Field("", description="Fingerprint of the lowest ordering.")
    gap_meV: float | None = Field(
        None,
        description="Energy of the next ordering above the lowest one (meV per magnetic atom); "
        "None when only one ordering was ranked.",
    )
    gap_uncertainty_meV: float | None = Field(
        None,
        description="One-sigma uncertainty of the gap (meV per magnetic atom); None when the model "
        "gives none.",
    )
    gap_uncertainty_regime: str | None = Field(
        None,
        description="Calibration regime of gap_uncertainty_meV (the second ordering's, see "
        "LadderStep.uncertainty_regime): 'fitted' means the claim rests on DFT of both orderings in "
        "the model's training data.",
    )
    ground_state_kind: str | None = Field(
        None,
        description="Kind of the ground state (FM, AFM, FiM): that of the resolved ground state or, when "
        "only the kind is backed, of the lowest ordering, every ordering of another kind lying above it "
        "by more than the tolerances and twice its uncertainty (ranking.kind_resolution); None otherwise.",
    )
    kind_rival: str | None = Field(
        None, description="When only the kind is resolved: the lowest ordering of another kind."
    )
    kind_gap_meV: float | None = Field(
        None,
        description="When only the kind is resolved: kind_rival's energy above the lowest ordering "
        "(meV per magnetic atom).",
    )
    kind_gap_uncertainty_meV: float | None = Field(
        None, description="One sigma of kind_gap_meV (meV per magnetic atom); None when the model gives none."
    )
    agrees_with_experiment: bool | None = Field(
        None,
        description="Whether the predicted ground state matches experimental_ordering (same label, or "
        "the same kind FM/AFM/FiM where the experiment names only the kind); when only the kind is "
        "resolved, whether the kind does (None where the experiment names an ordering of that kind); "
        "None when nothing is resolved or no experiment is known.",
    )
    ladder: list[LadderStep] = Field(description="All ranked orderings, lowest energy first.")
    confidence: Confidence = Field(description="How far the ranking can be trusted.")
    experimental_ordering: str | None = Field(
        None, description="Experimentally reported ground state, when the source knows it."
    )
    mp_ordering: str | None = Field(
        None, description="Materials Project's ordering label ('FM', 'AFM', ...)."
    )
    energy_above_hull: float | None = Field(None, description="Energy above hull from the source (eV/atom).")
    anisotropy: CandidateAnisotropy | None = Field(
        None,
        description="Spin-orbit anisotropy of the ground state (or FM ordering) when the campaign's "
        "anisotropy stage computed it: easy axis, MAE, K1/K2 (MJ/m^3), Ms, mu0 H_A, kappa.",
    )
    completed_at: datetime = Field(
        default_factory=lambda: datetime.now(timezone.utc), description="Completion time (UTC)."
    )

    @staticmethod
    def make_key(candidate_id: str, model_version: str) -> str:
        """Build the unique ``candidate_key``."""
        return f"{candidate_id}:{model_version}"
