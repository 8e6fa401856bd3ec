"""Layering rule: the model package stands alone (usable from ASE without the screening stack)."""

from __future__ import annotations

import json
import subprocess
import sys

#: Packages ``magscreen.potential`` must never import (issue 17), and pymatgen's analysers.
FORBIDDEN = (
    "magscreen.training",
    "magscreen.screening",
    "magscreen.flows",
    "magscreen.store",
    "magscreen.validation",
    "magscreen.cli",
    "pymatgen.analysis",
)


def imported_modules(statement: str) -> list[str]:
    """Modules in ``sys.modules`` after running ``statement`` in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def test_potential_imports_no_stage_package():
    modules = imported_modules("import magscreen.potential")
    assert "magscreen.potential.calculator" in modules  # the import did load the package
    leaked = [m for m in modules if m.startswith(FORBIDDEN)]
    assert leaked == []
