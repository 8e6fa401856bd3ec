"""The non-magnetic backbone: SevenNet's equivariant message-passing network, run up to its node features.

:class:`SevenNetBackbone` wraps the layers that ``sevenn`` builds from a model configuration
(``sevenn.model_build.build_E3_equivariant_model``), drops SevenNet's own one-hot and force/stress
modules, and returns two things per atom: the invariant node features ``h_i`` of the last
interaction layer (the magnetic blocks read them) and SevenNet's atomic energy. Forces and stress
are taken by :class:`~magscreen.potential.model.MagneticPotential` from the total energy.

Two configurations:

- :func:`small_backbone_config`: a small random network of the same architecture with parity on
  (exactly O(3)-invariant), for tests and quick experiments;
- :func:`sevennet0_config` / :func:`sevennet0_state_dict`: SevenNet-0 (11 July 2024) as shipped in
  the ``sevenn`` wheel, nothing downloaded. It was trained with parity off: it is invariant under
  proper rotations but not under inversion.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import sevenn
import sevenn._keys as KEY
import torch
from ase.data import atomic_numbers, chemical_symbols
from sevenn.model_build import build_E3_equivariant_model
from torch import nn

__all__ = [
    "SEVENNET0_CHECKPOINT",
    "SevenNetBackbone",
    "sevennet0_config",
    "sevennet0_state_dict",
    "small_backbone_config",
]

SEVENNET0_CHECKPOINT = (
    Path(sevenn.__file__).parent
    / "pretrained_potentials"
    / "SevenNet_0__11Jul2024"
    / "checkpoint_sevennet_0.pth"
)
"""SevenNet-0 checkpoint inside the installed ``sevenn`` wheel."""

_MODEL_KEYS = (
    KEY.CUTOFF,
    KEY.NODE_FEATURE_MULTIPLICITY,
    KEY.IRREPS_MANUAL,
    KEY.LMAX,
    KEY.LMAX_EDGE,
    KEY.LMAX_NODE,
    KEY.IS_PARITY,
    KEY.NUM_CONVOLUTION,
    KEY.RADIAL_BASIS,
    KEY.CUTOFF_FUNCTION,
    KEY.ACTIVATION_RADIAL,
    KEY.ACTIVATION_SCARLAR,
    KEY.ACTIVATION_GATE,
    KEY.CONVOLUTION_WEIGHT_NN_HIDDEN_NEURONS,
    KEY.CONV_DENOMINATOR,
    KEY.TRAIN_DENOMINTAOR,
    KEY.TRAIN_SHIFT_SCALE,
    KEY.USE_BIAS_IN_LINEAR,
    KEY.READOUT_AS_FCN,
    KEY.SELF_CONNECTION_TYPE,
    KEY.INTERACTION_TYPE,
    KEY._NORMALIZE_SPH,
    KEY.CHEMICAL_SPECIES,
    KEY.NUM_SPECIES,
    KEY.TYPE_MAP,
    KEY.SHIFT,
    KEY.SCALE,
)
"""Configuration keys that define the network (the rest of a SevenNet checkpoint is training state)."""

_READOUT = ("reduce_input_to_hidden", "reduce_hidden_to_energy", "rescale_atomic_energy")
_DROPPED = ("onehot_idx_to_onehot", "reduce_total_enegy", "force_output")


def _plain(value: Any) -> Any:
    """Configuration value as plain Python (lists, dicts, numbers, strings) for checkpoints."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def small_backbone_config(
    species: tuple[str, ...], cutoff: float = 4.0, channels: int = 8, lmax: int = 1, num_layers: int = 2
) -> dict[str, Any]:
    """Configuration of a small SevenNet network with parity on (random weights).

    Parameters
    ----------
    species
        Element symbols the network knows.
    cutoff
        Neighbour cutoff (Angstrom).
    channels
        Multiplicity of every irrep in the node features.
    lmax
        Highest angular momentum in node features and edge harmonics.
    num_layers
        Number of interaction (convolution) layers.
    """
    symbols = sorted(set(species), key=lambda s: atomic_numbers[s])
    return {
        KEY.CUTOFF: float(cutoff),
        KEY.NODE_FEATURE_MULTIPLICITY: channels,
        KEY.IRREPS_MANUAL: False,
        KEY.LMAX: lmax,
        KEY.LMAX_EDGE: -1,
        KEY.LMAX_NODE: -1,
        KEY.IS_PARITY: True,
        KEY.NUM_CONVOLUTION: num_layers,
        KEY.RADIAL_BASIS: {KEY.RADIAL_BASIS_NAME: "bessel", KEY.BESSEL_BASIS_NUM: 8},
        KEY.CUTOFF_FUNCTION: {KEY.CUTOFF_FUNCTION_NAME: "poly_cut", KEY.POLY_CUT_P: 6},
        KEY.ACTIVATION_RADIAL: "silu",
        KEY.ACTIVATION_SCARLAR: {"e": "silu", "o": "tanh"},
        KEY.ACTIVATION_GATE: {"e": "silu", "o": "tanh"},
        KEY.CONVOLUTION_WEIGHT_NN_HIDDEN_NEURONS: [16, 16],
        KEY.CONV_DENOMINATOR: 10.0,
        KEY.TRAIN_DENOMINTAOR: False,
        KEY.TRAIN_SHIFT_SCALE: False,
        KEY.USE_BIAS_IN_LINEAR: False,
        KEY.READOUT_AS_FCN: False,
        KEY.SELF_CONNECTION_TYPE: "linear",
        KEY.INTERACTION_TYPE: "nequip",
        KEY._NORMALIZE_SPH: True,
        KEY.CHEMICAL_SPECIES: list(symbols),
        KEY.NUM_SPECIES: len(symbols),
        KEY.TYPE_MAP: {atomic_numbers[s]: k for k, s in enumerate(symbols)},
        KEY.SHIFT: [0.0] * len(symbols),
        KEY.SCALE: [1.0] * len(symbols),
    }


