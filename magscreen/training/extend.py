"""Domain extension: a few DFT frames of new compounds teach a trained model what it did not know.

The base model's readout (the last layer of every magnetic head, :mod:`magscreen.training.readout`)
is updated by one linear least-squares step with a Gaussian prior centred on the base weights:

    minimise  sum_frames ((E_model + N c_group - E_DFT) / (N sigma_E))^2  +  priors
              + (w - w_base)^T C^-1 (w - w_base)

with one energy offset c per energy group (DFT energies enter as differences within a group). The
prior covariance C is the base model's readout posterior where its checkpoint carries one
(:class:`~magscreen.potential.uncertainty.ReadoutPosterior`, so weights the base data pinned barely
move), and otherwise a ridge on columns scaled to unit norm, as in training, with stronger damping
of the node heads than of the pair heads of the frames' magnetic elements (a few ordering energies
are then read as pair exchange first). The design rows are :func:`~magscreen.training.readout.
readout_system`'s; the solve is done in the space of the rows (n x n with n the number of labelled
values), so ten frames cost seconds even with 10^4 readout weights.

A magnetic element the base has no head for gets its own head, initialised at zero (the base's
predictions elsewhere do not change); the magnetic domain grows by the frames' environments; the
model's ``lineage`` records the base ``model_version`` and the SHA-256 of every frame, and the new
``model_version`` is ``<base>+ext-<frames hash>-<weights hash>``. The extended model carries no
readout posterior of its own (its energies have no uncertainty until it is retrained).
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from ase.data import chemical_symbols

from magscreen.errors import InputError
from magscreen.potential.magnetic import MagneticHyperparameters
from magscreen.potential.model import MagneticPotential
from magscreen.training.data import Frame, check_elements, read_extxyz
from magscreen.training.extension_settings import ExtensionSettings
from magscreen.training.readout import get_readout, readout_system, set_readout

__all__ = [
    "Extension",
    "extend_model",
    "frame_environments",
    "frame_sha256",
    "moved_knowledge",
    "prepare_frames",
    "read_extension_frames",
    "with_element_heads",
]


@dataclass(frozen=True)
class Extension:
    """An extended model and what went into it.

    Attributes
    ----------
    model
        The extended model (a new object; the base is not modified).
    base_version
        ``model_version`` of the base model.
    frames_sha256
        SHA-256 over the hashes of the frames (sorted), the ``+ext-`` part of the new version.
    new_heads
        Elements that got a new element head.
    group_offsets
        Energy group -> fitted offset (eV/atom) between the group's DFT energies and the model.
    residuals_meV_per_atom
        Frame source -> extended model minus DFT energy (offset applied), meV/atom.
    prior
        'posterior' (the base checkpoint's readout posterior) or 'ridge'.
    parameters
        Readout weights.
    rows
        Labelled values and prior rows of the solve.
    seconds
        Wall time (s).
    """

    model: MagneticPotential
    base_version: str
    frames_sha256: str
    new_heads: tuple[str, ...]
    group_offsets: dict[str, float]
    residuals_meV_per_atom: dict[str, float]
    prior: str
    parameters: int
    rows: int
    seconds: float


def _where(frame: Frame) -> tuple[str, str]:
    """(file, 'frame k') of a frame's ``source`` (``<file>#<k>``)."""
    path, _, index = frame.source.rpartition("#")
    return (path, f"frame {index}") if path else (frame.source, "frame")


def read_extension_frames(paths: Iterable[str | Path]) -> list[Frame]:
    """DFT frames of new compounds from extended XYZ files, each frame with an energy group.

    Frames without an ``energy_group`` info key get their file's name as group (the frames of one
    file are one compound computed with one set of settings). A frame without per-atom ``magmoms``,
    without an energy, or with NaN raises :class:`InputError` naming the file, frame and field.
    """
    frames = []
    for path in paths:
        for frame in read_extxyz(path):
            if frame.energy is None:
                file, which = _where(frame)
                raise InputError(
                    f"{which} has no energy", source=file, field="energy", expected="a DFT total energy (eV)"
                )
            frames.append(frame if frame.energy_group else replace(frame, energy_group=Path(path).name))
    return frames


def prepare_frames(frames: Sequence[Frame], settings: ExtensionSettings) -> list[Frame]:
    """Frames as the model sees them: short moments zeroed, one moment length per element.

    Raises
    ------
    InputError
        A frame without an energy or without any moment of at least ``moment_threshold_muB``.
    """
    lengths: dict[str, list[float]] = {}
    kept = []
    for frame in frames:
        file, which = _where(frame)
        if frame.energy is None:
            raise InputError(
                f"{which} has no energy", source=file, field="energy", expected="a DFT energy (eV)"
            )
        norms = np.linalg.norm(frame.moments, axis=1)
        carrying = norms >= settings.moment_threshold_muB
        if settings.moment_threshold_muB > 0 and not carrying.any():
            raise InputError(
                f"{which}: no atom carries a moment (largest {norms.max():.3g} mu_B)",
                source=file,
                field="magmoms",
                expected=f"at least one moment of {settings.moment_threshold_muB} mu_B or more",
            )
        for z, norm in zip(frame.numbers[carrying], norms[carrying], strict=True):
            lengths.setdefault(chemical_symbols[z], []).append(float(norm))
        kept.append((frame, carrying, norms))
    mean = {element: float(np.mean(values)) for element, values in lengths.items()}
    mean.update(settings.moment_lengths)
    out = []
    for frame, carrying, norms in kept:
        moments = np.zeros_like(frame.moments)
        scale = np.array([mean.get(chemical_symbols[z], 0.0) for z in frame.numbers])
        moments[carrying] = (frame.moments[carrying] / norms[carrying, None]) * scale[carrying, None]
        out.append(replace(frame, moments=moments))
    return out


def frame_sha256(frame: Frame) -> str:
    """SHA-256 of what a frame teaches: species, geometry, moments, energy and energy group."""
    digest = hashlib.sha256()
    for array in (frame.numbers.astype(np.int64), frame.positions, frame.cell, frame.moments):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    digest.update(repr((frame.energy, frame.energy_group)).encode())
    return digest.hexdigest()


def with_element_heads(model: MagneticPotential, elements: Iterable[str]) -> MagneticPotential:
    """A copy of ``model`` with an element head, initialised at zero, for each new element.

    New heads take the last node slots and the last pair slots, so every existing weight keeps its
    place and the copy predicts exactly what ``model`` predicts until its new heads are fitted.
    A model with one shared head (no ``element_heads``) is copied unchanged.
    """
    heads = model.hyper.element_heads
    new = tuple(e for e in dict.fromkeys(elements) if e not in heads)
    if not heads or not new:
        return copy.deepcopy(model)
    grown = MagneticPotential(
        soc=model.soc,
        magnetic=MagneticHyperparameters(**{**model.hyper.as_dict(), "element_heads": [*heads, *new]}),
        backbone_config=model.backbone.config,
        backbone_name=model.backbone_name,
    ).to(model.dtype)
    state = model.learned_state()
    for key, target in grown.state_dict().items():
        if state[key].shape != target.shape:  # head outputs grow along their first axis, at the end
            padded = torch.zeros_like(target)
            padded[: state[key].shape[0]] = state[key]
            state[key] = padded
    grown.load_state_dict(state)
    for name in (
        "magnetic_domain",
        "magnetic_environments",
        "magnetic_coordination",
        "soc_domain",
        "soc_environments",
        "soc_moments",
        "lineage",
    ):
        setattr(grown, name, copy.deepcopy(getattr(model, name)))
    return grown


def spin_orbit_columns(model: MagneticPotential) -> np.ndarray:
    """Mask of the readout weights of the spin-orbit block (order of ``get_readout``): collinear
    ordering energies say nothing about anisotropy, so an extension never moves them."""
    mask = []
    soc_layer = model.magnetic.soc_coefficients[-1] if model.soc else None
    for layer in model.magnetic.output_layers():
        size = layer.weight.numel() + layer.bias.numel()
        mask.append(np.full(size, layer is soc_layer))
    return np.concatenate(mask)


def moved_knowledge(base: MagneticPotential, environments: dict[str, list[list[str]]]) -> list[str]:
    """Why extending ``base`` to these element environments would move what it knows; [] if it would not.

    An element head trained in some environments (``base.magnetic_environments``) maps the backbone
    features of a new environment to whatever its weights give there, often eV-scale ordering
    energies (MnO's Mn head on MnSe: 1-2 eV/atom). Fitting such a head to a few frames of the new
    environment needs large weight changes along directions its old data also sees: without a
    readout posterior to hold those directions, the old predictions would be lost (MnO's ladder
    went from tens of meV to tens of eV per Mn in that test). Heads without training data (a new
    element, or a head no frame ever used) are free.
    """
    if base.readout_posterior is not None:
        return []
    reasons = []
    for element, found in environments.items():
        known = base.magnetic_environments.get(element)
        if element in base.magnetic_domain and known is None:
            known = [["any"]]
        new = [env for env in found if known and env not in known]
        if new:
            where = " or ".join("{" + ", ".join(env) + "}" for env in new)
            trained = " or ".join("{" + ", ".join(env) + "}" for env in known)
            reasons.append(
                f"{element} among {where}: the base model's {element} head was trained among {trained}"
            )
    return reasons


def frame_environments(
    model: MagneticPotential, frames: Sequence[Frame], graphs: list
) -> dict[str, list[list[str]]]:
    """Element -> environments (elements within the cutoff) of the frames' moment-carrying atoms."""
    probe = copy.copy(model)  # record_magnetic_domain sets two attributes; keep the model's own
    probe.record_magnetic_domain(graphs, [f.moments for f in frames])
    return probe.magnetic_environments


def _grow_domain(model: MagneticPotential, frames: Sequence[Frame], graphs: list) -> None:
    """Add the frames' moment-carrying elements in their environments to the model's magnetic domain."""
    domain, environments = set(model.magnetic_domain), copy.deepcopy(model.magnetic_environments)
    for element, found in frame_environments(model, frames, graphs).items():
        if element in domain and element not in environments:
            continue  # known everywhere already
        known = environments.setdefault(element, [])
        known += [env for env in found if env not in known]
    model.magnetic_domain = tuple(sorted(domain | set(environments)))
    model.magnetic_environments = {element: sorted(envs) for element, envs in environments.items()}
    if model.magnetic_coordination:  # and the coordination of the new frames' moment-carrying atoms
        probe = copy.copy(model)
        probe.record_magnetic_coordination(graphs, [f.moments for f in frames])
        for element, by_env in probe.magnetic_coordination.items():
            known = model.magnetic_coordination.setdefault(element, {})
            for env, counts in by_env.items():
                known[env] = sorted(set(known.get(env, [])) | set(counts))


def _prior_factor(model: MagneticPotential, n_base: int) -> np.ndarray | None:
    """L (P, S) with L L^T the base readout posterior's covariance (weights), or None without one."""
    posterior = model.readout_posterior
    if posterior is None:
        return None
    deviations = np.asarray(posterior.deviations, dtype=float)[:, :n_base]
    factor = np.zeros((len(get_readout(model)), deviations.shape[0]))
    factor[:n_base] = deviations.T * posterior.calibration / np.sqrt(posterior.samples)
    return factor


def _solve(
    design: np.ndarray,
    offsets: np.ndarray,
    residual: np.ndarray,
    variance: np.ndarray,
    factor: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise |A d + B c - r|^2 + d^T C^-1 d over d and (unpenalised) c, C = diag(v) + L L^T.

    Row-space form: with K = A C A^T + I, c = (B^T K^-1 B)^+ B^T K^-1 r and d = C A^T K^-1 (r - B c).
    """
    kernel = (design * variance) @ design.T + np.eye(len(design))
    projected = None
    if factor is not None:
        projected = design @ factor
        kernel += projected @ projected.T
    cholesky = np.linalg.cholesky(kernel)

    def k_solve(b: np.ndarray) -> np.ndarray:
        return np.linalg.solve(cholesky.T, np.linalg.solve(cholesky, b))

    k_offsets = k_solve(offsets)
    c = np.linalg.lstsq(offsets.T @ k_offsets, k_offsets.T @ residual, rcond=None)[0]
    alpha = k_solve(residual - offsets @ c)
    change = variance * (design.T @ alpha)
    if factor is not None:
        change += factor @ (projected.T @ alpha)
    return change, c


def extend_model(
    base: MagneticPotential,
    frames: Sequence[Frame],
    settings: ExtensionSettings | None = None,
    *,
    progress: bool = False,
    provenance: dict | None = None,
) -> Extension:
    """Extend ``base`` with DFT ``frames`` of new compounds (every frame with an energy group).

    Parameters
    ----------
    base
        Trained model; not modified.
    frames
        Frames with energies, moments and an energy group each (:func:`read_extension_frames`,
        :func:`~magscreen.training.data.frames_from_validation_docs`); moments are prepared with
        :func:`prepare_frames` here.
    settings
        Noise levels, damping and priors.
    progress
        Progress bar over the frames' design rows.
    provenance
        Extra keys of the lineage record (e.g. the validation ids the frames came from).

    Raises
    ------
    InputError
        No frames, a frame without energy, energy group or moments, an element the backbone does not
        know, or no energy group with two frames (nothing to compare).
    """
    tic = time.perf_counter()
    settings = settings or ExtensionSettings()
    if not frames:
        raise InputError("no frames", field="frames", expected="at least two DFT frames of one compound")
    for frame in frames:
        if frame.energy_group is None:
            file, which = _where(frame)
            raise InputError(
                f"{which} has no energy group",
                source=file,
                field="energy_group",
                expected="an energy group (read_extension_frames sets the file's name)",
            )
    frames = prepare_frames(frames, settings)
    check_elements(frames, base.species, model=f"model {base.model_version}")
    sizes: dict[str, int] = {}
    for frame in frames:
        sizes[frame.energy_group] = sizes.get(frame.energy_group, 0) + 1
    if max(sizes.values()) < 2:
        raise InputError(
            "every energy group holds a single frame, so no energy difference is known",
            source=frames[0].source.rpartition("#")[0] or None,
            field="energy_group",
            expected="two or more frames (orderings) of one compound in one group",
        )
    magnetic = sorted({e for f in frames for e in f.magnetic_elements})
    model = with_element_heads(base, magnetic)
    new_heads = tuple(e for e in model.hyper.element_heads if e not in base.hyper.element_heads)
    dtype = model.dtype
    graphs = [f.graph(model.cutoff, dtype) for f in frames]
    moved = moved_knowledge(base, frame_environments(model, frames, graphs))
    if moved:
        raise InputError(
            "; ".join(moved) + " (extending it would move what the model knows there, and the model "
            "carries no readout posterior to hold it)",
            source=frames[0].source.rpartition("#")[0] or None,
            field="frames",
            expected="a base model with a readout posterior, or compounds whose magnetic elements the "
            "base model has no trained head for",
        )
    _grow_domain(model, frames, graphs)
    caches = [model.backbone_cache(g) for g in graphs]
    n_atoms = float(np.mean([f.n_atoms for f in frames]))
    sigma_e = settings.energy_sigma_meV_per_atom * 1e-3
    weights = {"energy": float(len(frames))}
    if settings.forces and any(f.forces is not None for f in frames):
        weights["forces"] = 1.0
    system = readout_system(
        model,
        frames,
        graphs,
        caches,
        weights=weights,
        variances={
            "energy": sigma_e**2,
            "forces": settings.force_sigma_eV_per_A**2 / (len(frames) * 3 * n_atoms),
        },
        ridge=settings.ridge,
        element_ridge={
            e: (settings.node_ridge, settings.pair_ridge) for e in magnetic if e in model.hyper.element_heads
        },
        stress_prior=settings.stress_prior,
        rattle_prior=settings.rattle_prior,
        rattle_sigma=settings.rattle_sigma,
        force_probes=settings.force_probes,
        seed=settings.seed,
        progress=progress,
    )
    n_readout = system.n_readout
    design, offsets = system.design[:, :n_readout], system.design[:, n_readout:]
    base_weights = get_readout(model)
    residual = system.target - design @ base_weights
    # the ridge acts on columns scaled to unit norm: prior variance 1 / (damping |column|^2)
    norms2 = (design**2).sum(0)
    variance = np.where(norms2 > 0, 1.0 / np.maximum(system.damping * norms2, 1e-300), 0.0)
    n_base = len(get_readout(base))
    factor = _prior_factor(base, n_base)
    if factor is not None:
        variance[:n_base] = 0.0  # the base weights move within the posterior; new heads by the ridge
        factor[spin_orbit_columns(model)] = 0.0
    variance[spin_orbit_columns(model)] = 0.0
    change, group_offsets = _solve(design, offsets, residual, variance, factor)
    set_readout(model, base_weights + change)
    model.readout_posterior = None  # the base's posterior does not describe the extended weights
    frame_hashes = [frame_sha256(f) for f in frames]
    model.lineage.append(
        {
            "base_model_version": base.model_version,
            "frames_sha256": hashlib.sha256("".join(sorted(frame_hashes)).encode()).hexdigest(),
            "frames": [{"source": f.source, "sha256": h} for f, h in zip(frames, frame_hashes, strict=True)],
            "new_heads": list(new_heads),
            "prior": "posterior" if factor is not None else "ridge",
            "settings": settings.model_dump(mode="json"),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **(provenance or {}),
        }
    )
    offsets_by_group = dict(zip(system.groups, map(float, group_offsets), strict=True))
    residuals = {}
    with torch.no_grad():
        for frame, graph in zip(frames, graphs, strict=True):
            energy = float(model(graph, compute_forces=False, compute_magnetic_forces=False)["energy"][0])
            residuals[frame.source] = 1e3 * (
                (energy - frame.energy) / frame.n_atoms + offsets_by_group[frame.energy_group]
            )
    return Extension(
        model=model,
        base_version=base.model_version,
        frames_sha256=model.lineage[-1]["frames_sha256"],
        new_heads=new_heads,
        group_offsets=offsets_by_group,
        residuals_meV_per_atom=residuals,
        prior=model.lineage[-1]["prior"],
        parameters=n_readout,
        rows=len(system.target),
        seconds=time.perf_counter() - tic,
    )
