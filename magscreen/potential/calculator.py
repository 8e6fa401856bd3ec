"""MagneticCalculator: the ASE calculator of the magnetic potential.

Moments are read from ``atoms.get_initial_magnetic_moments()`` (Bohr magnetons; shape (N,) for
collinear moments along z, or (N, 3)). Results: ``energy`` and ``free_energy`` (eV), ``forces``
(eV/Angstrom), ``stress`` (eV/Angstrom^3, Voigt order xx yy zz yz xz xy; periodic cells only) and
``magnetic_forces`` H = -dE/dm (eV/mu_B, shape (N, 3)).

When only the moments changed since the last call, the neighbour list is reused.
:meth:`MagneticCalculator.evaluate_batch` evaluates many moment configurations of one structure
with one neighbour list and one backbone pass.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from magscreen.errors import InputError
from magscreen.potential.graph import MagneticGraph, graph_from_atoms, moments_as_vectors
from magscreen.potential.model import MagneticPotential

__all__ = ["MagneticCalculator", "SHIPPED_MODELS_DIR", "shipped_models"]

SHIPPED_MODELS_DIR = Path(__file__).parent / "weights"
"""Folder of the models that ship with magscreen, one ``<name>.pt`` each."""

_GEOMETRY = {"positions", "numbers", "cell", "pbc"}


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
        self._graph: MagneticGraph | None = None

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

    def _graph_of(self, atoms: Atoms, moments: np.ndarray, reuse: bool) -> MagneticGraph:
        if reuse and self._graph is not None and self._graph.num_atoms == len(atoms):
            return self._graph.with_moments(moments)
        self.model.check_species(atoms.get_atomic_numbers())
        self._graph = graph_from_atoms(atoms, self.model.cutoff, moments, dtype=self.model.dtype)
        return self._graph

    def calculate(self, atoms: Atoms | None = None, properties=None, system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        moments = moments_as_vectors(atoms.get_initial_magnetic_moments(), len(atoms), source="atoms")
        graph = self._graph_of(atoms, moments, reuse=not (_GEOMETRY & set(system_changes)))
        periodic = bool(np.all(atoms.pbc))
        out = self.model(graph, compute_forces=True, compute_stress=periodic, compute_magnetic_forces=True)
        energy = float(out["energy"][0].detach())
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": out["forces"].detach().cpu().numpy().astype(float),
            "magnetic_forces": out["magnetic_forces"].detach().cpu().numpy().astype(float),
        }
        if periodic:
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
        moments = np.asarray(moments, dtype=float)
        if moments.ndim == 2:
            moments = (
                np.stack([moments_as_vectors(m, len(atoms)) for m in moments]) if len(moments) else moments
            )
        if moments.ndim != 3 or moments.shape[1:] != (len(atoms), 3):
            raise InputError(
                f"moments have shape {moments.shape}",
                field="moments",
                expected=f"shape (K, {len(atoms)}, 3) or (K, {len(atoms)}) along z",
            )
        self.model.check_species(atoms.get_atomic_numbers())
        graph = graph_from_atoms(atoms, self.model.cutoff, np.zeros((len(atoms), 3)), dtype=self.model.dtype)
        out = self.model.evaluate_moments(
            graph, torch.as_tensor(moments), compute_forces=forces, chunk_size=chunk_size
        )
        return {k: v.cpu().numpy().astype(float) for k, v in out.items()}
