"""Leave-one-compound-out cross-validation of a least-squares training recipe, with its uncertainty.

For every compound of the training data, the readout of the recipe (a training config with one
``least_squares`` stage) is solved again without any frame of that compound (no ordering, strain,
rattle, nor DeltaSpin frame when the compound is NiO) and predicts the compound's ordering ladders,
one per energy group (compound at one lattice scale, orderings only). The design of the solve is
built once (:func:`magscreen.training.readout.readout_system`); each fold subtracts the compound's
rows from the normal equations (:class:`magscreen.training.readout.NormalEquations`).

Reported per ladder and in total (energies per magnetic atom, differences to the DFT ground state):
ground-state hit, Spearman correlation (ladders of 3 or more orderings), MAE of the ordering-energy
differences (meV per magnetic atom), the one-sigma of every difference from the fold's posterior
and the coverage of the errors at nominal levels (calibration curve), side by side with

- the model as shipped: where a left-out compound's magnetic atoms sit in environments (element and
  elements within the cutoff) no other compound has, the model ignores their moments, so its
  ladder is moment-blind SevenNet-0's;
- moment-blind SevenNet-0 (the frozen backbone alone: every ordering of a structure has one energy);
- a per-compound Heisenberg fit (:class:`magscreen.training.baselines.HeisenbergLandauModel`, two
  shells), leave-one-ordering-out within the ladder, so it never sees the energy it predicts
  (ladders of 3 or more orderings).

``--by ordering`` leaves out one ordering of one compound instead (every lattice scale, rattled copies
included; the compound's other orderings stay in training): the regime of a trained compound's
claims, whose environments the model knows. ``--by group`` leaves out one energy group. ``--by none``
leaves nothing out: the fitted readout on its own training ladders, whose errors are the fit's
residuals (the regime of a campaign ordering that is in the training data, at its lattice).

The calibration factor is the 68.27th percentile of |error| / sigma over differences whose compound's
magnetic elements are known from other compounds; ``ship_model.py --calibration`` stores it.

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/training/cross_validation.py configs/train/general.yaml \\
        --out benchmarks/training/cross_validation_general
    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/training/cross_validation.py configs/train/general.yaml \\
        --out benchmarks/training/cross_validation_general_orderings --by ordering
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from ase.data import chemical_symbols
from pymatgen.core import Composition
from scipy.stats import norm, spearmanr

from magscreen.errors import InputError
from magscreen.potential.magnetic import MagneticEnergy
from magscreen.potential.model import atom_coordination, atom_environments
from magscreen.screening.ranking import TIE_TOLERANCE_meV
from magscreen.training.baselines import HeisenbergLandauModel, frame_shells
from magscreen.training.config import TrainConfig, load_train_config
from magscreen.training.data import Frame
from magscreen.training.readout import NormalEquations, ReadoutSystem
from magscreen.training.trainer import Trainer

CLAIM_FACTORS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
#: Predicted orderings closer than a campaign's tie tolerance (eV per magnetic atom) tie.
TIE_eV = 1e-3 * TIE_TOLERANCE_meV
NOMINAL = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6827, 0.8, 0.9, 0.95, 0.99)


def frame_info(frames: list[Frame]) -> list[dict]:
    """The extxyz info of every frame (compound, ordering, kind), read again by ``source``."""
    from ase.io import read

    cache: dict[str, list] = {}
    out = []
    for frame in frames:
        path, _, index = frame.source.rpartition("#")
        if path.endswith(".extxyz") or path.endswith(".xyz"):
            if path not in cache:
                cache[path] = read(path, index=":", format="extxyz")
            info = dict(cache[path][int(index)].info)
        else:  # deepmd spin folders (DeltaSpin NiO): no info
            info = {"kind": "deltaspin"}
        if frame.energy_group is not None:
            info.setdefault("compound", frame.energy_group.split("@")[0])
        else:
            counts = {chemical_symbols[z]: int((frame.numbers == z).sum()) for z in set(frame.numbers)}
            info.setdefault("compound", Composition(counts).reduced_formula)
        info.setdefault("kind", "ordering")
        out.append(info)
    return out


def ladders(frames: list[Frame], info: list[dict]) -> dict[str, list[int]]:
    """Energy group -> indices of its ordering frames, at the compound's lattice or strained (groups
    of 2 or more distinct orderings with a moment somewhere: CuO's collapse in PBE leaves none;
    rattled frames are not ladders)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for k, (frame, meta) in enumerate(zip(frames, info, strict=True)):
        if (
            frame.energy_group is not None
            and frame.energy is not None
            and meta["kind"] in ("ordering", "strain")
        ):
            groups[frame.energy_group].append(k)
    return {
        g: ks
        for g, ks in sorted(groups.items())
        if len({info[k].get("ordering", k) for k in ks}) > 1 and any(np.any(frames[k].moments) for k in ks)
    }