def _load_sevennet0():
    from sevenn.checkpoint import SevenNetCheckpoint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SevenNetCheckpoint(str(SEVENNET0_CHECKPOINT))


def sevennet0_config() -> dict[str, Any]:
    """Network configuration of SevenNet-0 (89 elements, 5 Angstrom cutoff, parity off)."""
    config = _load_sevennet0().config
    network = {key: _plain(config[key]) for key in _MODEL_KEYS if key in config}
    # The convolution denominator (average neighbour count per layer) is stored in the weights and
    # in ``avg_num_neigh``; the config's own value is 0, which would divide a fresh network by zero.
    network[KEY.CONV_DENOMINATOR] = [float(v) for v in _plain(config["avg_num_neigh"])]
    return network


def sevennet0_state_dict() -> dict[str, torch.Tensor]:
    """SevenNet-0 weights, keyed as in :class:`SevenNetBackbone` ``.layers``."""
    checkpoint = _load_sevennet0()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = checkpoint.build_model()
    return {k: v for k, v in model.state_dict().items() if k.split(".")[0] not in _DROPPED}


class SevenNetBackbone(nn.Module):
    """SevenNet interaction layers and readout; returns node features and atomic energies.

    Parameters
    ----------
    config
        Network configuration (keys of ``sevenn._keys``), e.g. from :func:`small_backbone_config`
        or :func:`sevennet0_config`.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.config = _plain(copy.deepcopy(config))
        self.config[KEY.TYPE_MAP] = {int(z): int(k) for z, k in self.config[KEY.TYPE_MAP].items()}
        self.cutoff = float(self.config[KEY.CUTOFF])
        self.num_species = int(self.config[KEY.NUM_SPECIES])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sequential = build_E3_equivariant_model(copy.deepcopy(self.config))
        modules = dict(sequential._modules.items())
        for name in _DROPPED:
            modules.pop(name, None)
        self.layers = nn.ModuleDict(modules)
        self._feature_names = [name for name in modules if name not in _READOUT]
        self._readout_names = [name for name in modules if name in _READOUT]
        index = torch.full((120,), -1, dtype=torch.int64)
        for z, k in self.config[KEY.TYPE_MAP].items():
            index[z] = k
        self.register_buffer("species_index", index, persistent=False)
        self.feature_dim = int(self.layers[self._readout_names[0]].linear.irreps_in.dim)

    @property
    def species(self) -> tuple[str, ...]:
        """Element symbols the backbone knows, by atomic number."""
        return tuple(chemical_symbols[z] for z in sorted(self.config[KEY.TYPE_MAP]))

    @property
    def is_parity(self) -> bool:
        """Whether the network is built O(3)-equivariant (True) or only SO(3)-equivariant."""
        return bool(self.config[KEY.IS_PARITY])

    def forward(
        self, numbers: torch.Tensor, edge_index: torch.Tensor, edge_vec: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Node features (N, feature_dim) and atomic energies (eV, shape (N,)).

        Parameters
        ----------
        numbers
            Atomic numbers, shape (N,); every one must be known (checked by the caller).
        edge_index
            Centre and neighbour of every edge, shape (2, E).
        edge_vec
            Edge vectors r_j - r_i (Angstrom), shape (E, 3), carrying the autograd graph.
        """
        types = self.species_index[numbers]
        onehot = nn.functional.one_hot(types, self.num_species).to(edge_vec.dtype)
        data = {
            KEY.NODE_FEATURE: onehot,
            KEY.NODE_ATTR: onehot,
            KEY.ATOM_TYPE: types,
            KEY.EDGE_IDX: edge_index,
            KEY.EDGE_VEC: edge_vec,
        }
        for name in self._feature_names:
            data = self.layers[name](data)
        features = data[KEY.NODE_FEATURE]
        for name in self._readout_names:
            data = self.layers[name](data)
        return features, data[KEY.ATOMIC_ENERGY].reshape(-1)
