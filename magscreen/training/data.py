"""Training data for the magnetic potential: labelled frames and the readers that make them.

A :class:`Frame` is one DFT configuration: species, positions, cell, one moment vector per atom
(the model's input, Bohr magnetons) and whichever labels the calculation produced (energy, forces,
magnetic forces, stress). A label the source does not hold is ``None``, never zeros, so the training
loss can mask it out.

Readers:

- :func:`read_deepmd_spin`: the deepmd-kit spin layout (``type.raw``, ``type_map.raw`` and
  ``set.*/{box,coord,spin,energy,force,force_mag,virial}.npy``), as in ``nio_deltaspin``;
- :func:`read_extxyz`: extended XYZ with per-atom ``magmoms`` ((N,) along z or (N, 3)),
  ``magnetic_forces`` and ASE's standard ``energy``/``forces``/``stress``;
- :func:`frames_from_validation_docs`: :class:`~magscreen.schemas.validation.DFTValidationDoc`
  documents from the project's store (energy labels only).

Every error names the file, the array or key, and the frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ase.data import atomic_numbers, chemical_symbols

from magscreen.errors import InputError
from magscreen.magnetism.moments import moment_vectors
from magscreen.potential.graph import MagneticGraph, build_graph

LABELS = ("energy", "forces", "magnetic_forces", "stress")
"""Label names a frame may carry, in the order the loss uses them."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One labelled configuration.

    Attributes
    ----------
    numbers
        Atomic numbers, shape (N,).
    positions
        Cartesian positions (Angstrom), shape (N, 3).
    cell
        Cell vectors as rows (Angstrom), shape (3, 3).
    pbc
        Periodic boundary conditions, shape (3,).
    moments
        Atomic moment vectors (Bohr magnetons), shape (N, 3); the model's input.
    energy
        Total energy (eV), or None when unlabelled.
    forces
        Forces (eV/Angstrom), shape (N, 3), or None.
    magnetic_forces
        Magnetic forces -dE/dm (eV/mu_B), shape (N, 3), or None.
    stress
        Stress (eV/Angstrom^3, ASE sign convention: positive under tension), shape (3, 3), or None.
    source
        Where the frame came from, ``<file>#<frame index>``, for error messages.
    energy_group
        Energies compare only within this group (e.g. one compound computed with another DFT code):
        training fits the group its own energy offset. None: absolute energies, compared through
        per-element reference energies.
    weight
        Weight of the frame in a least-squares readout, labels and priors alike (2: counted twice).
    """

    numbers: np.ndarray
    positions: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray
    moments: np.ndarray
    energy: float | None = None
    forces: np.ndarray | None = None
    magnetic_forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    source: str = ""
    energy_group: str | None = None
    weight: float = 1.0

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.numbers)

    @property
    def labels(self) -> frozenset[str]:
        """Names of the labels this frame carries (a subset of :data:`LABELS`)."""
        return frozenset(name for name in LABELS if getattr(self, name) is not None)

    @property
    def magnetic_elements(self) -> frozenset[str]:
        """Chemical symbols of the atoms that carry a non-zero moment."""
        carrying = np.linalg.norm(self.moments, axis=1) > 0
        return frozenset(chemical_symbols[z] for z in np.unique(self.numbers[carrying]))

    def graph(self, cutoff: float, dtype: torch.dtype = torch.float64) -> MagneticGraph:
        """Graph of the frame, its moments included, with the neighbour list within ``cutoff`` (Angstrom)."""
        return build_graph(
            self.numbers, self.positions, self.cell, self.pbc, self.moments, cutoff=cutoff, dtype=dtype
        )

    def to_atoms(self):
        """The frame as an ASE ``Atoms`` with its moments as initial magnetic moments."""
        from ase import Atoms

        atoms = Atoms(numbers=self.numbers, positions=self.positions, cell=self.cell, pbc=self.pbc)
        atoms.set_initial_magnetic_moments(self.moments)
        return atoms


def _check_finite(values: np.ndarray, *, source: str | Path, name: str, frame_axis: bool = True) -> None:
    """Raise :class:`InputError` naming the first frame whose ``values`` hold NaN or inf."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    first = int(np.argwhere(bad)[0][0]) if frame_axis else 0
    raise InputError(
        f"non-finite value (NaN or inf) in frame {first}",
        source=source,
        field=name,
        expected="finite numbers",
    )