def magnetic_count(frames: list[Frame], indices: list[int]) -> list[int]:
    """Atoms of the ladder's magnetic elements (those carrying a moment in any of its frames) per frame."""
    elements = {
        int(z)
        for k in indices
        for z, m in zip(frames[k].numbers, frames[k].moments, strict=True)
        if np.any(m)
    }
    return [int(np.isin(frames[k].numbers, list(elements)).sum()) for k in indices]


def heisenberg_loo(frames: list[Frame], indices: list[int], n_mag: list[int]) -> np.ndarray | None:
    """Leave-one-ordering-out Heisenberg predictions (eV per magnetic atom), or None (< 3 orderings, or
    no two moments within reach).

    ``E / n_mag = E0 + sum_s J_s X_s / n_mag`` with ``X_s`` the shell sums of m_i . m_j of
    :meth:`HeisenbergLandauModel.design` (the project's Heisenberg convention), fitted by least squares
    on the others: one shell, a second where five or more orderings leave four to fit three
    parameters (never an exactly determined fit when one can be avoided). E0 is the mean of the
    others; the couplings come from the centred shell sums, columns scaled to unit norm and singular
    values below 1 % of the largest dropped (two orderings with the same shell sums give no coupling,
    not one of eV). The shells come from the first frame with moments (an ordering may have
    collapsed: fcc Ni's AFM-I).
    """
    carrying = [k for k in indices if np.any(frames[k].moments)]
    if len(indices) < 3 or not carrying:
        return None
    n_shells = 2 if len(indices) >= 5 else 1
    try:
        shells = frame_shells(frames[carrying[0]], n_shells)
    except InputError:  # one shell within reach
        try:
            n_shells, shells = 1, frame_shells(frames[carrying[0]], 1)
        except InputError:
            return None
    elements = sorted({chemical_symbols[z] for k in indices for z in frames[k].numbers})
    hamiltonian = HeisenbergLandauModel(shells=shells, elements=elements)
    rows = (
        np.array(
            [hamiltonian.design(frames[k])[0][len(elements) : len(elements) + n_shells] for k in indices]
        )
        / np.array(n_mag)[:, None]
    )
    energies = np.array([frames[k].energy for k in indices]) / np.array(n_mag)
    out = np.zeros(len(indices))
    for held in range(len(indices)):
        train = np.arange(len(indices)) != held
        centre, offset = rows[train].mean(axis=0), energies[train].mean()
        shells_train = rows[train] - centre
        scale = np.linalg.norm(shells_train, axis=0)
        scale[scale == 0] = 1.0
        couplings, *_ = np.linalg.lstsq(shells_train / scale, energies[train] - offset, rcond=1e-2)
        out[held] = offset + ((rows[held] - centre) / scale) @ couplings
    return out


