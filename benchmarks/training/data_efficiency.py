"""Data-efficiency study: validation MAE of E, F, H against training frames, pretrained vs random backbone.

Runs :func:`magscreen.training.study.run_study` on a config whose stages keep the backbone frozen
(the reduced budget that fits on two shared CPU cores), writes ``study.json``, ``study.md`` (the
table), ``heisenberg.json`` (baseline a on all training frames) and ``data_efficiency.png`` into
the config's output folder, and prints the table.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/training/data_efficiency.py configs/train/nio_study.yaml \
        --sizes 5 10 20 40 120
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from magscreen.training.baselines import HeisenbergLandauModel
from magscreen.training.config import load_train_config
from magscreen.training.metrics import evaluate
from magscreen.training.study import plot_study, run_study, study_table
from magscreen.training.trainer import load_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 40, 120])
    parser.add_argument("--inits", nargs="+", default=["sevennet0", "scratch"])
    parser.add_argument(
        "--no-forces", action="store_true", help="skip validation forces (frozen backbone: F is its own)"
    )
    args = parser.parse_args()
    config = load_train_config(args.config)
    rows = run_study(config, args.sizes, args.inits, forces=not args.no_forces)
    train = load_frames(config.data.train, config.data.format, split="train", source=args.config)
    validation = load_frames(
        config.data.validation, config.data.format, split="validation", source=args.config
    )
    heisenberg = evaluate(HeisenbergLandauModel.fit(train).predict, validation)
    out = Path(config.output)
    table = study_table(rows)
    (out / "study.md").write_text(table + "\n")
    (out / "heisenberg.json").write_text(json.dumps(heisenberg, indent=1))
    plot_study(rows, out / "data_efficiency.png", baseline={k: v["mae"] for k, v in heisenberg.items()})
    print(table)


if __name__ == "__main__":
    main()
