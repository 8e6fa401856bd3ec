"""Domain extension on compounds left out of training: ground-state hits and Spearman against K.

For every compound of the reference dataset (``reference/dataset/*.extxyz``) with at least
``--min-orderings`` collinear orderings at its reference lattice (energy group ``<compound>@1.00``,
``kind == 'ordering'``, converged), the base model is the general recipe (``configs/train/general.yaml``)
solved again without any frame of that compound (leave-one-compound-out: the readout's normal
equations minus the compound's rows, :class:`magscreen.training.readout.NormalEquations`, as in
``cross_validation.py``), with that fold's readout posterior scaled by the shipped model's calibration
factor (``--calibration``, the one ``ship_model.py`` applies). Its other compounds stay, so the
compound is unseen while its elements are known elsewhere: the situation of a campaign's candidate.

The K = 1..4 orderings of the ladder in the dataset's order (FM first, then the smallest cells:
the cheapest DFT) play the DFT the campaign would run, and all orderings of the ladder are ranked by

- ``extended``: the base extended on those K frames by :func:`magscreen.training.extend.extend_model`
  (the code of ``magscreen extend``; K >= 2, energies enter as differences), moments at the model's
  training lengths (``general_frames.LENGTHS``), the prior being the fold's readout posterior with
  the shipped calibration factor (what extending the shipped general model does);
- ``extended_raw``: the same with the posterior as solved (calibration 1), a wider prior;
- ``best_of_K``: the lowest of the K DFT energies (what the K calculations alone say; it ranks
  nothing else, so it has no Spearman);
- ``heisenberg``: E / n_mag = E0 + sum_s J_s X_s / n_mag fitted to the same K energies with
  min(K - 1, 2) neighbour shells (``cross_validation.heisenberg_loo``'s model);
- ``base``: the left-out base model without extension.

Moments are those of the training frames (``general_frames.training_moments``: one length per element,
the DFT sign; collapsed moments 0). Orderings whose moments all collapsed in DFT (no moment left) are
no longer that ordering and are left out of the ladder. Spearman is over the whole ladder and over
the orderings not computed (``rest``, where three or more are left).

DFT cost per candidate: the measured GPAW wall time (one thread; ``wall_time_s`` of the records) of
the K orderings against that of the whole ladder; and, since wall times on a shared box measure its
load too, the plan's cost model (atoms^2 x k-points, :func:`magscreen.dataset.plan.frame_cost`) of
the K orderings against the ladder's and against every collinear ordering the enumerator finds within
the dataset's supercell limits (``configs/dataset/reference.yaml``: at most 8 magnetic atoms and 16
atoms), with that total also in estimated seconds (the compound's measured seconds per cost unit).

    OMP_NUM_THREADS=1 python benchmarks/training/extension_benchmark.py

Writes ``extension_benchmark.json`` and ``extension_benchmark.png`` beside this script (``--out``:
another prefix) and prints the Markdown table of docs/model.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from ase.data import chemical_symbols
from cross_validation import frame_info, magnetic_count
from general_frames import LENGTHS, training_moments
from scipy.stats import spearmanr

from magscreen.errors import InputError
from magscreen.training.baselines import HeisenbergLandauModel, frame_shells
from magscreen.training.data import Frame, read_extxyz
from magscreen.training.extend import extend_model
from magscreen.training.extension_settings import ExtensionSettings

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
METHODS = ("extended", "extended_raw", "best_of_K", "heisenberg", "base")
KS = (1, 2, 3, 4)


def ladders(folder: Path, min_orderings: int) -> tuple[dict[str, dict], dict[str, list[str]]]:
    """Compound -> its reference-lattice ladder (frames in the training moments, infos), for ladders
    of at least ``min_orderings`` orderings; and compound -> orderings left out as collapsed."""
    from ase.io import read

    found, collapsed = {}, defaultdict(list)
    for path in sorted(folder.glob("*.extxyz")):
        frames, images = read_extxyz(path), read(path, index=":", format="extxyz")
        kept: list[tuple[Frame, dict]] = []
        for frame, atoms in zip(frames, images, strict=True):
            info = dict(atoms.info)
            if info.get("kind") != "ordering" or abs(float(info.get("scale", 1.0)) - 1.0) > 1e-9:
                continue
            if frame.energy is None or not bool(info.get("converged", True)):
                continue
            symbols = np.array([chemical_symbols[z] for z in frame.numbers])
            z = training_moments(symbols, frame.moments[:, 2])
            if not np.any(z):
                collapsed[path.stem].append(str(info["ordering"]))
                continue
            moments = np.zeros_like(frame.moments)
            moments[:, 2] = z
            kept.append((replace(frame, moments=moments), info))
        if len(kept) >= min_orderings:
            found[path.stem] = {"frames": [f for f, _ in kept], "infos": [i for _, i in kept]}
    return found, dict(collapsed)


def heisenberg_fit(frames: list[Frame], chosen: list[int], n_mag: list[int]) -> np.ndarray:
    """E / n_mag = E0 + sum_s J_s X_s / n_mag fitted to the ``chosen`` frames (min(K - 1, 2) shells);
    predictions (eV per magnetic atom) for all frames."""
    n_shells = min(2, len(chosen) - 1)
    try:
        shells = frame_shells(frames[chosen[0]], n_shells)
    except InputError:  # one shell within reach of the smallest cell
        n_shells, shells = 1, frame_shells(frames[chosen[0]], 1)
    elements = sorted({chemical_symbols[z] for f in frames for z in f.numbers})
    hamiltonian = HeisenbergLandauModel(shells=shells, elements=elements)
    rows = np.array([hamiltonian.design(f)[0][len(elements) : len(elements) + n_shells] for f in frames])
    design = np.hstack([np.ones((len(frames), 1)), rows / np.array(n_mag)[:, None]])
    energies = np.array([f.energy for f in frames]) / np.array(n_mag)
    solution, *_ = np.linalg.lstsq(design[chosen], energies[chosen], rcond=None)
    return design @ solution


def model_energies(model, frames: list[Frame]) -> np.ndarray:
    """Model energies (eV) of the frames."""
    out = []
    with torch.no_grad():
        for frame in frames:
            graph = frame.graph(model.cutoff, model.dtype)
            out.append(float(model(graph, compute_forces=False, compute_magnetic_forces=False)["energy"][0]))
    return np.array(out)


def scores(reference: np.ndarray, predicted: np.ndarray | None, chosen: list[int]) -> dict:
    """Ground-state hit, Spearman over the ladder and over the orderings not computed (None where the
    method ranks nothing or fewer than three are left), gap MAE (meV per magnetic atom)."""
    truth = int(np.argmin(reference))
    if predicted is None:  # best of K: the lowest computed energy
        return {"hit": min(chosen, key=lambda i: reference[i]) == truth}
    flat = float(np.ptp(predicted)) < 1e-9  # a flat ladder names no ground state
    rest = [i for i in range(len(reference)) if i not in chosen]

    def rho(indices: list[int]) -> float | None:
        if len(indices) < 3:
            return None
        values = predicted[indices]
        return 0.0 if np.ptp(values) < 1e-9 else float(spearmanr(reference[indices], values)[0])

    gaps = (predicted - predicted[truth]) - (reference - reference[truth])
    return {
        "hit": (not flat) and int(np.argmin(predicted)) == truth,
        "spearman": rho(list(range(len(reference)))),
        "spearman_rest": rho(rest),
        "gap_mae_meV": float(1e3 * np.mean(np.abs(np.delete(gaps, truth)))),
        "meV_above_min": (1e3 * (predicted - predicted.min())).round(1).tolist(),
    }


def enumerated_cost(compound: str, dataset_config: Path) -> tuple[int, float, dict[str, float]]:
    """Orderings the enumerator finds within the dataset's cell limits, their summed plan cost, and the
    plan cost of each by frame id, in the dataset's ladder order."""
    from magscreen.dataset.kinds import FRAME_KINDS
    from magscreen.dataset.plan import compound_ladder, frame_cost
    from magscreen.dataset.settings import load_dataset_config

    config = load_dataset_config(dataset_config)
    spec = next(c for c in config.compounds if c.name == compound)
    every = compound_ladder(spec.model_copy(update={"antiferro": 10**6}), config, dataset_config)
    frames = FRAME_KINDS["ordering"].plan(every, config)
    costs = {f.frame_id: frame_cost(f, config.gpaw) for f in frames}
    return len(frames), float(sum(costs.values())), costs


