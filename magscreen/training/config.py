"""Training configuration: one YAML file per training run, validated by strict pydantic models.

Relative paths (data folders, output folder) are resolved against the folder of the YAML file, so
``configs/train/monoxides.yaml`` finds ``../shared/data`` beside the repository wherever it is cloned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ase.data import chemical_symbols
from pydantic import BaseModel, ConfigDict, Field, field_validator

from magscreen.config import load_yaml_model
from magscreen.errors import InputError

LabelName = Literal["energy", "forces", "magnetic_forces", "stress"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Section):
    """Where the frames come from and how they are split."""

    format: Literal["auto", "deepmd_spin", "extxyz"] = Field("auto", description="Reader for every path.")
    train: list[Path] = Field(description="Training data (deepmd spin folders or extended XYZ files).")
    validation: list[Path] = Field(description="Validation data, held out (never trained on).")
    source_weights: dict[Path, float] = Field(
        default_factory=dict,
        description="Weight of the frames of a training source in the least-squares readout (their "
        "labels and their stress and rattle priors: weight 2 counts a frame twice), keyed by its path "
        "as written in 'train'; 1 for sources not listed. Least-squares stages only.",
    )
    max_train_frames: int | None = Field(
        None, ge=1, description="Use only this many training frames, drawn with the run's seed."
    )
    epoch_size: int | None = Field(
        None,
        ge=1,
        description="Frames drawn per epoch (the training set reshuffled as often as needed); "
        "by default one pass. Equal epoch sizes give runs on different data sizes the same budget.",
    )
    zero_moments: bool = Field(
        False,
        description="Set every moment to zero (the non-magnetic baseline: what a universal potential sees).",
    )


class ModelConfig(_Section):
    """Which network to train."""

    init: Literal["sevennet0", "scratch"] = Field(
        "sevennet0", description="'sevennet0': pretrained backbone; 'scratch': the same architecture, random."
    )
    soc: bool = Field(False, description="Spin-orbit terms in the magnetic blocks.")
    small: bool = Field(False, description="Small random architecture (tests only); implies init 'scratch'.")
    element_heads: list[str] = Field(
        default_factory=list,
        description="Elements whose magnetic energy has its own output layers (node and pair heads); "
        "the others share one. With a frozen backbone a new element's data then leaves the "
        "couplings of the listed elements alone.",
    )
    spin_invariants: bool = Field(
        True,
        description="Feed the spin-field invariants m_i . S_i and S_i . S_i to the node network "
        "(beyond-Heisenberg exchange); false: Heisenberg pairs (with their length slope) and a "
        "Landau-like on-site term of |m_i| and the environment, so every transverse field is a pair field.",
    )
    bilinear_channels: int = Field(
        4,
        ge=1,
        description="Terms k of the Heisenberg pair coupling J = sum_k R_k(r) g_k(h_i) g_k(h_j): the "
        "chemistry a frozen backbone lets the pair heads tell apart (readout weights grow with it).",
    )
    magnetic_domain: Literal["environment", "element"] = Field(
        "environment",
        description="What the recorded magnetic domain holds: 'environment', each element with the sets "
        "of elements around it in training (moments elsewhere are ignored); 'element', the elements "
        "alone (how new an environment is is left to the posterior uncertainty).",
    )

    @field_validator("element_heads")
    @classmethod
    def _elements(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in chemical_symbols[1:]]
        if unknown or len(set(value)) != len(value):
            raise ValueError(f"expected distinct element symbols, got {value}")
        return value


class LossWeights(_Section):
    """Weights of the loss terms; each term is a mean square error divided by its label variance."""

    energy: float = Field(1.0, ge=0, description="Energy per atom.")
    forces: float = Field(1.0, ge=0, description="Forces.")
    magnetic_forces: float = Field(1.0, ge=0, description="Magnetic forces on atoms that carry a moment.")
    stress: float = Field(1.0, ge=0, description="Stress.")
    energy_groups: float = Field(
        1.0,
        ge=0,
        description="Weight of the energy error of frames with an energy group (e.g. ordering ladders "
        "from another code), relative to ``energy``.",
    )
    magnetic_forces_longitudinal: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Relative weight of the magnetic-force error along the moment (1: plain H loss; "
        "0: transverse part only). Constrained-moment DFT with fixed magnitudes pins the "
        "longitudinal field poorly.",
    )


class HeadRidge(_Section):
    """Tikhonov damping of one element's output layers in a least-squares stage."""

    node: float = Field(ge=0, description="Node head (on-site and many-body exchange).")
    pair: float = Field(ge=0, description="Pair heads of the element (Heisenberg J and its slope K).")