# ----------------------------------------------------------------------------------- deepmd spin

_DEEPMD_INPUTS = ("box", "coord", "spin")
_DEEPMD_LABELS = {"energy": "energy", "force": "forces", "force_mag": "magnetic_forces", "virial": "stress"}


def read_deepmd_spin(folder: str | Path) -> list[Frame]:
    """Read a deepmd-kit spin data folder.

    Parameters
    ----------
    folder
        Folder holding ``type.raw``, ``type_map.raw`` and one or more ``set.*`` folders with
        ``box.npy`` (frames, 9) Angstrom, ``coord.npy`` (frames, 3N) Angstrom, ``spin.npy``
        (frames, 3N) mu_B and optional labels ``energy.npy`` (frames,) eV, ``force.npy``
        (frames, 3N) eV/Angstrom, ``force_mag.npy`` (frames, 3N) eV/mu_B, ``virial.npy``
        (frames, 9) eV.

    Returns
    -------
    list of Frame
        One frame per row, all periodic; a label array that is absent leaves that label ``None``.

    Raises
    ------
    InputError
        Missing file or array, frame counts or shapes that disagree, non-finite values,
        an unknown element symbol.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("data folder not found", source=folder, expected="a deepmd spin folder")
    numbers = _read_deepmd_types(folder)
    set_dirs = sorted(p for p in folder.glob("set.*") if p.is_dir())
    if not set_dirs:
        raise InputError("no set.* folder", source=folder, field="set.000", expected="set.000/*.npy")
    frames: list[Frame] = []
    for set_dir in set_dirs:
        frames.extend(_read_deepmd_set(set_dir, numbers))
    return frames


def _read_deepmd_types(folder: Path) -> np.ndarray:
    """Atomic numbers from ``type.raw`` and ``type_map.raw``."""
    for name in ("type.raw", "type_map.raw"):
        if not (folder / name).is_file():
            raise InputError("missing file", source=folder / name, field=name, expected="deepmd type file")
    type_map = (folder / "type_map.raw").read_text().split()
    for symbol in type_map:
        if symbol not in atomic_numbers:
            raise InputError(
                f"unknown element {symbol!r}",
                source=folder / "type_map.raw",
                field="type_map",
                expected="chemical symbols",
            )
    types = np.loadtxt(folder / "type.raw", dtype=int, ndmin=1)
    if types.min() < 0 or types.max() >= len(type_map):
        raise InputError(
            f"type index {types.max()} outside type_map of {len(type_map)} elements",
            source=folder / "type.raw",
            field="type",
            expected=f"indices 0..{len(type_map) - 1}",
        )
    return np.array([atomic_numbers[type_map[t]] for t in types])


def _read_deepmd_set(set_dir: Path, numbers: np.ndarray) -> list[Frame]:
    """Frames of one ``set.*`` folder."""
    n_atoms = len(numbers)
    arrays: dict[str, np.ndarray] = {}
    for name in (*_DEEPMD_INPUTS, *_DEEPMD_LABELS):
        path = set_dir / f"{name}.npy"
        if not path.is_file():
            if name in _DEEPMD_INPUTS:
                raise InputError(
                    "missing array", source=path, field=name, expected=f"{name}.npy in {set_dir}"
                )
            continue
        arrays[name] = np.load(path).astype(float)
    width = {
        "box": 9,
        "coord": 3 * n_atoms,
        "spin": 3 * n_atoms,
        "energy": 1,
        "force": 3 * n_atoms,
        "force_mag": 3 * n_atoms,
        "virial": 9,
    }
    n_frames = len(arrays["coord"])
    for name, values in arrays.items():
        path = set_dir / f"{name}.npy"
        if len(values) != n_frames:
            raise InputError(
                f"{len(values)} frames but coord.npy has {n_frames}",
                source=path,
                field=name,
                expected=f"{n_frames} frames",
            )
        values = values.reshape(n_frames, -1)
        if values.shape[1] != width[name]:
            raise InputError(
                f"{values.shape[1]} values per frame for {n_atoms} atoms",
                source=path,
                field=name,
                expected=f"{width[name]} values per frame",
            )
        _check_finite(values, source=path, name=name)
        arrays[name] = values
    frames = []
    for i in range(n_frames):
        cell = arrays["box"][i].reshape(3, 3)
        labels = {}
        if "energy" in arrays:
            labels["energy"] = float(arrays["energy"][i, 0])
        if "force" in arrays:
            labels["forces"] = arrays["force"][i].reshape(n_atoms, 3)
        if "force_mag" in arrays:
            labels["magnetic_forces"] = arrays["force_mag"][i].reshape(n_atoms, 3)
        if "virial" in arrays:
            labels["stress"] = -arrays["virial"][i].reshape(3, 3) / abs(np.linalg.det(cell))
        frames.append(
            Frame(
                numbers=numbers.copy(),
                positions=arrays["coord"][i].reshape(n_atoms, 3),
                cell=cell,
                pbc=np.ones(3, dtype=bool),
                moments=arrays["spin"][i].reshape(n_atoms, 3),
                source=f"{set_dir}#{i}",
                **labels,
            )
        )
    return frames


# ----------------------------------------------------------------------------------- extended XYZ


def read_extxyz(path: str | Path, *, moments_key: str = "magmoms") -> list[Frame]:
    """Read an extended XYZ file with per-atom moments and optional labels.

    Parameters
    ----------
    path
        Extended XYZ file. Per-atom ``magmoms`` ((N,) along z, or (N, 3), mu_B) are required;
        ``magnetic_forces`` (N, 3) eV/mu_B, ``forces`` (N, 3) eV/Angstrom, ``energy`` (eV) and
        ``stress`` (Voigt 6 or 3x3, eV/Angstrom^3) are labels read where present; an
        ``energy_group`` info key marks energies that compare only within their group.
    moments_key
        Name of the per-atom moment column.

    Returns
    -------
    list of Frame
    """
    from ase.io import read
    from ase.stress import voigt_6_to_full_3x3_stress

    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=path, expected="an extended XYZ file")
    try:
        images = read(path, index=":", format="extxyz")
    except Exception as error:  # ASE raises many types for malformed files
        raise InputError(f"cannot parse: {error}", source=path, expected="extended XYZ") from error
    if not images:
        raise InputError("no frames", source=path, expected="at least one frame")
    frames = []
    for i, atoms in enumerate(images):
        where = f"{path}#{i}"
        results = dict(atoms.calc.results) if atoms.calc is not None else {}
        per_atom = {**results, **atoms.arrays}
        per_frame = {**results, **atoms.info}
        if moments_key not in per_atom:
            raise InputError(
                f"frame {i} has no per-atom moments",
                source=path,
                field=moments_key,
                expected=f"a per-atom '{moments_key}' column (N or N x 3, mu_B)",
            )
        n_atoms = len(atoms)
        moments = moment_vectors(per_atom[moments_key], n_atoms, source=where, field=moments_key)
        labels: dict[str, float | np.ndarray] = {}
        if "energy" in per_frame:
            labels["energy"] = float(per_frame["energy"])
        for key in ("forces", "magnetic_forces"):
            if key in per_atom:
                values = np.asarray(per_atom[key], dtype=float)
                if values.shape != (n_atoms, 3):
                    raise InputError(
                        f"frame {i}: shape {values.shape}",
                        source=path,
                        field=key,
                        expected=f"shape ({n_atoms}, 3)",
                    )
                labels[key] = values
        if "stress" in per_frame:
            stress = np.asarray(per_frame["stress"], dtype=float)
            labels["stress"] = (
                voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress.reshape(3, 3)
            )
        for key, values in {"positions": atoms.positions, moments_key: moments, **labels}.items():
            if not np.all(np.isfinite(values)):
                raise InputError(
                    f"non-finite value (NaN or inf) in frame {i}",
                    source=path,
                    field=key,
                    expected="finite numbers",
                )
        frames.append(
            Frame(
                numbers=atoms.numbers.copy(),
                positions=atoms.positions.copy(),
                cell=np.asarray(atoms.cell[:], dtype=float),
                pbc=atoms.pbc.copy(),
                moments=moments,
                source=where,
                energy_group=None if "energy_group" not in atoms.info else str(atoms.info["energy_group"]),
                **labels,
            )
        )
    return frames


# ----------------------------------------------------------------------------------- store documents


def frames_from_validation_docs(docs: Iterable) -> list[Frame]:
    """Frames from DFT validation documents (energy labels; moments from ``magnetic_moments``).

    Each frame's energy group is ``<candidate_id>:<engine>:<hash of the settings>``: energies compare
    only within one candidate computed with one engine and one set of settings (the k-point grid
    aside, which follows the cell at one k-point density).

    Parameters
    ----------
    docs
        :class:`~magscreen.schemas.validation.DFTValidationDoc` objects or their dicts. Documents
        without ``structure``, ``magnetic_moments`` or ``energy_eV``, or not converged, are skipped.
    """
    from pymatgen.core import Structure

    from magscreen.schemas.validation import DFTValidationDoc

    frames = []
    for raw in docs:
        doc = raw if isinstance(raw, DFTValidationDoc) else DFTValidationDoc.model_validate(raw)
        if (
            not doc.converged
            or doc.structure is None
            or doc.magnetic_moments is None
            or doc.energy_eV is None
        ):
            continue
        structure = Structure.from_dict(doc.structure)
        where = f"store:{doc.validation_id}"
        # the k-point grid follows the cell; the density, cutoff, functional, U... must agree
        settings = hashlib.sha256(doc.settings.model_dump_json(exclude={"kpoints"}).encode()).hexdigest()[:8]
        moments = moment_vectors(
            np.asarray(doc.magnetic_moments), len(structure), source=where, field="magnetic_moments"
        )
        frames.append(
            Frame(
                numbers=np.array(structure.atomic_numbers),
                positions=structure.cart_coords.copy(),
                cell=structure.lattice.matrix.copy(),
                pbc=np.ones(3, dtype=bool),
                moments=moments,
                energy=doc.energy_eV,
                source=where,
                energy_group=f"{doc.candidate_id}:{doc.engine}:{settings}",
            )
        )
    return frames


# ----------------------------------------------------------------------------------- checks


def check_elements(frames: Sequence[Frame], known: Iterable[str], *, model: str = "backbone") -> None:
    """Raise :class:`InputError` at the first atom whose element the model does not know.

    Parameters
    ----------
    frames
        Frames to check.
    known
        Chemical symbols the model (its backbone) has species embeddings for.
    model
        Name of the model, for the message.
    """
    known = set(known)
    for frame in frames:
        for index, z in enumerate(frame.numbers):
            symbol = chemical_symbols[z]
            if symbol in known:
                continue
            carries = np.linalg.norm(frame.moments[index]) > 0
            what = "moments given for" if carries else "atom of"
            raise InputError(
                f"{what} element {symbol} (atom {index}), which the {model} does not know",
                source=frame.source,
                field="moments" if carries else "numbers",
                expected=f"elements among the {len(known)} the {model} knows",
            )


def require_frames(frames: Sequence[Frame], *, split: str, source: str | Path) -> None:
    """Raise :class:`InputError` if a split holds no frames."""
    if len(frames) == 0:
        raise InputError(
            f"the {split} split holds no frames",
            source=source,
            field=f"data.{split}",
            expected="at least one frame",
        )


def read_frames(path: str | Path, fmt: str = "auto") -> list[Frame]:
    """Read frames from a deepmd spin folder (``fmt='deepmd_spin'``) or extended XYZ (``'extxyz'``).

    ``fmt='auto'`` picks deepmd for a folder and extended XYZ for a file.
    """
    path = Path(path)
    if fmt == "auto":
        fmt = "deepmd_spin" if path.is_dir() else "extxyz"
    if fmt == "deepmd_spin":
        return read_deepmd_spin(path)
    if fmt == "extxyz":
        return read_extxyz(path)
    raise InputError(
        f"unknown format {fmt!r}", source=path, field="format", expected="'deepmd_spin' or 'extxyz'"
    )