def cpu_model() -> str:
    """The processor's name (Linux), else the machine type."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/train/general.yaml"))
    parser.add_argument("--dataset", type=Path, default=Path("reference/dataset"))
    parser.add_argument("--dataset-config", type=Path, default=Path("configs/dataset/reference.yaml"))
    parser.add_argument(
        "--calibration", type=Path, default=HERE / "cross_validation_general.json", help="CV report"
    )
    parser.add_argument("--min-orderings", type=int, default=5, help="Smallest ladder that counts.")
    parser.add_argument(
        "--out", type=Path, default=HERE / "extension_benchmark", help="Output prefix (.json, .png)."
    )
    parser.add_argument("--samples", type=int, default=128, help="Posterior draws of each fold.")
    args = parser.parse_args()
    tic = time.perf_counter()
    from magscreen.training.config import load_train_config
    from magscreen.training.readout import NormalEquations, set_readout
    from magscreen.training.trainer import Trainer

    groups, collapsed = ladders(args.dataset, args.min_orderings)
    print(f"{len(groups)} ladders with >= {args.min_orderings} orderings: {', '.join(groups) or 'none'}")
    calibration = json.loads(args.calibration.read_text())["summary"]["uncertainty"]["calibration_factor"]
    config = load_train_config(args.config)
    stage = next(s for s in config.stages if s.optimizer == "least_squares")
    trainer = Trainer(config, source=args.config, progress=False)
    trainer.refit_references()
    frames = trainer.train_frames
    system = trainer.readout_system(stage)
    total = NormalEquations.of(system)
    compounds = np.array([str(meta["compound"]) for meta in frame_info(frames)])
    print(f"design {system.design.shape} of {len(frames)} frames in {time.perf_counter() - tic:.0f} s")
    base = trainer.model
    settings = ExtensionSettings(moment_lengths=LENGTHS)
    rows, records = [], []
    for compound, ladder in groups.items():
        taken = compounds == compound
        left_out = np.isin(system.frame_of_row, np.flatnonzero(taken))
        equations = total.minus(NormalEquations.of(system, left_out, columns=total.columns))
        weights, posterior = equations.solve(system.damping, posterior_samples=args.samples, seed=config.seed)
        set_readout(base, weights)
        n_enumerated, enumerated, plan_costs = enumerated_cost(compound, args.dataset_config)
        # the dataset's ladder order (FM, then the smallest cells, then the enumerator's priority):
        # the cheapest DFT first, as the campaign's extend step chooses
        rank = {frame_id: i for i, frame_id in enumerate(plan_costs)}
        order = sorted(range(len(ladder["infos"])), key=lambda i: rank[str(ladder["infos"][i]["frame_id"])])
        ladder_frames = [ladder["frames"][i] for i in order]
        infos = [ladder["infos"][i] for i in order]
        n_mag = magnetic_count(ladder_frames, list(range(len(ladder_frames))))
        reference = np.array([f.energy for f in ladder_frames]) / n_mag
        base_pred = model_energies(base, ladder_frames) / n_mag
        walls = [float(info["wall_time_s"]) for info in infos]
        costs = [plan_costs[str(info["frame_id"])] for info in infos]
        seconds_per_cost = sum(walls) / sum(costs)
        records.append(
            {
                "compound": compound,
                "trained_frames_left_out": int(taken.sum()),
                "orderings": [str(i["ordering"]) for i in infos],
                "atoms": [f.n_atoms for f in ladder_frames],
                "dft_meV_above_ground": (1e3 * (reference - reference.min())).round(1).tolist(),
                "wall_time_s": walls,
                "collapsed_left_out": collapsed.get(compound, []),
                "enumerated_orderings": n_enumerated,
                "enumerated_s_estimate": enumerated * seconds_per_cost,
            }
        )
        print(
            f"{compound}: {len(ladder_frames)} orderings, DFT {records[-1]['dft_meV_above_ground']} meV/mag"
        )
        for k in KS:
            if k >= len(ladder_frames):
                break
            chosen = list(range(k))
            row = {
                "compound": compound,
                "K": k,
                "orderings": len(ladder_frames),
                "dft_s": sum(walls[:k]),
                "ladder_s": sum(walls),
                "plan_cost": sum(costs[:k]),
                "ladder_plan_cost": sum(costs),
                "enumerated_plan_cost": enumerated,
                "base": scores(reference, base_pred, chosen),
                "best_of_K": scores(reference, None, chosen),
            }
            if k >= 2:
                for method, factor in (("extended", calibration), ("extended_raw", 1.0)):
                    base.readout_posterior = posterior.calibrated(factor)
                    extension = extend_model(base, [ladder_frames[i] for i in chosen], settings)
                    predicted = model_energies(extension.model, ladder_frames) / n_mag
                    row[method] = scores(reference, predicted, chosen)
                    row[method]["fit_residuals_meV_per_atom"] = [
                        round(v, 2) for v in extension.residuals_meV_per_atom.values()
                    ]
                row["heisenberg"] = scores(reference, heisenberg_fit(ladder_frames, chosen, n_mag), chosen)
            rows.append(row)
            print(
                json.dumps(
                    {m: {"hit": row[m]["hit"], "rho": row[m].get("spearman")} for m in METHODS if m in row}
                )
            )
    summary = summarise(rows)
    result = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/training/extension_benchmark.py "
        + " ".join(sys.argv[1:]),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg()[0],
        "config": args.config.as_posix(),
        "calibration_factor": calibration,
        "extension_settings": settings.model_dump(mode="json"),
        "compounds": records,
        "rows": rows,
        "summary": summary,
        "seconds": round(time.perf_counter() - tic),
    }
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    plot(summary, args.out.with_suffix(".png"), len(records))


def summarise(rows: list[dict]) -> dict:
    """Per K and method: hit rate, mean Spearman (ladder, rest), gap MAE; DFT time fractions."""
    summary = {}
    for k in KS:
        at_k = [r for r in rows if r["K"] == k]
        if not at_k:
            continue
        entry = {"compounds": len(at_k)}
        for method in METHODS:
            scored = [r[method] for r in at_k if method in r]
            if not scored:
                continue

            def mean(key: str, scored: list[dict] = scored) -> float | None:
                values = [s[key] for s in scored if s.get(key) is not None]
                return float(np.mean(values)) if values else None

            entry[method] = {
                "hit_rate": float(np.mean([s["hit"] for s in scored])),
                "mean_spearman": mean("spearman"),
                "mean_spearman_rest": mean("spearman_rest"),
                "gap_mae_meV": mean("gap_mae_meV"),
            }
        entry["dft_fraction_of_ladder"] = float(np.mean([r["dft_s"] / r["ladder_s"] for r in at_k]))
        entry["cost_fraction_of_ladder"] = float(
            np.mean([r["plan_cost"] / r["ladder_plan_cost"] for r in at_k])
        )
        entry["cost_fraction_of_enumerated"] = float(
            np.mean([r["plan_cost"] / r["enumerated_plan_cost"] for r in at_k])
        )
        summary[k] = entry
    return summary


def markdown(result: dict) -> str:
    """The table of docs/model.md."""

    def fmt(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [
        "| K | method | ground-state hits | mean Spearman (ladder) | mean Spearman (not computed) "
        "| gap MAE (meV/mag. atom) |",
        "|---|---|---|---|---|---|",
    ]
    for k, entry in result["summary"].items():
        for method in METHODS:
            if method not in entry:
                continue
            s = entry[method]
            lines.append(
                f"| {k} | {method} | {s['hit_rate'] * entry['compounds']:.0f}/{entry['compounds']} "
                f"| {fmt(s['mean_spearman'])} | {fmt(s['mean_spearman_rest'])} | {fmt(s['gap_mae_meV'], 0)} |"
            )
    lines += [
        "",
        "| K | DFT wall time / ladder's | cost model / ladder's | cost model / every enumerated ordering |",
        "|---|---|---|---|",
    ]
    for k, entry in result["summary"].items():
        lines.append(
            f"| {k} | {entry['dft_fraction_of_ladder']:.2f} | {entry['cost_fraction_of_ladder']:.2f} "
            f"| {entry['cost_fraction_of_enumerated']:.2%} |"
        )
    return "\n".join(lines)


def plot(summary: dict, path: Path, n_compounds: int) -> None:
    """Hit rate, Spearman over the ladder and over the orderings not computed, against K (methods
    offset slightly along K so that equal values stay visible)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = {
        "hit_rate": "ground-state hit rate",
        "mean_spearman": "mean Spearman, whole ladder",
        "mean_spearman_rest": "mean Spearman, not computed",
    }
    styles = {"extended": "o-", "extended_raw": "s--", "best_of_K": "^-", "heisenberg": "D-", "base": "x:"}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    ks = sorted(summary)
    for n, method in enumerate(METHODS):
        shift = 0.06 * (n - (len(METHODS) - 1) / 2)
        for ax, key in zip(axes, keys, strict=True):
            points = [
                (k + shift, summary[k][method][key])
                for k in ks
                if method in summary[k] and summary[k][method][key] is not None
            ]
            if points:
                ax.plot(*zip(*points, strict=True), styles[method], color=f"C{n}", label=method)
    for ax, label in zip(axes, keys.values(), strict=True):
        ax.set_xlabel("K (DFT orderings)")
        ax.set_ylabel(label)
        ax.set_xticks(ks)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"domain extension on {n_compounds} left-out compounds (general recipe, leave-one-compound-out)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