class StageConfig(_Section):
    """One training stage: a number of epochs with one optimiser setting."""

    name: str = Field(description="Label of the stage in logs and checkpoints.")
    epochs: int = Field(ge=1, description="Epochs in this stage.")
    lr: float = Field(gt=0, description="Learning rate of the magnetic blocks (Adam).")
    backbone: Literal["frozen", "trainable"] = Field(
        "frozen", description="'frozen': backbone fixed, node features cached; 'trainable': fine-tuned."
    )
    backbone_lr_factor: float = Field(
        0.1, gt=0, description="Backbone learning rate as a fraction of ``lr`` (stage 'trainable')."
    )
    losses: list[LabelName] = Field(
        default_factory=lambda: ["energy", "magnetic_forces"],
        description="Loss terms of this stage (a frozen backbone with Adam allows energy and magnetic_forces "
        "only; a least-squares stage also forces).",
    )
    batch_size: int = Field(4, ge=1, description="Frames per optimiser step.")
    optimizer: Literal["adam", "least_squares"] = Field(
        "adam",
        description="'adam': gradient steps on every magnetic weight; 'least_squares': one exact solve "
        "for the output layers of the magnetic heads (frozen backbone, one epoch), with the reference "
        "energies and energy-group offsets.",
    )
    ridge: float = Field(
        1e-8,
        ge=0,
        description="Tikhonov damping of a least-squares stage (design columns scaled to unit norm).",
    )
    element_ridge: dict[str, HeadRidge] = Field(
        default_factory=dict,
        description="Least-squares stage: ridge of the element heads of these elements (model."
        "element_heads), node and pair separately, instead of ``ridge``. Elements known from a few "
        "collinear ladders need it: the node network then fits the ordering energies with features "
        "that run away off the lattice, the pair term stays smooth.",
    )
    stress_prior: float = Field(
        0.0,
        ge=0,
        description="Least-squares stage: weight of the magnetic blocks' stress (target 0, per atom per "
        "unit strain) relative to the energy term; fixes the volume dependence that frames of one "
        "lattice leave free.",
    )
    rattle_prior: float = Field(
        0.0,
        ge=0,
        description="Least-squares stage: weight of the magnetic blocks' forces (target 0) on a rattled copy "
        "of each frame, relative to the force term; fixes the curvature in the positions that frames "
        "whose atoms barely move leave free.",
    )
    magnetization_prior: float = Field(
        0.0,
        ge=0,
        description="Least-squares stage: weight of the magnetic blocks' energy per atom (target 0) of "
        "each frame, relative to the energy term; fixes the part of a magnetic atom's energy that "
        "energy groups and reference energies absorb, which the data alone leave free.",
    )
    rattle_sigma: float = Field(0.05, gt=0, description="Displacements of the rattled copies (Angstrom).")
    force_probes: int = Field(
        2,
        ge=1,
        description="Random projections of each frame's forces in a least-squares stage with a force loss.",
    )
    posterior_samples: int = Field(
        0,
        ge=0,
        description="Least-squares stage: draws of the readout weights' Gaussian posterior stored in the "
        "checkpoint (the uncertainty of the model's energies, magscreen.potential.uncertainty); 0: none.",
    )
    lr_decay: float = Field(
        1.0, gt=0, le=1, description="Learning rate multiplied by this after every epoch of the stage."
    )


class TrainConfig(_Section):
    """A training run."""

    seed: int = Field(description="Seed of weight initialisation and frame shuffling (recorded).")
    output: Path = Field(description="Run folder: checkpoints, log, learning curve.")
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    loss: LossWeights = Field(default_factory=LossWeights)
    stages: list[StageConfig] = Field(min_length=1, description="Stages, run in order.")
    ema_decay: float = Field(
        0.99, ge=0, lt=1, description="Decay of the exponential moving average of weights."
    )
    dtype: Literal["float32", "float64"] = Field("float64", description="Floating-point type of training.")
    feature_cache: Path | None = Field(
        None,
        description="Folder where frozen-backbone outputs are stored per backbone (weights hash) and "
        "frame (geometry hash), and reused by later runs with the same backbone.",
    )


def _resolve(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else (base / path).resolve()


def load_train_config(path: str | Path) -> TrainConfig:
    """Read and validate a training config; relative paths become absolute (from the file's folder).

    Raises
    ------
    InputError
        Missing file, invalid YAML, unknown key, wrong type or range; names the file and key path.
    """
    path = Path(path)
    config = load_yaml_model(path, TrainConfig, "a training config in YAML")
    for index, stage in enumerate(config.stages):
        extra = set(stage.losses) - {"energy", "magnetic_forces"}
        if stage.optimizer == "least_squares" and (stage.backbone != "frozen" or stage.epochs != 1):
            raise InputError(
                f"backbone {stage.backbone!r}, epochs {stage.epochs}",
                source=path,
                field=f"stages.{index}",
                expected="backbone 'frozen' and epochs 1 for optimizer 'least_squares'",
            )
        headless = sorted(set(stage.element_ridge) - set(config.model.element_heads))
        if headless:
            raise InputError(
                f"element_ridge for {headless}, which have no element head",
                source=path,
                field=f"stages.{index}.element_ridge",
                expected=f"elements of model.element_heads ({config.model.element_heads})",
            )
        if stage.backbone == "frozen" and stage.optimizer == "adam" and extra:
            raise InputError(
                f"losses {sorted(extra)} need position derivatives through the backbone",
                source=path,
                field=f"stages.{index}.losses",
                expected="energy and magnetic_forces with a frozen backbone and optimizer 'adam'",
            )
    base = path.parent.resolve()
    config.output = _resolve(config.output, base)
    if config.feature_cache is not None:
        config.feature_cache = _resolve(config.feature_cache, base)
    config.data.train = [_resolve(p, base) for p in config.data.train]
    config.data.validation = [_resolve(p, base) for p in config.data.validation]
    config.data.source_weights = {_resolve(p, base): w for p, w in config.data.source_weights.items()}
    for key, weight in config.data.source_weights.items():
        if key not in config.data.train or weight <= 0:
            raise InputError(
                f"{key}: {weight}",
                source=path,
                field="data.source_weights",
                expected="positive weights of paths listed in data.train",
            )
    if config.data.source_weights and any(s.optimizer != "least_squares" for s in config.stages):
        raise InputError(
            "source weights with an 'adam' stage",
            source=path,
            field="data.source_weights",
            expected="only least_squares stages (the gradient loss does not weight frames)",
        )
    return config
