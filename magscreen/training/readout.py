"""Least-squares fit of the magnetic heads' output layers (the readout) on a frozen backbone.

With the backbone frozen, the magnetic energy is linear in the weights and biases of the last layer
of every magnetic head (:meth:`MagneticEnergy.output_layers`), and so are the magnetic forces
-dE/dm. The loss the optimiser minimises is then a quadratic in those weights, and its minimum is
one linear least-squares solve. Gradient descent finds it poorly: constrained-moment NiO needs
exchange couplings of ~0.1 eV per pair whose length dependence nearly cancels an on-site term of
~0.3 eV/mu_B, a narrow valley that Adam crawls along (magnetic-force MAE stuck near 7 meV/mu_B,
where the solve reaches 0.5 meV/mu_B on held-out frames).

The solve minimises the same loss as the optimiser: energy per atom, forces (through random
projections, each a double backward pass through the backbone) and magnetic forces on atoms that
carry a moment, each divided by its label variance and by its number of entries, the field
along the moment weighted by ``magnetic_forces_longitudinal``. Per-element reference energies
(frames without an energy group) and one energy offset per atom per energy group (frames whose
energies only compare within their group, e.g. from another DFT code) are fitted jointly.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
from ase.data import chemical_symbols
from tqdm.auto import tqdm

from magscreen.potential.graph import MagneticGraph
from magscreen.potential.model import BackboneCache, MagneticPotential
from magscreen.potential.uncertainty import ReadoutPosterior, readout_parameters
from magscreen.training.data import Frame

__all__ = [
    "NormalEquations",
    "ReadoutFit",
    "ReadoutSolution",
    "ReadoutSystem",
    "fit_readout",
    "get_readout",
    "readout_parameters",
    "readout_system",
    "ridge_per_weight",
    "set_readout",
    "solve_system",
]


@dataclass(frozen=True)
class ReadoutFit:
    """Outcome of one least-squares solve.

    Attributes
    ----------
    reference_shifts
        Element -> change of its reference energy (eV/atom), from frames without an energy group.
    group_offsets
        Energy group -> energy offset (eV/atom) to add to the model to match the group's labels.
    parameters
        Number of readout weights solved for.
    rows
        Number of labelled values in the solve.
    seconds
        Wall time of the design matrix and the solve.
    loss
        The weighted loss at the solution (the training loss the solve minimises, priors included,
        the ridge not).
    """

    reference_shifts: dict[str, float]
    group_offsets: dict[str, float]
    parameters: int
    rows: int
    seconds: float
    loss: float
    posterior: ReadoutPosterior | None = None


@dataclass(frozen=True)
class ReadoutSolution:
    """Solution of a :class:`ReadoutSystem` on some of its frames.

    Attributes
    ----------
    weights
        Shape (P,): readout weights.
    reference_shifts, group_offsets
        As in :class:`ReadoutFit` (eV/atom).
    posterior
        Draws of the weights' posterior, when asked for.
    rows
        Labelled values used.
    loss
        Sum of the squared weighted residuals of those rows (the damping not included).
    """

    weights: np.ndarray
    reference_shifts: dict[str, float]
    group_offsets: dict[str, float]
    posterior: ReadoutPosterior | None
    rows: int
    loss: float


@dataclass(frozen=True)
class ReadoutSystem:
    """The least-squares system of the readout (see :func:`readout_system`), before damping and solve.

    Attributes
    ----------
    design
        Weighted derivatives of every labelled value, shape (rows, readout weights + offsets): every
        row divided by its label scale; the P readout weights first, then the offsets.
    target
        Weighted labels less the backbone's part, shape (rows,).
    elements
        Elements whose reference energies (eV/atom) are the first offset columns.
    groups
        Energy groups whose offsets (eV/atom) are the last columns.
    frame_of_row
        Shape (rows,): index of the frame each row comes from.
    energy_features
        Shape (frames, P): dE_magnetic/dw of every frame, unweighted (eV per weight unit).
    damping
        Shape (P,): Tikhonov damping of every readout weight (:func:`ridge_per_weight`).
    """

    design: np.ndarray
    target: np.ndarray
    elements: list[str]
    groups: list[str]
    frame_of_row: np.ndarray
    energy_features: np.ndarray
    damping: np.ndarray

    @property
    def n_readout(self) -> int:
        """Number of readout-weight columns."""
        return self.design.shape[1] - len(self.elements) - len(self.groups)


def ridge_per_weight(
    model: MagneticPotential, ridge: float, element_ridge: dict[str, tuple[float, float]]
) -> np.ndarray:
    """Tikhonov damping of every readout weight, in the order of :func:`readout_parameters`.

    ``ridge`` everywhere except the heads of the elements in ``element_ridge`` (element -> node and
    pair damping), which must be among the model's ``element_heads``; a pair head takes the larger
    damping of its two elements.
    """
    magnetic = model.magnetic
    heads = magnetic.hyper.element_heads
    missing = sorted(set(element_ridge) - set(heads))
    if missing:
        raise ValueError(f"element_ridge names {missing}, which have no element head (model: {list(heads)})")
    node = [ridge] + [element_ridge.get(e, (ridge, ridge))[0] for e in heads]
    pair = [ridge] + [element_ridge.get(e, (ridge, ridge))[1] for e in heads]
    values = []
    for layer in magnetic.output_layers():
        if layer is magnetic.exchange[-1]:
            per_output = np.repeat(node, 2)  # outputs (slot, e0 | e1)
        elif magnetic.hyper.bilinear_exchange and layer is magnetic.pair_radial[-1]:
            # pair slot a (a + 1) / 2 + b for node slots a >= b, 2 k outputs each
            slots = [max(pair[a], pair[b]) for a in range(len(pair)) for b in range(a + 1)]
            per_output = np.repeat(slots, layer.out_features // len(slots))
        else:
            per_output = np.full(layer.out_features, ridge)
        values += [np.repeat(per_output, layer.in_features), per_output]  # weight (out, in), bias
    return np.concatenate(values)


def _jacobian(rows: torch.Tensor, params: list[torch.nn.Parameter], batched: bool) -> np.ndarray:
    """d rows / d params, shape (len(rows), P); ``batched`` vectorises over rows (cheap graphs only)."""
    if batched:
        eye = torch.eye(len(rows), dtype=rows.dtype)
        grads = [
            torch.autograd.grad(rows, params, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
        ]
        shape = len(rows)
    else:  # one backward pass per row: vmap falls back to slow loops inside the backbone
        grads = [torch.autograd.grad(row, params, retain_graph=True, allow_unused=True) for row in rows]
        shape = 1
    blocks = [
        torch.cat(
            [
                torch.zeros(shape, p.numel(), dtype=rows.dtype) if g is None else g.reshape(shape, -1)
                for g, p in zip(row_grads, params, strict=True)
            ],
            dim=1,
        )
        for row_grads in grads
    ]
    return torch.cat(blocks).detach().double().numpy()


def _derivative_digest(model: MagneticPotential) -> str:
    """Hash of every weight the readout's derivatives depend on: all but the readout itself (the
    energy is linear in it) and the backbone's per-element reference energies (a constant)."""
    readout = {id(p) for p in readout_parameters(model)}
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict(keep_vars=True).items()):
        if id(tensor) in readout or "rescale_atomic_energy" in name:
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _frame_key(
    model_digest: str, frame: Frame, settings: tuple, rattle_sigma: float, force_probes: int, seed: int
) -> str:
    """Key of one frame's derivatives in a design cache."""
    digest = hashlib.sha256(model_digest.encode())
    for array in (
        frame.numbers.astype(np.int64),
        frame.positions,
        frame.cell,
        frame.pbc.astype(bool),
        frame.moments,
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(repr((settings, rattle_sigma, force_probes, seed)).encode())
    return digest.hexdigest()


def _design(
    model: MagneticPotential,
    frame: Frame,
    graph: MagneticGraph,
    cache: BackboneCache,
    want_h: bool,
    force_probes: np.ndarray | None,
    stress_probe: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Jacobians of the magnetic energy (P,), of H on moment-carrying atoms (3M, P) and of the
    probed forces ``z_k . F`` (K, P) with respect to the readout weights.

    With ``stress_probe`` (3, 3) the last row is that projection of the magnetic stress times the
    volume per atom (eV per atom per unit strain). Energy and H come from the cached backbone
    features. Forces and stress need the backbone's position
    derivatives (its features move with the atoms), so a frame with ``force_probes`` (K, N, 3) is
    evaluated again without the cache: K double backward passes through the backbone instead of 3N.
    """
    params = readout_parameters(model)
    output = model(
        graph, cache=cache, compute_forces=False, compute_magnetic_forces=want_h, create_graph=want_h
    )
    rows = [output["magnetic_energy"].reshape(1)]
    if want_h:
        carrying = torch.as_tensor(np.linalg.norm(frame.moments, axis=1) > 0)
        rows.append(output["magnetic_forces"][carrying].reshape(-1))
    jacobian = _jacobian(torch.cat(rows), params, batched=True)
    d_forces = None
    if force_probes is not None or stress_probe is not None:
        output = model(
            graph,
            compute_forces=force_probes is not None,
            compute_stress=stress_probe is not None,
            compute_magnetic_forces=False,
            create_graph=True,
        )
        rows = []
        if force_probes is not None:
            rows.append(
                (torch.as_tensor(force_probes, dtype=output["forces"].dtype) * output["forces"]).sum((-2, -1))
            )
        if stress_probe is not None:
            volume = float(graph.volume()[0])
            stress = output["stress"][0]  # its readout derivative is the magnetic blocks' alone
            rows.append(
                (torch.as_tensor(stress_probe, dtype=stress.dtype) * stress).sum().reshape(1)
                * volume
                / frame.n_atoms
            )
        d_forces = _jacobian(torch.cat(rows), params, batched=False)
    return jacobian[0], (jacobian[1:] if want_h else None), d_forces


def readout_system(
    model: MagneticPotential,
    frames: Sequence[Frame],
    graphs: Sequence[MagneticGraph],
    caches: Sequence[BackboneCache],
    *,
    weights: dict[str, float],
    variances: dict[str, float],
    longitudinal_weight: float = 1.0,
    energy_group_weight: float = 1.0,
    ridge: float = 1e-8,
    element_ridge: dict[str, tuple[float, float]] | None = None,
    stress_prior: float = 0.0,
    rattle_prior: float = 0.0,
    magnetization_prior: float = 0.0,
    rattle_sigma: float = 0.05,
    force_probes: int = 2,
    seed: int = 0,
    progress: bool = True,
    design_cache: Path | None = None,
) -> ReadoutSystem:
    """The weighted linear system that :func:`fit_readout` solves (parameters as there), unsolved.

    Building it is the expensive part (backbone derivatives for forces and priors); solving it
    again on a subset of frames (:func:`solve_system`, e.g. leaving one compound out) is cheap.
    With ``design_cache`` (a folder) every frame's derivatives are stored there, keyed by the
    frame, the model's weights other than the readout and reference energies, and the settings
    that shape them, and reused by later calls; the random force, stress and rattle probes are then
    drawn per frame (seeded by ``seed`` and the frame), so a frame's rows do not depend on the others.
    """
    use_energy = "energy" in weights and any(f.energy is not None for f in frames)
    use_h = "magnetic_forces" in weights and any(f.magnetic_forces is not None for f in frames)
    use_forces = "forces" in weights and any(f.forces is not None for f in frames)
    n_forces = sum(f.forces is not None for f in frames) * force_probes
    rng = np.random.default_rng(seed)
    ungrouped = sorted(
        {
            chemical_symbols[z]
            for f in frames
            if f.energy is not None and f.energy_group is None
            for z in f.numbers
        }
    )
    groups = sorted({f.energy_group for f in frames if f.energy is not None and f.energy_group is not None})
    n_energy = sum(f.energy is not None for f in frames)
    n_h = sum(
        3 * int((np.linalg.norm(f.moments, axis=1) > 0).sum())
        for f in frames
        if f.magnetic_forces is not None
    )
    n_offsets = len(ungrouped) + len(groups)
    model_digest = _derivative_digest(model) if design_cache is not None else ""
    blocks, targets, owners, energy_features = [], [], [], []
    owner = [0]  # frame of the rows being added

    def add_rows(
        jacobian: np.ndarray, values: np.ndarray, scale: float, offsets: np.ndarray | None = None
    ) -> None:
        """Append weighted rows of the current frame (``scale``: the row weight's square root, times
        that of the frame's own weight, which counts its labels and its priors alike); columns of the
        reference and group offsets are zero unless given."""
        if offsets is None:
            offsets = np.zeros((len(jacobian), n_offsets))
        scale = scale * np.sqrt(frames[owner[0]].weight)
        blocks.append(scale * np.concatenate([jacobian, offsets], axis=1))
        targets.append(scale * values)
        owners.append(np.full(len(jacobian), owner[0]))

    def energy_prior_scale(frame: Frame, strength: float) -> float:
        """Row weight of a one-row prior of ``frame`` relative to its energy term (grouped frames, e.g.
        ordering ladders at several lattice constants, carry that term times ``energy_group_weight``)."""
        relative = 1.0 if frame.energy_group is None else energy_group_weight
        return np.sqrt(relative * strength * weights.get("energy", 1.0) / (variances["energy"] * len(frames)))

    bar = tqdm(
        list(zip(frames, graphs, caches, strict=True)),
        desc="readout design",
        disable=not progress,
        leave=False,
    )
    for index, (frame, graph, cache) in enumerate(bar):
        owner[0] = index
        want_h = use_h and frame.magnetic_forces is not None
        settings = (want_h, use_forces and frame.forces is not None, stress_prior > 0, rattle_prior > 0)
        stored, path = None, None
        if design_cache is not None:
            key = _frame_key(model_digest, frame, settings, rattle_sigma, force_probes, seed)
            path = Path(design_cache) / f"{key}.npz"
            rng = np.random.default_rng([seed, int(key[:15], 16)])
            if path.is_file():
                stored = dict(np.load(path))
        probes = None
        if settings[1]:
            probes = rng.choice([-1.0, 1.0], size=(force_probes, frame.n_atoms, 3))
        strain_probe = None
        if stress_prior > 0:
            strain_probe = rng.normal(size=(3, 3))
            strain_probe = (strain_probe + strain_probe.T) / 2
        if stored is None:
            d_energy, d_h, d_derivatives = _design(model, frame, graph, cache, want_h, probes, strain_probe)
        else:
            d_energy, d_h, d_derivatives = stored["energy"], stored.get("h"), stored.get("derivatives")
        energy_features.append(d_energy)
        if use_energy and frame.energy is not None:
            relative = 1.0 if frame.energy_group is None else energy_group_weight
            scale = np.sqrt(relative * weights["energy"] / (variances["energy"] * n_energy)) / frame.n_atoms
            offsets = np.zeros((1, n_offsets))
            if frame.energy_group is None:
                for z in frame.numbers:
                    offsets[0, ungrouped.index(chemical_symbols[z])] += 1.0
            else:
                offsets[0, len(ungrouped) + groups.index(frame.energy_group)] = frame.n_atoms
            add_rows(d_energy[None], np.atleast_1d(frame.energy - float(cache.energy[0])), scale, offsets)
        if magnetization_prior > 0:
            add_rows(
                d_energy[None] / frame.n_atoms, np.zeros(1), energy_prior_scale(frame, magnetization_prior)
            )
        if rattle_prior > 0:
            rattled = frame.positions + rng.normal(scale=rattle_sigma, size=frame.positions.shape)
            rattle_probes = rng.choice([-1.0, 1.0], size=(force_probes, frame.n_atoms, 3))
            if stored is None:
                rattled_graph = replace(frame, positions=rattled).graph(model.cutoff, graph.positions.dtype)
                _, _, d_rattled = _design(model, frame, rattled_graph, cache, False, rattle_probes)
            else:
                d_rattled = stored["rattled"]
            scale = np.sqrt(
                rattle_prior
                * weights.get("forces", 1.0)
                / (variances["forces"] * force_probes * len(frames) * 3 * frame.n_atoms)
            )
            add_rows(d_rattled, np.zeros(len(d_rattled)), scale)
        if want_h:
            carrying = np.linalg.norm(frame.moments, axis=1) > 0
            directions = frame.moments[carrying] / np.linalg.norm(
                frame.moments[carrying], axis=1, keepdims=True
            )
            # e -> e - (1 - sqrt(w)) (e.u) u weights the squared error along u by w
            projector = (
                np.eye(3)
                - (1.0 - np.sqrt(longitudinal_weight)) * directions[:, :, None] * directions[:, None, :]
            )
            d_h = np.einsum("aij,ajp->aip", projector, d_h.reshape(-1, 3, d_h.shape[1])).reshape(d_h.shape)
            label = np.einsum("aij,aj->ai", projector, frame.magnetic_forces[carrying]).ravel()
            add_rows(d_h, label, np.sqrt(weights["magnetic_forces"] / (variances["magnetic_forces"] * n_h)))
        if strain_probe is not None:
            # relative to the frame's energy term: grouped frames carry their exchange striction in
            # their energies, which the prior must not outweigh
            add_rows(d_derivatives[-1:], np.zeros(1), energy_prior_scale(frame, stress_prior))
        if probes is not None:
            # per-component mean square over 3N components, sketched by the probes
            scale = np.sqrt(weights["forces"] / (variances["forces"] * n_forces * 3 * frame.n_atoms))
            label = (probes * (frame.forces - cache.forces.double().numpy())).sum((-2, -1))
            add_rows(d_derivatives[: len(probes)], label, scale)
        if path is not None and stored is None:
            arrays = {"energy": d_energy, "h": d_h, "derivatives": d_derivatives}
            arrays["rattled"] = d_rattled if rattle_prior > 0 else None
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.stem}.tmp.npz")
            np.savez(temporary, **{k: v.astype(np.float32) for k, v in arrays.items() if v is not None})
            temporary.replace(path)
    return ReadoutSystem(
        design=np.vstack(blocks),
        target=np.concatenate(targets),
        elements=ungrouped,
        groups=groups,
        frame_of_row=np.concatenate(owners),
        energy_features=np.array(energy_features),
        damping=ridge_per_weight(model, ridge, element_ridge or {}),
    )


def solve_system(
    system: ReadoutSystem,
    keep: np.ndarray | None = None,
    *,
    posterior_samples: int = 0,
    seed: int = 0,
) -> ReadoutSolution:
    """Least-squares solution of ``system`` on the rows of the frames in ``keep`` (all by default).

    Columns are scaled to unit norm, Tikhonov rows ``sqrt(damping) I`` are stacked under the readout
    columns, and the stacked system is solved by SVD (the normal equations would square its
    condition number). Offset columns without rows (energy groups of frames left out) drop out.

    With ``posterior_samples`` > 0 the Gaussian posterior of the readout weights is sampled: the
    loss is ``|r|^2 / s^2`` of the weighted residuals ``r`` with one noise scale ``s``, the
    damping a Gaussian prior, so ``Sigma = s^2 (A^T A + D)^-1`` in scaled columns, marginalised over
    the reference and group offsets; ``s^2 = RSS / (rows - effective parameters)``. Weights that
    no row touches keep their prior, ``s^2 / damping``: huge for the default ridges, so an
    element head without data is never confident.
    """
    rows = np.ones(len(system.target), dtype=bool) if keep is None else np.isin(system.frame_of_row, keep)
    n_readout = system.n_readout
    matrix, target = system.design[rows], system.target[rows]
    # readout weights no row touches are decoupled (damping only): exactly 0, left out of the SVD
    used = np.any(matrix != 0, axis=0)
    touched = np.flatnonzero(used[:n_readout])
    matrix = matrix[:, used]
    norms = np.linalg.norm(matrix, axis=0)
    damping = np.zeros((len(touched), matrix.shape[1]))
    damping[:, : len(touched)] = np.diag(np.sqrt(system.damping[touched]))
    scaled = matrix / norms
    stacked_target = np.concatenate([target, np.zeros(len(touched))])
    solution = np.linalg.lstsq(np.vstack([scaled, damping]), stacked_target, rcond=None)[0] / norms
    weights = np.zeros(n_readout)
    weights[touched] = solution[: len(touched)]
    names = system.elements + system.groups
    kept = [name for name, u in zip(names, used[n_readout:], strict=True) if u]
    offsets = dict(zip(kept, solution[len(touched) :], strict=True))
    posterior = None
    if posterior_samples > 0:
        equations = NormalEquations.of(system, rows)
        _, posterior = equations.solve(system.damping, posterior_samples=posterior_samples, seed=seed)
    return ReadoutSolution(
        weights=weights,
        reference_shifts={e: float(offsets[e]) for e in system.elements if e in offsets},
        group_offsets={g: float(offsets[g]) for g in system.groups if g in offsets},
        posterior=posterior,
        rows=int(rows.sum()),
        loss=float(np.sum((matrix @ solution - target) ** 2)),
    )


@dataclass(frozen=True)
class NormalEquations:
    """``X^T X``, ``X^T y``, ``y^T y`` and the row count of some rows of a :class:`ReadoutSystem`,
    over the system's columns ``columns`` (by default those the rows touch).

    Sums over rows, so the equations of a subset of frames are the total minus those of the frames
    left out (:meth:`minus`): a leave-one-compound-out fold costs the rows of one compound, not a
    new solve of the whole design.
    """

    gram: np.ndarray
    moment: np.ndarray
    energy: float
    rows: int
    columns: np.ndarray
    n_readout: int

    @classmethod
    def of(
        cls, system: ReadoutSystem, rows: np.ndarray | None = None, columns: np.ndarray | None = None
    ) -> NormalEquations:
        """The equations of ``rows`` (a boolean mask over the system's rows; all by default)."""
        design = system.design if rows is None else system.design[rows]
        target = system.target if rows is None else system.target[rows]
        if columns is None:
            columns = np.flatnonzero(np.any(design != 0, axis=0))
        design = design[:, columns]
        return cls(
            gram=design.T @ design,
            moment=design.T @ target,
            energy=float(target @ target),
            rows=len(target),
            columns=columns,
            n_readout=system.n_readout,
        )

    def minus(self, other: NormalEquations) -> NormalEquations:
        """The equations of these rows without ``other``'s (a subset of them, same columns)."""
        if not np.array_equal(self.columns, other.columns):
            raise ValueError("normal equations over different columns")
        gram, moment = self.gram - other.gram, self.moment - other.moment
        # a column whose every row is in ``other`` (an energy group, an element's head) keeps only
        # round-off, which the unit-norm scaling of ``solve`` would blow up: it has no rows left
        gone = np.diag(gram) <= 1e-9 * np.diag(self.gram)
        gram[gone, :] = gram[:, gone] = 0.0
        moment[gone] = 0.0
        return replace(
            self, gram=gram, moment=moment, energy=self.energy - other.energy, rows=self.rows - other.rows
        )

    def solve(
        self, damping: np.ndarray, *, posterior_samples: int = 0, seed: int = 0
    ) -> tuple[np.ndarray, ReadoutPosterior | None]:
        """Readout weights (P,) minimising ``|X w - y|^2 + sum_j damping_j (norm_j w_j)^2`` (columns
        scaled to unit norm, offsets undamped), and draws of their Gaussian posterior.

        Readout columns without rows stay 0 (their posterior is the prior, ``s / sqrt(damping)`` in
        unit-norm columns); offset columns without rows drop out, and of linearly dependent offset
        columns (one composition makes element references degenerate) one is kept: the readout
        weights do not depend on how the offsets are parametrised.
        """
        n_readout = self.n_readout
        norms = np.sqrt(np.clip(np.diag(self.gram), 0.0, None))
        is_readout = self.columns < n_readout
        touched = np.flatnonzero(is_readout & (norms > 0))
        offsets: list[int] = []
        for k in np.flatnonzero(~is_readout & (norms > 0)):
            trial = offsets + [int(k)]
            block = self.gram[np.ix_(trial, trial)] / np.outer(norms[trial], norms[trial])
            if np.linalg.eigvalsh(block)[0] > 1e-10:
                offsets = trial
        active = np.concatenate([touched, np.array(offsets, dtype=int)])
        scale = norms[active]
        gram = self.gram[np.ix_(active, active)] / np.outer(scale, scale)
        moment = self.moment[active] / scale
        readout_columns = self.columns[touched]
        prior = np.concatenate([damping[readout_columns], np.zeros(len(offsets))])
        factor = np.linalg.cholesky(gram + np.diag(prior))
        solution = scipy.linalg.cho_solve((factor, True), moment)
        weights = np.zeros(n_readout)
        n_touched = len(touched)
        weights[readout_columns] = solution[:n_touched] / scale[:n_touched]
        if posterior_samples <= 0:
            return weights, None
        rng = np.random.default_rng(seed)
        inverse = scipy.linalg.solve_triangular(factor, np.eye(len(active)), lower=True)  # L^-1
        effective = len(active) - float(prior @ (inverse**2).sum(0))  # trace of the hat matrix
        residual = self.energy - 2 * solution @ moment + solution @ gram @ solution
        noise = float(np.sqrt(max(residual, 0.0) / max(self.rows - effective, 1.0)))
        draws = rng.normal(size=(posterior_samples, len(active))) @ inverse  # rows ~ N(0, (L L^T)^-1)
        deviations = rng.normal(size=(posterior_samples, n_readout)) / np.sqrt(np.maximum(damping, 1e-30))
        deviations[:, readout_columns] = draws[:, :n_touched] / scale[:n_touched]
        posterior = ReadoutPosterior(deviations=(noise * deviations).astype(np.float32), noise_scale=noise)
        return weights, posterior


def fit_readout(
    model: MagneticPotential,
    frames: Sequence[Frame],
    graphs: Sequence[MagneticGraph],
    caches: Sequence[BackboneCache],
    *,
    weights: dict[str, float],
    variances: dict[str, float],
    longitudinal_weight: float = 1.0,
    energy_group_weight: float = 1.0,
    ridge: float = 1e-8,
    element_ridge: dict[str, tuple[float, float]] | None = None,
    stress_prior: float = 0.0,
    rattle_prior: float = 0.0,
    magnetization_prior: float = 0.0,
    rattle_sigma: float = 0.05,
    force_probes: int = 2,
    seed: int = 0,
    progress: bool = True,
    posterior_samples: int = 0,
    design_cache: Path | None = None,
) -> ReadoutFit:
    """Set the readout weights of ``model`` to the least-squares minimum of the loss; in place.

    Parameters
    ----------
    model
        Model whose frozen-backbone outputs are ``caches`` (the readout weights are overwritten).
    frames, graphs, caches
        Training frames, their graphs and backbone outputs (energies after the reference refit).
    weights
        Loss weight per term; the terms used are the keys ('energy', 'magnetic_forces').
    variances
        Label variance per term (its units squared).
    longitudinal_weight
        Weight of the magnetic-force error along the moment.
    energy_group_weight
        Weight of the energy error of frames with an energy group, relative to the others.
    stress_prior
        Weight of the magnetic blocks' stress (target 0; one random symmetric projection per frame,
        in energy per atom per unit strain) relative to the frame's energy term (so times
        ``energy_group_weight`` on frames with an energy group). Without strained or
        stress-labelled frames nothing else fixes how the magnetic energy changes with volume.
    rattle_prior
        Weight of the magnetic blocks' forces (target 0) on a copy of each frame with its atoms
        displaced by ``rattle_sigma`` (Angstrom), relative to the force term. Frames whose atoms
        barely move say nothing about the curvature of the magnetic energy in the positions; without
        this the solve can add forces of the size of the backbone's own on a 0.02 Angstrom rattle.
    magnetization_prior
        Weight of the magnetic blocks' energy per atom (target 0) of every frame, relative to the
        frame's energy term (so times ``energy_group_weight`` on frames with an energy group). Energies
        that compare only within a group, or against fitted reference energies, fix a magnetic atom's
        energy at its training moment length only up to a constant per atom; left free, the solve
        puts eV-scale magnetic energies there (bcc Fe: -10 eV per Fe) whose environment dependence
        then acts as spurious forces off the training lattices.
    rattle_sigma
        Standard deviation of the displacements (Angstrom).
    force_probes
        Random projections z_k . F of each frame's forces entering the solve when 'forces' is a term
        (an unbiased sketch of the force residual: E|Z^T e|^2 = |e|^2 for z with unit variance).
    seed
        Seed of the force probes.
    ridge
        Tikhonov regularisation of the readout weights, each column of the design scaled to unit norm.
    element_ridge
        Element -> (node, pair) regularisation of that element's heads instead of ``ridge``
        (:func:`ridge_per_weight`).
    progress
        Show a progress bar over frames.
    posterior_samples
        Samples of the weights' posterior to return (:func:`solve_system`); 0: none.
    design_cache
        Folder of stored per-frame derivatives (:func:`readout_system`); None: computed afresh.

    Returns
    -------
    ReadoutFit
        Reference shifts and group offsets the caller applies to its energies, and the posterior.
    """
    tic = time.perf_counter()
    system = readout_system(
        model,
        frames,
        graphs,
        caches,
        weights=weights,
        variances=variances,
        longitudinal_weight=longitudinal_weight,
        energy_group_weight=energy_group_weight,
        ridge=ridge,
        element_ridge=element_ridge,
        stress_prior=stress_prior,
        rattle_prior=rattle_prior,
        magnetization_prior=magnetization_prior,
        rattle_sigma=rattle_sigma,
        force_probes=force_probes,
        seed=seed,
        progress=progress,
        design_cache=design_cache,
    )
    solution = solve_system(system, posterior_samples=posterior_samples, seed=seed)
    set_readout(model, solution.weights)
    return ReadoutFit(
        reference_shifts=solution.reference_shifts,
        group_offsets=solution.group_offsets,
        parameters=system.n_readout,
        rows=len(system.target),
        seconds=time.perf_counter() - tic,
        loss=solution.loss,
        posterior=solution.posterior,
    )


def set_readout(model: MagneticPotential, weights: np.ndarray) -> None:
    """Write a flat vector of readout weights (order of :func:`readout_parameters`) into ``model``."""
    with torch.no_grad():
        start = 0
        for p in readout_parameters(model):
            p.copy_(torch.as_tensor(weights[start : start + p.numel()].reshape(p.shape), dtype=p.dtype))
            start += p.numel()


def get_readout(model: MagneticPotential) -> np.ndarray:
    """The readout weights of ``model`` as one flat vector (order of :func:`readout_parameters`)."""
    return torch.cat([p.detach().reshape(-1) for p in readout_parameters(model)]).double().cpu().numpy()
