"""MagneticCalculator: the ASE calculator of the magnetic potential.

Moments are read from ``atoms.get_initial_magnetic_moments()`` (Bohr magnetons; shape (N,) for
collinear moments along z, or (N, 3)). Results: ``energy`` and ``free_energy`` (eV), ``forces``
(eV/Angstrom), ``stress`` (eV/Angstrom^3, Voigt order xx yy zz yz xz xy; periodic cells only) and
``magnetic_forces`` H = -dE/dm (eV/mu_B, shape (N, 3)).

Spin-only re-evaluation: while the structure (atomic numbers, positions, cell, pbc) and the model's
weights stay the same, the neighbour list and the backbone pass (node features with their autograd
graph) are computed once and reused for every new set of moments. A request for ``energy`` or
``magnetic_forces`` then costs the magnetic blocks alone; ``forces`` and ``stress`` are computed only
when asked, by one backward pass through the kept backbone graph, and stay exact. The kept graph
holds the backbone's activations in memory until the structure changes.
:meth:`MagneticCalculator.evaluate_batch` evaluates many moment configurations of one structure
in one pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from magscreen.errors import InputError
from magscreen.magnetism.moments import moment_vectors
from magscreen.potential.graph import MagneticGraph, graph_from_atoms
from magscreen.potential.model import BackboneCache, MagneticPotential
from magscreen.potential.uncertainty import readout_features, reduced_formula, unknown_moments

__all__ = ["MagneticCalculator", "SHIPPED_MODELS_DIR", "shipped_models"]

SHIPPED_MODELS_DIR = Path(__file__).parent / "weights"
"""Folder of the models that ship with magscreen, one ``<name>.pt`` each."""

_GEOMETRIC = {"forces", "stress"}


def shipped_models() -> list[str]:
    """Names of the shipped models."""
    return sorted(p.stem for p in SHIPPED_MODELS_DIR.glob("*.pt"))


def _resolve(model: MagneticPotential | str | Path) -> MagneticPotential:
    if isinstance(model, MagneticPotential):
        return model
    path = Path(model)
    if path.suffix == ".pt" or path.exists():
        return MagneticPotential.load(path)
    shipped = SHIPPED_MODELS_DIR / f"{model}.pt"
    if shipped.is_file():
        return MagneticPotential.load(shipped)
    names = ", ".join(shipped_models()) or "none installed"
    raise InputError(
        f"no checkpoint or shipped model named {model!r}",
        field="model",
        expected=f"a MagneticPotential, a checkpoint path, or a shipped model name ({names})",
    )


class MagneticCalculator(Calculator):
    """ASE calculator of :class:`MagneticPotential`.

    Parameters
    ----------
    model
        A model, the path of a checkpoint, or the name of a shipped model
        (``magscreen/potential/weights/<name>.pt``).
    device
        Torch device to run on.
    dtype
        Floating-point dtype; by default the model's.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "magnetic_forces"]

    def __init__(
        self,
        model: MagneticPotential | str | Path = "monoxides",
        device: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.model = _resolve(model).to(device)
        if dtype is not None:
            self.model = self.model.to(dtype)
        self.model.eval()
        self._structure: tuple | None = None  # what the cached graph and backbone pass belong to
        self._graph: MagneticGraph | None = None
        self._backbone: BackboneCache | None = None

    @property
    def model_version(self) -> str:
        """Version string of the model's weights."""
        return self.model.model_version

    @property
    def magnetic_domain(self) -> tuple[str, ...]:
        """Elements the model saw with moments during training."""
        return self.model.magnetic_domain

    def magnetic_domain_of(self, atoms: Atoms) -> tuple[str, ...]:
        """Elements of ``atoms`` inside the magnetic domain in their environment here (every atom of
        the element must be; see :meth:`MagneticPotential.in_magnetic_domain`)."""
        graph = graph_from_atoms(atoms, self.model.cutoff, np.zeros((len(atoms), 3)), dtype=self.model.dtype)
        inside = self.model.in_magnetic_domain(graph)
        symbols = np.array(atoms.get_chemical_symbols())
        if inside is None:
            return tuple(sorted(set(symbols)))
        inside = inside.cpu().numpy()
        domain = self.model.magnetic_domain
        return tuple(sorted(e for e in set(symbols) if e in domain and inside[symbols == e].all()))

    def _structure_key(self, atoms: Atoms) -> tuple:
        """Everything the backbone pass depends on: the structure, and the identity, storage and
        in-place version of every weight and buffer (an optimiser step or ``load_state_dict`` bumps it)."""
        weights = tuple(
            (t.data_ptr(), t._version, t.dtype, t.device)
            for t in (*self.model.parameters(), *self.model.buffers())
        )
        geometry = (atoms.numbers, atoms.positions, np.asarray(atoms.cell), atoms.pbc)
        return id(self.model), weights, tuple(np.array(a, copy=True) for a in geometry)

    def _is_cached(self, key: tuple) -> bool:
        old = self._structure
        return (
            old is not None
            and old[:2] == key[:2]
            and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(old[2], key[2], strict=True))
        )

    def _structure_pass(self, atoms: Atoms) -> tuple[MagneticGraph, BackboneCache]:
        """Neighbour list and backbone pass of ``atoms``, reused while structure and weights stay."""
        key = self._structure_key(atoms)
        if not self._is_cached(key):
            self._structure = self._graph = self._backbone = None  # free the old graph first
            self.model.check_species(atoms.get_atomic_numbers())
            graph = graph_from_atoms(
                atoms, self.model.cutoff, np.zeros((len(atoms), 3)), dtype=self.model.dtype
            )
            self._backbone = self.model.backbone_cache(graph, keep_graph=True)
            self._graph, self._structure = graph, key
        return self._graph, self._backbone

    def calculate(self, atoms: Atoms | None = None, properties=None, system_changes=all_changes) -> None:
        """Energy and magnetic forces always; forces and stress when ``properties`` asks for them."""
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        moments = moment_vectors(atoms.get_initial_magnetic_moments(), len(atoms), source="atoms")
        graph, backbone = self._structure_pass(atoms)
        geometric = bool(_GEOMETRIC & set(properties or ()))
        periodic = bool(np.all(atoms.pbc))
        out = self.model(
            graph.with_moments(moments),
            compute_forces=geometric,
            compute_stress=geometric and periodic,
            compute_magnetic_forces=True,
            cache=backbone,
        )
        energy = float(out["energy"][0].detach())
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "magnetic_forces": out["magnetic_forces"].detach().cpu().numpy().astype(float),
        }
        if geometric:
            self.results["forces"] = out["forces"].detach().cpu().numpy().astype(float)
        if geometric and periodic:
            s = out["stress"][0].detach().cpu().numpy().astype(float)
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])

    def evaluate_batch(
        self, atoms: Atoms, moments: np.ndarray, *, forces: bool = False, chunk_size: int | None = None
    ) -> dict[str, np.ndarray]:
        """Energies and magnetic forces of many moment configurations of one structure.

        Parameters
        ----------
        atoms
            The structure; its own moments are ignored.
        moments
            Configurations (Bohr magnetons), shape (K, N, 3), or (K, N) collinear along z.
        forces
            Also return forces (one extra backward pass per configuration).
        chunk_size
            Configurations per pass (memory bound); chosen automatically by default.

        Returns
        -------
        dict
            ``energy`` (K,) eV, ``magnetic_forces`` (K, N, 3) eV/mu_B, ``forces`` (K, N, 3) eV/Angstrom.
        """
        moments = _configurations(atoms, moments)
        self.model.check_species(atoms.get_atomic_numbers())
        graph = graph_from_atoms(atoms, self.model.cutoff, np.zeros((len(atoms), 3)), dtype=self.model.dtype)
        out = self.model.evaluate_moments(
            graph, torch.as_tensor(moments), compute_forces=forces, chunk_size=chunk_size
        )
        return {k: v.cpu().numpy().astype(float) for k, v in out.items()}

    def readout_features(self, atoms: Atoms, moments: np.ndarray) -> np.ndarray:
        """Derivatives of the energy of K moment configurations of one structure with respect to the
        model's readout weights, shape (K, P) (:func:`~magscreen.potential.uncertainty.readout_features`).

        ``moments`` as in :meth:`evaluate_batch`. Features of configurations of different structures
        (relaxed orderings) stack into one matrix for :meth:`feature_covariance`.
        """
        moments = _configurations(atoms, moments)
        self.model.check_species(atoms.get_atomic_numbers())
        graph = graph_from_atoms(atoms, self.model.cutoff, np.zeros((len(atoms), 3)), dtype=self.model.dtype)
        features = readout_features(self.model, graph, torch.as_tensor(moments))
        unknown = unknown_moments(self.model, graph, moments)
        if unknown.any():  # the energy depends on moments the model never learned: no stated uncertainty
            features[:, :] = np.inf
        return features

    def feature_covariance(
        self, features: np.ndarray, formula: str | None = None, fitted: np.ndarray | None = None
    ) -> np.ndarray:
        """Covariance (eV^2) of the energies whose readout features are the rows of ``features`` (K, P):
        ``G Sigma G^T`` with the model's posterior, calibrated for the compound ``formula`` (reduced;
        :meth:`ReadoutPosterior.factor`), or, for rows where ``fitted`` (K,) is true (differences
        between orderings of the training data), by the fit's residuals; infinite for rows of unknown
        moments.

        Raises
        ------
        InputError
            The model records no posterior of its readout (trained without ``posterior_samples``), or
            one of another size.
        """
        posterior = self.model.readout_posterior
        if posterior is None or posterior.deviations.shape[1] != features.shape[-1]:
            raise InputError(
                f"model {self.model_version} records no posterior of its readout weights",
                field="model",
                expected="a model trained with posterior_samples > 0 (e.g. the shipped 'general')",
            )
        features = np.atleast_2d(features)
        unknown = ~np.isfinite(features).all(axis=1)
        covariance = posterior.covariance(np.where(np.isfinite(features), features, 0.0), formula, fitted)
        covariance[unknown, :] = np.inf
        covariance[:, unknown] = np.inf
        return covariance

    def energy_covariance(self, atoms: Atoms, moments: np.ndarray) -> np.ndarray:
        """Covariance (eV^2) of the energies of K moment configurations of one structure, shape (K, K).

        The one-sigma of an energy difference follows as
        ``sqrt(C[a, a] + C[b, b] - 2 C[a, b])``. Entries are infinite when a configuration puts a
        moment on an atom the model never learned (its element has no head or lies outside the
        magnetic domain): the model cannot back such an energy.
        """
        formula = reduced_formula(atoms.get_chemical_symbols())
        return self.feature_covariance(self.readout_features(atoms, moments), formula)


def _configurations(atoms: Atoms, moments: np.ndarray) -> np.ndarray:
    """Moment configurations as (K, N, 3) mu_B from (K, N, 3) or collinear (K, N)."""
    moments = np.asarray(moments, dtype=float)
    if moments.ndim == 2:
        moments = np.stack([moment_vectors(m, len(atoms)) for m in moments]) if len(moments) else moments
    if moments.ndim != 3 or moments.shape[1:] != (len(atoms), 3):
        raise InputError(
            f"moments have shape {moments.shape}",
            field="moments",
            expected=f"shape (K, {len(atoms)}, 3) or (K, {len(atoms)}) along z",
        )
    return moments
