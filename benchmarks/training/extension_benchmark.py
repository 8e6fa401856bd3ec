"""Domain extension on compounds the base model never saw: ground-state hits and Spearman against K.

For every compound of the reference dataset (``reference/dataset/*.extxyz``) with at least four
collinear orderings in one energy group (``kind == 'ordering'``) and whose magnetic elements the
base model does not know in that environment, the K = 1..4 orderings in the smallest cells (ties:
file order) play the DFT the campaign would run, and all orderings of the group are ranked by

- ``extended``: the base model extended on those K frames (:func:`magscreen.training.extend.extend_model`,
  K >= 2: energies enter as differences);
- ``best_of_K``: the lowest of the K DFT energies (what the K calculations alone say; no ranking
  of the others, so no Spearman);
- ``heisenberg``: a Heisenberg model (:class:`magscreen.training.baselines.HeisenbergLandauModel`)
  fitted to the same K energies with min(K - 1, 2) neighbour shells;
- ``base``: the base model without extension.

Energies are compared at the DFT geometries, moments set to one length per element (as the
extension does). DFT cost: the frames' ``wall_time_s`` where the dataset records it, else the sum
of N^3 over the cells (a proxy), for the K chosen against all orderings.

    OMP_NUM_THREADS=2 python benchmarks/training/extension_benchmark.py \
        [--model monoxides] [--dataset reference/dataset]

Writes ``extension_benchmark.json`` and ``extension_benchmark.png`` beside this script.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from magscreen.errors import InputError
from magscreen.potential import MagneticCalculator
from magscreen.training.baselines import HeisenbergLandauModel
from magscreen.training.data import Frame, read_extxyz
from magscreen.training.extend import extend_model, frame_environments, prepare_frames
from magscreen.training.extension_settings import ExtensionSettings

HERE = Path(__file__).parent
METHODS = ("extended", "best_of_K", "heisenberg", "base")


def ordering_groups(folder: Path, min_orderings: int = 4) -> dict[str, tuple[list[Frame], list[dict]]]:
    """Energy group -> (frames, info dicts) of the groups with at least ``min_orderings`` orderings."""
    from ase.io import read

    groups: dict[str, tuple[list[Frame], list[dict]]] = {}
    for path in sorted(folder.glob("*.extxyz")):
        frames, images = read_extxyz(path), read(path, index=":")
        for frame, atoms in zip(frames, images, strict=True):
            if atoms.info.get("kind", "ordering") != "ordering" or frame.energy is None:
                continue
            if not bool(atoms.info.get("converged", True)):
                continue
            group = frame.energy_group or path.stem
            groups.setdefault(group, ([], []))
            groups[group][0].append(frame)
            groups[group][1].append(dict(atoms.info))
    return {g: v for g, v in groups.items() if len(v[0]) >= min_orderings}


def per_magnetic_atom(energies: np.ndarray, frames: list[Frame]) -> np.ndarray:
    """Energies (eV) per atom carrying a moment."""
    return energies / np.array([max(int((np.linalg.norm(f.moments, axis=1) > 0).sum()), 1) for f in frames])


def model_energies(model, frames: list[Frame]) -> np.ndarray:
    out = []
    for frame in frames:
        output = model(
            frame.graph(model.cutoff, model.dtype), compute_forces=False, compute_magnetic_forces=False
        )
        out.append(float(output["energy"][0].detach()))
    return np.array(out)


def scores(reference: np.ndarray, predicted: np.ndarray | None, ground: int | None = None) -> dict:
    """Ground-state hit and Spearman correlation (None where the method ranks nothing)."""
    truth = int(np.argmin(reference))
    if predicted is None:
        return {"hit": bool(ground == truth), "spearman": None}
    spread = float(np.ptp(predicted))
    rho = None if spread < 1e-9 else float(spearmanr(reference, predicted)[0])
    hit = spread >= 1e-9 and int(np.argmin(predicted)) == truth  # a flat ladder names no ground state
    return {"hit": bool(hit), "spearman": rho}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="monoxides")
    parser.add_argument("--dataset", type=Path, default=Path("reference/dataset"))
    parser.add_argument("--min-orderings", type=int, default=4, help="Smallest group that counts.")
    args = parser.parse_args()
    base = MagneticCalculator(args.model).model.double()
    settings = ExtensionSettings()
    rows = []
    groups = ordering_groups(args.dataset, args.min_orderings)
    print(
        f"{len(groups)} energy groups with >= {args.min_orderings} orderings: {', '.join(groups) or 'none'}"
    )
    for group, (raw_frames, infos) in groups.items():
        frames = prepare_frames(raw_frames, settings)
        graphs = [f.graph(base.cutoff, base.dtype) for f in frames]
        environments = frame_environments(base, frames, graphs)
        known = [
            e
            for e, envs in environments.items()
            if all(env in base.magnetic_environments.get(e, []) for env in envs)
        ]
        if known:
            print(f"{group}: skipped, not left out (the base model was trained on {', '.join(known)} there)")
            continue
        reference = per_magnetic_atom(np.array([f.energy for f in frames]), frames)
        order = list(np.argsort([f.n_atoms for f in frames], kind="stable"))
        walls = [info.get("wall_time_s") for info in infos]
        cost = [w if w is not None else f.n_atoms**3 for w, f in zip(walls, frames, strict=True)]
        base_pred = per_magnetic_atom(model_energies(base, frames), frames)
        for k in range(1, 5):
            chosen = order[:k]
            row = {"group": group, "K": k, "orderings": len(frames)}
            row["dft_cost_fraction"] = float(sum(cost[i] for i in chosen) / sum(cost))
            row["cost_unit"] = "wall_time_s" if all(w is not None for w in walls) else "N^3"
            row["base"] = scores(reference, base_pred)
            row["best_of_K"] = scores(reference, None, ground=min(chosen, key=lambda i: reference[i]))
            if k >= 2:
                try:
                    extension = extend_model(base, [raw_frames[i] for i in chosen], settings)
                except InputError as error:  # a trained head in a new environment, no posterior
                    print(f"{group}: extension refused: {error}")
                    break
                predicted = per_magnetic_atom(model_energies(extension.model, frames), frames)
                row["extended"] = scores(reference, predicted)
                heisenberg = HeisenbergLandauModel.fit(
                    [frames[i] for i in chosen], n_shells=min(k - 1, 2), magnetic_force_weight=0.0
                )
                fitted = np.array([heisenberg.predict(f)[0] for f in frames])
                row["heisenberg"] = scores(reference, per_magnetic_atom(fitted, frames))
            rows.append(row)
            print(json.dumps(row))
    summary = {}
    for k in range(1, 5):
        at_k = [r for r in rows if r["K"] == k]
        summary[k] = {
            method: {
                "hit_rate": float(np.mean([r[method]["hit"] for r in at_k if method in r]))
                if any(method in r for r in at_k)
                else None,
                "mean_spearman": float(
                    np.mean(
                        [
                            r[method]["spearman"]
                            for r in at_k
                            if method in r and r[method]["spearman"] is not None
                        ]
                    )
                )
                if any(method in r and r[method]["spearman"] is not None for r in at_k)
                else None,
            }
            for method in METHODS
        }
        summary[k]["dft_cost_fraction"] = (
            float(np.mean([r["dft_cost_fraction"] for r in at_k])) if at_k else None
        )
    result = {
        "model": args.model,
        "groups": sorted({r["group"] for r in rows}),
        "rows": rows,
        "summary": summary,
    }
    (HERE / "extension_benchmark.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    plot(summary, HERE / "extension_benchmark.png", len(result["groups"]))


def plot(summary: dict, path: Path, n_groups: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    ks = sorted(summary)
    for method in METHODS:
        for ax, key in zip(axes, ("hit_rate", "mean_spearman"), strict=True):
            values = [summary[k][method][key] for k in ks]
            points = [(k, v) for k, v in zip(ks, values, strict=True) if v is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", label=method)
    axes[0].set_ylabel("ground-state hit rate")
    axes[1].set_ylabel("mean Spearman")
    for ax in axes:
        ax.set_xlabel("K (DFT orderings)")
        ax.set_xticks(ks)
    axes[0].legend()
    fig.suptitle(f"domain extension on {n_groups} left-out compound(s)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
