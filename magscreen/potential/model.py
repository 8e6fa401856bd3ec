"""MagneticPotential: SevenNet backbone + magnetic blocks; energy, forces, stress, magnetic forces.

E(R, m) = E_backbone(R) + E_mag(R, m), and every output is a derivative of this one energy:

- forces ``F = -dE/dR`` (eV/Angstrom),
- stress ``sigma = (1/V) dE/d(epsilon)`` at zero symmetric strain epsilon (eV/Angstrom^3, ASE sign:
  positive under tension), returned as (B, 3, 3),
- magnetic forces ``H = -dE/dm`` (eV/mu_B).

Construction::

    MagneticPotential(soc=False, seed=0)          # small random backbone, parity on (tests)
    MagneticPotential.from_sevennet(soc=True)     # SevenNet-0 backbone, fresh magnetic blocks
    MagneticPotential.load("model.pt")            # a checkpoint written by ``save``

Training API (used by ``magscreen.training``):

- inputs: :func:`~magscreen.potential.graph.build_graph` (numbers, positions, cell, pbc, moments)
  and :func:`~magscreen.potential.graph.collate` for several frames;
- ``model(graph, compute_forces=True, compute_stress=True, create_graph=True)`` returns a dict
  of per-frame ``energy`` (B,), per-atom ``forces`` (N, 3) and ``magnetic_forces`` (N, 3),
  per-frame ``stress`` (B, 3, 3), with the autograd graph kept for force and stress losses;
- ``backbone_parameters()`` / ``magnetic_parameters()`` for freezing or separate learning rates;
- frozen backbone: ``cache = model.backbone_cache(graph)`` once per frame, then
  ``model(graph, cache=cache)`` reuses the backbone's node features, energy, forces and stress.
  Energy and magnetic forces are then exact; forces and stress omit the path through the
  backbone features, dE_mag/dh . dh/dR, and are exact in the edge geometry of the magnetic blocks.

Fixed structure, changing moments (the ASE calculator): ``cache = model.backbone_cache(graph,
keep_graph=True)`` keeps the backbone's autograd graph, so ``model(graph, cache=cache)`` skips the
neighbour list and the backbone pass and every output, forces and stress included, is exact. Energy
and magnetic forces then cost the magnetic blocks alone; forces and stress one backward pass through
the kept backbone graph.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import sevenn._keys as KEY
import torch
from ase.data import atomic_numbers, chemical_symbols
from torch import nn

from magscreen.errors import InputError, ModelDomainError
from magscreen.potential.backbone import (
    SevenNetBackbone,
    sevennet0_config,
    sevennet0_state_dict,
    small_backbone_config,
)
from magscreen.potential.graph import MagneticGraph, edge_vectors
from magscreen.potential.magnetic import MagneticEnergy, MagneticHyperparameters
from magscreen.potential.uncertainty import ReadoutPosterior

__all__ = ["BackboneCache", "MagneticPotential", "DEFAULT_SPECIES"]

DEFAULT_SPECIES: tuple[str, ...] = tuple(chemical_symbols[1:84])
"""Elements of the small random model: hydrogen to bismuth."""

CHECKPOINT_FORMAT = "magscreen-magnetic-potential-2"  # 2: length slope of exchange and pair terms
CHECKPOINT_VERSION = 1


def _learned(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` without e3nn's code-generated ``..._tensor_constantN`` entries."""
    return {k: v for k, v in state.items() if "._tensor_constant" not in k}


@dataclass(frozen=True, eq=False)
class BackboneCache:
    """Backbone outputs of a batch, computed once and reused while the backbone is frozen.

    Attributes
    ----------
    features
        Node features, shape (N, feature_dim).
    energy
        Backbone energy per frame (eV), shape (B,).
    forces
        Backbone forces (eV/Angstrom), shape (N, 3); None when the graph is kept.
    stress
        Backbone stress (eV/Angstrom^3), shape (B, 3, 3); None when the graph is kept.
    leaves
        With ``keep_graph``: positions (N, 3) and strain (B, 3, 3), the autograd leaves that the
        edge vectors (E, 3), features and energy, also kept, were computed from. Forces and stress
        then come from autograd through the backbone and are exact. None: everything is detached.
    """

    features: torch.Tensor
    energy: torch.Tensor
    forces: torch.Tensor | None
    stress: torch.Tensor | None
    leaves: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @property
    def keeps_graph(self) -> bool:
        """Whether features and energy keep their autograd graph to positions and strain."""
        return self.leaves is not None


