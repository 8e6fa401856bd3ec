"""The training loop: stages, masked losses, EMA, per-epoch checkpoints, resume, best-on-validation.

Run folder (``config.output``):

- ``last.pt``: full training state after the latest epoch (weights, EMA, optimiser, history);
  a killed run resumes from it;
- ``best.pt``: the EMA weights with the lowest validation score so far, as a
  :meth:`MagneticPotential.save` checkpoint (loadable by ``MagneticCalculator``);
- ``history.json``: one record per epoch; ``learning_curve.png``: the same, plotted;
- ``metrics.json``: validation errors of ``best.pt`` at the end (meV units, see
  :mod:`magscreen.training.metrics`).

Validation score (for ``best.pt``): ``w_E * MSE(E/N) / var(E/N) + w_H * MSE(H) / var(H)`` on the
validation frames, the two terms every stage can evaluate cheaply. Forces are reported, not used
for selection (the NiO force labels are mostly noise).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from ase.data import atomic_numbers, chemical_symbols
from tqdm.auto import tqdm

from magscreen.errors import InputError
from magscreen.potential.graph import collate
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.potential.model import BackboneCache, MagneticPotential
from magscreen.training.config import StageConfig, TrainConfig
from magscreen.training.data import Frame, check_elements, read_frames, require_frames
from magscreen.training.ema import ExponentialMovingAverage
from magscreen.training.evaluation import predict_frames
from magscreen.training.losses import LabelBatch, collate_labels, masked_loss, squared_errors
from magscreen.training.metrics import errors
from magscreen.training.plots import plot_learning_curve
from magscreen.training.readout import ReadoutSystem, fit_readout, readout_system

STATE_FORMAT = "magscreen-training-state"
SCORE_TERMS = ("energy", "magnetic_forces")


def load_frames(
    paths: Sequence[Path],
    fmt: str,
    *,
    split: str,
    source: str | Path,
    weights: dict[Path, float] | None = None,
) -> list[Frame]:
    """Frames of every path of one split, each with its source's loss weight (default 1); an empty
    split is an error naming the config key."""
    weights = weights or {}
    frames = [
        replace(frame, weight=weights.get(path, 1.0)) for path in paths for frame in read_frames(path, fmt)
    ]
    require_frames(frames, split=split, source=source)
    return frames


def without_moments(frames: Sequence[Frame]) -> list[Frame]:
    """The same frames with every moment set to zero (inputs only; labels kept)."""
    return [
        Frame(
            **{
                **{name: getattr(f, name) for name in f.__dataclass_fields__},
                "moments": np.zeros_like(f.moments),
            }
        )
        for f in frames
    ]


def build_model(config: TrainConfig) -> MagneticPotential:
    """The network named by ``config.model``, in the configured dtype."""
    dtype = getattr(torch, config.dtype)
    spec = config.model
    magnetic = MagneticHyperparameters(
        element_heads=tuple(spec.element_heads),
        spin_invariants=spec.spin_invariants,
        bilinear_channels=spec.bilinear_channels,
    )
    if spec.small:
        model = MagneticPotential(soc=spec.soc, seed=config.seed, magnetic=magnetic)
    elif spec.init == "sevennet0":
        model = MagneticPotential.from_sevennet(soc=spec.soc, seed=config.seed, magnetic=magnetic)
    else:
        import sevenn._keys as KEY

        from magscreen.potential.backbone import sevennet0_config, sevennet0_state_dict

        # SevenNet-0's convolution denominator (its average neighbour count, a fixed constant of
        # the architecture) lives in the weights, not the config: copy it, or random layers divide by 0.
        backbone = sevennet0_config()
        backbone[KEY.CONV_DENOMINATOR] = float(sevennet0_state_dict()["0_convolution.denominator"])
        model = MagneticPotential(
            soc=spec.soc,
            seed=config.seed,
            magnetic=magnetic,
            backbone_config=backbone,
            backbone_name="scratch",
        )
        with torch.no_grad():  # the magnetic blocks start as from_sevennet's do: contributing zero
            for layer in model.magnetic.output_layers():
                layer.weight.zero_()
                layer.bias.zero_()
    return model.to(dtype)


def composition_matrix(frames: Sequence[Frame], elements: Sequence[str]) -> np.ndarray:
    """Atoms of each element per frame, shape (frames, elements)."""
    index = {atomic_numbers[e]: k for k, e in enumerate(elements)}
    counts = np.zeros((len(frames), len(elements)))
    for row, frame in enumerate(frames):
        for z in frame.numbers:
            counts[row, index[int(z)]] += 1
    return counts


def fit_reference_energies(frames: Sequence[Frame], predicted: np.ndarray) -> tuple[dict[str, float], int]:
    """Per-element energy shifts (eV/atom) that best close ``E_label - E_predicted`` (least squares).

    The minimum-norm solution is returned: with one composition (NiO) only the sum over the
    formula is determined, and it is split evenly between the elements.

    Returns
    -------
    shifts
        Element -> shift (eV/atom).
    rank
        Rank of the composition matrix (fewer than the number of elements means degenerate).
    """
    labelled = [k for k, f in enumerate(frames) if f.energy is not None]
    if not labelled:
        return {}, 0
    elements = sorted({chemical_symbols[z] for f in frames for z in f.numbers})
    counts = composition_matrix([frames[k] for k in labelled], elements)
    residual = np.array([frames[k].energy for k in labelled]) - predicted[labelled]
    solution, _, rank, _ = np.linalg.lstsq(counts, residual, rcond=None)
    return dict(zip(elements, map(float, solution), strict=True)), int(rank)


def label_variances(frames: Sequence[Frame]) -> dict[str, float]:
    """Scale of each label type over ``frames``, for the dimensionless loss.

    Energy: variance of E/N after removing per-element reference energies (least squares), over
    frames without an energy group (a group's absolute energies mean nothing here);
    forces, magnetic forces (atoms with a moment), stress: mean square of the components.
    Labels no frame carries (or that are all zero) get 1.
    """
    out = {name: 1.0 for name in ("energy", "forces", "magnetic_forces", "stress")}
    energy_frames = [f for f in frames if f.energy is not None and f.energy_group is None]
    if len(energy_frames) > 1:
        elements = sorted({chemical_symbols[z] for f in energy_frames for z in f.numbers})
        counts = composition_matrix(energy_frames, elements)
        energies = np.array([f.energy for f in energy_frames])
        solution, *_ = np.linalg.lstsq(counts, energies, rcond=None)
        out["energy"] = float(np.var((energies - counts @ solution) / counts.sum(1))) or 1.0
    values = {
        "forces": [f.forces.ravel() for f in frames if f.forces is not None],
        "stress": [f.stress.ravel() for f in frames if f.stress is not None],
        "magnetic_forces": [
            f.magnetic_forces[np.linalg.norm(f.moments, axis=1) > 0].ravel()
            for f in frames
            if f.magnetic_forces is not None
        ],
    }
    for name, chunks in values.items():
        joined = np.concatenate(chunks) if chunks else np.zeros(0)
        if joined.size and np.any(joined):
            out[name] = float(np.mean(joined**2))
    return out


def collate_caches(caches: Sequence[BackboneCache]) -> BackboneCache:
    """Join per-frame backbone caches in batch order."""
    return BackboneCache(
        features=torch.cat([c.features for c in caches]),
        energy=torch.cat([c.energy for c in caches]),
        forces=torch.cat([c.forces for c in caches]),
        stress=torch.cat([c.stress for c in caches]),
    )


@dataclass
class TrainResult:
    """What a finished run produced."""

    best: Path
    metrics: dict
    history: list[dict]


class Trainer:
    """Train a :class:`MagneticPotential` as a :class:`TrainConfig` describes.

    Parameters
    ----------
    config
        The run, with absolute paths (see :func:`~magscreen.training.config.load_train_config`).
    source
        The config file, named in error messages.
    progress
        Show tqdm progress bars with live losses.
    caches
        Backbone outputs already computed for this backbone (before any reference refit), by
        frame source; shared between runs of one study. Not modified.
    final_forces
        Include forces in the final validation errors (one backward pass through the backbone
        per frame; the data-efficiency study skips it).
    """

    def __init__(
        self,
        config: TrainConfig,
        source: str | Path = "config",
        progress: bool = True,
        caches: dict[str, BackboneCache] | None = None,
        final_forces: bool = True,
    ) -> None:
        self.config = config
        self.source = str(source)
        self.progress = progress
        self.final_forces = final_forces
        self.output = Path(config.output)
        self.dtype = getattr(torch, config.dtype)
        data = config.data
        self.train_frames = load_frames(
            data.train, data.format, split="train", source=source, weights=data.source_weights
        )
        self.validation_frames = load_frames(data.validation, data.format, split="validation", source=source)
        if data.max_train_frames is not None and data.max_train_frames < len(self.train_frames):
            chosen = np.random.default_rng(config.seed).choice(
                len(self.train_frames), data.max_train_frames, replace=False
            )
            self.train_frames = [self.train_frames[k] for k in sorted(chosen)]
        grouped = next((f for f in self.validation_frames if f.energy_group is not None), None)
        if grouped is not None:
            raise InputError(
                f"frame {grouped.source} has energy group {grouped.energy_group!r}",
                source=source,
                field="data.validation",
                expected="frames with absolute energies (energy groups are for training only)",
            )
        if data.zero_moments:
            self.train_frames = without_moments(self.train_frames)
            self.validation_frames = without_moments(self.validation_frames)
        torch.manual_seed(config.seed)
        self.model = build_model(config)
        check_elements(
            self.train_frames + self.validation_frames, self.model.species, model=self.model.backbone_name
        )
        self._trainable_backbone = [p for p in self.model.backbone_parameters() if p.requires_grad]
        self._frames_by_source = {f.source: f for f in self.train_frames + self.validation_frames}
        self.train_graphs = [f.graph(self.model.cutoff, self.dtype) for f in self.train_frames]
        self.model.record_magnetic_domain(
            self.train_graphs,
            [f.moments for f in self.train_frames],
            environments=config.model.magnetic_domain == "environment",
        )
        self.validation_graphs = [f.graph(self.model.cutoff, self.dtype) for f in self.validation_frames]
        self.variances = label_variances(self.train_frames)
        self.ema = ExponentialMovingAverage(self.model, config.ema_decay)
        self.history: list[dict] = []
        self.best_score = float("inf")
        self.position = (0, 0)  # (stage, epoch) to run next
        self.references: dict[str, float] = {}
        self._caches = {key: c for key, c in (caches or {}).items() if key in self._frames_by_source}
        self._cache_file = None
        if config.feature_cache is not None:
            self._cache_file = Path(config.feature_cache) / f"backbone-{_digest(self.model.backbone)}.pt"
            self._caches.update(self._load_feature_cache())
        self._optimizer_state: dict | None = None
        # per-frame derivatives of least-squares stages, reused across runs (cross-validation, retraining)
        self.design_cache = None if config.feature_cache is None else Path(config.feature_cache) / "design"

    # ------------------------------------------------------------------ set-up

    def _energies(self, indices: Sequence[int]) -> np.ndarray:
        """Model energies (eV) of these training frames; from cached backbone outputs where available."""
        frames = [self.train_frames[k] for k in indices]
        graphs = [self.train_graphs[k] for k in indices]
        with torch.no_grad():
            return np.array(
                [
                    float(
                        self.model(
                            g,
                            cache=self._caches.get(f.source),
                            compute_forces=False,
                            compute_magnetic_forces=False,
                        )["energy"][0]
                    )
                    for f, g in zip(frames, graphs, strict=True)
                ]
            )

    def refit_references(self) -> None:
        """Shift the backbone's per-element energies by the least-squares residual on the training set.

        Frames with an energy group are left out of that fit; each group gets the mean residual per
        atom as its offset. Cached backbone energies are shifted by the same amounts, so caches stay valid.
        """
        if self.config.stages[0].backbone == "frozen":
            self._caches_for("train")
        absolute = [k for k, f in enumerate(self.train_frames) if f.energy_group is None]
        absolute_frames = [self.train_frames[k] for k in absolute]
        shifts, rank = fit_reference_energies(absolute_frames, self._energies(absolute))
        self.references = {
            "shifts_eV_per_atom": {},
            "composition_rank": rank,
            "elements": len(shifts),
            "group_offsets_eV_per_atom": {},
        }
        self._shift_references(shifts)
        grouped = [
            k for k, f in enumerate(self.train_frames) if f.energy_group is not None and f.energy is not None
        ]
        energies = self._energies(grouped)
        residuals: dict[str, list[float]] = {}
        for k, energy in zip(grouped, energies, strict=True):
            frame = self.train_frames[k]
            residuals.setdefault(frame.energy_group, []).append((frame.energy - energy) / frame.n_atoms)
        self._offset_groups({group: float(np.mean(values)) for group, values in residuals.items()})
        self.ema = ExponentialMovingAverage(self.model, self.config.ema_decay)

    def _shift_references(self, shifts: dict[str, float]) -> None:
        """Add ``shifts`` (eV/atom) to the backbone's element energies and to the cached energies."""
        rescale = self.model.backbone.layers["rescale_atomic_energy"]
        with torch.no_grad():
            for element, shift in shifts.items():
                rescale.shift[int(self.model.backbone.species_index[atomic_numbers[element]])] += shift
        for key, cache in self._caches.items():
            offset = sum(shifts.get(chemical_symbols[z], 0.0) for z in self._frames_by_source[key].numbers)
            self._caches[key] = replace(cache, energy=cache.energy + offset)
        total = self.references["shifts_eV_per_atom"]
        for element, shift in shifts.items():
            total[element] = total.get(element, 0.0) + shift

    def _offset_groups(self, offsets: dict[str, float], record: bool = True) -> None:
        """Subtract each energy group's offset (eV/atom) from its training labels."""
        self.train_frames = [
            f
            if f.energy_group not in offsets
            else replace(f, energy=f.energy - offsets[f.energy_group] * f.n_atoms)
            for f in self.train_frames
        ]
        if record:
            total = self.references["group_offsets_eV_per_atom"]
            for group, offset in offsets.items():
                total[group] = total.get(group, 0.0) + offset

    def readout_options(self, stage: StageConfig) -> dict:
        """Keyword arguments of :func:`readout_system` and :func:`fit_readout` for a least-squares stage
        of this run (loss weights, label variances, priors, ridge, seed, design cache)."""
        return {
            "weights": {name: getattr(self.config.loss, name) for name in stage.losses},
            "variances": self.variances,
            "longitudinal_weight": self.config.loss.magnetic_forces_longitudinal,
            "energy_group_weight": self.config.loss.energy_groups,
            "ridge": stage.ridge,
            "element_ridge": {e: (r.node, r.pair) for e, r in stage.element_ridge.items()},
            "stress_prior": stage.stress_prior,
            "rattle_prior": stage.rattle_prior,
            "magnetization_prior": stage.magnetization_prior,
            "rattle_sigma": stage.rattle_sigma,
            "force_probes": stage.force_probes,
            "seed": self.config.seed,
            "progress": self.progress,
            "design_cache": self.design_cache,
        }

    def readout_system(self, stage: StageConfig) -> ReadoutSystem:
        """The stage's least-squares system over the training frames, unsolved (cross-validation
        folds subtract a compound's rows from its normal equations)."""
        graphs, caches = self.train_graphs, self._caches_for("train")
        return readout_system(self.model, self.train_frames, graphs, caches, **self.readout_options(stage))

    def solve_readout(self, stage: StageConfig) -> float:
        """Least-squares stage: solve the magnetic heads' output layers, references and group offsets;
        returns the training loss at the solution."""
        caches = self._caches_for("train")
        fit = fit_readout(
            self.model,
            self.train_frames,
            self.train_graphs,
            caches,
            posterior_samples=stage.posterior_samples,
            **self.readout_options(stage),
        )
        self.model.readout_posterior = fit.posterior
        self._shift_references(fit.reference_shifts)
        self._offset_groups(fit.group_offsets)
        self.ema = ExponentialMovingAverage(self.model, self.config.ema_decay)
        if self.progress:
            tqdm.write(
                f"{stage.name}: solved {fit.parameters} readout weights on {fit.rows} labels "
                f"({fit.seconds:.0f} s)"
            )
        return fit.loss

    # ------------------------------------------------------------------ state

    def state(self) -> dict:
        """Everything needed to continue the run exactly."""
        return {
            "format": STATE_FORMAT,
            "config": self.config.model_dump(mode="json"),
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "ema": self.ema.state_dict(),
            "optimizer": self._optimizer_state,
            "position": self.position,
            "history": self.history,
            "best_score": self.best_score,
            "references": self.references,
            "torch_rng": torch.get_rng_state(),
        }

    def _save_state(self) -> None:
        self.output.mkdir(parents=True, exist_ok=True)
        temporary = self.output / "last.pt.tmp"
        torch.save(self.state(), temporary)
        os.replace(temporary, self.output / "last.pt")

    def resume(self) -> bool:
        """Load ``last.pt`` from the run folder if it exists; return whether it did.

        The config must equal the saved run's, except that stages may have been appended (a
        finished run is then extended by the new stages).
        """
        path = self.output / "last.pt"
        if not path.is_file():
            return False
        state = torch.load(path, map_location="cpu", weights_only=False)
        if state.get("format") != STATE_FORMAT:
            raise InputError("not a training state", source=path, field="format", expected=STATE_FORMAT)
        old, new = state["config"], self.config.model_dump(mode="json")
        extends = old["stages"] == new["stages"][: len(old["stages"])]
        if {**old, "stages": None} != {**new, "stages": None} or not extends:
            raise InputError(
                "the run folder holds a run with a different config",
                source=path,
                field="config",
                expected=f"the config of that run (stages may be appended), or a new output folder "
                f"instead of {self.output}",
            )
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self._optimizer_state = state["optimizer"]
        self.position = tuple(state["position"])
        self.history = state["history"]
        self.best_score = state["best_score"]
        self.references = state["references"]
        torch.set_rng_state(state["torch_rng"])
        self._offset_groups(self.references.get("group_offsets_eV_per_atom", {}), record=False)
        shifts = self.references.get("shifts_eV_per_atom", {})
        for key, cache in self._caches.items():  # caches given or stored are from before the refit
            offset = sum(shifts.get(chemical_symbols[z], 0.0) for z in self._frames_by_source[key].numbers)
            self._caches[key] = replace(cache, energy=cache.energy + offset)
        return True

    # ------------------------------------------------------------------ evaluation

    def _caches_for(self, split: str) -> list[BackboneCache]:
        """Backbone outputs of every frame of ``split``, computed where missing."""
        frames, graphs = (
            (self.train_frames, self.train_graphs)
            if split == "train"
            else (self.validation_frames, self.validation_graphs)
        )
        missing = [k for k, f in enumerate(frames) if f.source not in self._caches]
        bar = tqdm(
            missing,
            desc=f"backbone features ({split})",
            disable=not self.progress or not missing,
            leave=False,
        )
        for k in bar:
            self._caches[frames[k].source] = self.model.backbone_cache(graphs[k])
        if missing:
            self._store_feature_cache()
        return [self._caches[f.source] for f in frames]

    def raw_caches(self) -> dict[str, BackboneCache]:
        """Cached backbone outputs by frame source, with the reference refit taken out.

        Valid for a freshly built model of the same config (before its own refit); pass them as
        ``caches`` to the next :class:`Trainer` of a study.
        """
        shifts = self.references.get("shifts_eV_per_atom", {})
        out = {}
        for key, cache in self._caches.items():
            offset = sum(shifts.get(chemical_symbols[z], 0.0) for z in self._frames_by_source[key].numbers)
            out[key] = replace(cache, energy=cache.energy - offset)
        return out

    def _load_feature_cache(self) -> dict[str, BackboneCache]:
        """Stored backbone outputs of this run's frames (matched by source and geometry)."""
        if self._cache_file is None or not self._cache_file.is_file():
            return {}
        stored = torch.load(self._cache_file, map_location="cpu", weights_only=True)
        out = {}
        for frame in self.train_frames + self.validation_frames:
            entry = stored.get(frame.source)
            if entry is not None and entry["geometry"] == _geometry(frame):
                out[frame.source] = BackboneCache(**{k: v for k, v in entry.items() if k != "geometry"})
        return out

    def _store_feature_cache(self) -> None:
        """Add this run's backbone outputs (reference refit taken out) to the feature cache file."""
        if self._cache_file is None:
            return
        stored = {}
        if self._cache_file.is_file():
            stored = torch.load(self._cache_file, map_location="cpu", weights_only=True)
        for key, cache in self.raw_caches().items():
            stored[key] = {
                **{n: getattr(cache, n) for n in cache.__dataclass_fields__},
                "geometry": _geometry(self._frames_by_source[key]),
            }
        self._cache_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._cache_file.with_suffix(".tmp")
        torch.save(stored, temporary)
        os.replace(temporary, self._cache_file)

    def _predict(self, indices: Sequence[int], split: str, stage: StageConfig | None, training: bool) -> dict:
        graphs = self.train_graphs if split == "train" else self.validation_graphs
        graph = collate([graphs[k] for k in indices])
        losses = set(stage.losses) if stage is not None else set(SCORE_TERMS)
        frozen = stage is None or stage.backbone == "frozen"
        if frozen:
            caches = self._caches_for(split)
            return self.model(
                graph,
                cache=collate_caches([caches[k] for k in indices]),
                compute_forces=False,
                create_graph=training,
            )
        return self.model(
            graph,
            compute_forces="forces" in losses,
            compute_stress="stress" in losses,
            create_graph=training,
        )

    def validation_score(self) -> tuple[float, dict[str, float]]:
        """Score of the current weights on the validation set, and MSE per term (label units^2)."""
        frames = self.validation_frames
        totals = {name: [0.0, 0] for name in SCORE_TERMS}
        for start in range(0, len(frames), 8):
            indices = list(range(start, min(start + 8, len(frames))))
            prediction = self._predict(indices, "validation", None, training=False)
            labels = collate_labels([frames[k] for k in indices], self.dtype, self.config.loss.energy_groups)
            terms = squared_errors(
                prediction, labels, SCORE_TERMS, self.config.loss.magnetic_forces_longitudinal
            )
            for name, (total, count) in terms.items():
                totals[name][0] += float(total.detach())
                totals[name][1] += count
        weights = {name: getattr(self.config.loss, name) for name in SCORE_TERMS}
        mse = {name: total / count for name, (total, count) in totals.items() if count}
        score = sum(weights[name] * value / self.variances[name] for name, value in mse.items())
        return score, mse

    # ------------------------------------------------------------------ training

    def _optimizer(self, stage: StageConfig, epoch: int) -> torch.optim.Optimizer:
        frozen = stage.backbone == "frozen"
        for p in self._trainable_backbone:
            p.requires_grad_(not frozen)
        lr = stage.lr * stage.lr_decay**epoch
        groups = [{"params": self.model.magnetic_parameters(), "lr": lr}]
        if not frozen:
            groups.append({"params": self._trainable_backbone, "lr": lr * stage.backbone_lr_factor})
        optimizer = torch.optim.Adam(groups)
        if self._optimizer_state is not None:
            optimizer.load_state_dict(self._optimizer_state)
            for group, base in zip(optimizer.param_groups, groups, strict=True):
                group["lr"] = base["lr"]
        return optimizer

    def _epoch(self, stage_index: int, epoch: int, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        stage = self.config.stages[stage_index]
        weights = {name: getattr(self.config.loss, name) for name in stage.losses}
        longitudinal = self.config.loss.magnetic_forces_longitudinal
        rng = np.random.default_rng([self.config.seed, stage_index, epoch])
        n_frames = len(self.train_frames)
        size = self.config.data.epoch_size or n_frames
        order = np.concatenate([rng.permutation(n_frames) for _ in range(-(-size // n_frames))])[:size]
        batches = [order[k : k + stage.batch_size] for k in range(0, len(order), stage.batch_size)]
        sums = {name: [0.0, 0] for name in stage.losses}
        loss_sum = 0.0
        bar = tqdm(
            batches,
            desc=f"{stage.name} epoch {epoch + 1}/{stage.epochs}",
            disable=not self.progress,
            leave=False,
        )
        for batch in bar:
            frames = [self.train_frames[k] for k in batch]
            labels: LabelBatch = collate_labels(frames, self.dtype, self.config.loss.energy_groups)
            prediction = self._predict(list(batch), "train", stage, training=True)
            loss, mse = masked_loss(prediction, labels, weights, self.variances, longitudinal)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"non-finite training loss in stage {stage.name!r}, epoch {epoch + 1}, on frames "
                    + ", ".join(f.source for f in frames)
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            self.ema.update(self.model)
            loss_sum += float(loss.detach()) * len(batch)
            for name, value in mse.items():
                if not np.isnan(value):
                    sums[name][0] += value * len(batch)
                    sums[name][1] += len(batch)
            bar.set_postfix(
                loss=f"{float(loss.detach()):.3g}",
                **{_short(n): f"{1e3 * np.sqrt(v):.3g}" for n, v in mse.items() if not np.isnan(v)},
            )
        record = {"train_loss": loss_sum / len(order)}
        record.update({f"train_rmse_{n}": 1e3 * np.sqrt(t / c) for n, (t, c) in sums.items() if c})
        return record

    def run(self, resume: bool = True) -> TrainResult:
        """Train through every stage (continuing from ``last.pt`` when ``resume``), then evaluate best."""
        if not (resume and self.resume()):
            self.refit_references()
        start_stage, start_epoch = self.position
        for stage_index in range(start_stage, len(self.config.stages)):
            stage = self.config.stages[stage_index]
            first = start_epoch if stage_index == start_stage else 0
            for epoch in range(first, stage.epochs):
                tic = time.perf_counter()
                if stage.optimizer == "least_squares":
                    record = {"train_loss": self.solve_readout(stage)}
                else:
                    optimizer = self._optimizer(stage, epoch)
                    record = self._epoch(stage_index, epoch, optimizer)
                    self._optimizer_state = optimizer.state_dict()
                if stage.backbone == "trainable":
                    self._caches.clear()  # backbone features changed
                self.ema.swap(self.model)
                score, mse = self.validation_score()
                if score < self.best_score:
                    self.best_score = score
                    self.model.save(self.output / "best.pt")
                self.ema.swap(self.model)
                if stage.backbone == "trainable":
                    self._caches.clear()
                record.update(
                    stage=stage.name,
                    epoch=len(self.history) + 1,
                    validation_score=score,
                    **{f"validation_rmse_{n}": 1e3 * np.sqrt(v) for n, v in mse.items()},
                    seconds=time.perf_counter() - tic,
                )
                self.history.append(record)
                self.position = (stage_index, epoch + 1) if epoch + 1 < stage.epochs else (stage_index + 1, 0)
                if self.position[1] == 0:
                    self._optimizer_state = None  # a new stage starts a new optimiser
                self._save_state()
                self._write_history(plot=self.position[1] % 10 == 0)
                if self.progress:
                    tqdm.write(_summary(record))
        return self.finish()

    def _write_history(self, plot: bool) -> None:
        """History to ``history.json``; the learning curve every 10 epochs and at the end of a stage."""
        (self.output / "history.json").write_text(json.dumps(self.history, indent=1))
        if plot:
            plot_learning_curve(self.history, self.output / "learning_curve.png")

    def finish(self) -> TrainResult:
        """Validation errors (E, F, H; meV units) of ``best.pt``, written to ``metrics.json``."""
        best = self.output / "best.pt"
        model = MagneticPotential.load(best).to(self.dtype)
        self.model = model
        frames = self.validation_frames
        predictions = predict_frames(model, frames, forces=self.final_forces, progress=self.progress)
        metrics = {
            "validation": errors(predictions, frames),
            "n_train": len(self.train_frames),
            "n_validation": len(frames),
            "seed": self.config.seed,
            "model_version": model.model_version,
            "magnetic_domain": list(model.magnetic_domain),
            "reference_energies": self.references,
        }
        (self.output / "metrics.json").write_text(json.dumps(metrics, indent=1))
        return TrainResult(best=best, metrics=metrics, history=self.history)


def _digest(module: torch.nn.Module) -> str:
    """Hash of a module's weights and dtype (names the feature-cache file of a backbone)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _geometry(frame: Frame) -> str:
    """Hash of what the backbone sees of a frame: species, positions, cell, periodicity."""
    digest = hashlib.sha256()
    for array in (frame.numbers.astype(np.int64), frame.positions, frame.cell, frame.pbc.astype(bool)):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _short(name: str) -> str:
    return {"energy": "E", "forces": "F", "magnetic_forces": "H", "stress": "S"}[name]


def _summary(record: dict) -> str:
    parts = [f"{record['stage']} epoch {record['epoch']}: loss {record['train_loss']:.4g}"]
    for key, value in record.items():
        if key.startswith("validation_rmse_"):
            parts.append(f"val RMSE {_short(key.removeprefix('validation_rmse_'))} {value:.4g}")
    return ", ".join(parts) + f" ({record['seconds']:.0f} s)"
