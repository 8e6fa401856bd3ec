"""Settings of a reference-dataset build: one pydantic model shared by the YAML file and the code.

A build config (``configs/dataset/reference.yaml``) names the compounds, how their orderings are
chosen, the strained and rattled copies, the GPAW training settings and the output folders. Every
section forbids unknown keys; :func:`load_dataset_config` reports errors with the file, the key
path and what was expected (``magscreen.config.load_yaml_model``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from magscreen.config import load_yaml_model
from magscreen.errors import InputError

__all__ = [
    "CompoundSpec",
    "DatasetConfig",
    "ForceTheoremOverride",
    "ForceTheoremSettings",
    "OrderingPlanSettings",
    "RattleSettings",
    "SCFAttempt",
    "StrainSettings",
    "TrainingGPAWSettings",
    "load_dataset_config",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CompoundSpec(_Section):
    """One compound of the dataset: a snapshot candidate or a structure file."""

    name: str = Field(description="Compound name; file names and energy groups carry it (e.g. 'MnO').")
    snapshot: str | None = Field(
        None, description="Name, id or formula in the offline candidate snapshot (magscreen.sources)."
    )
    file: Path | None = Field(
        None,
        description="Structure file (CIF, POSCAR, pymatgen JSON), relative to the build root "
        "(load_dataset_config).",
    )
    tier: int = Field(1, ge=1, le=2, description="1: offline-snapshot compounds; 2: further chemistries.")
    moments: dict[str, float] = Field(
        default_factory=dict, description="Starting moment per element (mu_B), overriding the defaults."
    )
    metallic: bool | None = Field(
        None,
        description="Use the metals' k-point density; default: metallic unless the compound holds one of "
        "gpaw.gapped_anions.",
    )
    broken_symmetry: bool = Field(
        False,
        description="Start each SCF without point-group symmetry from a distorted cell's density "
        "(orbitally degenerate ions such as high-spin Fe2+ and Co2+ in rocksalt).",
    )
    antiferro: int | None = Field(
        None,
        ge=0,
        description="Antiferro- and ferrimagnetic orderings of this compound besides FM (default: "
        "orderings.antiferro); longer ladders for ranking benchmarks such as domain extension.",
    )
    note: str = Field("", description="Why this compound is here or skipped; its structure's source.")

    @model_validator(mode="after")
    def _one_source(self) -> CompoundSpec:
        if (self.snapshot is None) == (self.file is None):
            raise ValueError(f"compound {self.name!r} needs exactly one of 'snapshot' or 'file'")
        return self


class OrderingPlanSettings(_Section):
    """Which collinear orderings of a compound are computed (magscreen.magnetism.enumerate_collinear)."""

    max_magnetic_atoms: int = Field(8, ge=1, description="Largest number of magnetic atoms in a supercell.")
    max_atoms: int = Field(16, ge=1, description="Largest supercell (atoms) that is computed.")
    antiferro: int = Field(
        3,
        ge=0,
        description="Antiferro- and ferrimagnetic orderings per compound besides FM, smallest cells first.",
    )


class StrainSettings(_Section):
    """Isotropically strained copies of every ordering (tier 3)."""

    scales: list[float] = Field(
        default_factory=lambda: [0.97, 1.03], description="Lattice scale factors besides 1.00."
    )

    @model_validator(mode="after")
    def _positive(self) -> StrainSettings:
        if any(s <= 0 for s in self.scales):
            raise ValueError(f"strain scales must be positive, got {self.scales}")
        return self


class RattleSettings(_Section):
    """Rattled copies (tier 4): Gaussian displacements of every atom, with forces and stress."""

    amplitudes_A: list[float] = Field(
        default_factory=lambda: [0.03, 0.05],
        description="Standard deviations of the displacements (Angstrom).",
    )
    orderings: int = Field(
        2, ge=0, description="Rattle the first this-many orderings of each ladder (FM first)."
    )
    min_atoms: int = Field(
        8,
        ge=1,
        description="Cells with fewer atoms are repeated (shortest direction first) to at least this.",
    )
    seed: int = Field(0, description="Seed; with the frame's name it fixes the displacements.")


class SCFAttempt(_Section):
    """One way to converge an SCF; the next one is tried when it does not converge."""

    name: str = Field(description="Short name recorded with the frame (e.g. 'default', 'pulay-0.02').")
    extra: dict[str, Any] = Field(
        default_factory=dict, description="GPAW keywords added to the settings (mixer, occupations, ...)."
    )
    smearing_eV: float | None = Field(None, gt=0, description="Fermi-Dirac width for this attempt (eV).")
    max_scf_iterations: int | None = Field(None, ge=1, description="SCF iteration limit for this attempt.")


class TrainingGPAWSettings(_Section):
    """GPAW settings of the training data (cheaper than production; see docs/reference.md)."""

    xc: str = Field("PBE", description="Exchange-correlation functional.")
    ecut_eV: float = Field(450.0, gt=0, description="Plane-wave cutoff (eV).")
    kpoint_density: float = Field(4.0, gt=0, description="k-points per 1/Angstrom for metals.")
    kpoint_density_gapped: float = Field(
        2.0, gt=0, description="k-points per 1/Angstrom for gapped compounds."
    )
    gapped_anions: list[str] = Field(
        default_factory=lambda: ["O", "F"],
        description="A compound with one of these is gapped unless 'metallic'.",
    )
    smearing_eV: float = Field(0.05, gt=0, description="Fermi-Dirac smearing width (eV).")
    hubbard: Literal["mp"] | dict[str, float] | None = Field(
        "mp",
        description="'mp' (Materials Project U for oxides and fluorides), a mapping element -> U (eV), "
        "or null.",
    )
    energy_tolerance_eV: float = Field(
        2.0e-5, gt=0, description="SCF energy tolerance (eV per valence electron)."
    )
    max_scf_iterations: int = Field(120, ge=1, description="SCF iteration limit of one attempt.")
    broken_symmetry_eigenstates: float | None = Field(
        None,
        gt=0,
        description="Eigenstate-residual criterion of broken-symmetry frames (eV^2 per valence electron, "
        "GPAW's convergence['eigenstates']); null keeps GPAW's default (4e-8). Near-degenerate t2g "
        "states (FeO) meet the energy and density criteria long before the default one.",
    )
    attempts: list[SCFAttempt] = Field(
        default_factory=lambda: [
            SCFAttempt(name="default"),
            SCFAttempt(
                name="pulay-0.02",
                extra={"mixer": {"backend": "pulay", "beta": 0.02, "nmaxold": 5, "weight": 100.0}},
            ),
        ],
        description="SCF strategies tried in order until one converges; a frame fails after the last.",
    )
    forces: bool = Field(True, description="Compute forces (eV/Angstrom).")
    stress: bool = Field(True, description="Compute the stress (eV/Angstrom^3).")


class ForceTheoremOverride(_Section):
    """One compound's force-theorem SCF settings where they differ from the build's."""

    kpoint_density: float | None = Field(None, gt=0, description="k-points per 1/Angstrom.")
    smearing_eV: float | None = Field(None, gt=0, description="Fermi-Dirac smearing width (eV).")


class ForceTheoremSettings(_Section):
    """SCF of the ``force_theorem`` frames (magscreen.dataset.force_theorem): the training settings
    with a denser k-mesh and a smaller smearing, since anisotropies are micro-eV band-energy
    differences (k-point series: docs/anisotropy.md)."""

    kpoint_density: float = Field(6.0, gt=0, description="k-points per 1/Angstrom.")
    smearing_eV: float = Field(0.02, gt=0, description="Fermi-Dirac smearing width (eV).")
    compounds: dict[str, ForceTheoremOverride] = Field(
        default_factory=dict,
        description="Per-compound settings (compound name -> kpoint_density and/or smearing_eV), e.g. "
        "a denser mesh where the sign needs one.",
    )

    def for_compound(self, name: str) -> dict[str, float]:
        """``{"kpoint_density": ..., "smearing_eV": ...}`` of one compound."""
        own = self.compounds.get(name, ForceTheoremOverride())
        return {
            "kpoint_density": own.kpoint_density or self.kpoint_density,
            "smearing_eV": own.smearing_eV or self.smearing_eV,
        }


class DatasetConfig(_Section):
    """A reference-dataset build: compounds -> orderings -> strained and rattled copies -> GPAW."""

    name: str = Field("reference", description="Dataset name (provenance).")
    work_dir: Path = Field(
        Path("dataset-work"),
        description="Records, locks and GPAW restart files (relative to the build root).",
    )
    export_dir: Path = Field(
        Path("reference/dataset"),
        description="Extended XYZ files and provenance.json (relative to the build root).",
    )
    compounds: list[CompoundSpec] = Field(description="Compounds, in the order of the config.")
    orderings: OrderingPlanSettings = Field(default_factory=OrderingPlanSettings)
    strain: StrainSettings = Field(default_factory=StrainSettings)
    rattle: RattleSettings = Field(default_factory=RattleSettings)
    gpaw: TrainingGPAWSettings = Field(default_factory=TrainingGPAWSettings)
    kinds: list[str] = Field(
        default_factory=lambda: ["ordering", "strain", "rattle"],
        description="Frame kinds to plan (registry names).",
    )
    force_theorem: ForceTheoremSettings = Field(default_factory=ForceTheoremSettings)

    def ordering_settings(self, spec: CompoundSpec) -> OrderingPlanSettings:
        """The ordering settings of one compound: ``orderings`` with the compound's own ``antiferro``."""
        if spec.antiferro is None:
            return self.orderings
        return self.orderings.model_copy(update={"antiferro": spec.antiferro})

    @model_validator(mode="after")
    def _unique_names(self) -> DatasetConfig:
        names = [c.name for c in self.compounds]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"compound names repeat: {', '.join(repeated)}")
        unknown = sorted(set(self.force_theorem.compounds) - set(names))
        if unknown:
            raise ValueError(f"force_theorem.compounds names no compound of the build: {', '.join(unknown)}")
        return self


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Read a dataset config; relative paths are resolved against the build root.

    The build root is the repository root (the folder above ``configs/``) for a config in
    ``configs/<folder>/``, else the config file's folder.

    Raises
    ------
    InputError
        Missing file, invalid YAML, unknown key, bad value, a structure file that does not exist, or an
        unknown frame kind; the message names the file and the key path.
    """
    from magscreen.dataset.kinds import FRAME_KINDS

    path = Path(path).resolve()
    config = load_yaml_model(path, DatasetConfig, "a dataset build config in YAML")
    base = path.parent
    root = base.parent.parent if base.parent.name == "configs" else base
    for index, compound in enumerate(config.compounds):
        if compound.file is not None:
            file = compound.file if compound.file.is_absolute() else (root / compound.file)
            if not file.is_file():
                raise InputError(
                    "no such structure file",
                    source=path,
                    field=f"compounds.{index}.file",
                    expected=f"an existing file ({file})",
                )
            compound.file = file
    for index, kind in enumerate(config.kinds):
        if kind not in FRAME_KINDS:
            raise InputError(
                f"unknown frame kind {kind!r}",
                source=path,
                field=f"kinds.{index}",
                expected="one of " + ", ".join(FRAME_KINDS),
            )
    if not config.work_dir.is_absolute():
        config.work_dir = root / config.work_dir
    if not config.export_dir.is_absolute():
        config.export_dir = root / config.export_dir
    return config