class MagneticPotential(nn.Module):
    """Magnetic equivariant interatomic potential (eV, Angstrom, Bohr magneton).

    Parameters
    ----------
    soc
        Add the spin-orbit terms (single-ion and two-site anisotropy, Dzyaloshinskii-Moriya).
    seed
        Seed of the random initial weights.
    species
        Elements of the small random backbone.
    cutoff
        Cutoff of the small random backbone (Angstrom).
    channels, lmax, num_layers
        Size of the small random backbone.
    magnetic
        Sizes and scales of the magnetic blocks.
    backbone_config
        A full SevenNet network configuration; replaces the small random backbone.
    backbone_name
        Name of that configuration, the first part of ``model_version``.
    """

    def __init__(
        self,
        soc: bool = False,
        seed: int = 0,
        *,
        species: tuple[str, ...] = DEFAULT_SPECIES,
        cutoff: float = 4.0,
        channels: int = 8,
        lmax: int = 1,
        num_layers: int = 2,
        magnetic: MagneticHyperparameters | None = None,
        backbone_config: dict[str, Any] | None = None,
        backbone_name: str = "small",
    ) -> None:
        super().__init__()
        self.soc = bool(soc)
        self.hyper = magnetic or MagneticHyperparameters()
        if backbone_config is None:
            backbone_config = small_backbone_config(tuple(species), cutoff, channels, lmax, num_layers)
        self.backbone_name = backbone_name
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.backbone = SevenNetBackbone(backbone_config)
            self.magnetic = MagneticEnergy(
                self.backbone.feature_dim, self.backbone.cutoff, self.soc, self.hyper
            )
        self.magnetic_domain: tuple[str, ...] = ()
        self.magnetic_environments: dict[str, list[list[str]]] = {}
        # element -> environment ('Co,O') -> coordination numbers of its moment-carrying atoms in training
        self.magnetic_coordination: dict[str, dict[str, list[int]]] = {}
        # elements (and their environments) whose spin-orbit anisotropy was fitted; empty: all atoms
        self.soc_domain: tuple[str, ...] = ()
        self.soc_environments: dict[str, list[list[str]]] = {}
        # mean moment length (mu_B) in that fit per element and environment ('Co,Pt')
        self.soc_moments: dict[str, dict[str, float]] = {}
        # one record per domain extension (magscreen.training.extend), oldest first
        self.lineage: list[dict[str, Any]] = []
        # draws of the readout weights' posterior (uncertainty of energies); None: not recorded
        self.readout_posterior: ReadoutPosterior | None = None

    @classmethod
    def from_sevennet(
        cls,
        soc: bool = False,
        seed: int = 0,
        magnetic: MagneticHyperparameters | None = None,
        zero_magnetic: bool = True,
    ) -> MagneticPotential:
        """SevenNet-0 backbone (weights from the ``sevenn`` wheel) with fresh magnetic blocks.

        Parameters
        ----------
        soc
            Add the spin-orbit terms.
        seed
            Seed of the magnetic blocks' initial weights.
        magnetic
            Sizes and scales of the magnetic blocks.
        zero_magnetic
            Zero the last layer of every magnetic energy head, so the untrained model equals
            SevenNet-0 for every moment configuration (gradients still reach those layers).
        """
        model = cls(
            soc=soc,
            seed=seed,
            magnetic=magnetic,
            backbone_config=sevennet0_config(),
            backbone_name="sevennet-0",
        )
        model.backbone.layers.load_state_dict(sevennet0_state_dict())
        if zero_magnetic:
            with torch.no_grad():
                for layer in model.magnetic.output_layers():
                    layer.weight.zero_()
                    layer.bias.zero_()
        return model

    # ------------------------------------------------------------------ properties

    @property
    def cutoff(self) -> float:
        """Neighbour cutoff (Angstrom)."""
        return self.backbone.cutoff

    @property
    def species(self) -> tuple[str, ...]:
        """Element symbols the model knows."""
        return self.backbone.species

    @property
    def dtype(self) -> torch.dtype:
        """Floating-point dtype of the weights."""
        return next(self.parameters()).dtype

    @property
    def device(self) -> torch.device:
        """Device of the weights."""
        return next(self.parameters()).device

    def learned_state(self) -> dict[str, torch.Tensor]:
        """The state dict without e3nn's code-generated constants.

        ``copy.deepcopy`` registers the constants of e3nn's compiled tensor products
        (``..._tensor_constantN``) as buffers; they follow from the architecture, so checkpoints,
        versions and weight transfers leave them out (a deep copy keeps its version and its
        checkpoint loads into a fresh model).
        """
        return _learned(self.state_dict())

    @property
    def model_version(self) -> str:
        """``<backbone>-soc|nosoc-<hash>``; the hash is of the weights, so it changes with them.

        A model extended on new DFT frames (:attr:`lineage`) is ``<base model_version>+ext-<hash of
        the frames>-<hash of the weights>``, so its version names what it grew from.
        """
        digest = hashlib.sha256()
        for name, tensor in sorted(self.learned_state().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        if self.lineage:  # extended: <base version>+ext-<hash of the frames>-<hash of the weights>
            last = self.lineage[-1]
            return f"{last['base_model_version']}+ext-{last['frames_sha256'][:12]}-{digest.hexdigest()[:12]}"
        return f"{self.backbone_name}-{'soc' if self.soc else 'nosoc'}-{digest.hexdigest()[:12]}"

    def backbone_parameters(self) -> list[nn.Parameter]:
        """Parameters of the SevenNet backbone."""
        return list(self.backbone.parameters())

    def magnetic_parameters(self) -> list[nn.Parameter]:
        """Parameters of the magnetic blocks."""
        return list(self.magnetic.parameters())

    def check_species(self, numbers: np.ndarray | torch.Tensor) -> None:
        """Raise :class:`ModelDomainError` naming the first element the model does not know."""
        known = set(self.backbone.config[KEY.TYPE_MAP])
        for z in np.unique(np.asarray(numbers)):
            if int(z) not in known:
                raise ModelDomainError(
                    f"element {chemical_symbols[int(z)]} is not known to model {self.model_version} "
                    f"(it knows {', '.join(self.species)})"
                )

    # ------------------------------------------------------------------ evaluation

    def edge_vectors(
        self, graph: MagneticGraph, positions: torch.Tensor, strain: torch.Tensor | None
    ) -> torch.Tensor:
        """r_j - r_i + shift @ cell (Angstrom), with positions and cell under ``strain`` (B, 3, 3)."""
        cell = graph.cell
        if strain is not None:
            symmetric = 0.5 * (strain + strain.transpose(-1, -2))
            positions = positions + torch.einsum("ni,nij->nj", positions, symmetric[graph.batch])
            cell = cell + torch.bmm(cell, symmetric)
        return edge_vectors(graph, positions, cell)

    def _per_frame(self, atomic: torch.Tensor, graph: MagneticGraph) -> torch.Tensor:
        return atomic.new_zeros(atomic.shape[:-1] + (graph.num_graphs,)).index_add(-1, graph.batch, atomic)

    def forward(
        self,
        graph: MagneticGraph,
        *,
        compute_forces: bool = True,
        compute_stress: bool = False,
        compute_magnetic_forces: bool = True,
        create_graph: bool = False,
        cache: BackboneCache | None = None,
    ) -> dict[str, torch.Tensor]:
        """Energy and its derivatives for a batch of graphs.

        Returns
        -------
        dict
            ``energy`` (B,) eV, ``magnetic_energy`` (B,) eV, and as requested ``forces`` (N, 3)
            eV/Angstrom, ``stress`` (B, 3, 3) eV/Angstrom^3, ``magnetic_forces`` (N, 3) eV/mu_B.
        """
        wants_gradients = compute_forces or compute_stress or compute_magnetic_forces
        with torch.set_grad_enabled(torch.is_grad_enabled() or wants_gradients):
            return self._evaluate(
                graph.to(self.device, self.dtype),
                compute_forces,
                compute_stress,
                compute_magnetic_forces,
                create_graph,
                cache,
            )

    def _evaluate(
        self,
        graph: MagneticGraph,
        compute_forces: bool,
        compute_stress: bool,
        compute_magnetic_forces: bool,
        create_graph: bool,
        cache: BackboneCache | None,
    ) -> dict[str, torch.Tensor]:
        moments = graph.moments.detach().requires_grad_(compute_magnetic_forces)
        kept = cache is not None and cache.keeps_graph
        if kept:  # the structure's leaves and backbone graph, reused
            positions, strain, edge_vec = cache.leaves
        else:
            positions = graph.positions.detach().requires_grad_(compute_forces)
            strain = torch.zeros_like(graph.cell).requires_grad_(True) if compute_stress else None
            edge_vec = self.edge_vectors(graph, positions, strain)
        if cache is None:
            features, atomic_backbone = self.backbone(graph.numbers, graph.edge_index, edge_vec)
            backbone_energy = self._per_frame(atomic_backbone, graph)
        else:
            features, backbone_energy = cache.features, cache.energy
        atomic_magnetic = self.atomic_magnetic_energy(features, graph, edge_vec, moments)
        magnetic_energy = self._per_frame(atomic_magnetic, graph)
        energy = backbone_energy + magnetic_energy
        out = {"energy": energy, "magnetic_energy": magnetic_energy}
        inputs = {
            "forces": positions if compute_forces else None,
            "stress": strain if compute_stress else None,
            "magnetic_forces": moments if compute_magnetic_forces else None,
        }
        wanted = {k: v for k, v in inputs.items() if v is not None and v.requires_grad}
        if wanted and not energy.requires_grad:  # nothing to differentiate: no edges, frozen weights
            out.update({name: torch.zeros_like(tensor) for name, tensor in wanted.items()})
            wanted = {}
        if wanted:
            grads = torch.autograd.grad(
                energy.sum(),
                list(wanted.values()),
                create_graph=create_graph,
                retain_graph=create_graph or kept,  # a kept backbone graph serves the next call too
                allow_unused=True,
            )
            for (name, tensor), grad in zip(wanted.items(), grads, strict=True):
                grad = torch.zeros_like(tensor) if grad is None else grad
                if name == "stress":
                    out[name] = grad / graph.volume().clamp_min(1e-12).view(-1, 1, 1)
                else:
                    out[name] = -grad
        if cache is not None and not kept:
            if "forces" in out:
                out["forces"] = out["forces"] + cache.forces
            if "stress" in out:
                out["stress"] = out["stress"] + cache.stress
        return out

    def atomic_magnetic_energy(
        self, features: torch.Tensor, graph: MagneticGraph, edge_vec: torch.Tensor, moments: torch.Tensor
    ) -> torch.Tensor:
        """Magnetic energy per atom (eV), shape (..., N); moments (..., N, 3) in mu_B.

        Moments on atoms outside the magnetic domain (:meth:`in_magnetic_domain`) are ignored: their
        magnetic energy and magnetic forces are zero and the energy is the backbone's, instead of an
        extrapolation of the magnetic blocks to chemistry they never learned. The spin-orbit terms
        likewise see only the moments inside the spin-orbit domain (:meth:`in_soc_domain`).
        """
        inside = self.in_magnetic_domain(graph)
        soc_moments = None
        if self.soc:
            soc_inside = self.in_soc_domain(graph)
            soc_moments = moments
            if soc_inside is not None:
                soc_moments = moments * soc_inside.to(moments.dtype).unsqueeze(-1)
        if inside is not None:
            moments = moments * inside.to(moments.dtype).unsqueeze(-1)
        return self.magnetic(
            features, graph.edge_index, edge_vec, moments, graph.numbers, soc_moments=soc_moments
        )

    def in_magnetic_domain(self, graph: MagneticGraph) -> torch.Tensor | None:
        """Per atom, whether the model was trained with moments on its element in its environment.

        The environment is the set of elements within the cutoff: NiO training frames put Ni among
        {Ni, O}, so Ni in NiF2 or in the metal is outside. None when the model records no domain
        (an untrained model: every atom counts). An atom whose environment changes as a new
        element enters its cutoff sphere changes domain there, and its energy jumps.
        """
        return _in_domain(graph, self.magnetic_domain, self.magnetic_environments)

    def in_soc_domain(self, graph: MagneticGraph) -> torch.Tensor | None:
        """Per atom, whether the spin-orbit block was fitted on its element in its environment.

        Same rule as :meth:`in_magnetic_domain`, on the spin-orbit fit's compounds; moments outside
        carry no anisotropy. None when no fit is recorded (every atom counts).
        """
        return _in_domain(graph, self.soc_domain, self.soc_environments)

    def record_soc_domain(self, graphs: list[MagneticGraph], moments: list[np.ndarray]) -> None:
        """Set the spin-orbit domain from the anisotropy fit's structures (as the magnetic domain) and
        the mean moment length (mu_B) of each element in each environment there (:attr:`soc_moments`)."""
        self.soc_domain, self.soc_environments = _environments(graphs, moments)
        lengths: dict[str, dict[str, list[float]]] = {}
        for graph, frame_moments in zip(graphs, moments, strict=True):
            numbers = graph.numbers.cpu().numpy()
            around = atom_environments(graph)
            for atom in np.flatnonzero(np.linalg.norm(frame_moments, axis=1) > 0):
                by_environment = lengths.setdefault(chemical_symbols[numbers[atom]], {})
                by_environment.setdefault(around[atom], []).append(float(np.linalg.norm(frame_moments[atom])))
        self.soc_moments = {
            element: {env: float(np.mean(values)) for env, values in sorted(by_env.items())}
            for element, by_env in sorted(lengths.items())
        }

    def with_soc(self, seed: int = 0) -> MagneticPotential:
        """A copy with the spin-orbit block added, its output layer zero (no anisotropy yet).

        Every other weight is copied, so energies and forces equal this model's exactly. The radial
        network and the sender gain the spin-orbit edge channels (random, seeded); the exchange
        channels keep their rows. The readout posterior carries over, with no variance on the
        spin-orbit output layer (fitted on its own, :mod:`magscreen.training.soc_fit`).
        """
        if self.soc:
            raise ValueError("the model already has a spin-orbit block")
        new = type(self)(
            soc=True,
            seed=seed,
            magnetic=self.hyper,
            backbone_config=self.backbone.config,
            backbone_name=self.backbone_name,
        ).to(self.dtype)
        target = new.state_dict()
        for key, value in self.learned_state().items():
            if target[key].shape != value.shape:  # radial[-1], sender: exchange rows first
                target[key][: value.shape[0]] = value
            else:
                target[key] = value
        new.load_state_dict(target)
        with torch.no_grad():
            new.magnetic.soc_coefficients[-1].weight.zero_()
            new.magnetic.soc_coefficients[-1].bias.zero_()
        new.magnetic_domain = self.magnetic_domain
        new.magnetic_environments = self.magnetic_environments
        new.magnetic_coordination = self.magnetic_coordination
        if self.readout_posterior is not None:
            deviations, start, blocks = self.readout_posterior.deviations, 0, []
            for layer in new.magnetic.output_layers():  # the order of readout_parameters
                size = layer.weight.numel() + layer.bias.numel()
                if layer is new.magnetic.soc_coefficients[-1]:
                    blocks.append(np.zeros((len(deviations), size), dtype=deviations.dtype))
                else:
                    blocks.append(deviations[:, start : start + size])
                    start += size
            new.readout_posterior = replace(self.readout_posterior, deviations=np.concatenate(blocks, axis=1))
        return new.to(self.device)

    def record_magnetic_domain(
        self, graphs: list[MagneticGraph], moments: list[np.ndarray], environments: bool = True
    ) -> None:
        """Set the domain from training structures: elements carrying moments and their environments.

        ``environments=False`` records the elements only: an element seen with moments counts in any
        environment, and how far a new environment is from the training data is left to the
        uncertainty of the energies (:attr:`readout_posterior`).
        """
        self.magnetic_domain, found = _environments(graphs, moments)
        self.magnetic_environments = found if environments else {}
        self.magnetic_coordination = {}
        if environments:
            self.record_magnetic_coordination(graphs, moments)

    def record_magnetic_coordination(self, graphs: list[MagneticGraph], moments: list[np.ndarray]) -> None:
        """Set, per element and environment, the coordination numbers (:func:`atom_coordination`) of
        the training structures' moment-carrying atoms: the structural part of the domain, which the
        campaigns' trust rule checks (:meth:`coordination_known`); the energies do not depend on it."""
        found: dict[str, dict[str, set[int]]] = {}
        for graph, frame_moments in zip(graphs, moments, strict=True):
            around, counts = atom_environments(graph), atom_coordination(graph)
            numbers = graph.numbers.cpu().numpy()
            for atom in np.flatnonzero(np.linalg.norm(frame_moments, axis=1) > 0):
                by_environment = found.setdefault(chemical_symbols[numbers[atom]], {})
                by_environment.setdefault(around[atom], set()).add(counts[atom])
        self.magnetic_coordination = {
            element: {env: sorted(counts) for env, counts in sorted(by_env.items())}
            for element, by_env in sorted(found.items())
        }

    def coordination_known(self, graph: MagneticGraph) -> np.ndarray | None:
        """Per atom, whether its element was trained with moments in its environment at its
        coordination number; atoms of elements without a record count as known (the environment
        domain decides for them). None when the model records no coordination (every atom counts).
        A bcc Fe atom (8 neighbours) is not known to a model trained on fcc Fe (12), though both sit
        among Fe only."""
        if not self.magnetic_coordination:
            return None
        around, counts = atom_environments(graph), atom_coordination(graph)
        known = []
        for z, env, count in zip(graph.numbers.cpu().numpy(), around, counts, strict=True):
            record = self.magnetic_coordination.get(chemical_symbols[z])
            known.append(record is None or count in record.get(env, ()))
        return np.array(known, dtype=bool)

    def backbone_cache(self, graph: MagneticGraph, keep_graph: bool = False) -> BackboneCache:
        """Backbone node features and energy of ``graph``.

        By default detached, with the backbone's forces and stress (frozen-backbone training). With
        ``keep_graph`` the autograd graph to positions and strain is kept instead (no backward pass
        here), for exact forces and stress at new moments of the same structure; the cache then
        holds the backbone's activations in memory while it lives.
        """
        with torch.enable_grad():
            return self._backbone_cache(graph.to(self.device, self.dtype), keep_graph)

    def _backbone_cache(self, graph: MagneticGraph, keep_graph: bool) -> BackboneCache:
        positions = graph.positions.detach().requires_grad_(True)
        strain = torch.zeros_like(graph.cell).requires_grad_(True)
        edge_vec = self.edge_vectors(graph, positions, strain)
        features, atomic = self.backbone(graph.numbers, graph.edge_index, edge_vec)
        energy = self._per_frame(atomic, graph)
        if keep_graph:
            return BackboneCache(features, energy, None, None, leaves=(positions, strain, edge_vec))
        grad_pos, grad_strain = torch.autograd.grad(energy.sum(), [positions, strain], allow_unused=True)
        grad_pos = torch.zeros_like(positions) if grad_pos is None else grad_pos
        grad_strain = torch.zeros_like(strain) if grad_strain is None else grad_strain
        return BackboneCache(
            features=features.detach(),
            energy=energy.detach(),
            forces=-grad_pos.detach(),
            stress=(grad_strain / graph.volume().clamp_min(1e-12).view(-1, 1, 1)).detach(),
        )

    @torch.enable_grad()
    def evaluate_moments(
        self,
        graph: MagneticGraph,
        moments: torch.Tensor,
        *,
        compute_forces: bool = False,
        chunk_size: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Many moment configurations of one structure; backbone and neighbour list evaluated once.

        Parameters
        ----------
        graph
            One structure (``num_graphs == 1``); its own moments are ignored.
        moments
            Moment configurations (Bohr magnetons), shape (K, N, 3).
        compute_forces
            Also return forces per configuration (one backward pass per configuration).
        chunk_size
            Configurations per pass; by default as many as fit about 2e7 numbers per edge tensor.

        Returns
        -------
        dict
            ``energy`` (K,) eV, ``magnetic_forces`` (K, N, 3) eV/mu_B, and ``forces`` (K, N, 3)
            eV/Angstrom when asked.
        """
        if graph.num_graphs != 1:
            raise ValueError("evaluate_moments takes one structure")
        graph = graph.to(self.device, self.dtype)
        moments = torch.as_tensor(moments, dtype=self.dtype, device=self.device)
        if moments.ndim != 3 or moments.shape[1:] != (graph.num_atoms, 3):
            raise InputError(
                f"moments have shape {tuple(moments.shape)}",
                field="moments",
                expected=f"shape (K, {graph.num_atoms}, 3)",
            )
        positions = graph.positions.detach().requires_grad_(compute_forces)
        edge_vec = self.edge_vectors(graph, positions, None)
        features, atomic_backbone = self.backbone(graph.numbers, graph.edge_index, edge_vec)
        backbone_energy = atomic_backbone.sum()
        if chunk_size is None:
            width = max(1, self.magnetic.edge_width) * 3 * max(1, graph.edge_index.shape[1])
            chunk_size = max(1, int(2e7 // width))
        energies, magnetic_forces, forces = [], [], []
        for start in range(0, moments.shape[0], chunk_size):
            block = moments[start : start + chunk_size].detach().requires_grad_(True)
            energy = backbone_energy + self.atomic_magnetic_energy(features, graph, edge_vec, block).sum(-1)
            (grad_m,) = torch.autograd.grad(energy.sum(), [block], retain_graph=compute_forces)
            magnetic_forces.append(-grad_m.detach())
            energies.append(energy.detach())
            if compute_forces:
                for k in range(energy.shape[0]):
                    (grad_r,) = torch.autograd.grad(energy[k], [positions], retain_graph=True)
                    forces.append(-grad_r.detach())
        out = {"energy": torch.cat(energies), "magnetic_forces": torch.cat(magnetic_forces)}
        if compute_forces:
            out["forces"] = torch.stack(forces)
        return out

    # ------------------------------------------------------------------ checkpoints

    def hyperparameters(self) -> dict[str, Any]:
        """Everything needed to rebuild the network (weights excluded)."""
        return {
            "soc": self.soc,
            "backbone_name": self.backbone_name,
            "backbone_config": self.backbone.config,
            "magnetic": self.hyper.as_dict(),
        }

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint: hyperparameters, species, magnetic domain, version and weights."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "format_version": CHECKPOINT_VERSION,
                "hyperparameters": self.hyperparameters(),
                "species": list(self.species),
                "magnetic_domain": list(self.magnetic_domain),
                "magnetic_environments": self.magnetic_environments,
                "magnetic_coordination": self.magnetic_coordination,
                "soc_domain": list(self.soc_domain),
                "soc_environments": self.soc_environments,
                "soc_moments": self.soc_moments,
                "lineage": self.lineage,
                "readout_posterior": None
                if self.readout_posterior is None
                else self.readout_posterior.as_checkpoint(),
                "model_version": self.model_version,
                "dtype": str(self.dtype).removeprefix("torch."),
                "state_dict": {k: v.detach().cpu() for k, v in self.learned_state().items()},
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> MagneticPotential:
        """Read a checkpoint written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise InputError(
                "checkpoint file not found", source=path, expected="a file written by MagneticPotential.save"
            )
        try:
            payload = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as error:  # a corrupt or foreign file: say which
            raise InputError(f"cannot read checkpoint ({error})", source=path) from error
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise InputError(
                "not a magscreen potential checkpoint",
                source=path,
                field="format",
                expected=CHECKPOINT_FORMAT,
            )
        hyper = payload["hyperparameters"]
        model = cls(
            soc=hyper["soc"],
            magnetic=MagneticHyperparameters(**hyper["magnetic"]),
            backbone_config=hyper["backbone_config"],
            backbone_name=hyper["backbone_name"],
        ).to(getattr(torch, payload.get("dtype", "float32")))
        model.load_state_dict(_learned(payload["state_dict"]))
        model.magnetic_domain = tuple(payload.get("magnetic_domain", ()))
        model.magnetic_environments = payload.get("magnetic_environments", {})
        model.magnetic_coordination = payload.get("magnetic_coordination", {})
        model.soc_domain = tuple(payload.get("soc_domain", ()))
        model.soc_environments = payload.get("soc_environments", {})
        model.soc_moments = payload.get("soc_moments", {})
        model.lineage = payload.get("lineage", [])
        if payload.get("readout_posterior") is not None:
            model.readout_posterior = ReadoutPosterior.from_checkpoint(payload["readout_posterior"])
        return model.to(map_location)


def _in_domain(
    graph: MagneticGraph, domain: tuple[str, ...], environments: dict[str, list[list[str]]]
) -> torch.Tensor | None:
    """Per atom, whether its element is in ``domain`` with the set of elements within the cutoff
    one of ``environments[element]`` (any environment when the element has none listed)."""
    if not domain:
        return None
    numbers = graph.numbers
    present = torch.zeros(len(numbers), 119, dtype=torch.bool, device=numbers.device)
    present[graph.edge_index[0], numbers[graph.edge_index[1]]] = True
    inside = torch.zeros(len(numbers), dtype=torch.bool, device=numbers.device)
    for element in domain:
        is_element = numbers == atomic_numbers[element]
        element_environments = environments.get(element)
        if element_environments is None:
            inside |= is_element
            continue
        for environment in element_environments:
            expected = torch.zeros(119, dtype=torch.bool, device=numbers.device)
            expected[[atomic_numbers[e] for e in environment]] = True
            inside |= is_element & (present == expected).all(-1)
    return inside


#: Neighbours within this factor times an atom's nearest-neighbour distance count in its coordination
#: number (:func:`atom_coordination`): 8 in bcc, 12 in fcc and hcp (whose second shells lie 15 % and
#: 41 % further out), 6 on rocksalt's and rutile's cations, 4 and 6 on a spinel's two sites.
COORDINATION_SHELL = 1.1


def atom_coordination(graph: MagneticGraph) -> list[int]:
    """Per atom, the neighbours (any element, within the cutoff) at most :data:`COORDINATION_SHELL`
    times its nearest-neighbour distance away; 0 for an atom without neighbours."""
    centre = graph.edge_index[0]
    length = edge_vectors(graph).norm(dim=-1)
    nearest = torch.full((len(graph.numbers),), float("inf"), dtype=length.dtype, device=length.device)
    nearest = nearest.scatter_reduce(0, centre, length, reduce="amin")
    within = (length <= COORDINATION_SHELL * nearest[centre]).to(torch.long)
    return torch.zeros(len(graph.numbers), dtype=torch.long).index_add(0, centre.cpu(), within.cpu()).tolist()


def atom_environments(graph: MagneticGraph) -> list[str]:
    """Per atom, the sorted elements within the cutoff joined by commas ('Co,Pt')."""
    numbers = graph.numbers.cpu().numpy()
    centre, neighbour = graph.edge_index.cpu().numpy()
    return [
        ",".join(sorted({chemical_symbols[z] for z in numbers[neighbour[centre == atom]]}))
        for atom in range(len(numbers))
    ]


def _environments(
    graphs: list[MagneticGraph], moments: list[np.ndarray]
) -> tuple[tuple[str, ...], dict[str, list[list[str]]]]:
    """Elements carrying moments in ``graphs`` and the sets of elements around them (a domain)."""
    environments: dict[str, set[tuple[str, ...]]] = {}
    for graph, frame_moments in zip(graphs, moments, strict=True):
        numbers = graph.numbers.cpu().numpy()
        centre, neighbour = graph.edge_index.cpu().numpy()
        for atom in np.flatnonzero(np.linalg.norm(frame_moments, axis=1) > 0):
            around = tuple(sorted({chemical_symbols[z] for z in numbers[neighbour[centre == atom]]}))
            environments.setdefault(chemical_symbols[numbers[atom]], set()).add(around)
    return tuple(sorted(environments)), {
        element: [list(env) for env in sorted(envs)] for element, envs in environments.items()
    }
