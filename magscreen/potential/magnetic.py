"""Magnetic blocks: the moment-dependent energy on top of the backbone's invariant node features.

:class:`MagneticEnergy` maps backbone node features ``h_i`` (scalars), edge vectors ``r_ij`` and
moments ``m_i`` (Bohr magnetons) to an energy per atom. Every edge term carries the smooth
polynomial envelope of the cutoff, so the energy and its derivatives are continuous when a
neighbour crosses the cutoff. The energy is built to vanish at m = 0, so non-magnetic
configurations keep the backbone energy exactly.

Exchange (always on): moments enter only through spin-space invariants, so real space and spin
space rotate independently and the energy is even in m (time reversal):

- ``x_i = |m_i|^2`` through ``s_i = sqrt(x_i / m0^2 + eps^2) - eps`` and a Gaussian basis (smooth at m = 0);
- a spin field ``S_i^c = sum_j w_c(r_ij, h_j) m_j`` per channel c, and the invariants
  ``m_i . S_i^c`` (bilinear exchange) and ``S_i^c . S_i^c`` (biquadratic, many-body exchange);
- a node network of these invariants (when ``spin_invariants``), ``h_i`` and the magnitude basis
  with two outputs, ``E_i = e0 - e0(m = 0) + s_i e1``: the second makes how the energy changes with
  the moment length independent of the energy itself (constrained-moment DFT, where every moment
  has one length, labels both: the field along m is not the slope of the energies it is given
  with); without the spin invariants it is a Landau-like on-site term of |m_i| and the environment;
- (``bilinear_exchange=True``) an explicit Heisenberg pair energy, linear in m_i . m_j, whose
  coupling depends on the moment lengths,
  ``E_bil = 1/2 sum_{i != j} [J(r_ij, h_i, h_j) + K(r_ij, h_i, h_j) (s_i + s_j)] m_i . m_j`` with
  ``J = sum_k R_k(r_ij) g_k(h_i) g_k(h_j) x envelope(r_ij)`` (K alike), ``g_k = (1 + tanh u_k(h)) / 2``,
  symmetric in i <-> j. K makes the stiffness along m (how the field on a moment's length depends on
  its neighbours' alignment) independent of the transverse one; constrained-moment NiO needs both.

Element heads (``element_heads``): the last layer of the node network and of the pair radial
network can be one per element (per unordered element pair for the pair term); the hidden layers
stay shared. Atoms of other elements then carry no node energy (an O atom between two Ni does not
respond to their spin field on its own; superexchange through it is the Ni-Ni pair term's).
With the backbone frozen those last layers are what training fits
(:mod:`magscreen.training.readout`), so one element's data cannot move the couplings learned for
another. Without ``element_heads`` all elements share one head.

Spin-orbit coupling (``soc=True``): moments also enter as axial vectors (e3nn ``1e``) coupled to
the edge geometry (Y^l of a bond has parity (-1)^l). Each term is even in m (quadratic; quartic for l = 4):

- single-ion anisotropy ``Y2(m_i) . sum_j w(r_ij) Y2(r_ij)`` (``(m_i x m_i)_2e`` against the
  environment's quadrupole) and its fourth-order companion ``Y4(m_i) . sum_j w'(r_ij) Y4(r_ij)``,
  the leading anisotropy of cubic crystals, where the l = 2 environment sums vanish;
- two-site anisotropy ``(m_i x m_j)_2e . Y2(r_ij)``, with the symmetric l = 2 product taken as
  ``[Y2(m_i + m_j) - Y2(m_i - m_j)] / 4``;
- Dzyaloshinskii-Moriya ``(m_i x m_j) . D_ij`` with the axial vector
  ``D_ij = r_ij x (P_i + P_j)``, where ``P_i = sum_k w(r_ik) r_ik`` is a polar environment vector;
  D_ij is odd under i <-> j and vanishes on bonds whose midpoint is an inversion centre (Moriya).

Y^l(m) is the solid harmonic, a homogeneous polynomial of degree l in m: even for even l.
Their amplitudes are per-atom coefficients from a network of ``h_i`` and ``|m_i|``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from ase.data import atomic_numbers, chemical_symbols
from e3nn import o3
from torch import nn

__all__ = ["MagneticEnergy", "MagneticHyperparameters"]


@dataclass(frozen=True)
class MagneticHyperparameters:
    """Sizes and scales of the magnetic blocks.

    Attributes
    ----------
    channels
        Exchange channels (spin fields per atom).
    soc_channels
        Channels of each spin-orbit term.
    num_radial
        Bessel functions of the edge length.
    radial_hidden
        Width of the radial network.
    hidden
        Width of the node networks.
    moment_scale
        Moment unit m0 of the invariants (Bohr magnetons).
    magnitude_basis
        Gaussians of the moment magnitude.
    magnitude_max
        Largest moment the magnitude basis resolves, in units of m0.
    epsilon
        Smoothing of |m| at zero: s = sqrt(|m/m0|^2 + eps^2) - eps.
    avg_num_neighbors
        Normalisation of sums over neighbours.
    envelope_p
        Exponent of the polynomial cutoff envelope (continuous up to second derivatives).
    bilinear_exchange
        Add the explicit Heisenberg pair term with its length slope K. Without it the least-squares
        fit of constrained-moment NiO stays near the zero-shot magnetic-force error (5.7 against
        1.0 meV/mu_B on held-out frames, docs/model.md).
    bilinear_channels
        Terms k of the symmetric pair coupling J = sum_k R_k(r) g_k(h_i) g_k(h_j).
    pair_scale
        Energy unit of the pair coupling J (eV): network outputs of order one mean J of order
        10 meV, so optimiser steps stay small next to exchange energies.
    spin_invariants
        Feed ``m_i . S_i^c`` and ``S_i^c . S_i^c`` to the node network (beyond-Heisenberg exchange);
        without them (and with ``bilinear_exchange``) the model is Heisenberg pairs plus a
        Landau-like on-site term.
    element_heads
        Elements whose node and pair outputs have their own last layer; the others carry no magnetic
        energy of their own. () shares one head among all elements.
    """

    channels: int = 16
    soc_channels: int = 8
    num_radial: int = 8
    radial_hidden: int = 32
    hidden: int = 64
    moment_scale: float = 2.0
    magnitude_basis: int = 8
    magnitude_max: float = 3.0
    epsilon: float = 0.1
    avg_num_neighbors: float = 32.0
    envelope_p: int = 6
    bilinear_exchange: bool = True
    bilinear_channels: int = 4
    pair_scale: float = 0.01
    spin_invariants: bool = True
    element_heads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "element_heads", tuple(self.element_heads))  # lists from checkpoints
        unknown = [e for e in self.element_heads if e not in chemical_symbols[1:]]
        if unknown or len(set(self.element_heads)) != len(self.element_heads):
            raise ValueError(
                f"element_heads: expected distinct element symbols, got {list(self.element_heads)}"
            )

    @property
    def head_slots(self) -> int:
        """Node heads: one per element of ``element_heads`` and a shared one, which carries energy only
        when ``element_heads`` is empty (otherwise atoms of other elements carry none)."""
        return len(self.element_heads) + 1

    @property
    def pair_slots(self) -> int:
        """Pair heads: one per unordered pair of node heads."""
        return self.head_slots * (self.head_slots + 1) // 2

    def as_dict(self) -> dict:
        """Plain dictionary, for checkpoints."""
        return {**asdict(self), "element_heads": list(self.element_heads)}


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if k < len(sizes) - 2:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


def _scatter(values: torch.Tensor, index: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """Sum ``values`` into ``size`` slots along ``dim`` by ``index``."""
    shape = list(values.shape)
    shape[dim] = size
    return values.new_zeros(shape).index_add(dim, index, values)


class PolynomialEnvelope(nn.Module):
    """Cutoff envelope 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2), x = r / r_c.

    It and its first two derivatives vanish at r_c.
    """

    def __init__(self, cutoff: float, p: int) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.p = p

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        x = r / self.cutoff
        p = self.p
        value = 1 - (p + 1) * (p + 2) / 2 * x**p + p * (p + 2) * x ** (p + 1) - p * (p + 1) / 2 * x ** (p + 2)
        return value * (x < 1)


class BesselBasis(nn.Module):
    """Radial basis (2 / r_c) sin(n pi r / r_c) / r, n = 1..num."""

    def __init__(self, cutoff: float, num: int) -> None:
        super().__init__()
        self.cutoff = cutoff
        self.register_buffer("frequencies", torch.arange(1, num + 1) * math.pi / cutoff)

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        return 2.0 / self.cutoff * torch.sin(self.frequencies * r.unsqueeze(-1)) / r.unsqueeze(-1)


class MagneticEnergy(nn.Module):
    """Moment-dependent energy per atom (eV).

    Parameters
    ----------
    feature_dim
        Width of the backbone's invariant node features.
    cutoff
        Cutoff of every edge term (Angstrom), the backbone's.
    soc
        Whether the spin-orbit terms (anisotropy, Dzyaloshinskii-Moriya) are present.
    hyper
        Sizes and scales.
    """

    def __init__(self, feature_dim: int, cutoff: float, soc: bool, hyper: MagneticHyperparameters) -> None:
        super().__init__()
        self.soc = soc
        self.hyper = hyper
        c, cs = hyper.channels, hyper.soc_channels
        self.exchange_width = c if hyper.spin_invariants else 0
        self.edge_width = self.exchange_width + (5 * cs if soc else 0)
        self.radial_basis = BesselBasis(cutoff, hyper.num_radial)
        self.envelope = PolynomialEnvelope(cutoff, hyper.envelope_p)
        if self.edge_width:
            self.radial = _mlp([hyper.num_radial, hyper.radial_hidden, self.edge_width])
            self.sender = nn.Linear(feature_dim, self.edge_width)
        self.receiver = nn.Linear(feature_dim, c)
        self.register_buffer(
            "magnitude_centres", torch.linspace(0.0, hyper.magnitude_max, hyper.magnitude_basis)
        )
        node_width = c + hyper.magnitude_basis
        # head slot of every atomic number: 0 shared, k for the k-th of element_heads
        slots = torch.zeros(len(chemical_symbols), dtype=torch.long)
        for k, element in enumerate(hyper.element_heads, start=1):
            slots[atomic_numbers[element]] = k
        self.register_buffer("head_slot", slots, persistent=False)
        # two outputs per head: an energy e0 and a slope e1 in the moment length,
        # E_i = e0 - e0(m=0) + s_i e1
        self.exchange = _mlp(
            [node_width + 2 * self.exchange_width, hyper.hidden, hyper.hidden, 2 * hyper.head_slots]
        )
        if soc:
            self.soc_coefficients = _mlp([node_width, hyper.hidden, 4 * cs])
        if hyper.bilinear_exchange:
            k = hyper.bilinear_channels
            self.pair_radial = _mlp([hyper.num_radial, hyper.radial_hidden, 2 * k * hyper.pair_slots])
            self.pair_node = nn.Linear(feature_dim, k)

    def output_layers(self) -> list[nn.Linear]:
        """The last linear layer of every energy head (zero them to start from the backbone alone)."""
        heads = [self.exchange[-1]]
        if self.soc:
            heads.append(self.soc_coefficients[-1])
        if self.hyper.bilinear_exchange:
            heads.append(self.pair_radial[-1])
        return heads

    def slots(self, numbers: torch.Tensor | None, num_atoms: int) -> torch.Tensor:
        """Node-head slot of every atom, shape (N,): 0 for the shared head (all atoms without ``numbers``)."""
        if numbers is None:
            return torch.zeros(num_atoms, dtype=torch.long, device=self.head_slot.device)
        return self.head_slot[numbers]

    def pair_coupling(
        self,
        features: torch.Tensor,
        edge_index: torch.Tensor,
        r: torch.Tensor,
        slots: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Heisenberg coupling J_ij and its slope K_ij in the moment length s per edge, each (E,).

        Units: eV per ``moment_scale``^2 (K per unit of s as well); J_ij = J_ji, K_ij = K_ji. The node
        factors ``(1 + tanh u_k(h)) / 2`` lie in (0, 1): bounded, and never all zero, so the radial
        part keeps a gradient (a bare product u_i u_j has a saddle at u = 0). ``slots`` (N,) picks the
        radial head of each edge's unordered pair of node-head slots (see :meth:`slots`).
        """
        slots = self.slots(None, features.shape[0]) if slots is None else slots
        a, b = slots[edge_index[0]], slots[edge_index[1]]
        high, low = torch.maximum(a, b), torch.minimum(a, b)
        pair_slot = high * (high + 1) // 2 + low
        node = 0.5 * (1.0 + torch.tanh(self.pair_node(features)))
        radial = self.pair_radial(self.radial_basis(r)) * self.envelope(r).unsqueeze(-1)
        radial = radial.view(len(r), self.hyper.pair_slots, 2 * self.hyper.bilinear_channels)
        radial = radial[torch.arange(len(r), device=r.device), pair_slot]
        symmetric = (node[edge_index[0]] * node[edge_index[1]]).repeat(1, 2)
        coupling, slope = (self.hyper.pair_scale * radial * symmetric).chunk(2, dim=-1)
        return coupling.sum(-1), slope.sum(-1)

    def _length(self, x: torch.Tensor) -> torch.Tensor:
        """Smooth moment length s = sqrt(x + eps^2) - eps of x = |m / m0|^2."""
        eps = self.hyper.epsilon
        return torch.sqrt(x + eps**2) - eps

    def _magnitude(self, x: torch.Tensor) -> torch.Tensor:
        """Gaussian basis of the moment length s (see :meth:`_length`), x = |m / m0|^2."""
        width = self.hyper.magnitude_max / (self.hyper.magnitude_basis - 1)
        return torch.exp(-(((self._length(x).unsqueeze(-1) - self.magnitude_centres) / width) ** 2))

    def forward(
        self,
        features: torch.Tensor,
        edge_index: torch.Tensor,
        edge_vec: torch.Tensor,
        moments: torch.Tensor,
        numbers: torch.Tensor | None = None,
        soc_moments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Magnetic energy per atom (eV), shape (..., N).

        Parameters
        ----------
        features
            Backbone node features, shape (N, feature_dim).
        edge_index
            Centre i and neighbour j of every edge, shape (2, E).
        edge_vec
            r_j - r_i (Angstrom), shape (E, 3).
        moments
            Moments (Bohr magnetons), shape (..., N, 3): leading dimensions are independent
            moment configurations of the same structure.
        numbers
            Atomic numbers (N,), which pick the element heads; None: the shared head for all.
        soc_moments
            Moments seen by the spin-orbit terms, shape of ``moments`` (the model zeroes those
            outside the spin-orbit domain); None: ``moments``.
        """
        hyper = self.hyper
        num_atoms = features.shape[0]
        centre, neighbour = edge_index[0], edge_index[1]
        r = torch.linalg.norm(edge_vec, dim=-1)
        c = self.exchange_width
        m = moments / hyper.moment_scale
        batch_shape = m.shape[:-2]
        exchange_inputs = []
        if self.edge_width:
            weights = (
                self.radial(self.radial_basis(r))
                * self.envelope(r).unsqueeze(-1)
                * self.sender(features)[neighbour]
            )
            weights = weights / hyper.avg_num_neighbors
        if c:
            spin = weights[:, :c, None] * m[..., neighbour, None, :]
            spin_field = _scatter(spin, centre, num_atoms, dim=-3)
            exchange_inputs = [(m.unsqueeze(-2) * spin_field).sum(-1), (spin_field * spin_field).sum(-1)]

        magnitude = self._magnitude((m * m).sum(-1))  # Gaussians of the length s
        receiver = self.receiver(features)
        node = torch.cat([receiver.expand(*batch_shape, -1, -1), magnitude], dim=-1)
        node_at_zero = torch.cat([receiver, self._magnitude(receiver.new_zeros(num_atoms))], dim=-1)
        length = self._length((m * m).sum(-1))
        slots = self.slots(numbers, num_atoms)
        atoms = torch.arange(num_atoms, device=slots.device)
        heads = self.exchange(torch.cat([node, *exchange_inputs], dim=-1))
        value, slope = heads.view(*heads.shape[:-1], hyper.head_slots, 2)[..., atoms, slots, :].unbind(-1)
        at_zero = self.exchange(torch.cat([node_at_zero, receiver.new_zeros(num_atoms, 2 * c)], dim=-1))
        energy = value - at_zero.view(num_atoms, hyper.head_slots, 2)[atoms, slots, 0] + length * slope
        if hyper.element_heads:  # atoms of other elements carry no magnetic energy of their own
            energy = energy * (slots > 0).to(energy.dtype)
        if hyper.bilinear_exchange:
            alignment = (m[..., centre, :] * m[..., neighbour, :]).sum(-1)
            coupling, slope = self.pair_coupling(features, edge_index, r, slots)
            pair = (coupling + slope * (length[..., centre] + length[..., neighbour])) * alignment
            if hyper.element_heads:
                pair = pair * ((slots[centre] > 0) & (slots[neighbour] > 0)).to(pair.dtype)
            energy = energy + 0.5 * _scatter(pair, centre, num_atoms, dim=-1)
        if self.soc:
            hidden, invariants = self.spin_orbit_features(
                features, edge_index, edge_vec, moments if soc_moments is None else soc_moments, weights
            )
            energy = energy + (self.soc_coefficients[-1](hidden) * invariants).sum(-1)
        return energy

    def spin_orbit_features(
        self,
        features: torch.Tensor,
        edge_index: torch.Tensor,
        edge_vec: torch.Tensor,
        moments: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs of the spin-orbit output layer and the invariants it multiplies.

        The spin-orbit energy of atom i is ``sum_k (W z_i + b)_k I_ik``: linear in the output layer
        (W, b), which is what :mod:`magscreen.training.soc_fit` fits with everything else frozen.

        Returns
        -------
        tuple
            ``z`` (..., N, hidden), the last hidden layer of the coefficient network (from the
            backbone features and the moment lengths), and ``I`` (..., N, 4 * soc_channels), the
            invariants of :meth:`spin_orbit_invariants`. Moments in Bohr magnetons, (..., N, 3).
        """
        hyper = self.hyper
        num_atoms = features.shape[0]
        m = moments / hyper.moment_scale
        if weights is None:
            r = torch.linalg.norm(edge_vec, dim=-1)
            weights = (
                self.radial(self.radial_basis(r))
                * self.envelope(r).unsqueeze(-1)
                * self.sender(features)[edge_index[1]]
            ) / hyper.avg_num_neighbors
        receiver = self.receiver(features).expand(*m.shape[:-2], -1, -1)
        node = torch.cat([receiver, self._magnitude((m * m).sum(-1))], dim=-1)
        hidden = self.soc_coefficients[:-1](node)
        invariants = self.spin_orbit_invariants(
            weights[:, self.exchange_width :], edge_index, edge_vec, m, num_atoms
        )
        return hidden, invariants

    def spin_orbit_invariants(
        self,
        weights: torch.Tensor,
        edge_index: torch.Tensor,
        edge_vec: torch.Tensor,
        m: torch.Tensor,
        num_atoms: int,
    ) -> torch.Tensor:
        """Single-ion (l = 2, 4), two-site and DM invariants per atom, shape (..., N, 4 * soc_channels).

        Parameters
        ----------
        weights
            Spin-orbit edge weights, shape (E, 5 * soc_channels): single-ion l = 2, l = 4,
            two-site, DM and the polar environment vector, in that order.
        edge_index, edge_vec
            As in :meth:`forward`.
        m
            Moments in units of ``moment_scale``, shape (..., N, 3).
        num_atoms
            Number of atoms N.
        """
        centre, neighbour = edge_index[0], edge_index[1]
        w_single, w_single4, w_two, w_dm, w_polar = weights.chunk(5, dim=-1)
        bond = edge_vec / torch.linalg.norm(edge_vec, dim=-1, keepdim=True)
        y2_bond = o3.spherical_harmonics(2, edge_vec, normalize=True, normalization="component")
        y4_bond = o3.spherical_harmonics(4, edge_vec, normalize=True, normalization="component")
        single_ion = []
        for degree, y_bond, w in ((2, y2_bond, w_single), (4, y4_bond, w_single4)):
            environment = _scatter(w.unsqueeze(-1) * y_bond.unsqueeze(-2), centre, num_atoms, dim=0)
            y_moment = o3.spherical_harmonics(degree, m, normalize=False, normalization="component")
            single_ion.append((y_moment.unsqueeze(-2) * environment).sum(-1))

        m_i, m_j = m[..., centre, :], m[..., neighbour, :]
        product_2e = 0.25 * (
            o3.spherical_harmonics(2, m_i + m_j, normalize=False, normalization="component")
            - o3.spherical_harmonics(2, m_i - m_j, normalize=False, normalization="component")
        )
        two_site_edge = (product_2e * y2_bond).sum(-1)
        two_site = _scatter(two_site_edge.unsqueeze(-1) * w_two, centre, num_atoms, dim=-2)

        polar = _scatter(w_polar.unsqueeze(-1) * bond.unsqueeze(-2), centre, num_atoms, dim=0)
        dm_vector = torch.linalg.cross(
            bond.unsqueeze(-2).expand_as(polar[centre]), polar[centre] + polar[neighbour]
        )
        dm_edge = (torch.linalg.cross(m_i, m_j).unsqueeze(-2) * dm_vector).sum(-1)
        dm = _scatter(dm_edge * w_dm, centre, num_atoms, dim=-2)
        return torch.cat([*single_ion, two_site, dm], dim=-1)
