"""The ``magscreen`` command line. Each sub-command lives in its own module and registers here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="magscreen",
    help="High-throughput screening of magnetic materials with a magnetic ML potential.",
    no_args_is_help=True,
    add_completion=False,
)

# Sub-command modules register themselves on import; keep one line per module, sorted.
# (Each module defines functions decorated with ``@app.command()`` using ``from magscreen.cli import app``.)
from magscreen.cli import anisotropy as _anisotropy  # noqa: E402,F401
from magscreen.cli import campaign as _campaign  # noqa: E402,F401
from magscreen.cli import dataset as _dataset  # noqa: E402,F401
from magscreen.cli import extend as _extend  # noqa: E402,F401
from magscreen.cli import orderings as _orderings  # noqa: E402,F401
from magscreen.cli import submit as _submit  # noqa: E402,F401
from magscreen.cli import train as _train  # noqa: E402,F401
from magscreen.cli import validate as _validate  # noqa: E402,F401