def layer_columns(magnetic: MagneticEnergy, layer: torch.nn.Linear | None) -> np.ndarray:
    """Shape (P,): whether each readout weight (order of ``readout_parameters``) is ``layer``'s."""
    return np.concatenate(
        [np.full(head.weight.numel() + head.bias.numel(), head is layer) for head in magnetic.output_layers()]
    )


def recipe_system(path: Path) -> tuple[TrainConfig, Trainer, ReadoutSystem]:
    """A training config's recipe: the config, its trainer (frames, references refitted) and the
    design of its least-squares stage (derivatives from the feature cache where they are)."""
    config = load_train_config(path)
    stage = next(s for s in config.stages if s.optimizer == "least_squares")
    trainer = Trainer(config, source=path, progress=True)
    trainer.refit_references()
    return config, trainer, trainer.readout_system(stage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument(
        "--out", type=Path, required=True, help="output prefix (.json, .md, _parity.png, ...)"
    )
    parser.add_argument("--samples", type=int, default=128, help="posterior draws per fold")
    parser.add_argument(
        "--by",
        choices=["compound", "group", "ordering", "none"],
        default="compound",
        help="leave out a compound (the evaluation), one energy group, i.e. one compound at one lattice "
        "scale with its rattled copies (a weaker test: the compound's other lattices stay in training), or "
        "one ordering of a compound at every lattice, rattled copies included (the regime of a trained "
        "compound's claims: its environments known, the ordering new); 'none' leaves nothing out: the fit's "
        "residuals on its own ladders (the regime of a campaign ordering that is in the training data)",
    )
    parser.add_argument(
        "--sweep",
        nargs="+",
        metavar="SCALE",
        help="instead of the report, the summary for the recipe's damping (ridge) times each SCALE, "
        "a number (every readout weight) or NODE:PAIR (pair heads PAIR, all other heads NODE), written to "
        "<out>_sweep.{json,md}: the prior strength chosen on left-out compounds",
    )
    args = parser.parse_args()
    tic = time.perf_counter()
    config, trainer, system = recipe_system(args.config)
    print(f"design {system.design.shape} in {time.perf_counter() - tic:.0f} s", flush=True)
    folds = Folds(trainer, system, by=args.by)
    if args.sweep:
        sweep = []
        magnetic = trainer.model.magnetic
        is_pair = layer_columns(
            magnetic, magnetic.pair_radial[-1] if magnetic.hyper.bilinear_exchange else None
        )
        for scale in args.sweep:
            node_scale, _, pair_scale = scale.partition(":")
            damping = system.damping * np.where(is_pair, float(pair_scale or node_scale), float(node_scale))
            rows, ladder_records = folds.run(damping, args.samples, config.seed)
            summary = summarise(rows, ladder_records)["summary"]
            sweep.append({"damping_scale": scale, **summary})
            print(f"x{scale}: {json.dumps({m: summary[m] for m in ('model', 'resolved')})}", flush=True)
        command = (
            f"OMP_NUM_THREADS=1 python benchmarks/training/cross_validation.py {args.config.as_posix()} "
            f"--out {args.out.as_posix()} --samples {args.samples} --sweep {' '.join(args.sweep)}"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = {"command": command, "sweep": sweep}
        Path(f"{args.out}_sweep.json").write_text(json.dumps(report, indent=1) + "\n")
        Path(f"{args.out}_sweep.md").write_text(sweep_markdown(sweep, command))
        return
    rows, ladder_records = folds.run(system.damping, args.samples, config.seed)
    report = summarise(rows, ladder_records)
    report.update(
        config=args.config.as_posix(),
        n_frames=len(folds.frames),
        n_compounds=len(set(folds.compounds)),
        compounds=sorted(set(folds.compounds)),
        posterior_samples=args.samples,
        left_out=args.by,
        command=f"OMP_NUM_THREADS=1 python benchmarks/training/cross_validation.py {args.config.as_posix()} "
        f"--out {args.out.as_posix()}" + ("" if args.by == "compound" else f" --by {args.by}"),
        seconds=round(time.perf_counter() - tic),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    plot(report, args.out)
    Path(f"{args.out}.md").write_text(markdown(report))
    print(json.dumps(report["summary"], indent=1))


class Folds:
    """The left-out folds of one design: each compound's (or energy group's) rows subtracted from the
    normal equations, solved with a damping, predicting the left-out ordering ladders."""

    def __init__(self, trainer: Trainer, system: ReadoutSystem, by: str = "compound") -> None:
        self.system, self.by = system, by
        self.frames = frames = trainer.train_frames
        self.info = info = frame_info(frames)
        self.total = NormalEquations.of(system)
        self.compounds = np.array([meta["compound"] for meta in info])
        self.orderings = np.array([str(meta.get("ordering", "")) for meta in info])
        self.backbone = np.array([float(c.energy[0]) for c in trainer._caches_for("train")])
        self.groups = ladders(frames, info)
        # where each compound's frames carry moments: (element, the set of elements within the cutoff),
        # the model's 'environment' domain (magscreen.potential.model.atom_environments); a fold knows
        # an element, or an environment, when another compound has it
        environments: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for frame, graph, compound in zip(frames, trainer.train_graphs, self.compounds, strict=True):
            around = atom_environments(graph)
            environments[compound] |= {
                (chemical_symbols[z], around[i])
                for i, (z, m) in enumerate(zip(frame.numbers, frame.moments, strict=True))
                if np.any(m)
            }
        self.environments = environments
        # the same with the magnetic atom's coordination number (a test of a structural domain, not
        # the model's): orderings and strained copies only, rattles move atoms across shell edges
        structures: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
        graphs = trainer.train_graphs
        for frame, graph, compound, meta in zip(frames, graphs, self.compounds, info, strict=True):
            if meta["kind"] not in ("ordering", "strain"):
                continue
            around, counts = atom_environments(graph), atom_coordination(graph)
            structures[compound] |= {
                (chemical_symbols[z], around[i], int(counts[i]))
                for i, (z, m) in enumerate(zip(frame.numbers, frame.moments, strict=True))
                if np.any(m)
            }
        self.structures = structures
        self.carried = {c: {element for element, _ in pairs} for c, pairs in environments.items()}
        self.group_compound = {g: str(info[ks[0]]["compound"]) for g, ks in self.groups.items()}
        self.energy_groups = np.array([str(f.energy_group) for f in frames])

    def run(self, damping: np.ndarray, samples: int, seed: int) -> tuple[list[dict], list[dict]]:
        """Left-out differences (one row per non-ground ordering) and ladders, every fold solved with
        ``damping``."""
        system, frames, info, by = self.system, self.frames, self.info, self.by
        rows, ladder_records = [], []
        if by == "compound":
            folds = sorted(set(self.group_compound.values()))
        elif by == "group":
            folds = sorted(self.groups)
        elif by == "none":
            folds = ["(none)"]
        else:  # (compound, ordering) of every ladder's orderings
            folds = sorted(
                {(self.group_compound[g], self.orderings[k]) for g, ks in self.groups.items() for k in ks}
            )
        for fold in folds:
            if by == "compound":
                compound, taken = fold, self.compounds == fold
            elif by == "group":
                compound, taken = self.group_compound[fold], self.energy_groups == fold
            elif by == "none":
                compound, taken = None, np.zeros(len(frames), dtype=bool)
            else:
                compound, left_ordering = fold
                taken = (self.compounds == compound) & (self.orderings == left_ordering)
            left_out = np.isin(system.frame_of_row, np.flatnonzero(taken))
            columns = self.total.columns
            if not left_out.any():
                equations = self.total
            elif left_out.sum() > len(left_out) / 2:  # summing the rest is cheaper and exact
                equations = NormalEquations.of(system, ~left_out, columns=columns)
            else:
                equations = self.total.minus(NormalEquations.of(system, left_out, columns=columns))
            weights, posterior = equations.solve(damping, posterior_samples=samples, seed=seed)
            carried = self.carried
            known = by != "compound" or all(
                any(e in carried[c] for c in carried if c != compound) for e in carried[compound]
            )
            others = [self.environments[c] for c in self.environments if c != compound]
            known_environment = by != "compound" or all(
                any(pair in seen for seen in others) for pair in self.environments[compound]
            )
            other_structures = [self.structures[c] for c in self.structures if c != compound]
            known_structure = by != "compound" or all(
                any(key in seen for seen in other_structures) for key in self.structures.get(compound, ())
            )
            for group, indices in self.groups.items():
                if by == "compound" and self.group_compound[group] != fold:
                    continue
                if by == "group" and group != fold:
                    continue
                if by == "none":
                    compound = self.group_compound[group]
                if by == "ordering" and (
                    self.group_compound[group] != compound or left_ordering not in self.orderings[indices]
                ):
                    continue
                n_mag = magnetic_count(frames, indices)
                features = system.energy_features[indices] / np.array(n_mag)[:, None]
                model = (self.backbone[indices] / n_mag) + features @ weights
                blind = self.backbone[indices] / n_mag
                dft = np.array([frames[k].energy for k in indices]) / n_mag
                heisenberg = heisenberg_loo(frames, indices, n_mag)
                # as shipped: moments outside the environment domain are ignored (moment-blind)
                deployed = model if known_environment else blind
                ground = int(np.argmin(dft))
                covariance = posterior.covariance(features - features[ground])
                sigma = np.sqrt(np.clip(np.diag(covariance), 0, None))
                labels = [str(info[k].get("ordering", k)) for k in indices]
                # the model's claim: its gap and that gap's variance, from the same covariance
                lowest, runner_up = np.argsort(model)[:2]
                pair = covariance[np.ix_([runner_up, lowest], [runner_up, lowest])]
                gap_variance = pair[0, 0] + pair[1, 1] - 2 * pair[0, 1]
                # differences that involve the left-out ordering (all of them unless one ordering is out)
                involved = range(len(indices))
                if by == "ordering" and labels[ground] != left_ordering:
                    involved = [labels.index(left_ordering)]
                for j in involved:
                    if j == ground:
                        continue
                    rows.append(
                        {
                            "compound": compound,
                            "group": group,
                            "ordering": labels[j],
                            "reference": labels[ground],
                            "known_elements": known,
                            "dft_meV": 1e3 * (dft[j] - dft[ground]),
                            "model_meV": 1e3 * (model[j] - model[ground]),
                            "sigma_meV": 1e3 * sigma[j],
                            "sevennet_meV": 1e3 * (blind[j] - blind[ground]),
                            "deployed_meV": 1e3 * (deployed[j] - deployed[ground]),
                            "heisenberg_meV": None
                            if heisenberg is None
                            else 1e3 * (heisenberg[j] - heisenberg[ground]),
                        }
                    )
                ladder_records.append(
                    {
                        "compound": compound,
                        "known_elements": known,
                        "known_environments": known_environment,
                        "known_structures": known_environment and known_structure,
                        "group": group,
                        "labels": labels,
                        "dft": dft.tolist(),
                        "model": model.tolist(),
                        "sevennet": blind.tolist(),
                        "deployed": deployed.tolist(),
                        "heisenberg": None if heisenberg is None else heisenberg.tolist(),
                        "sigma_meV": (1e3 * sigma).tolist(),
                        "model_gap_meV": 1e3 * float(model[runner_up] - model[lowest]),
                        "model_gap_sigma_meV": 1e3 * float(np.sqrt(max(gap_variance, 0.0))),
                    }
                )
        return rows, ladder_records


def names_ground_state(predicted: list[float], dft: list[float]) -> bool:
    """Whether a predicted ladder (eV per magnetic atom) puts the DFT ground state lowest, by more than
    a campaign's tie tolerance: a tie (moment-blind SevenNet-0's orderings differ by round-off only)
    names no ground state, whichever ordering round-off puts first."""
    lowest, runner_up = np.sort(predicted)[:2]
    return bool(np.argmin(predicted) == np.argmin(dft) and runner_up - lowest >= TIE_eV)


def summarise(rows: list[dict], ladders: list[dict]) -> dict:
    """Per-method hit rate, mean Spearman, MAE; the calibration of the model's sigma."""
    summary = {}
    for method in ("model", "deployed", "sevennet", "heisenberg"):
        usable = [lad for lad in ladders if lad[method] is not None]
        hits = [int(names_ground_state(lad[method], lad["dft"])) for lad in usable]
        rhos = [
            0.0 if np.ptp(lad[method]) < TIE_eV else float(spearmanr(lad[method], lad["dft"])[0])
            for lad in usable
            if len(lad["dft"]) >= 3
        ]
        errors = [abs(r[f"{method}_meV"] - r["dft_meV"]) for r in rows if r[f"{method}_meV"] is not None]
        summary[method] = {
            "ladders": len(usable),
            "ground_state_hit_rate": float(np.mean(hits)) if hits else None,
            "mean_spearman": float(np.mean(rhos)) if rhos else None,
            "spearman_ladders": len(rhos),
            "gap_mae_meV": float(np.mean(errors)) if errors else None,
            "differences": len(errors),
        }
    known = [r for r in rows if r["known_elements"] and np.isfinite(r["sigma_meV"]) and r["sigma_meV"] > 0]
    z = np.array([abs(r["model_meV"] - r["dft_meV"]) / r["sigma_meV"] for r in known])
    factor = float(np.quantile(z, norm.cdf(1) - norm.cdf(-1))) if len(z) else None
    curve = []
    for p in NOMINAL:
        bound = norm.ppf(0.5 + p / 2)
        curve.append(
            {
                "nominal": p,
                "coverage_raw": float(np.mean(z <= bound)) if len(z) else None,
                "coverage_calibrated": float(np.mean(z / factor <= bound)) if len(z) and factor else None,
            }
        )
    unknown = [r for r in rows if not r["known_elements"]]
    # the campaign's trust rule on left-out ladders: a ground state is claimed when the model's gap
    # exceeds twice its calibrated sigma; how often such a claim is right
    claimed = [
        lad for lad in ladders if factor and lad["model_gap_meV"] > 2 * factor * lad["model_gap_sigma_meV"]
    ]
    summary["resolved"] = {
        "ladders": len(ladders),
        "ladders_known_environments": sum(lad["known_environments"] for lad in ladders),
        "ladders_known_structures": sum(lad.get("known_structures", False) for lad in ladders),
    }
    for rule, chosen in (
        ("posterior", claimed),
        ("posterior_and_environment", [lad for lad in claimed if lad["known_environments"]]),
        ("posterior_and_structure", [lad for lad in claimed if lad.get("known_structures", False)]),
    ):
        right = [int(np.argmin(lad["model"]) == np.argmin(lad["dft"])) for lad in chosen]
        summary["resolved"][rule] = {
            "claimed": len(chosen),
            "claimed_right": int(sum(right)),
            "claimed_groups": [lad["group"] for lad in chosen],
        }
    # the same rule at other calibration factors (e.g. the one fitted in another regime)
    summary["resolved"]["by_calibration_factor"] = []
    for f in CLAIM_FACTORS:
        chosen = [lad for lad in ladders if lad["model_gap_meV"] > 2 * f * lad["model_gap_sigma_meV"]]
        right = sum(int(np.argmin(lad["model"]) == np.argmin(lad["dft"])) for lad in chosen)
        summary["resolved"]["by_calibration_factor"].append(
            {"factor": f, "claimed": len(chosen), "claimed_right": right}
        )
    summary["uncertainty"] = {
        "differences_known_elements": len(known),
        "calibration_factor": factor,
        "coverage_one_sigma_raw": float(np.mean(z <= 1)) if len(z) else None,
        "median_sigma_meV_raw": float(np.median([r["sigma_meV"] for r in known])) if known else None,
        "differences_unknown_elements": len(unknown),
        "median_sigma_meV_unknown_elements": float(np.median([r["sigma_meV"] for r in unknown]))
        if unknown
        else None,
    }
    return {"summary": summary, "calibration_curve": curve, "differences": rows, "ladders": ladders}


def markdown(report: dict) -> str:
    """The summary table and every ladder (meV per magnetic atom above the DFT ground state)."""
    summary = report["summary"]
    fitted = report["left_out"] == "none"
    kind = "fitted" if fitted else "left-out"  # the differences and ladders the report scores
    names = {
        "model": "model (fitted, nothing left out)" if fitted else f"model ({report['left_out']} left out)",
        "deployed": "same, as shipped (moment-blind outside its environment domain)",
        "sevennet": "SevenNet-0, moment-blind",
        "heisenberg": "Heisenberg per compound (leave one ordering out)",
    }
    lines = [
        f"{report['n_frames']} training frames, {report['n_compounds']} compounds "
        f"({', '.join(report['compounds'])}); `{report['command']}` ({report['seconds']} s).",
        "",
        "| method | ladders | ground-state hit rate | mean Spearman | gap MAE (meV/magnetic atom) |",
        "|---|---|---|---|---|",
    ]
    for method, name in names.items():
        row = summary[method]

        def fmt(value, digits=2):
            return "-" if value is None else f"{value:.{digits}f}"

        lines.append(
            f"| {name} | {row['ladders']} | {fmt(row['ground_state_hit_rate'])} | "
            f"{fmt(row['mean_spearman'])} ({row['spearman_ladders']}) | {fmt(row['gap_mae_meV'], 1)} |"
        )
    u, r = summary["uncertainty"], summary["resolved"]
    lines += [
        "",
        f"Uncertainty: {u['differences_known_elements']} {kind} differences whose magnetic elements other "
        f"compounds teach (calibration factor {u['calibration_factor']}, raw one-sigma coverage "
        f"{u['coverage_one_sigma_raw']}); {u['differences_unknown_elements']} whose elements no other "
        f"compound has (median one-sigma {u['median_sigma_meV_unknown_elements']} meV per magnetic atom).",
        "",
        f"Trust rule on the {kind} ladders (a ground state is claimed when the model's gap exceeds twice "
        f"its calibrated sigma): {r['posterior']['claimed']} of {r['ladders']} claimed, "
        f"{r['posterior']['claimed_right']} right ({', '.join(r['posterior']['claimed_groups']) or 'none'}); "
        f"adding the environment domain ({r['ladders_known_environments']} ladders whose every magnetic "
        f"element sits in an environment other compounds have): {r['posterior_and_environment']['claimed']} "
        f"claimed, {r['posterior_and_environment']['claimed_right']} right; adding the coordination number "
        f"of the magnetic atoms ({r['ladders_known_structures']} ladders): "
        f"{r['posterior_and_structure']['claimed']} claimed, {r['posterior_and_structure']['claimed_right']} "
        "right. At other calibration factors "
        "(claimed, right): "
        + ", ".join(
            f"x{c['factor']:g}: {c['claimed']}, {c['claimed_right']}" for c in r["by_calibration_factor"]
        )
        + ".",
        "",
        "| ladder | ordering | DFT | model | 1 sigma | SevenNet-0 | Heisenberg |",
        "|---|---|---|---|---|---|---|",
    ]
    for ladder in report["ladders"]:
        ground = min(ladder["dft"])
        low = {m: None if ladder[m] is None else min(ladder[m]) for m in ("model", "sevennet", "heisenberg")}
        relative = {
            m: ["-"] * len(ladder["dft"])
            if ladder[m] is None
            else [f"{1e3 * (value - low[m]):.1f}" for value in ladder[m]]
            for m in low
        }
        for k, label in enumerate(ladder["labels"]):
            lines.append(
                f"| {ladder['group']} | {label} | {1e3 * (ladder['dft'][k] - ground):.1f} | "
                f"{relative['model'][k]} | {ladder['sigma_meV'][k]:.3g} | {relative['sevennet'][k]} | "
                f"{relative['heisenberg'][k]} |"
            )
    return "\n".join(lines) + "\n"


def sweep_markdown(sweep: list[dict], command: str) -> str:
    """One line per damping scale: the model's left-out scores, calibration and trust-rule claims."""
    lines = [
        f"`{command}`",
        "",
        "| damping x (all, or node:pair) | hit rate | mean Spearman | gap MAE (meV) | calibration factor "
        "| claimed (right), posterior | claimed (right), + environment |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in sweep:
        m, r, u = row["model"], row["resolved"], row["uncertainty"]
        lines.append(
            f"| {row['damping_scale']} | {m['ground_state_hit_rate']:.2f} | {m['mean_spearman']:.2f} | "
            f"{m['gap_mae_meV']:.1f} | {u['calibration_factor']:.3g} | {r['posterior']['claimed']} "
            f"({r['posterior']['claimed_right']}) | {r['posterior_and_environment']['claimed']} "
            f"({r['posterior_and_environment']['claimed_right']}) |"
        )
    return "\n".join(lines) + "\n"


def plot(report: dict, out: Path) -> None:
    """Parity plot (model, SevenNet-0, Heisenberg) and calibration curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["differences"]
    factor = report["summary"]["uncertainty"]["calibration_factor"] or 1.0
    fig, ax = plt.subplots(figsize=(5.5, 5))
    dft = np.array([r["dft_meV"] for r in rows])
    for method, style in (("sevennet", "x"), ("heisenberg", "s"), ("model", "o")):
        pairs = [(r["dft_meV"], r[f"{method}_meV"]) for r in rows if r[f"{method}_meV"] is not None]
        if not pairs:
            continue
        x, y = np.array(pairs).T
        if method == "model":
            known = np.array([r["known_elements"] for r in rows])
            err = np.array([factor * r["sigma_meV"] for r in rows])
            err = np.where(known & np.isfinite(err), err, 0.0)
            ax.errorbar(
                x,
                y,
                yerr=err,
                fmt=style,
                ms=4,
                lw=0.8,
                label=f"model ({report['left_out']} left out), 1 sigma calibrated",
            )
        else:
            ax.plot(
                x,
                y,
                style,
                ms=4,
                mfc="none",
                label={
                    "sevennet": "SevenNet-0 (moment-blind)",
                    "heisenberg": "Heisenberg per compound (LOO)",
                }[method],
            )
    span = [min(0.0, dft.min()) - 10, dft.max() + 10] if len(dft) else [0, 1]
    ax.plot(span, span, "k-", lw=0.6)
    ax.set_xlim(span)
    ax.set_ylim(span[0], span[1])
    ax.set_xlabel("DFT E - E(DFT ground state) (meV per magnetic atom)")
    ax.set_ylabel("predicted (meV per magnetic atom)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{out}_parity.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    curve = report["calibration_curve"]
    nominal = [c["nominal"] for c in curve]
    ax.plot([0, 1], [0, 1], "k-", lw=0.6)
    ax.plot(nominal, [c["coverage_raw"] for c in curve], "o--", label="posterior sigma (raw)")
    ax.plot(nominal, [c["coverage_calibrated"] for c in curve], "s-", label=f"calibrated (x {factor:.3g})")
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("fraction of left-out errors inside")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{out}_calibration.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
