"""``magscreen train CONFIG.yaml``: train (or fine-tune) the magnetic potential."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from magscreen.cli import app


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="Training config (YAML), e.g. configs/train/monoxides.yaml")],
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore a previous run's last.pt; start over.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """Train the magnetic potential; a killed run resumes from its last checkpoint."""
    from rich.console import Console
    from rich.table import Table

    from magscreen.training.config import load_train_config
    from magscreen.training.metrics import UNITS
    from magscreen.training.trainer import Trainer

    settings = load_train_config(config)
    result = Trainer(settings, source=config, progress=progress).run(resume=not restart)
    table = Table(title=f"validation errors of {result.best}")
    table.add_column("label")
    table.add_column("MAE")
    table.add_column("RMSE")
    for name, values in result.metrics["validation"].items():
        table.add_row(f"{name} ({UNITS[name]})", f"{values['mae']:.4g}", f"{values['rmse']:.4g}")
    Console().print(table)
