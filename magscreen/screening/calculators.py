"""Calculators named in a campaign config, loaded once per process.

A spec is one of

- a shipped model name (``monoxides``) or a checkpoint path (``runs/model.pt``): :class:`MagneticCalculator`;
- ``heisenberg:J1[,J2,...]``: the toy :class:`~magscreen.magnetism.HeisenbergCalculator` with
  exchange couplings in meV per pair (J > 0 ferromagnetic) for the nearest, next-nearest, ...
  magnetic neighbour shells; its ``model_version`` is the spec itself and it has no magnetic
  domain (for tests and demonstrations).
"""

from __future__ import annotations

from functools import lru_cache

from ase import Atoms
from ase.calculators.calculator import Calculator

from magscreen.errors import InputError
from magscreen.schemas import DomainGap

__all__ = ["domain_gaps", "load_calculator", "magnetic_domain", "model_version"]

HEISENBERG_PREFIX = "heisenberg:"


def _parse_couplings(spec: str) -> list[float]:
    text = spec[len(HEISENBERG_PREFIX) :]
    try:
        couplings = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        couplings = []
    if not couplings:
        raise InputError(
            f"cannot read couplings from {spec!r}",
            field="relax.calculator",
            expected="'heisenberg:J1[,J2,...]' with couplings in meV per pair, e.g. 'heisenberg:1,-10'",
        )
    return couplings


@lru_cache(maxsize=4)
def load_calculator(spec: str, device: str = "cpu") -> Calculator:
    """The calculator a ``relax.calculator`` spec names (cached: models load once per process).

    Raises
    ------
    InputError
        Unknown model name, unreadable checkpoint or malformed Heisenberg spec.
    """
    if spec.startswith(HEISENBERG_PREFIX):
        from magscreen.magnetism import HeisenbergCalculator

        couplings = {shell: j / 1000.0 for shell, j in enumerate(_parse_couplings(spec), start=1)}
        calculator = HeisenbergCalculator(couplings)
        calculator.model_version = spec
        calculator.magnetic_domain = None
        return calculator
    from magscreen.potential import MagneticCalculator

    return MagneticCalculator(spec, device=device)


def model_version(calculator: Calculator) -> str:
    """Version string of the calculator: changes whenever its weights (or couplings) change."""
    version = getattr(calculator, "model_version", None)
    if not version:
        raise InputError(
            f"calculator {type(calculator).__name__} has no model_version",
            field="relax.calculator",
            expected="a calculator with a model_version attribute",
        )
    return str(version)


def magnetic_domain(calculator: Calculator, atoms: Atoms | None = None) -> list[str] | None:
    """Elements the calculator saw with moments in training (in their environment in ``atoms``,
    where the calculator can tell); None when it has no such limit."""
    if atoms is not None and hasattr(calculator, "magnetic_domain_of"):
        return sorted(calculator.magnetic_domain_of(atoms))
    domain = getattr(calculator, "magnetic_domain", None)
    return None if domain is None else sorted(domain)


def domain_gaps(calculator: Calculator, atoms: Atoms, magnetic_elements: list[str]) -> list[DomainGap]:
    """Magnetic atoms of ``atoms`` outside the calculator's knowledge, per element, with their
    neighbour elements and the environments the model saw the element in; [] when it has no limit.

    For the ML potential an atom is inside when its element carried moments in training among the
    same set of neighbour elements within the cutoff (:meth:`MagneticPotential.in_magnetic_domain`)
    and, where the model records it, at the same coordination number
    (:meth:`MagneticPotential.coordination_known`): the structure type, which the set of neighbour
    elements does not tell (bcc and fcc Fe are both Fe among Fe).
    """
    model = getattr(calculator, "model", None)
    if model is not None and getattr(model, "magnetic_domain", None):
        import numpy as np

        from magscreen.potential.graph import graph_from_atoms
        from magscreen.potential.model import atom_coordination

        graph = graph_from_atoms(atoms, model.cutoff, np.zeros((len(atoms), 3)), dtype=model.dtype)
        inside = model.in_magnetic_domain(graph).cpu().numpy()
        coordinated = model.coordination_known(graph)
        coordinated = np.ones(len(atoms), dtype=bool) if coordinated is None else coordinated
        centre, neighbour = graph.edge_index.cpu().numpy()
        symbols = np.array(atoms.get_chemical_symbols())
        trained = dict(getattr(model, "magnetic_environments", {}))
        gaps = []
        for element in sorted(magnetic_elements):
            of_element = symbols == element
            outside, counts, trained_counts = np.flatnonzero(of_element & ~inside), [], []
            if not len(outside):  # a known environment; the structure type may still be new
                outside = np.flatnonzero(of_element & ~coordinated)
            if not len(outside):
                continue
            found = sorted({tuple(sorted(set(symbols[neighbour[centre == i]]))) for i in outside})
            known = trained.get(element) or [] if element in model.magnetic_domain else []
            if inside[outside].all():  # outside by coordination only
                coordination = atom_coordination(graph)
                counts = sorted({coordination[i] for i in outside})
                by_environment = model.magnetic_coordination.get(element, {})
                trained_counts = sorted({n for env in found for n in by_environment.get(",".join(env), [])})
            gaps.append(
                DomainGap(
                    element=element,
                    n_atoms=len(outside),
                    of_atoms=int(of_element.sum()),
                    environments=[list(env) for env in found],
                    trained_environments=[list(env) for env in known],
                    coordination=counts,
                    trained_coordination=trained_counts,
                )
            )
        return gaps
    domain = getattr(calculator, "magnetic_domain", None)
    if domain is None:
        return []
    symbols = atoms.get_chemical_symbols()
    return [
        DomainGap(
            element=element,
            n_atoms=symbols.count(element),
            of_atoms=symbols.count(element),
            environments=[],
            trained_environments=[],
        )
        for element in sorted(magnetic_elements)
        if element not in domain
    ]
