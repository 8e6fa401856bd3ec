"""``magscreen --help`` imports none of the libraries that cost seconds (they load inside commands)."""

from __future__ import annotations

import json
import subprocess
import sys

#: Heavy libraries (and our packages that pull them in) that start-up must not import.
HEAVY = ("torch", "sevenn", "e3nn", "atomate2", "gpaw", "pymatgen.analysis", "jobflow", "magscreen.flows")


def test_help_imports_no_heavy_library():
    code = (
        "import json, sys\n"
        "from magscreen.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "orderings" in result.stdout  # the help was printed
    modules = json.loads(result.stderr.splitlines()[-1])
    assert "magscreen.cli.campaign" in modules
    assert [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)] == []
